"""Columns as small integer codes, the common input of every diagnostic.

Categorical columns keep their most frequent levels (the rest become "(other)"); numeric columns
are banded by quantiles. Missing values get their own code. Everything downstream counts codes
with ``numpy.bincount``, so a diagnostic costs one pass over the rows per column (or per
combination of columns), whatever the number of levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = "(missing)"
OTHER = "(other)"


@dataclass(frozen=True)
class Coded:
    """One column as codes ``0..len(labels)-1`` (int64, one per row) and their labels."""

    name: str
    codes: np.ndarray
    labels: tuple[str, ...]
    is_numeric: bool

    @property
    def n_levels(self) -> int:
        return len(self.labels)


def is_numeric_column(col: pd.Series, max_levels: int = 20) -> bool:
    """Numeric with more distinct values than ``max_levels`` (few-valued numbers are levels)."""
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        return False
    return col.nunique(dropna=True) > max_levels


def code_column(col: pd.Series, name: str, *, n_bands: int = 4, max_levels: int = 20,
                edges: np.ndarray | None = None) -> Coded:
    """Codes of one column: quantile bands for many-valued numbers (or the given ``edges``),
    otherwise the ``max_levels - 1`` most frequent values plus ``(other)``; ``(missing)`` last."""
    if edges is not None or is_numeric_column(col, max_levels):
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if edges is None:
            edges = band_edges(values, n_bands)
        band = np.clip(np.searchsorted(edges[1:-1], values, side="right"), 0, len(edges) - 2)
        texts = _edge_texts(edges)
        labels = [_band_label(texts[i], texts[i + 1]) for i in range(len(edges) - 1)]
        codes = np.where(np.isnan(values), len(labels), band).astype(np.int64)
        if np.isnan(values).any():
            labels.append(MISSING)
        return Coded(name, codes, tuple(labels), True)
    text = col.astype("object").where(col.notna(), None)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    keep = order[: max_levels - 1] if len(uniques) > max_levels else order
    remap = np.full(len(uniques) + 1, -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    labels = [str(uniques[i]) for i in keep]
    if len(uniques) > len(keep):
        remap[np.setdiff1d(np.arange(len(uniques)), keep)] = len(labels)
        labels.append(OTHER)
    missing = codes < 0
    out = remap[np.where(missing, len(uniques), codes)]
    if missing.any():
        out = np.where(missing, len(labels), out)
        labels.append(MISSING)
    return Coded(name, out.astype(np.int64), tuple(labels), False)


def band_edges(values: np.ndarray, n_bands: int) -> np.ndarray:
    """Distinct quantile edges of the finite values, outer edges open (-inf, inf)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([-np.inf, np.inf])
    inner = np.unique(np.quantile(finite, np.linspace(0, 1, n_bands + 1)[1:-1]))
    return np.concatenate([[-np.inf], inner, [np.inf]])


def _num(x: float, digits: int) -> str:
    """``x`` with about ``digits`` significant digits, never in exponent form ("1,000", not
    "1e+03"), without trailing zeros."""
    if not np.isfinite(x):
        return "inf" if x > 0 else "-inf"
    scale = int(np.floor(np.log10(abs(x)))) if x != 0 else 0
    text = f"{x:,.{max(0, digits - 1 - scale)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _edge_texts(edges: np.ndarray) -> list[str]:
    """The band edges as text, with as many digits as it takes to tell them apart (close
    quantiles printed alike made bands such as "0.5 to < 0.5")."""
    for digits in range(3, 17):
        texts = [_num(float(e), digits) for e in edges]
        if len(set(texts)) == len(texts):
            break
    return texts


def _band_label(lo: str, hi: str) -> str:
    if lo == "-inf":
        return f"< {hi}"
    if hi == "inf":
        return f">= {lo}"
    return f"{lo} to < {hi}"


def contingency(a: np.ndarray, b: np.ndarray, na: int, nb: int) -> np.ndarray:
    """Counts of each (a, b) code pair, shape (na, nb)."""
    return np.bincount(a * nb + b, minlength=na * nb).reshape(na, nb)
