"""The counts cube: the one object between a table's rows and everything faircard computes.

A source (pandas in memory, DuckDB over files, Spark over a cluster) reads the rows once and
returns a :class:`Cube`. Metrics, disparities, intervals, sweeps, policies, cards and records
read only the cube, so they give the same numbers whichever source counted. The cube holds:

* the cells: each combination of the sensitive features' groups (labels per feature, and each
  cell's group in every feature), with its confusion counts ``[tn, fp, fn, tp]`` under the
  decision rule (expected counts, float, under a randomised rule);
* for a score column, :class:`ScoredCells`: each cell's scores per outcome as (cell, outcome,
  score, rows) entries, which is what a sweep, ROC AUC and a score histogram need, plus the
  per-cell sums behind the Brier score and log loss;
* the row accounting: rows read, rows left out and why, and the positive label.

No other column, no row order and no row identity: a cube cannot be joined back to people.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import FaircardError
from .prepare import GroupIndex, Partition


@dataclass(frozen=True)
class ScoredCells:
    """The scores of every cell, per outcome, as weighted entries.

    Entry ``i`` says that ``weight[i]`` rows (one when ``weight`` is None) of cell ``cell[i]``
    with outcome ``y_true[i]`` have the score ``y_score[i]``. Entries are ascending by score when
    ``by_score`` is true (an in-memory source: one entry per row kept); an engine that counted
    next to the data gives one entry per distinct (cell, outcome, score), in no set order.
    ``minimum``/``maximum`` are the scores' range over the rows kept (also when a record keeps
    no entries); ``sums`` the per-cell sums of the squared error and of the log-loss terms
    (probabilities only, else None); ``step`` the grid on which an engine put more than
    100,000 distinct scores (None: exact scores).
    """

    y_true: np.ndarray
    y_score: np.ndarray
    cell: np.ndarray
    weight: np.ndarray | None
    minimum: float
    maximum: float
    sums: dict[str, np.ndarray] | None = None
    by_score: bool = False
    step: float | None = None

    @property
    def is_probability(self) -> bool:
        """True when every score lies in [0, 1] (Brier score and log loss need probabilities)."""
        return self.minimum >= 0.0 and self.maximum <= 1.0

    def rows_per_cell(self, n_cells: int) -> np.ndarray:
        """Rows with a score in each cell (float64, n_cells)."""
        return np.bincount(self.cell, weights=self.weight,
                           minlength=n_cells).astype(np.float64)


@dataclass
class Cube:
    """Counts of one table under one set of choices (see the module docstring).

    ``index`` names the cells (its ``cell_codes`` and ``labels``; it holds no rows);
    ``cells`` (n_cells x 4) the confusion counts; ``scores`` is None for a prediction column.
    ``engine`` says how the rows were counted (name, grid step, ...); ``memo`` keeps what is
    computed from the cube once (per-group score metrics), so another reference group or
    minimum group size does not recompute it.
    """

    index: GroupIndex
    cells: np.ndarray
    pos_label: Any
    n_input: int
    n_dropped: int
    dropped_reasons: dict[str, int]
    scores: ScoredCells | None = None
    engine: dict[str, Any] = field(default_factory=dict)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_cells(self) -> int:
        return self.index.n_cells

    @property
    def is_randomized(self) -> bool:
        """True when the counts are expected values over a randomised decision rule."""
        return bool(np.issubdtype(np.asarray(self.cells).dtype, np.floating))

    def partitions(self, intersection: bool = True) -> list[Partition]:
        """Each sensitive feature, then (with two or more) their intersection."""
        return self.index.partitions(intersection)


def cells_only(index: GroupIndex) -> GroupIndex:
    """``index`` without its rows: the cells' labels and codes only."""
    return GroupIndex(index.features, index.labels, np.zeros(0, dtype=np.int64),
                      index.cell_codes)


# -- serialisation ----------------------------------------------------------------------------

CUBE_FORMAT = "faircard-cube"
CUBE_VERSION = 1
_ARRAYS = {
    # name: allowed dtypes (by kind and size); shapes are checked against the header
    "header": ("u1",),
    "cells": ("i8", "f8"),
    "cell_codes": ("i8",),
    "entry_cell": ("i4",),
    "entry_y": ("u1",),
    "entry_score_planes": ("u1",),
    "entry_weight": ("i8", "f8"),
    "sum_brier_score": ("f8",),
    "sum_log_loss": ("f8",),
}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _distinct_entries(scores: ScoredCells) -> tuple[np.ndarray, ...]:
    """(cell, y_true, score, weight) with one entry per distinct (cell, outcome, score), in
    the order of cell, outcome and score (weights: rows of that entry, summed)."""
    segment = scores.cell.astype(np.int64) * 2 + scores.y_true.astype(np.int64)
    y_score = np.asarray(scores.y_score, np.float64)
    # -0.0 before 0.0 where scores are equal, so that each signed zero is one run
    order = np.lexsort((~np.signbit(y_score), y_score, segment))
    seg, sc = segment[order], y_score[order]
    w = np.ones(len(order)) if scores.weight is None else \
        np.asarray(scores.weight, np.float64)[order]
    if len(order):
        # bit patterns, so that -0.0 and 0.0 stay apart as they do in the rows
        new = np.ones(len(order), dtype=bool)
        new[1:] = (seg[1:] != seg[:-1]) | (sc[1:].view(np.uint64) != sc[:-1].view(np.uint64))
        starts = np.flatnonzero(new)
        seg, sc, w = seg[starts], sc[starts], np.add.reduceat(w, starts)
    return seg // 2, (seg % 2).astype(np.uint8), sc, w


def _score_planes(y_score: np.ndarray) -> np.ndarray:
    """Scores as the differences of their IEEE-754 bit patterns (exact, wrapping), split into
    8 byte planes: ascending scores share their high bytes, which then compress to nothing."""
    bits = np.ascontiguousarray(y_score, np.float64).view(np.uint64)
    delta = np.diff(bits, prepend=np.uint64(0))
    return np.ascontiguousarray(delta.astype("<u8").view(np.uint8).reshape(-1, 8).T)


def _scores_of_planes(planes: np.ndarray) -> np.ndarray:
    delta = np.ascontiguousarray(planes.T).view("<u8").reshape(-1)
    return np.cumsum(delta, dtype=np.uint64).view(np.float64)


def cube_to_npz(cube: Cube) -> bytes:
    """``cube`` as a compressed NumPy ``.npz`` archive: plain numeric arrays and one JSON
    header, no pickled object (read it back with :func:`cube_from_npz`, or with
    ``numpy.load(..., allow_pickle=False)``).

    Kept: the cells' labels and codes, their confusion counts under the decision rule, the
    row accounting and, for a score column, one entry per distinct (cell, outcome, score) with
    its number of rows, the per-cell score sums and the scores' range and grid step. Row order
    and row identity are not kept.
    """
    sc = cube.scores
    header: dict[str, Any] = {
        "format": CUBE_FORMAT, "version": CUBE_VERSION,
        "features": list(cube.index.features),
        "labels": {f: [str(g) for g in cube.index.labels[f]] for f in cube.index.features},
        "pos_label": _plain(cube.pos_label),
        "n_input": int(cube.n_input), "n_dropped": int(cube.n_dropped),
        "dropped_reasons": {str(k): int(v) for k, v in cube.dropped_reasons.items()},
        "engine": {str(k): _plain(v) for k, v in cube.engine.items()
                   if isinstance(_plain(v), str | int | float | bool | type(None))},
        "scores": None,
    }
    arrays: dict[str, np.ndarray] = {
        "cells": np.asarray(cube.cells, np.float64 if cube.is_randomized else np.int64),
        "cell_codes": np.asarray(cube.index.cell_codes, np.int64),
    }
    if sc is not None:
        cell, y, score, weight = _distinct_entries(sc)
        whole = bool(np.all(weight == np.rint(weight)))
        header["scores"] = {"minimum": float(sc.minimum), "maximum": float(sc.maximum),
                            "step": None if sc.step is None else float(sc.step)}
        arrays.update(entry_cell=cell.astype(np.int32), entry_y=y,
                      entry_score_planes=_score_planes(score),
                      entry_weight=np.rint(weight).astype(np.int64) if whole else weight)
        for name, values in (sc.sums or {}).items():
            arrays[f"sum_{name}"] = np.asarray(values, np.float64)
    text = json.dumps(header, ensure_ascii=False, allow_nan=False, sort_keys=True)
    arrays["header"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def _damaged(detail: str) -> FaircardError:
    return FaircardError(f"The stored counts cube cannot be read ({detail}); it was damaged "
                         "or written by something other than faircard.")


def _read_arrays(data: bytes, max_unpacked: int) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, reading at most ``max_unpacked`` bytes out of it and
    only the names and plain dtypes of :data:`_ARRAYS` (never an object array)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _damaged(f"not a NumPy archive: {exc}") from None
    names = [i.filename.removesuffix(".npy") for i in infos]
    unknown = sorted(set(names) - set(_ARRAYS))
    if unknown or len(set(names)) != len(names):
        raise _damaged(f"unexpected parts {', '.join(unknown) or 'repeated'}")
    if sum(i.file_size for i in infos) > max_unpacked:
        raise _damaged(f"it unpacks to more than {max_unpacked:,} bytes")
    out = {}
    for info, name in zip(infos, names, strict=True):
        raw = bytearray()
        try:
            with archive.open(info) as fh:
                while chunk := fh.read(1 << 20):  # bounded reads: no inflating beyond the size
                    raw += chunk
                    if len(raw) > info.file_size:
                        raise _damaged(f"'{name}' is longer than it says")
            buf = io.BytesIO(bytes(raw))
            version = np.lib.format.read_magic(buf)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf)
            else:
                raise ValueError(f"array format {version}")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _damaged(f"'{name}': {exc}") from None
        dtype = np.dtype(dtype)
        if dtype.hasobject or dtype.newbyteorder("<").str[1:] not in _ARRAYS[name] or fortran:
            raise _damaged(f"'{name}' holds {dtype}, not {' or '.join(_ARRAYS[name])}")
        count = math.prod(shape)
        body = len(raw) - buf.tell()
        if count * dtype.itemsize != body:
            raise _damaged(f"'{name}' says {shape} but holds {body:,} bytes")
        out[name] = np.frombuffer(bytes(raw), dtype=dtype, count=count,
                                  offset=buf.tell()).astype(dtype.newbyteorder("="))
        out[name] = out[name].reshape(shape)
    return out


def cube_from_npz(data: bytes, max_unpacked: int = 512 * 2**20) -> Cube:
    """The :class:`Cube` written by :func:`cube_to_npz` (its entries carry weights; it holds
    no rows). Refuses, with a :class:`FaircardError`, an archive that is not such a cube or
    unpacks to more than ``max_unpacked`` bytes."""
    arrays = _read_arrays(data, max_unpacked)
    try:
        header = json.loads(bytes(arrays["header"]).decode("utf-8"))
        if header.get("format") != CUBE_FORMAT:
            raise ValueError("not a faircard counts cube")
        if header.get("version") != CUBE_VERSION:
            raise FaircardError(
                f"This counts cube is in version {header.get('version')}; this faircard reads "
                f"version {CUBE_VERSION}. Upgrade faircard to open it.")
        features = tuple(str(f) for f in header["features"])
        labels = {f: tuple(str(g) for g in header["labels"][f]) for f in features}
        cells, codes = arrays["cells"], arrays["cell_codes"]
        n_cells = len(cells)
        if cells.shape != (n_cells, 4) or codes.shape != (n_cells, len(features)):
            raise ValueError("the cells and their codes do not match")
        if not np.isfinite(cells).all() or (cells < 0).any():
            raise ValueError("counts must be finite and not negative")
        for j, f in enumerate(features):
            if n_cells and not (0 <= codes[:, j].min() and codes[:, j].max() < len(labels[f])):
                raise ValueError(f"a cell of '{f}' has no label")
        index = GroupIndex(features, labels, np.zeros(0, np.int64), codes)
        scores = None
        s = header.get("scores")
        if s is not None:
            cell = arrays["entry_cell"].astype(np.int64)
            y = arrays["entry_y"]
            planes = arrays["entry_score_planes"]
            weight = arrays["entry_weight"].astype(np.float64)
            n = len(cell)
            if y.shape != (n,) or planes.shape != (8, n) or weight.shape != (n,):
                raise ValueError("the scored entries do not match")
            y_score = _scores_of_planes(planes)
            if n and (cell.min() < 0 or cell.max() >= n_cells or y.max() > 1):
                raise ValueError("an entry names no cell or outcome")
            if not (np.isfinite(y_score).all() and np.isfinite(weight).all()
                    and (weight > 0).all()):
                raise ValueError("scores and rows must be finite, rows positive")
            sums = None
            if "sum_brier_score" in arrays and "sum_log_loss" in arrays:
                sums = {k: arrays[f"sum_{k}"] for k in ("brier_score", "log_loss")}
                if any(v.shape != (n_cells,) for v in sums.values()):
                    raise ValueError("the score sums do not match the cells")
            step = s.get("step")
            scores = ScoredCells(y.astype(bool), y_score, cell, weight,
                                 minimum=float(s["minimum"]), maximum=float(s["maximum"]),
                                 sums=sums, step=None if step is None else float(step))
        return Cube(index=index, cells=cells, pos_label=header.get("pos_label"),
                    n_input=int(header["n_input"]), n_dropped=int(header["n_dropped"]),
                    dropped_reasons={str(k): int(v) for k, v in
                                     (header.get("dropped_reasons") or {}).items()},
                    scores=scores, engine=dict(header.get("engine") or {}))
    except FaircardError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise _damaged(str(exc)) from None


__all__ = ["CUBE_FORMAT", "CUBE_VERSION", "Cube", "ScoredCells", "cells_only", "cube_from_npz",
           "cube_to_npz"]
