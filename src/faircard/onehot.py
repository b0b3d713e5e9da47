"""One-hot encoded columns (``race_White``, ``race_Black``, ...) read as one feature (``race``).

A group is two or more columns named ``PREFIX_LEVEL`` (or ``PREFIX=LEVEL``, ``PREFIX.LEVEL``)
that hold only 0/1 (or True/False), with at most one 1 in every row and exactly one in most
rows. Decoded, each row takes the level of its 1; rows without a 1 are missing (they form the
"(missing)" group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_SHARE_WITH_ONE = 0.9
"""Share of rows that must have exactly one 1 for columns to count as one-hot."""

_SEPARATORS = "_=."


def _prefixes(name: str) -> list[str]:
    """Every way to read ``name`` as PREFIX + separator + LEVEL."""
    return [name[:i] for i, ch in enumerate(name) if ch in _SEPARATORS and 0 < i < len(name) - 1]


def _indicator(col: pd.Series) -> np.ndarray | None:
    """The column as a 0/1 int8 array (missing -> 0), or None if it holds anything else."""
    if pd.api.types.is_bool_dtype(col):
        return col.fillna(False).to_numpy(dtype=np.int8)
    if not pd.api.types.is_numeric_dtype(col):
        return None
    values = col.to_numpy(dtype=np.float64, na_value=0.0)
    if not np.isin(values, (0.0, 1.0)).all():
        return None
    return values.astype(np.int8)


def find_one_hot(df: pd.DataFrame, only: str | None = None) -> dict[str, list[str]]:
    """``{prefix: [columns]}`` for each one-hot group whose prefix is not itself a column
    (``only``: just the group of that prefix). When a level contains a separator
    (``marital_status_Never_married``), the longest prefix shared by the same columns wins."""
    by_prefix: dict[str, list[str]] = {}
    for c in df.columns:
        for prefix in _prefixes(str(c)):
            if (only is None or prefix == only) and prefix not in df.columns:
                by_prefix.setdefault(prefix, []).append(c)
    indicators: dict[str, np.ndarray | None] = {}
    valid: dict[str, list[str]] = {}
    for prefix, cols in by_prefix.items():
        if len(cols) < 2:
            continue
        for c in cols:
            if c not in indicators:
                indicators[c] = _indicator(df[c])
        if any(indicators[c] is None for c in cols):
            continue
        ones = np.sum([indicators[c] for c in cols], axis=0)
        if len(ones) == 0 or (ones > 1).any() or (ones == 1).mean() < MIN_SHARE_WITH_ONE:
            continue
        valid[prefix] = cols
    out = {}
    for prefix, cols in valid.items():
        same = [p for p, c in valid.items() if set(c) == set(cols)]
        wider = [p for p, c in valid.items() if set(c) > set(cols)]
        if not wider and prefix == max(same, key=len):
            out[prefix] = cols
    return out


def decode_one_hot(df: pd.DataFrame, columns: list[str], prefix: str) -> pd.Series:
    """One categorical column from one-hot ``columns``: the level after ``prefix`` and its
    separator; rows without a 1 are missing. Levels keep the columns' order."""
    matrix = np.column_stack([_indicator(df[c]) for c in columns])
    levels = [str(c)[len(prefix) + 1:] for c in columns]
    has_one = matrix.sum(axis=1) == 1
    codes = np.where(has_one, matrix.argmax(axis=1), -1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=levels), index=df.index,
                     name=prefix)


def sensitive_column(df: pd.DataFrame, feature: str) -> pd.Series | None:
    """The column ``feature`` of ``df``, or its decoded one-hot group; None if neither."""
    if feature in df.columns:
        return df[feature]
    groups = find_one_hot(df, only=feature)
    if feature in groups:
        return decode_one_hot(df, groups[feature], feature)
    return None
