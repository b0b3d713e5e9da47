"""Guesses of column roles for a new dataset: outcome, score, prediction, sensitive features.

Only suggestions for the app's defaults; the user confirms every one.
"""

from __future__ import annotations

import re

import pandas as pd

_TARGET_WORDS = ("target", "label", "outcome", "class", "y", "y_true", "repaid", "default",
                 "recid", "two_year_recid", "approved_actual", "income", "churn", "credit")
_SCORE_WORDS = ("score", "prob", "proba", "probability", "risk", "y_score", "decile")
_PRED_WORDS = ("pred", "prediction", "y_pred", "yhat", "decision", "approved")
_SENSITIVE_WORDS = ("sex", "gender", "race", "ethnicity", "ethnic", "age", "age_cat", "religion",
                    "disability", "nationality", "native_country", "marital", "marital_status",
                    "성별", "나이", "연령", "인종")


def _words(name: str) -> set[str]:
    return set(re.split(r"[^0-9a-z가-힣]+", str(name).lower())) | {str(name).lower()}


def is_binary(col: pd.Series) -> bool:
    return col.nunique(dropna=True) == 2


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
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            if s.nunique(dropna=True) > 2:
                out.append(c)
    named = [c for c in out if _words(c) & set(_SCORE_WORDS)]
    return named + [c for c in out if c not in named]


def guess_prediction(df: pd.DataFrame, target: str | None) -> str | None:
    binary = [c for c in df.columns if c != target and is_binary(df[c])]
    for c in binary:
        if _words(c) & set(_PRED_WORDS):
            return c
    return None


def guess_sensitive(df: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns named like sensitive attributes (sex, race, age, ...)."""
    return [c for c in df.columns if c not in exclude and _words(c) & set(_SENSITIVE_WORDS)]


def needs_bins(col: pd.Series, max_groups: int = 12) -> bool:
    """Numeric columns with more distinct values than make sense as groups."""
    return (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            and col.nunique(dropna=True) > max_groups)


def default_bands(col: pd.Series, name: str) -> tuple[list[float], list[str]]:
    """Conventional age bands for age-like columns, quartiles otherwise."""
    import math

    if "age" in _words(name) or "나이" in name or "연령" in name:
        return [18, 25, 40, 65, math.inf], ["18-24", "25-39", "40-64", "65+"]
    qs = sorted(set(float(x) for x in col.quantile([0.25, 0.5, 0.75]).dropna()))
    edges = [-math.inf, *qs, math.inf]
    labels = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        if math.isinf(lo):
            labels.append(f"< {hi:g}")
        elif math.isinf(hi):
            labels.append(f">= {lo:g}")
        else:
            labels.append(f"{lo:g} to < {hi:g}")
    return edges, labels
