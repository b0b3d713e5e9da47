"""``faircard.diagnose``: where a disparity comes from, in one tidy object.

Representation, proxies, calibration by group, drift against a reference dataset, a search for
the worst subgroups and the bias-sources checklist pre-filled with that evidence. Like
:func:`faircard.assess`, it is computed once and then rendered by the app, the CLI and the card.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError, missing_column
from ..formatting import counted
from ..onehot import sensitive_column
from ..prepare import prepare
from ..privacy import detect_personal_data
from ..spec import AssessmentSpec
from .association import correlation_ratio, cramers_v, proxy_auc_intervals, table_of
from .calibration import calibration_by_group, calibration_table, score_meaning_gaps
from .checklist import ChecklistItem, blank_checklist
from .drift import column_drift, group_labels
from .encode import Coded, code_column
from .evidence import GAP_MIN_ROWS
from .importance import DEFAULT_MAX_ROWS, DEFAULT_REPEATS, permutation_importance
from .made_for import group_counts, made_for
from .representation import base_rates, missing_by_group, representation
from .subgroups import search_subgroups

PROXY_AUC_CONCERN = 0.65
"""A column that alone tells members of one sensitive group from everyone else with a
cross-validated AUC at or above this is reported as a likely proxy."""
IMPORTANCE_FAILED = "Permutation importance could not be computed:"
PSI_CONCERN = 0.2
"""PSI above 0.2 is the usual rule of thumb for a shift that matters."""


@dataclass
class Diagnostics:
    """Tidy tables of every diagnostic (empty frames when not applicable) and the checklist."""

    representation: pd.DataFrame
    base_rates: pd.DataFrame
    missing: pd.DataFrame
    proxies: pd.DataFrame
    calibration: pd.DataFrame
    calibration_bins: pd.DataFrame
    calibration_gaps: pd.DataFrame
    drift: pd.DataFrame
    subgroups: pd.DataFrame
    checklist: list[ChecklistItem]
    notes: list[str] = field(default_factory=list)
    importance: pd.DataFrame | None = None
    """Permutation importance overall and per group (see :mod:`.importance`); None without a
    model."""
    confidence: float = 0.95
    """The level of the proxies' AUC intervals (the spec's)."""
    min_group_size: int = 30
    """Groups with fewer rows are small: like the assessment, the checklist leaves them out of
    comparisons between groups (unless ``include_small_groups``) and only says they are small."""
    include_small_groups: bool = False
    trivial_rule: str | None = None
    """The sentence saying that the decision rule tells nobody apart (everybody or nobody
    selected, or each group all or nothing), which makes every rate here about the outcomes
    rather than the model; None for a rule that tells people apart."""
    made_for: dict[str, Any] = field(default_factory=dict)
    """The data, outcome, groups and decision rule these diagnostics are about, with each
    group's confusion counts under that rule (see :mod:`.made_for`)."""

    def top_proxies(self, k: int = 3) -> pd.DataFrame:
        """The ``k`` columns that best predict each sensitive feature (cross-validated AUC),
        among those at or above :data:`PROXY_AUC_CONCERN`."""
        auc = self.proxies[self.proxies["measure"] == "cv_auc_one_group"]
        auc = auc[auc["value"] >= PROXY_AUC_CONCERN]
        return auc.sort_values("value", ascending=False).groupby("sensitive_feature").head(k)

    def for_card(self, answers: Mapping[str, Mapping[str, str]] | None = None
                 ) -> dict[str, list[dict[str, Any]]]:
        """What the model card takes from the diagnostics: ``bias_sources`` (the checklist
        with the experts' ``answers``, {source: {status, note}}, applied to a copy) and
        ``proxies`` (the :meth:`top_proxies`), as keyword arguments of
        :func:`faircard.card.build_card`."""
        import copy

        from .checklist import apply_answers

        items = copy.deepcopy(self.checklist)
        apply_answers(items, dict(answers or {}))
        top = self.top_proxies() if len(self.proxies) else pd.DataFrame()
        proxies = [{"sensitive_feature": r["sensitive_feature"], "feature": r["feature"],
                    "group": r["group"], "value": float(r["value"]),
                    "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                    "confidence": self.confidence}
                   for _, r in top.iterrows()]
        return {"bias_sources": [i.to_dict() for i in items], "proxies": proxies}

    def to_dict(self, max_subgroups: int = 200) -> dict[str, Any]:
        """The JSON of ``faircard diagnose --json`` (NaN as null). Subgroups are listed in
        order (significant first, worst first), at most ``max_subgroups`` of them; the counts
        of all subgroups tested and of significant ones are given alongside."""
        sub = self.subgroups.head(max_subgroups).copy()
        sub["conditions"] = [[{"column": c, "level": v} for c, v in cond]
                             for cond in sub["conditions"]]
        return {
            "representation": _records(self.representation),
            "base_rates": _records(self.base_rates),
            "missing": _records(self.missing),
            "proxies": _records(self.proxies),
            "calibration": _records(self.calibration),
            "calibration_bins": _records(self.calibration_bins),
            "calibration_gaps": _records(self.calibration_gaps),
            "importance": _records(self.importance) if self.importance is not None else None,
            "importance_settings": dict(self.importance.attrs)
            if self.importance is not None else None,
            "drift": _records(self.drift),
            "subgroups": _records(sub),
            "subgroups_tested": int(self.subgroups.attrs.get("n_tested", len(self.subgroups))),
            "subgroups_significant": int(self.subgroups["significant"].sum())
            if len(self.subgroups) else 0,
            "checklist": [i.to_dict() for i in self.checklist],
            "top_proxies": self.for_card()["proxies"],
            "notes": list(self.notes),
            "made_for": self.made_for,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


RANDOMISED_NOTE = (
    "The decision policy is randomised: the subgroup search counts each person's more likely "
    "decision (positive where its probability is at least one half), not the expected values "
    "the Disparities and Thresholds pages show, so its rates can differ from theirs.")
"""Said when the subgroup search cannot use the policy's expected values."""


def diagnose(data: pd.DataFrame, *, target: str, sensitive, score: str | None = None,
             prediction: str | None = None, threshold: float = 0.5, pos_label: Any = None,
             bins=None, favorable_outcome: str = "positive", policy=None,
             min_group_size: int = 30, include_small_groups: bool = False,
             **options: Any) -> Diagnostics:
    """Diagnose where disparities come from (see the module docstring); the column choices,
    the decision rule (``threshold`` or ``policy``), the minimum group size and
    ``favorable_outcome`` as in :func:`faircard.assess`, the options as in
    :func:`diagnose_spec`."""
    sensitive = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    spec = AssessmentSpec(target=target, sensitive=tuple(sensitive), score=score,
                          prediction=prediction, threshold=threshold, pos_label=pos_label,
                          bins=bins or {}, favorable_outcome=favorable_outcome, policy=policy,
                          min_group_size=min_group_size,
                          include_small_groups=include_small_groups)
    return diagnose_spec(data, spec, **options)


def diagnose_spec(data: pd.DataFrame, spec: AssessmentSpec, *,
                  reference_data: pd.DataFrame | None = None,
                  reference_shares: Mapping[str, Mapping[str, float]] | None = None,
                  columns: list[str] | None = None, exclude: list[str] | tuple[str, ...] = (),
                  max_conditions: int = 3, min_subgroup_size: int = 30,
                  subgroup_metric: str = "error_rate", n_boot: int = 0, seed: int = 0,
                  model=None, model_positive_class: Any = None,
                  model_exclude: list[str] | tuple[str, ...] = (),
                  importance_repeats: int = DEFAULT_REPEATS,
                  importance_max_rows: int = DEFAULT_MAX_ROWS,
                  progress: Callable[[str, float], None] | None = None) -> Diagnostics:
    """Diagnostics of the decisions described by ``spec`` (its decision rule, positive label
    and bands) on ``data``.

    ``columns`` limits the columns searched for proxies, drift and subgroups (default: every
    column except the target, the score/prediction, personal data, identifiers (a different
    value in every row) and ``exclude``, e.g. other models' outputs). ``reference_shares``
    maps a sensitive feature to the population share of each of its groups (e.g. census
    figures); without it, and with ``reference_data``, the reference data's shares are used.

    ``model`` (a loaded :class:`~faircard.io.sandbox.ModelHandle` whose scores or labels are
    the spec's decision column) adds permutation importance overall and per group
    (:mod:`faircard.diagnostics.importance`): ROC AUC for a model with scores, accuracy for one
    with labels only, ``importance_repeats`` shuffles of at most ``importance_max_rows`` rows.
    Its input columns are taken by name, or are the columns other than the target, the
    decision and ``model_exclude``; ``model_positive_class`` as in :func:`faircard.io.models.
    check_model`. An uploaded model runs only in its sandboxed process.
    ``progress(stage, fraction)`` is called as the work advances. ``n_boot`` is accepted
    and unused: it drew the replicates of the calibration error's interval, which is no longer
    given (see :mod:`faircard.diagnostics.calibration`).
    """
    del n_boot
    report = progress or (lambda stage, fraction: None)
    # the diagnostics look at each sensitive feature on its own; a decision policy set per group
    # of their intersection still needs the intersection to decide
    policy = spec.policy
    on_intersection = bool(policy is not None and policy.feature is not None
                           and policy.feature not in spec.sensitive)
    spec = replace(spec, intersection=on_intersection, n_boot=0)
    sensitive = list(spec.sensitive)
    target = spec.target
    decision = spec.score or spec.prediction
    decoded = {f: sensitive_column(data, f) for f in sensitive if f not in data.columns}
    if any(col is not None for col in decoded.values()):  # one-hot columns read as one feature
        data = data.assign(**{f: col for f, col in decoded.items() if col is not None})
    for col in [target, decision, *sensitive]:
        if col not in data.columns:
            raise missing_column(col, data.columns, "Column")
    report("Checking the columns", 0.0)
    keep = data[target].notna() & data[decision].notna()
    if spec.score is not None:
        keep &= pd.to_numeric(data[spec.score], errors="coerce").notna()
    kept = data[keep.to_numpy()].reset_index(drop=True)
    personal = {f.column for f in detect_personal_data(kept)}
    bad = [c for c in [*sensitive, target] if c in personal]
    if bad:
        raise FaircardError(f"Column '{bad[0]}' looks like personal data (a direct identifier) "
                            "and cannot be a sensitive feature or the target.")
    prepared = prepare(kept, spec)
    roles = {target, decision}
    candidates = [c for c in (columns if columns is not None else kept.columns)
                  if c not in roles and c not in personal and c not in sensitive]
    missing_cols = [c for c in candidates if c not in kept.columns]
    if missing_cols:
        raise missing_column(missing_cols[0], kept.columns, "Column")
    notes: list[str] = []
    if len(kept) < len(data):
        what = "a score" if spec.score is not None else "a prediction"
        notes.append(counted(len(data) - len(kept), "row without an outcome or "
                             f"{what} was left out.", f"rows without an outcome or {what} "
                             "were left out."))
    unusable = [c for c in candidates if not _is_usable(kept[c])]
    ids = [c for c in candidates if c not in unusable and _is_identifier(kept[c])]
    candidates = [c for c in candidates if c not in unusable and c not in ids
                  and c not in set(exclude)]
    if ids:
        notes.append("Left out as identifiers (a different value in every row): "
                     + ", ".join(map(str, ids)) + ".")
    if unusable:
        notes.append("Left out because they hold dates, lists or other structures, not "
                     "numbers, categories or text: "
                     + ", ".join(map(str, unusable)) + ".")
    if personal:
        notes.append("Left out as personal data: " + ", ".join(sorted(personal)) + ".")

    stray = [f for f in (reference_shares or {}) if f not in sensitive]
    if stray:
        raise FaircardError(f"Population shares were given for '{stray[0]}', which is not a "
                            f"chosen sensitive feature. Choose one of: {', '.join(sensitive)}.")
    parts = {p.name: p for p in prepared.index.partitions(False)}
    group_of = {f: parts[f].cell_to_group[prepared.index.cell] for f in sensitive}
    labels = {f: tuple(parts[f].groups) for f in sensitive}
    decided = prepared.y_pred if prepared.p_pred is None else prepared.p_pred
    counts = {f: group_counts(prepared.y_true, decided, group_of[f], labels[f])
              for f in sensitive}
    trivial = _trivial_rule(counts, spec)
    if trivial:  # first: every rate below is then about the outcomes, not the model
        notes.insert(0, trivial)

    rep, rates, miss, prox, cal, cal_bins, gaps = [], [], [], [], [], [], []
    for i, f in enumerate(sensitive):
        report(f"Representation, proxies and calibration for {f}",
               0.05 + 0.35 * i / len(sensitive))
        shares = (reference_shares or {}).get(f)
        source = "entered by the user" if shares else ""
        if shares is None and reference_data is not None and f in reference_data.columns:
            shares = pd.Series(group_labels(reference_data[f], spec.bins.get(f))
                               ).value_counts(normalize=True).to_dict()
            source = "reference data"
        rep.append(representation(group_of[f], labels[f], feature=f, reference_shares=shares,
                                  reference_source=source))
        rates.append(base_rates(prepared.y_true, group_of[f], labels[f], feature=f))
        miss.append(missing_by_group(kept, candidates, group_of[f], labels[f], feature=f))
        sizes = np.bincount(group_of[f], minlength=len(labels[f]))
        compared = (sizes >= spec.min_group_size) | spec.include_small_groups
        prox.append(_proxies(kept, candidates, f, group_of[f], labels[f], seed,
                             compared if compared.any() else None,
                             confidence=spec.confidence))
        if prepared.y_score is not None and _is_probability(prepared.y_score):
            c = calibration_by_group(prepared.y_true, prepared.y_score, group_of[f], labels[f])
            c.insert(0, "feature", f)
            cal.append(c)
            t = calibration_table(prepared.y_true, prepared.y_score, group_of[f], labels[f])
            g = score_meaning_gaps(t, min_n=GAP_MIN_ROWS)
            t.insert(0, "feature", f)
            g.insert(0, "feature", f)
            cal_bins.append(t)
            gaps.append(g)
    if prepared.y_score is not None and not _is_probability(prepared.y_score):
        notes.append("Scores are not probabilities in [0, 1], so calibration is not assessed.")
    if prepared.y_score is None:
        notes.append("Calibration needs scores; a prediction column has none.")

    importance = None
    if model is not None:
        try:
            importance = _importance(model, kept, prepared, spec, group_of, labels,
                                     model_positive_class=model_positive_class,
                                     exclude=[target, decision, *model_exclude],
                                     n_repeats=importance_repeats,
                                     max_rows=importance_max_rows, seed=seed, report=report)
        except FaircardError as exc:  # the other diagnostics do not need the model
            notes.append(f"{IMPORTANCE_FAILED} {exc}")
        else:
            notes.append(importance_note(importance))
    else:
        notes.append("Permutation importance needs the model itself, not only its scores or "
                     "predictions: load the model to see which columns it relies on.")

    drift = pd.DataFrame(columns=["column", "group", "kind", "psi", "ks", "ks_p_value", "js",
                                  "n_reference", "n_current"])
    if reference_data is not None:
        report("Drift against the reference data", 0.6)
        common = [c for c in candidates + sensitive if c in reference_data.columns]
        absent = [c for c in candidates if c not in reference_data.columns]
        if absent:
            notes.append("Not in the reference data, so no drift: " + ", ".join(absent) + ".")
        drift = column_drift(reference_data, kept, common,
                             sensitive=sensitive[0] if sensitive[0] in reference_data.columns
                             else None, bins=spec.bins.get(sensitive[0]))

    if spec.policy is not None and spec.policy.is_randomized:
        notes.append(RANDOMISED_NOTE)
    report("Searching subgroups", 0.7)
    coded = [Coded(f, np.asarray(group_of[f], np.int64), labels[f], False) for f in sensitive]
    coded += [code_column(kept[c], c) for c in candidates]
    # which way is worse for the people in a subgroup: fewer favourable decisions, more
    # adverse ones, more errors
    worse = "lower" if subgroup_metric == "selection_rate" \
        and spec.favorable_outcome == "positive" else "higher"
    subgroups = search_subgroups(coded, prepared.y_true, prepared.y_pred,
                                 metric=subgroup_metric, max_conditions=max_conditions,
                                 min_size=min_subgroup_size, worse=worse)
    result = Diagnostics(
        representation=_concat(rep), base_rates=_concat(rates), missing=_concat(miss),
        proxies=_concat(prox), calibration=_concat(cal), calibration_bins=_concat(cal_bins),
        calibration_gaps=_concat(gaps), drift=drift, subgroups=subgroups,
        checklist=blank_checklist(), notes=notes, importance=importance,
        confidence=spec.confidence,
        min_group_size=spec.min_group_size, include_small_groups=spec.include_small_groups,
        trivial_rule=trivial, made_for=made_for(spec, prepared.pos_label, counts))
    from .evidence import fill_checklist

    fill_checklist(result)
    report("Done", 1.0)
    return result


def _trivial_rule(counts: dict[str, dict[str, list[float]]],
                  spec: AssessmentSpec) -> str | None:
    """The sentence of :func:`faircard.trivial.trivial_decision` when the decision rule gives
    everybody the same decision, or each group of a feature all or nothing (None otherwise)."""
    from ..trivial import trivial_decision

    rows = []
    for f, groups in counts.items():
        for g, (tn, fp, fn, tp) in groups.items():
            n = tn + fp + fn + tp
            rows.append({"feature": f, "group": g, "is_small_group": n < spec.min_group_size,
                         "selection_rate": (fp + tp) / n if n else None})
    first = next(iter(counts.values()))
    total = np.sum([c for c in first.values()], axis=0)
    overall = {"count": float(total.sum()),
               "selection_rate": float((total[1] + total[3]) / total.sum())}
    return trivial_decision({"overall": overall, "by_group": rows,
                             "favorable_outcome": spec.favorable_outcome})


def _importance(model, kept: pd.DataFrame, prepared, spec: AssessmentSpec, group_of, labels,
                *, model_positive_class, exclude, n_repeats, max_rows, seed,
                report) -> pd.DataFrame:
    """Permutation importance of ``model`` on the kept rows, per sensitive feature's groups."""
    from ..io.models import check_model, model_inputs

    check = check_model(model, kept, pos_label=prepared.pos_label,
                        model_positive_class=model_positive_class)
    X = model_inputs(model, kept, exclude)
    groups = [(f, group_of[f], labels[f]) for f in spec.sensitive]
    threshold = spec.policy.threshold if spec.policy is not None and spec.policy.is_single \
        else None

    def step(done: int, total: int) -> None:
        report(f"Permutation importance: {done:,} of {total:,} shuffled copies scored",
               0.4 + 0.2 * done / max(total, 1))

    return permutation_importance(model, X, prepared.y_true, groups=groups,
                                  positive_index=int(check.positive_class_index),
                                  threshold=threshold, n_repeats=n_repeats, max_rows=max_rows,
                                  seed=seed, progress=step)


def importance_note(table: pd.DataFrame) -> str:
    """How the importance was measured, in one sentence."""
    a = table.attrs
    what = "ROC AUC" if a["metric"] == "roc_auc" else "accuracy"
    rows = (f"all {a['rows_used']:,} rows" if a["rows_used"] == a["rows_total"] else
            f"a random sample of {a['rows_used']:,} of the {a['rows_total']:,} rows")
    return (f"Permutation importance: the drop in {what} when a column's values are shuffled, "
            f"mean and standard deviation over {a['n_repeats']} shuffles, on {rows}; per group, "
            "the same shuffled copies scored on the group's rows.")


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _is_usable(col: pd.Series) -> bool:
    """Plain columns only: numbers, booleans, text and categories (not lists or structs)."""
    # object columns too: text with a missing value, or mixed numbers and text, is object
    if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(col) \
            or pd.api.types.is_bool_dtype(col) or pd.api.types.is_string_dtype(col) \
            or pd.api.types.is_object_dtype(col):
        sample = col.dropna().head(50)
        return not any(isinstance(v, list | dict | tuple | np.ndarray) for v in sample)
    return False


def _is_identifier(col: pd.Series) -> bool:
    """Text or integer columns with a different value in every row (IDs, not features)."""
    if pd.api.types.is_float_dtype(col) or len(col) < 50:
        return False
    return bool(col.nunique(dropna=False) == len(col))


def _is_probability(s: np.ndarray) -> bool:
    return bool(np.nanmin(s) >= 0 and np.nanmax(s) <= 1)


def _proxies(data: pd.DataFrame, columns: list[str], feature: str, group: np.ndarray,
             groups: tuple[str, ...], seed: int,
             compared: np.ndarray | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Each column's association with ``feature``; the group it tells apart best is chosen
    among the ``compared`` groups (not the small ones), all groups when None. The AUC rows
    have a DeLong interval at ``confidence`` (``ci_low``, ``ci_high``; see
    :class:`.association.ProxyAUC`)."""
    n_groups = len(groups)
    rows = []
    for c in columns:
        col = data[c]
        coded = code_column(col, c, n_bands=10)
        if coded.is_numeric:
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64,
                                                                   na_value=np.nan)
            rows.append({"sensitive_feature": feature, "feature": c,
                         "measure": "correlation_ratio",
                         "value": correlation_ratio(group, values)})
        else:  # every level counts, not only the ones the coding keeps (missing is one)
            levels, uniques = pd.factorize(col, use_na_sentinel=False)
            rows.append({"sensitive_feature": feature, "feature": c, "measure": "cramers_v",
                         "value": cramers_v(table_of(levels.astype(np.int64), len(uniques),
                                                     group, n_groups))})
        res = proxy_auc_intervals(coded.codes, coded.n_levels, group, n_groups, seed=seed,
                                  confidence=confidence)
        aucs = res.auc
        rows.append({"sensitive_feature": feature, "feature": c, "measure": "cv_auc",
                     "value": res.macro, "ci_low": res.macro_low, "ci_high": res.macro_high})
        among = aucs if compared is None else np.where(compared, aucs, np.nan)
        if np.isfinite(among).any():
            best = int(np.nanargmax(among))
            rows.append({"sensitive_feature": feature, "feature": c,
                         "measure": "cv_auc_one_group", "value": float(aucs[best]),
                         "ci_low": float(res.low[best]), "ci_high": float(res.high[best]),
                         "group": groups[best]})
    frame = pd.DataFrame(rows, columns=["sensitive_feature", "feature", "measure", "value",
                                        "ci_low", "ci_high", "group"])
    auc = frame[frame["measure"] == "cv_auc"].set_index("feature")["value"]
    frame["rank"] = frame["feature"].map(auc.rank(ascending=False, method="min"))
    return frame.sort_values(["rank", "measure"], kind="stable").reset_index(drop=True)
