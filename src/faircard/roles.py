"""Guesses of column roles for a new dataset: outcome, score, prediction, sensitive features.

Only suggestions for the app's defaults; the user confirms every one.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .spec import fmt_edge

_TARGET_WORDS = ("target", "label", "outcome", "class", "y", "y_true", "repaid", "default",
                 "recid", "two_year_recid", "approved_actual", "income", "churn", "credit")
_SCORE_WORDS = ("score", "prob", "proba", "probability", "risk", "y_score", "decile")
_PRED_WORDS = ("pred", "prediction", "y_pred", "yhat", "decision", "approved")
_SENSITIVE_WORDS = ("sex", "gender", "race", "ethnicity", "ethnic", "age", "age_cat", "religion",
                    "disability", "nationality", "native_country", "marital", "marital_status",
                    "성별", "나이", "연령", "인종")


def _words(name: str) -> set[str]:
    return set(re.split(r"[^0-9a-z가-힣]+", str(name).lower())) | {str(name).lower()}


MANY_GROUPS = 50
"""A sensitive feature with more groups than this needs the user's confirmation."""


def is_scalar_column(col: pd.Series) -> bool:
    """False for columns holding lists, arrays, dicts or sets (e.g. Parquet list/struct
    columns): they cannot be an outcome, a score or a group."""
    if col.dtype != object:
        return True
    sample = col.dropna().head(100)
    return not any(isinstance(v, list | tuple | dict | set | np.ndarray) for v in sample)


def scalar_columns(df: pd.DataFrame) -> list[str]:
    """The columns of ``df`` that hold single values (see :func:`is_scalar_column`)."""
    return [c for c in df.columns if is_scalar_column(df[c])]


_HEAD = 1000
"""Rows looked at first when counting a column's distinct values only up to a few."""


def _more_than(col: pd.Series, k: int) -> bool:
    """Whether ``col`` holds more than ``k`` distinct values (missing values aside). Decided
    on the first rows when they already do: counting a column of ids or scores in full builds
    a hash table as large as the column."""
    return col.iloc[:_HEAD].nunique(dropna=True) > k or col.nunique(dropna=True) > k


def is_binary(col: pd.Series) -> bool:
    return (is_scalar_column(col) and col.iloc[:_HEAD].nunique(dropna=True) <= 2
            and col.nunique(dropna=True) == 2)


def guess_target(df: pd.DataFrame) -> str | None:
    binary = [c for c in df.columns if is_binary(df[c])]
    for c in binary:
        if _words(c) & set(_TARGET_WORDS):
            return c
    return binary[0] if binary else None


def score_candidates(df: pd.DataFrame) -> list[str]:
    """Numeric columns with many values (scores, probabilities)."""
    out = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) \
                and is_scalar_column(s):
            if _more_than(s, 2):
                out.append(c)
    named = [c for c in out if _words(c) & set(_SCORE_WORDS)]
    return named + [c for c in out if c not in named]


def guess_prediction(df: pd.DataFrame, target: str | None) -> str | None:
    binary = [c for c in df.columns if c != target and is_binary(df[c])]
    for c in binary:
        if _words(c) & set(_PRED_WORDS):
            return c
    return None


def sensitive_options(df: pd.DataFrame, exclude: tuple[str, ...] | set[str] = ()) -> list[str]:
    """What can be offered as a sensitive feature: one-hot groups first (as one feature
    each, e.g. ``race`` for ``race_White``, ``race_Black``, ...), then every other column
    holding single values, except ``exclude``."""
    from .onehot import find_one_hot

    groups = {p: cols for p, cols in find_one_hot(df).items() if p not in exclude}
    members = {c for cols in groups.values() for c in cols}
    return list(groups) + [c for c in scalar_columns(df)
                           if c not in exclude and c not in members]


def guess_sensitive(df: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns (or one-hot groups) named like sensitive attributes (sex, race, age, ...)."""
    return [c for c in sensitive_options(df, exclude) if _words(c) & set(_SENSITIVE_WORDS)]


def needs_bins(col: pd.Series, max_groups: int = 12) -> bool:
    """Numeric columns with more distinct values than make sense as groups."""
    return (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            and _more_than(col, max_groups))


_AGE_EDGES = (25, 40, 65)
"""Upper edges of the conventional adult age bands (18-24, 25-39, 40-64, 65+)."""


def default_bands(col: pd.Series, name: str) -> tuple[list[float], list[str]]:
    """Conventional age bands for age-like columns (the first band starts at the youngest
    age in the data, so nobody falls outside), quartiles otherwise."""
    if "age" in _words(name) or "나이" in name or "연령" in name:
        values = pd.to_numeric(col, errors="coerce").dropna()
        low = math.floor(float(values.min())) if len(values) else 18
        edges = [low, *(e for e in _AGE_EDGES if e > low), math.inf]
        if (values == values.round()).all():  # whole years: "25-39" holds 25 to 39
            labels = [f"{a:g}-{b - 1:g}" for a, b in zip(edges[:-2], edges[1:-1], strict=True)]
            labels.append(f"{edges[-2]:g}+")
        else:  # 39.5 is in the band from 25 to 40, which "25-39" would not say
            labels = [f"{a:g} to < {b:g}" for a, b in zip(edges[:-2], edges[1:-1],
                                                          strict=True)]
            labels.append(f">= {edges[-2]:g}")
        return edges, labels
    qs = sorted(set(float(x) for x in col.quantile([0.25, 0.5, 0.75]).dropna()))
    edges = [-math.inf, *qs, math.inf]
    labels = []
    for lo, hi in zip(edges, edges[1:], strict=False):  # each edge to its last digit
        if math.isinf(lo):
            labels.append(f"< {fmt_edge(hi)}")
        elif math.isinf(hi):
            labels.append(f">= {fmt_edge(lo)}")
        else:
            labels.append(f"{fmt_edge(lo)} to < {fmt_edge(hi)}")
    return edges, labels


def count_groups(df: pd.DataFrame, features: list[str] | tuple[str, ...],
                 bins: dict | None = None) -> dict[str, int]:
    """Number of groups each sensitive feature forms (after its bands, if any; missing values
    count as one group). Features that are not in ``df`` are skipped."""
    from .onehot import sensitive_column

    out = {}
    for f in features:
        col = sensitive_column(df, f)
        if col is None or not is_scalar_column(col):
            continue
        if bins and f in bins:
            col = pd.Series(bins[f].apply(col), index=df.index)
        out[f] = int(col.nunique(dropna=True) + (1 if col.isna().any() else 0))
    return out


def many_groups(df: pd.DataFrame, features: list[str] | tuple[str, ...], bins: dict | None = None,
                limit: int = MANY_GROUPS) -> dict[str, int]:
    """The features with more than ``limit`` groups, with their number of groups."""
    return {f: n for f, n in count_groups(df, features, bins).items() if n > limit}
