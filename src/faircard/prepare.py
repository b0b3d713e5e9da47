"""Turn a DataFrame and an AssessmentSpec into clean arrays: the boundary where input is checked.

:class:`Prepared` holds boolean ``y_true``/``y_pred``, an optional float ``y_score``, and a
:class:`GroupIndex` that assigns every row to an intersection cell of the sensitive features.
The pandas source (:mod:`faircard.engine.pandas_source`) counts it into the
:class:`~faircard.cube.Cube` that everything downstream reads; the diagnostics, which look at
other columns too, read these arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from .errors import FaircardError, column_choices, missing_column
from .onehot import sensitive_column
from .roles import is_scalar_column
from .spec import MISSING_GROUP, AssessmentSpec

_POSITIVE_WORDS = {"1", "1.0", "true", "t", "yes", "y", "positive", "pos"}
_NEGATIVE_WORDS = {"0", "0.0", "-1", "-1.0", "false", "f", "no", "n", "negative", "neg"}
MAX_GROUPS_PER_FEATURE = 1000
MAX_GROUP_NAME = 1_000
"""Most characters in a group's name, a sensitive feature's value as text: every engine refuses
a feature with a longer value in any row (kept or left out) before counting. Names of groups
are categories (the longest of COMPAS, Adult and German credit has 26 characters, Adult's
'Outlying-US(Guam-USVI-etc)'); a Parquet file of 184 KB holding 3,000 distinct values of
1,000,000 characters took DuckDB 112 s and 7.2 GB of memory before it gave up."""


def group_name_too_long(name: str) -> FaircardError:
    """The refusal of the sensitive feature ``name`` for a value longer than
    :data:`MAX_GROUP_NAME` characters (the same sentence from every engine)."""
    return FaircardError(
        f"Sensitive feature '{name}' has values of more than {MAX_GROUP_NAME:,} characters, "
        "too long to name a group; choose a column of categories such as sex, race or an age "
        "band.")


def check_group_names(values, name: str) -> None:
    """Refuses (:func:`group_name_too_long`) when a text among ``values`` (a feature's
    distinct values, or their labels) has more than :data:`MAX_GROUP_NAME` characters."""
    if any(isinstance(v, str) and len(v) > MAX_GROUP_NAME for v in values):
        raise group_name_too_long(name)


def partition_name(features: tuple[str, ...] | list[str]) -> str:
    """The name users see for a partition: ``"sex"``, or ``"race & sex"`` for an intersection.

    Only for display: code that needs the features reads :attr:`Partition.features`.
    """
    return " & ".join(features)


@dataclass(frozen=True)
class Partition:
    """One way of splitting rows into groups: a sensitive feature, or the intersection."""

    features: tuple[str, ...]
    """The sensitive features crossed in this partition: ``("sex",)`` or ``("race", "sex")``."""
    groups: tuple[str, ...]
    """Group labels, in display order."""
    cell_to_group: np.ndarray
    """For every intersection cell, the index of its group in ``groups`` (int64, n_cells)."""

    @property
    def name(self) -> str:
        """Feature name as shown to users: ``"sex"`` or ``"race & sex"``."""
        return partition_name(self.features)


@dataclass(frozen=True)
class GroupIndex:
    """Rows assigned to intersection cells of the sensitive features.

    ``cell`` (int64, one per row) indexes the non-empty cells; ``cell_codes`` (n_cells x
    n_features) gives each cell's group index within each feature's ``labels``.
    """

    features: tuple[str, ...]
    labels: dict[str, tuple[str, ...]]
    cell: np.ndarray
    cell_codes: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.cell_codes.shape[0])

    def partitions(self, intersection: bool = True) -> list[Partition]:
        """Each feature on its own, then (with two or more features) their intersection."""
        parts = [
            Partition((f,), self.labels[f], self.cell_codes[:, j].astype(np.int64))
            for j, f in enumerate(self.features)
        ]
        if intersection and len(self.features) > 1:
            names = tuple(
                " & ".join(self.labels[f][c] for f, c in zip(self.features, row, strict=True))
                for row in self.cell_codes
            )
            parts.append(Partition(tuple(self.features), names,
                                   np.arange(self.n_cells, dtype=np.int64)))
        return parts

    def take(self, rows: np.ndarray) -> GroupIndex:
        """The same index restricted to a boolean row mask (cells keep their numbering)."""
        return GroupIndex(self.features, self.labels, self.cell[rows], self.cell_codes)


@dataclass(frozen=True)
class Prepared:
    """Validated arrays for the rows kept in the assessment."""

    y_true: np.ndarray
    """bool, True where the target equals the positive label."""
    y_pred: np.ndarray
    """bool, True where the decision is positive (for a randomised policy: where the
    probability of a positive decision is at least one half; counts use ``p_pred``)."""
    y_score: np.ndarray | None
    """float64 scores, or None when a prediction column was given."""
    index: GroupIndex
    pos_label: Any
    n_input: int
    n_dropped: int
    dropped_reasons: dict[str, int]
    p_pred: np.ndarray | None = None
    """float64 probability of a positive decision per row under a randomised policy, else
    None; counts computed from it are expected values over the randomisation."""
    memo: dict = field(default_factory=dict, compare=False, repr=False)
    """What is computed from these rows once: their cube and the order of their scores (shared
    with rows of fewer sensitive features derived from them)."""


def prepare(data: pd.DataFrame, spec: AssessmentSpec) -> Prepared:
    """Check the columns named in ``spec`` and build the arrays the engine needs.

    Rows with a missing target, prediction or score are dropped and counted. Missing values in
    a sensitive feature form the group ``"(missing)"``. A sensitive feature that is not a
    column but the prefix of one-hot columns (``race`` for ``race_White``, ``race_Black``, ...)
    is decoded into one feature (see :mod:`faircard.onehot`).
    """
    if not isinstance(data, pd.DataFrame):
        raise FaircardError("The data must be a table (a pandas DataFrame).")
    if len(data) == 0:
        raise FaircardError("The dataset has no rows.")
    cols = list(data.columns)
    if spec.target not in data.columns:
        raise missing_column(spec.target, cols, "Target column")
    decision_col = spec.prediction or spec.score
    if decision_col not in data.columns:
        role = "Prediction column" if spec.prediction else "Score column"
        raise missing_column(decision_col, cols, role)
    for s in spec.sensitive:
        if s not in data.columns and sensitive_column(data, s) is None:
            raise missing_column(s, cols, "Sensitive feature")

    target = data[spec.target]
    keep = target.notna().to_numpy().copy()
    reasons = {"missing target": int((~keep).sum())}

    if spec.score is not None:
        y_score_all = _numeric_scores(data[spec.score], spec.score)
        ok = ~np.isnan(y_score_all)
        reasons["missing score"] = int((keep & ~ok).sum())
        keep &= ok
    else:
        pred = data[spec.prediction]
        ok = pred.notna().to_numpy()
        reasons["missing prediction"] = int((keep & ~ok).sum())
        keep &= ok

    n_input = len(data)
    n_kept = int(keep.sum())
    if n_kept == 0:
        raise FaircardError(
            "No row has both a target and a prediction/score value; nothing can be assessed."
        )
    all_kept = n_kept == n_input

    target_kept = target if all_kept else target[keep]
    pos_label = resolve_pos_label(target_kept, spec.target, spec.pos_label)
    target_norm = _normalise_labels(target_kept)
    pos_norm = _normalise_scalar(pos_label, target_norm)
    y_true = (target_norm == pos_norm).to_numpy(dtype=bool)

    if spec.score is not None:
        y_score = y_score_all if all_kept else y_score_all[keep]
        y_pred = None
    else:
        y_score = None
        pred_kept = data[spec.prediction] if all_kept else data[spec.prediction][keep]
        pred_norm = _normalise_labels(pred_kept)
        _check_label_spaces(pred_norm, target_norm, spec.prediction, spec.target)
        y_pred = (pred_norm == pos_norm).to_numpy(dtype=bool)

    if not all_kept:  # a group's name is checked in every row, as engines check it
        for f in spec.sensitive:
            if f in data.columns and not pd.api.types.is_numeric_dtype(data[f]):
                check_group_names(data[f][~keep].dropna().unique(), f)
    index = build_group_index(data if all_kept else data[keep], spec)
    p_pred = None
    if y_pred is None:
        p_pred = policy_probabilities(spec.policy, y_score, index, spec.intersection)
        y_pred = p_pred >= 0.5
        if not spec.policy.is_randomized:
            p_pred = None
    return Prepared(
        y_true=y_true,
        y_pred=y_pred,
        p_pred=p_pred,
        y_score=None if y_score is None else np.ascontiguousarray(y_score, dtype=np.float64),
        index=index,
        pos_label=pos_label,
        n_input=n_input,
        n_dropped=n_input - n_kept,
        dropped_reasons={k: v for k, v in reasons.items() if v},
    )


def policy_probabilities(policy, y_score: np.ndarray, index: GroupIndex,
                         intersection: bool = True) -> np.ndarray:
    """Probability of a positive decision per row under ``policy`` (0/1 unless randomised)."""
    if policy.is_single:
        return policy.positive_probability(y_score)
    parts = {p.name: p for p in index.partitions(intersection or " & " in policy.feature)}
    part = parts.get(policy.feature)
    if part is None:
        raise FaircardError(f"The decision policy sets thresholds per group of "
                            f"'{policy.feature}', which is not one of the sensitive features.")
    return policy.positive_probability(y_score, part.cell_to_group[index.cell], part.groups)


_TIME_KINDS = ("date", "datetime", "datetime64", "time", "timedelta", "timedelta64", "period")


def _numeric_scores(col: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return col.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    elif col.dtype.kind in "mM" or isinstance(col.dtype, pd.DatetimeTZDtype | pd.PeriodDtype) \
            or pd.api.types.infer_dtype(col, skipna=True) in _TIME_KINDS:
        # pandas turns dates and durations into counts of nanoseconds: never a score
        raise FaircardError(
            f"Score column '{name}' has dates or times; a score must be a number. Choose a "
            "numeric column, or use it as a prediction column instead.")
    else:
        is_text = col.map(lambda v: isinstance(v, str), na_action="ignore")
        text = col[is_text.fillna(False).astype(bool)]
        if len(text):
            raise text_score_error(name, text)
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = col.notna().to_numpy() & np.isnan(values)
        if bad.any():
            examples = ", ".join(repr(str(v)) for v in pd.unique(col[bad])[:3])
            raise FaircardError(
                f"Score column '{name}' has text values such as {examples}; a score must be a "
                "number. Choose a numeric column, or use it as a prediction column instead."
            )
    if np.isinf(values).any():
        raise FaircardError(f"Score column '{name}' contains infinite values; remove them.")
    return values


def text_score_error(name: str, text: pd.Series) -> FaircardError:
    """The refusal of the score column ``name`` for its values that are text, ``text`` (in
    the rows' order; an engine gives those of its first rows that may not be numbers, else its
    first ones): the first three that are not numbers, or, when each is a number written as
    text, the first three of those. One rule on every engine: a score is a column of numbers.
    An upload read numbers written as text ('0.5' in a Parquet text column, an Excel cell
    stored as text, a CSV column of codes such as '01') as scores, which DuckDB and Spark
    refused."""
    text = text.astype(object)
    words = text[pd.to_numeric(text, errors="coerce").isna().to_numpy()]
    shown = ", ".join(repr(str(v)) for v in pd.unique(words if len(words) else text)[:3])
    if len(words):
        return FaircardError(
            f"Score column '{name}' has text values such as {shown}; a score must be a "
            "number. Choose a numeric column, or use it as a prediction column instead.")
    return FaircardError(
        f"Score column '{name}' has numbers written as text such as {shown}; a score must be "
        "a column of numbers. Store them as numbers in the file, or use it as a prediction "
        "column instead.")


def _normalise_labels(col: pd.Series) -> pd.Series:
    """Labels in a comparable form: numbers (and booleans) as float, everything else as text."""
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.astype("float64")
    return col.astype(str).str.strip()


def _normalise_scalar(value: Any, like: pd.Series) -> Any:
    if like.dtype == np.float64:
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return str(value).strip()


def _distinct(col: pd.Series, limit: int = 50) -> list:
    values = pd.unique(col.dropna())
    return list(values[:limit])


def resolve_pos_label(target: pd.Series, name: str, pos_label: Any = None) -> Any:
    """The target value that counts as the positive outcome.

    Given explicitly it must occur in the column (compared as numbers for numeric columns).
    Otherwise it is detected for 0/1, -1/1, True/False, yes/no, positive/negative and
    ``">X"``/``"<=X"`` pairs; anything else must be chosen by the user.
    """
    values = _distinct(target, limit=3)
    if len(values) > 2:
        n = target.nunique(dropna=True)
        raise FaircardError(
            f"Target column '{name}' has {n} different values; faircard assesses yes/no decisions "
            "and needs a target with two values. Choose another column or recode it."
        )
    norm = _normalise_labels(pd.Series(values, dtype=target.dtype))
    if pos_label is not None:
        p = _normalise_scalar(pos_label, norm)
        if p not in set(norm.tolist()) and len(values) < 2:
            # a sample in which nobody has the positive outcome is still assessable
            return _py(pos_label)
        if p not in set(norm.tolist()):
            shown = ", ".join(repr(_py(v)) for v in values)
            raise FaircardError(
                f"The positive label {pos_label!r} does not occur in target column '{name}' "
                f"(values: {shown}). Choose one of those."
            )
        return _py(values[list(norm).index(p)])
    texts = [str(v).strip().lower() for v in norm]
    pos = [i for i, t in enumerate(texts) if t in _POSITIVE_WORDS]
    neg = [i for i, t in enumerate(texts) if t in _NEGATIVE_WORDS]
    if len(values) == 2:
        if len(pos) == 1 and len(neg) == 1:
            return _py(values[pos[0]])
        gt = [i for i, t in enumerate(texts) if t.startswith(">") and not t.startswith(">=")]
        le = [i for i, t in enumerate(texts) if t.startswith("<")]
        if len(gt) == 1 and len(le) == 1:
            return _py(values[gt[0]])
    elif len(values) == 1 and (pos or neg):
        if pos:
            return _py(values[0])
        raise FaircardError(
            f"Target column '{name}' only has the value {_py(values[0])!r}; give the positive "
            "label explicitly (e.g. --pos-label 1)."
        )
    shown = " and ".join(repr(_py(v)) for v in values)
    raise FaircardError(
        f"faircard cannot tell which value of '{name}' is the positive outcome (found {shown}). "
        "Choose the positive label (CLI: --pos-label)."
    )


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _label_order(value: Any) -> tuple:
    """Labels in order: numbers (and booleans) by value, then text."""
    v = _py(value)
    return (0, float(v), "") if isinstance(v, bool | int | float) else (1, 0.0, str(v))


def _check_label_spaces(pred: pd.Series, target: pd.Series, pred_name: str, target_name: str):
    target_values = set(pd.unique(target))
    pred_values = pd.unique(pred)
    # in order (the values of a table counted by an engine come in no order of their own)
    extra = sorted((v for v in pred_values if v not in target_values), key=_label_order)
    if extra and len(target_values) > 1:
        shown_extra = ", ".join(repr(_py(v)) for v in extra[:5])
        shown_target = ", ".join(repr(_py(v)) for v in sorted(target_values,
                                                              key=_label_order)[:5])
        hint = ""
        if len(pred_values) > 10 and pred.dtype == np.float64:
            hint = " It looks like a score; use it as the score column with a threshold."
        raise FaircardError(
            f"Prediction column '{pred_name}' has values {shown_extra} that the target "
            f"'{target_name}' never takes ({shown_target}); predictions must use the target's "
            f"labels.{hint}"
        )


MAX_CELLS = 100_000
"""Most combinations of the sensitive features' groups (non-empty cells) an assessment counts,
whatever its intervals: every page, table and card reads a cube of one row per cell (see
docs/security.md for what 100,000 cost without the bootstrap)."""
BOOTSTRAP_CELLS = 10_000_000
"""Most cells x bootstrap replicates an assessment's intervals resample: they hold 4 counts of
8 bytes for each (320 MB; 1,000 replicates of 10,000 cells). 500,000 cells asked numpy for
14.9 GiB at 1,000 replicates."""


class TooManyToResample(FaircardError):
    """The refusal of :func:`check_intersection_size` that fewer bootstrap replicates lift:
    ``n_cells`` combinations are more than :func:`max_cells` allows at ``n_boot`` replicates,
    but no more than :data:`MAX_CELLS` (the app then shows the figures without the bootstrap's
    intervals)."""

    def __init__(self, message: str, n_cells: int, n_boot: int):
        super().__init__(message)
        self.n_cells = n_cells
        self.n_boot = n_boot


def max_cells(n_boot: int) -> int:
    """Most cells an assessment with ``n_boot`` bootstrap replicates counts: :data:`MAX_CELLS`,
    or fewer when its replicates would hold more than :data:`BOOTSTRAP_CELLS` cells."""
    return MAX_CELLS if n_boot <= 0 else min(MAX_CELLS, BOOTSTRAP_CELLS // n_boot)


def check_intersection_size(features: tuple[str, ...], n_groups: int,
                            intersection: bool = True, n_boot: int = 0) -> None:
    """Refuses an assessment of an intersection of ``n_groups`` groups (the non-empty cells)
    when that is more than one feature may have (:data:`MAX_GROUPS_PER_FEATURE`), and any
    assessment of more cells than :func:`max_cells` allows with ``n_boot`` replicates. Two
    features of 1,000 groups each whose 500,000 combinations all occurred took 20 GB and seven
    minutes before the system killed the process (900 combinations: 94 s and 0.5 GB at load
    average 22 on 2 cores)."""
    names = " and ".join(f"'{f}'" for f in features)
    if intersection and n_groups > MAX_GROUPS_PER_FEATURE:
        raise FaircardError(
            f"The intersection of {names} has {n_groups:,} groups (combinations found in the "
            f"data); that is too many groups to compare (limit {MAX_GROUPS_PER_FEATURE}, as for "
            "one feature). Leave the intersection out (--no-intersection, or untick 'Also "
            "compare intersections' on the Sensitive features page), bin a feature into "
            "bands, or choose fewer features."
        )
    if n_groups > MAX_CELLS:
        raise FaircardError(
            f"The groups of {names} occur in {n_groups:,} combinations in the data, and "
            f"faircard counts each apart, every page and card reading one row per combination "
            f"(limit {MAX_CELLS:,}). Bin a feature into bands, or assess fewer features at a "
            "time."
        )
    if n_groups > max_cells(n_boot):
        raise TooManyToResample(
            f"The groups of {names} occur in {n_groups:,} combinations in the data, and the "
            f"intervals' {n_boot:,} bootstrap replicates resample each one, which faircard "
            f"does for at most {max_cells(n_boot):,} combinations at {n_boot:,} replicates "
            f"({BOOTSTRAP_CELLS:,} combinations x replicates, 320 MB). Ask for fewer "
            f"replicates (CLI: --bootstrap; 0 counts up to {MAX_CELLS:,} combinations), bin a "
            "feature into bands, or assess fewer features at a time.", n_groups, n_boot
        )


def nested_column_error(role: str, name: str) -> FaircardError:
    """The refusal of a column of lists or records named as ``role`` (every engine's)."""
    advice = ("choose a column such as sex, race or an age band." if role == "Sensitive feature"
              else "choose a column of one value per person.")
    return FaircardError(f"{role} '{name}' holds lists or records, not one value per person; "
                         + advice)


def build_group_index(data: pd.DataFrame, spec: AssessmentSpec) -> GroupIndex:
    """Encode each sensitive feature (binned if asked) and the intersection cells in one pass."""
    labels: dict[str, tuple[str, ...]] = {}
    codes = []
    sizes = []
    for f in spec.sensitive:
        col = data[f] if f in data.columns else sensitive_column(data, f)
        if not is_scalar_column(col):
            raise nested_column_error("Sensitive feature", f)
        if f in spec.bins:
            col = pd.Series(spec.bins[f].apply(col), index=data.index)
        c, lab = encode_feature(col, f)
        labels[f] = lab
        codes.append(c)
        sizes.append(len(lab))
    # combined code over the product space, then keep only non-empty cells
    combined = np.zeros(len(data), dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        combined = combined * size + c
    product = int(np.prod(sizes, dtype=np.float64))
    if product > 2**62:
        # the combined code would not fit in 64 bits: the cells are the distinct rows of codes
        # (in the same order, the first feature slowest)
        cell_codes, cell = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
        return GroupIndex(tuple(spec.sensitive), labels, cell.reshape(-1).astype(np.int64),
                          cell_codes.astype(np.int64))
    if product <= 4 * max(len(data), 1) and product <= 50_000_000:
        present = np.flatnonzero(np.bincount(combined, minlength=product))
        remap = np.full(product, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        cell = remap[combined]
        cell_keys = present
    else:
        cell_keys, cell = np.unique(combined, return_inverse=True)
        cell = cell.astype(np.int64)
    cell_codes = np.empty((len(cell_keys), len(sizes)), dtype=np.int64)
    rest = cell_keys.copy()
    for j in range(len(sizes) - 1, -1, -1):
        cell_codes[:, j] = rest % sizes[j]
        rest //= sizes[j]
    return GroupIndex(tuple(spec.sensitive), labels, cell, cell_codes)


def encode_feature(col: pd.Series, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes (int64) and display labels for one sensitive feature.

    Labels are the values as text in natural order (categories keep their order; numbers sort
    numerically); missing values become the last group, ``"(missing)"``.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        codes = col.cat.codes.to_numpy().astype(np.int64)
        used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
        order = np.flatnonzero(used)
        remap = np.full(len(cats), -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        values = [cats[i] for i in order]
    else:
        codes, uniques = pd.factorize(col, sort=False, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        values = list(uniques)
        try:
            order = sorted(range(len(values)), key=lambda i: values[i])
        except TypeError:
            order = sorted(range(len(values)), key=lambda i: str(values[i]))
        remap = np.empty(len(values), dtype=np.int64)
        remap[np.asarray(order, dtype=np.int64)] = np.arange(len(values))
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(values) else 0, -1)
        values = [values[i] for i in order]
    texts = [_label_text(v) for v in values]
    check_group_names(texts, name)
    if len(texts) > MAX_GROUPS_PER_FEATURE:
        raise FaircardError(
            f"Sensitive feature '{name}' has {len(texts):,} different values; that is too many "
            f"groups to compare (limit {MAX_GROUPS_PER_FEATURE}). Bin it into bands or choose a "
            "categorical column."
        )
    if len(set(texts)) != len(texts):
        # distinct values that print the same (1 and "1") get their type appended
        texts = [f"{t} ({type(v).__name__})" for t, v in zip(texts, values, strict=True)]
    missing = codes < 0
    if missing.any():
        texts.append(MISSING_GROUP if MISSING_GROUP not in texts else MISSING_GROUP + " ")
        codes = np.where(missing, len(texts) - 1, codes)
    if not texts:
        raise FaircardError(f"Sensitive feature '{name}' has no values in the rows assessed.")
    return codes, tuple(texts)


def _label_text(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # an instant is named in UTC, its offset stated, whichever engine read it: pandas kept
        # the file's zone (+01:00), DuckDB used its session's, Spark dropped the offset
        return str(pd.Timestamp(value).tz_convert("UTC"))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


__all__ = [
    "GroupIndex",
    "Partition",
    "Prepared",
    "build_group_index",
    "check_group_names",
    "TooManyToResample",
    "check_intersection_size",
    "column_choices",
    "encode_feature",
    "max_cells",
    "partition_name",
    "prepare",
    "resolve_pos_label",
]


def vanished_groups(data: pd.DataFrame, spec: AssessmentSpec,
                    kept: Mapping[str, Sequence[str]]) -> list[str]:
    """One sentence per group of a sensitive feature whose every row was left out for a
    missing outcome or decision, which the assessment (counting the rows kept) cannot name:
    "race: 'B' has no row left: its 12 rows lack a score.". ``kept``: each feature's groups
    among the rows kept (``{gc.feature: gc.groups for gc in assessment.counts}``). Reasons are
    counted as :func:`prepare` counts them (a row without an outcome is counted there)."""
    no_target = data[spec.target].isna().to_numpy()
    if spec.score is not None:
        no_decision = np.isnan(_numeric_scores(data[spec.score], spec.score))
    else:
        no_decision = data[spec.prediction].isna().to_numpy()
    dropped = no_target | no_decision
    if not dropped.any():
        return []
    rows = data[dropped]
    return vanished_in_table(rows, no_target[dropped], np.ones(len(rows), dtype=np.int64),
                             spec, kept)


def vanished_in_table(rows: pd.DataFrame, no_target: np.ndarray, n: np.ndarray,
                      spec: AssessmentSpec, kept: Mapping[str, Sequence[str]]) -> list[str]:
    """:func:`vanished_groups` from ``rows`` left out, each standing for ``n`` rows (an
    engine's one row per combination of the features' values and reason), ``no_target`` where
    they lack an outcome (else they lack a decision). Groups are labelled from the values as
    the assessment labels them."""
    what = "a score" if spec.score is not None else "a prediction"
    n = np.asarray(n, dtype=np.int64)
    no_target = np.asarray(no_target, dtype=bool)
    out = []
    for f in spec.sensitive:
        col = rows[f] if f in rows.columns else sensitive_column(rows, f)
        if f in spec.bins:
            col = pd.Series(spec.bins[f].apply(col), index=rows.index)
        codes, labels = encode_feature(col, f)
        lost = np.bincount(codes, weights=n, minlength=len(labels))
        lost_t = np.bincount(codes, weights=np.where(no_target, n, 0), minlength=len(labels))
        known = set(kept.get(f, ()))
        for i, g in enumerate(labels):
            if g in known or not lost[i]:
                continue
            m, m_t = int(lost[i]), int(lost_t[i])
            lack = ("an outcome" if m_t == m else what if m_t == 0
                    else f"an outcome ({m_t:,}) or {what} ({m - m_t:,})")
            its = "its row lacks" if m == 1 else f"its {m:,} rows lack"
            out.append(f"{f}: '{g}' has no row left: {its} {lack}.")
    return out


def vanished_key(spec: AssessmentSpec) -> tuple:
    """Where a cube's memo keeps :func:`vanished_groups` of ``spec`` (the features and their
    bands name the groups)."""
    return ("vanished_groups", tuple(spec.sensitive), repr(sorted(spec.bins.items())))


def vanished_of(cube, spec: AssessmentSpec, data: pd.DataFrame | None = None) -> list[str]:
    """The groups of ``spec`` whose every row was left out, for the counts ``cube``: those an
    engine named while counting (kept in the cube's memo), else named from ``data``, the rows
    in memory (found once per cube); none when neither says."""
    key = vanished_key(spec)
    if key not in cube.memo:
        if data is None or not cube.n_dropped:
            return []
        cube.memo[key] = vanished_groups(data, spec, cube.index.labels)
    return cube.memo[key]
