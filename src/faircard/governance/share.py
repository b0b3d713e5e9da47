"""What a record keeps so that people without the dataset can see its results: per-cell counts.

A *cell* is one combination of the sensitive features' groups (for sex x race: "Female" and
"B"). :func:`cells_of` stores, per cell, the confusion counts ``[tn, fp, fn, tp]``, the score
sums behind the Brier score and log loss, and a histogram of the scores of each outcome; plus
the choices (the spec) and each group's ROC AUC (which does not add up over cells); and the
whole counts cube, with every distinct score of each cell and outcome and its number of rows
(:mod:`faircard.governance.stored_cube`), so that a read-only view can show the counts at
another threshold. No row and no personal data: group aggregates only. An assessment counted where the data lives (DuckDB,
Spark) gives the same document from its grouped counts; when its scores were put on a grid
(more than 100,000 distinct), each histogram counts a row in the bin of its grid cell.

:func:`assessment_from_cells` rebuilds the :class:`~faircard.assess.Assessment` from that
document with the same engine as the author's screen (metrics from counts, intervals from
resampled cells with the same seed), so a read-only view shows the same figures.

Pure Python: no streamlit, no database.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..assess import Assessment, assess_cube
from ..cube import Cube, ScoredCells
from ..errors import FaircardError
from ..prepare import GroupIndex
from ..spec import AssessmentSpec
from .stored_cube import cell_codes, cube_entry

CELLS_FORMAT = "faircard-cells"
CELLS_VERSION = 1
N_BINS = 20
"""Score histogram bins per cell (equal width over [0, 1], or over the scores' range)."""


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def cells_of(assessment: Assessment, n_bins: int = N_BINS) -> dict[str, Any]:
    """The per-cell document of ``assessment`` (JSON-ready; see the module docstring)."""
    cube = assessment.cube
    index = cube.index
    cells = cube.cells
    doc: dict[str, Any] = {
        "format": CELLS_FORMAT,
        "version": CELLS_VERSION,
        "spec": assessment.spec.to_dict(),
        "pos_label": _plain(cube.pos_label),
        "n_input": int(cube.n_input),
        "n_dropped": int(cube.n_dropped),
        "dropped_reasons": {str(k): int(v) for k, v in cube.dropped_reasons.items()},
        "features": list(index.features),
        "labels": {f: list(index.labels[f]) for f in index.features},
        "cell_codes": np.asarray(index.cell_codes, dtype=np.int64).tolist(),
        # expected counts under a randomised policy stay fractional
        "counts": (np.asarray(cells, dtype=np.float64) if cube.is_randomized
                   else np.asarray(cells, dtype=np.int64)).tolist(),
        "scores": None,
    }
    doc["cube"], note = cube_entry(cube)
    if note:
        doc["cube_note"] = note
    sc = cube.scores
    if sc is not None and len(sc.y_score):
        prob = sc.is_probability
        lo, hi = (0.0, 1.0) if prob else (sc.minimum, sc.maximum)
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
        b = np.clip(np.searchsorted(edges, sc.y_score, side="right") - 1, 0, n_bins - 1)
        code = (sc.cell * 2 + sc.y_true.astype(np.int64)) * n_bins + b
        hist = np.bincount(code, weights=sc.weight, minlength=index.n_cells * 2 * n_bins)
        hist = np.rint(hist).astype(np.int64)  # whole rows
        sums = sc.sums if prob else None
        auc = {}
        for gc_feature in assessment.features:
            rows = assessment.by_group[(assessment.by_group["feature"] == gc_feature)
                                       & (assessment.by_group["metric"] == "roc_auc")]
            auc[gc_feature] = [None if pd.isna(v) else float(v) for v in rows["value"]]
        doc["scores"] = {
            "is_probability": prob,
            "min": float(sc.minimum), "max": float(sc.maximum),
            "bin_edges": edges.tolist(),
            "histograms": hist.reshape(index.n_cells, 2, n_bins).tolist(),
            "brier_sum": None if sums is None else sums["brier_score"].tolist(),
            "log_loss_sum": None if sums is None else sums["log_loss"].tolist(),
            "roc_auc": auc,
            "overall_roc_auc": _plain(assessment.overall.get("roc_auc")),
        }
    return doc


def _check(cells: Any) -> dict[str, Any]:
    if not isinstance(cells, dict) or cells.get("format") != CELLS_FORMAT:
        raise FaircardError(
            "This record has no per-cell counts (it was recorded before they were kept, or by "
            "another tool), so its tables cannot be drawn; record the assessment again."
        )
    if cells.get("version") != CELLS_VERSION:
        raise FaircardError(
            f"This record's per-cell counts are in version {cells.get('version')}; this faircard "
            f"reads version {CELLS_VERSION}. Upgrade faircard to open it."
        )
    return cells


def assessment_from_cells(cells: dict[str, Any]) -> Assessment:
    """The assessment recomputed from a record's per-cell document (no rows needed)."""
    cells = _check(cells)
    try:
        spec = AssessmentSpec.from_dict(cells["spec"])
        features = tuple(cells["features"])
        labels = {f: tuple(cells["labels"][f]) for f in features}
        codes = cell_codes(cells)
        counts = _counts(cells["counts"], spec).reshape(len(codes), 4)
    except (KeyError, TypeError, ValueError) as exc:
        raise FaircardError(f"This record's per-cell counts are damaged ({exc}).") from None
    index = GroupIndex(features, labels, np.zeros(0, dtype=np.int64), codes)
    scores = cells.get("scores")
    scored = None
    memo: dict[Any, Any] = {}
    if scores:
        # the record keeps each score's histogram bin, not the score: the per-group score
        # metrics are given, and the scores' range
        none = np.zeros(0, dtype=np.int64)
        scored = ScoredCells(np.zeros(0, bool), np.zeros(0, np.float64), none, none,
                             minimum=float(scores["min"]), maximum=float(scores["max"]))
        memo[("score_metrics", spec.intersection)] = _score_metrics(index, counts, scores, spec)
    cube = Cube(index=index, cells=counts, pos_label=cells.get("pos_label"),
                n_input=int(cells["n_input"]), n_dropped=int(cells["n_dropped"]),
                dropped_reasons=dict(cells.get("dropped_reasons") or {}), scores=scored,
                engine={"name": "record"}, memo=memo)
    return assess_cube(cube, spec, recorded=True)


def _counts(stored, spec: AssessmentSpec) -> np.ndarray:
    """The stored per-cell counts: expected counts of a randomised policy as they are, whole
    rows otherwise (a fraction there means the document was changed)."""
    flat = np.asarray(stored, dtype=object).ravel()
    if not all(type(v) in (int, float) for v in flat):
        raise ValueError("counts must be numbers")
    counts = np.asarray(stored, dtype=np.float64)
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("counts must be finite and not negative")
    if spec.uses_score and spec.policy.is_randomized:
        return counts
    if (counts != np.rint(counts)).any():
        raise ValueError("whole rows were stored as fractions")
    return counts.astype(np.int64)


def _score_metrics(index: GroupIndex, counts: np.ndarray, scores: dict[str, Any],
                   spec: AssessmentSpec) -> dict[str, dict[str, np.ndarray]]:
    from ..counts import aggregate_cells

    n_cell = counts.sum(axis=1).astype(np.float64)
    out: dict[str, dict[str, np.ndarray]] = {}
    sums = {k: None if scores.get(f"{k}_sum") is None else np.asarray(scores[f"{k}_sum"], float)
            for k in ("brier", "log_loss")}
    for p in index.partitions(spec.intersection):
        g = len(p.groups)
        n_g = aggregate_cells(n_cell, p.cell_to_group, g)
        auc = scores.get("roc_auc", {}).get(p.name)
        res = {"roc_auc": np.array([np.nan if v is None else v for v in auc], dtype=float)
               if auc is not None else np.full(g, np.nan)}
        for key, name in (("brier", "brier_score"), ("log_loss", "log_loss")):
            res[name] = np.full(g, np.nan) if sums[key] is None else \
                aggregate_cells(sums[key], p.cell_to_group, g) / n_g
        out[p.name] = res
    total = n_cell.sum()
    out["overall"] = {"roc_auc": np.array([np.nan if scores.get("overall_roc_auc") is None
                                           else scores["overall_roc_auc"]], dtype=float)}
    for key, name in (("brier", "brier_score"), ("log_loss", "log_loss")):
        out["overall"][name] = np.array([np.nan if sums[key] is None else
                                         sums[key].sum() / total])
    return out


def score_histograms(cells: dict[str, Any], feature: str) -> pd.DataFrame:
    """Tidy score histograms of one partition's groups from a record's per-cell document:
    ``group, outcome ("positive"/"negative"), bin_low, bin_high, count``. Empty without scores."""
    cells = _check(cells)
    scores = cells.get("scores")
    cols = ["group", "outcome", "bin_low", "bin_high", "count"]
    if not scores:
        return pd.DataFrame(columns=cols)
    features = tuple(cells["features"])
    try:
        codes = cell_codes(cells)
    except (KeyError, TypeError, ValueError) as exc:
        raise FaircardError(f"This record's per-cell counts are damaged ({exc}).") from None
    index = GroupIndex(features, {f: tuple(cells["labels"][f]) for f in features},
                       np.zeros(0, np.int64), codes)
    spec_intersection = bool(cells["spec"].get("intersection", True))
    parts = {p.name: p for p in index.partitions(spec_intersection)}
    if feature not in parts:
        raise FaircardError(f"'{feature}' is not one of this record's groupings: "
                            f"{', '.join(parts)}.")
    from ..counts import aggregate_cells

    part = parts[feature]
    hist = aggregate_cells(np.asarray(scores["histograms"], np.int64), part.cell_to_group,
                           len(part.groups))  # (groups, 2, bins)
    edges = scores["bin_edges"]
    rows = []
    for gi, group in enumerate(part.groups):
        for y, outcome in ((1, "positive"), (0, "negative")):
            for b in range(len(edges) - 1):
                rows.append((group, outcome, edges[b], edges[b + 1], int(hist[gi, y, b])))
    return pd.DataFrame(rows, columns=cols)


_REL = 1e-9


def cells_problem(cells: Any, spec: dict[str, Any], doc: dict[str, Any]) -> str:
    """Why a record's per-cell document does not give the record's own results ("" when it
    does, or when it is not a document this faircard draws): the share view draws its tables,
    and states its decision rule, from this document, while the fingerprint covers the
    record's choices (``spec``) and results (``doc``, the full assessment). So the document
    must state the same choices and give every group the same size and figures; otherwise a
    share view could show, and a reviewer approve, other tables (for example two groups'
    figures swapped, which leaves every overall figure and every gap as recorded)."""
    from .records import SPEC_KEYS, canonical_json, canonical_value, spec_of

    if not isinstance(cells, dict) or cells.get("format") != CELLS_FORMAT \
            or cells.get("version") != CELLS_VERSION:
        return ""  # not a document the share view draws (it says so), so it shows no figure
    try:
        spec_doc = dict(cells["spec"])
        spec_doc["n_boot"] = 0  # the figures, not their intervals
        derived = assessment_from_cells({**cells, "spec": spec_doc}).to_dict()
    except (FaircardError, KeyError, TypeError, ValueError) as exc:
        return f"its stored per-cell counts cannot be read ({exc})"
    stated = spec_of(derived)
    for key in SPEC_KEYS:
        if key in spec and canonical_json(stated.get(key)) != canonical_json(spec.get(key)):
            return (f"its stored per-cell counts state another '{key}' than the record "
                    "(they belong to another assessment)")
    want = {(g.get("feature"), g.get("group")): g for g in doc.get("by_group") or ()}
    got = {(g["feature"], g["group"]): g for g in derived["by_group"]}
    if set(want) != set(got):
        return "its stored per-cell counts have other groups than the record"
    for key, mine in got.items():
        theirs = want[key]
        for m, value in mine.items():
            if m in ("feature", "group", "undefined", "unreliable") or "_ci_" in m \
                    or m not in theirs:
                continue
            a = canonical_value(value)
            b = canonical_value(theirs[m])
            if a is None or b is None or isinstance(a, bool | str):
                same = a == b
            else:
                same = bool(np.isclose(float(a), float(b), rtol=_REL, atol=_REL))
            if not same:
                return (f"its stored per-cell counts give {key[0]} '{key[1]}' another {m} "
                        f"({a}) than the record ({b})")
    return ""
