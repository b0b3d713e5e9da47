"""The counts cube a record keeps, so that a read-only view can move the threshold.

A record's per-cell document (:func:`faircard.governance.share.cells_of`) carries, under
``"cube"``, the assessment's whole counts cube (:class:`faircard.cube.Cube`): each cell's
confusion counts, its labels, the row accounting and, for a score column, every distinct
(cell, outcome, score) with its number of rows. It is a compressed NumPy ``.npz`` archive of
plain arrays and a JSON header (no pickle), base64-encoded in the document, at most
:data:`MAX_CUBE_BYTES` bytes; a larger cube is left out (``"cube": null``) with the sentence
:func:`too_large` in ``"cube_note"``, and the record is made without it.

The cube is part of the record's stored document, so the record's entry hash (and its
signature) covers it like every other figure; :func:`cube_problem` also checks that it gives
the record's per-cell counts and its fingerprinted results (rows, overall figures), so a cube
rewritten together with the entry's hash is found too.

Pure Python: no streamlit, no database.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..cube import Cube, cube_from_npz, cube_to_npz
from ..errors import FaircardError

CUBE_ENCODING = "npz+base64"
MAX_CUBE_BYTES = 10_000_000
"""Compressed bytes of a counts cube a record keeps (a million rows with a million distinct
scores take about 4.8 MB; scores with four decimals about 0.2 MB)."""
MAX_CUBE_UNPACKED = 512 * 2**20
"""Bytes a stored cube may unpack to (a bound against archives built to inflate)."""
_REL = 1e-9
"""Relative tolerance for figures that were rounded when recorded (12 significant digits)."""


def too_large(size: int) -> str:
    """Why a cube of ``size`` compressed bytes is not kept, and what follows."""
    return (f"The counts cube is {size / 1e6:,.1f} MB compressed; a record keeps at most "
            f"{MAX_CUBE_BYTES / 1e6:,.0f} MB, so this record keeps its counts at the recorded "
            "decision rule without the cube, and its share link cannot show another threshold. "
            "Fewer distinct scores (for example scores rounded to four decimals) or fewer "
            "groups make the cube smaller.")


def cube_entry(cube: Cube) -> tuple[dict[str, Any] | None, str]:
    """``(entry, note)``: the document's ``"cube"`` entry, or ``(None, why)`` when the cube is
    larger than :data:`MAX_CUBE_BYTES`."""
    blob = cube_to_npz(cube)
    if len(blob) > MAX_CUBE_BYTES:
        return None, too_large(len(blob))
    return {"encoding": CUBE_ENCODING, "bytes": len(blob),
            "data": base64.b64encode(blob).decode("ascii")}, ""


def has_cube(cells: Mapping[str, Any] | None) -> bool:
    """Whether a record's per-cell document carries a counts cube."""
    return isinstance(cells, Mapping) and cells.get("cube") is not None


def stored_cube(cells: Mapping[str, Any] | None) -> Cube | None:
    """The counts cube of a record's per-cell document, or None when it keeps none (recorded
    before records kept cubes, or too large). A :class:`FaircardError` when it cannot be
    read."""
    if not has_cube(cells):
        return None
    entry = cells["cube"]
    if not isinstance(entry, Mapping) or entry.get("encoding") != CUBE_ENCODING \
            or not isinstance(entry.get("data"), str):
        raise FaircardError("This record's counts cube is not in a form this faircard reads "
                            f"(expected {CUBE_ENCODING}); upgrade faircard to open it.")
    if len(entry["data"]) > 4 * math.ceil(MAX_CUBE_BYTES / 3):
        raise FaircardError(f"This record's counts cube is larger than the "
                            f"{MAX_CUBE_BYTES:,} bytes a record keeps; it was not written by "
                            "faircard.")
    try:
        blob = base64.b64decode(entry["data"], validate=True)
    except (binascii.Error, ValueError):
        raise FaircardError("This record's counts cube is damaged (not base64).") from None
    return cube_from_npz(blob, MAX_CUBE_UNPACKED)


def cube_problem(cells: Mapping[str, Any] | None, summary: Mapping[str, Any]) -> str:
    """Why the cube a record stores does not belong to it ("" when it does, or when there is
    no cube): it cannot be read, or it does not give the record's per-cell counts, row
    accounting and overall figures (``summary``, which the fingerprint covers)."""
    try:
        cube = stored_cube(cells)
    except FaircardError as exc:
        return f"its stored counts cube cannot be read: {exc}"
    if cube is None:
        return ""
    try:
        _check_against(cube, cells, summary)
    except (KeyError, TypeError, ValueError, FaircardError) as exc:
        return (f"its stored counts cube does not give its recorded figures ({exc}): the cube "
                "was changed after it was recorded")
    return ""


def cell_codes(cells: Mapping[str, Any]) -> np.ndarray:
    """The per-cell document's ``cell_codes`` (one row of group codes per cell, one column per
    feature) as int64; a :class:`ValueError` unless every code is a whole number written as
    one (1.5, "1", 1.0 and true are not codes: read as 1 they would pass for another cell)."""
    features = cells["features"]
    rows = cells["cell_codes"]
    if not isinstance(rows, list) or not all(
            isinstance(row, list) and len(row) == len(features)
            and all(type(c) is int and c >= 0 for c in row) for row in rows):
        raise ValueError("the cell codes must be lists of whole numbers, one per feature")
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), len(features))


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=_REL, atol=1e-9, equal_nan=True))


def _check_against(cube: Cube, cells: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
    from ..metrics import COUNT_METRICS, metrics_from_counts

    features = list(cube.index.features)
    if features != list(cells["features"]) or any(
            list(cube.index.labels[f]) != [str(g) for g in cells["labels"][f]]
            for f in features):
        raise ValueError("other groups")
    codes = cell_codes(cells)
    if codes.shape != cube.index.cell_codes.shape \
            or not np.array_equal(cube.index.cell_codes, codes):
        raise ValueError("other cells")
    if not _close(cube.cells, cells["counts"]):
        raise ValueError("other per-cell counts")
    if (cube.n_input, cube.n_dropped) != (int(cells["n_input"]), int(cells["n_dropped"])) \
            or (cube.n_input, cube.n_dropped) != (int(summary["n_rows"]),
                                                  int(summary["n_dropped"])):
        raise ValueError("other row accounting")
    overall = metrics_from_counts(np.asarray(cube.cells).sum(axis=0))
    recorded = summary.get("overall") or {}
    for m in COUNT_METRICS:
        value = recorded.get(m)
        if not _close(overall[m], np.nan if value is None else value):
            raise ValueError(f"another overall {m}")
    sc = cube.scores
    if sc is None:
        return
    # whatever the rule, each cell's rows per outcome are fixed: negatives tn + fp, positives
    # fn + tp
    n = len(cube.cells)
    neg = np.bincount(sc.cell[~sc.y_true], weights=sc.weight[~sc.y_true], minlength=n)
    pos = np.bincount(sc.cell[sc.y_true], weights=sc.weight[sc.y_true], minlength=n)
    c = np.asarray(cube.cells, np.float64)
    if not (_close(neg, c[:, 0] + c[:, 1]) and _close(pos, c[:, 2] + c[:, 3])):
        raise ValueError("other rows per cell")
    if sc.step is None and n:
        # exact scores: the recorded rule applied to them gives the recorded counts
        decided = _counts_under_rule(cube, cells["spec"])
        if decided is not None and not _close(decided, c):
            raise ValueError("other decisions under the recorded rule")


def _counts_under_rule(cube: Cube, spec_doc: Mapping[str, Any]) -> np.ndarray | None:
    """Each cell's counts ``[tn, fp, fn, tp]`` under the recorded decision rule, from the
    cube's scores (None for a rule on predicted labels)."""
    from ..spec import AssessmentSpec
    from .what_if import cell_counts_at

    spec = AssessmentSpec.from_dict(dict(spec_doc))
    if not spec.uses_score:
        return None
    return cell_counts_at(cube, spec.policy)
