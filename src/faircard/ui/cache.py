"""All caching of the app: tables by file digest, models as resources, assessments by spec.

Assessments are cached as resources keyed by (data digest, spec as JSON), so changing the
metrics shown or the reference group re-renders from counts, never from rows.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import threading
from collections import OrderedDict
from contextlib import nullcontext

import numpy as np
import pandas as pd
import streamlit as st

from ..assess import Assessment, assess_prepared
from ..demo import Demo, load_demo
from ..io import DETECT, TableRead, read_table
from ..io.held import HeldBytes
from ..io.models import SandboxedModel, load_model
from ..policy import (
    Policy,
    choose_policy_from_sweep,
    pareto_front_from_sweep,
    with_chosen,
)
from ..prepare import Prepared, TooManyToResample, max_cells, prepare
from ..spec import AssessmentSpec

try:  # Streamlit guards Altair's global theme and data settings with this lock
    from streamlit.elements.vega_charts import _altair_globals_lock as _ALTAIR_LOCK
except ImportError:  # pragma: no cover - another Streamlit version
    _ALTAIR_LOCK = threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def read_upload(digest: str, _held: HeldBytes, name: str, encoding: str = DETECT) -> TableRead:
    """The uploaded table (its bytes held compressed), parsed once per distinct file and
    encoding (limits from the environment, see :class:`faircard.io.TableLimits`).

    A resource, not ``st.cache_data``: that would keep a pickled copy of the table and hand
    each caller another, three tables in memory for one upload. Sessions that upload the same
    file share one frame; nothing writes to it (pages add columns to shallow copies, which
    pandas' copy-on-write keeps apart)."""
    return read_table(_held, filename=name, encoding=encoding)


@st.cache_resource(max_entries=16, show_spinner=False)
def read_model(digest: str, _raw: bytes, name: str) -> SandboxedModel:
    """An uploaded model, opened once per distinct file in its sandboxed process (the handle
    holds only the file's bytes and plain facts; the model runs in that process). An upload is
    always opened safely: skops' checks or the restricted unpickler, never ordinary pickle."""
    return load_model(_raw, filename=name, allow_unsafe_pickle=False)


@st.cache_resource(show_spinner=False)
def demo() -> Demo:
    return load_demo()


@st.cache_resource(show_spinner=False)
def pending_returns():
    """Where each browser was when it clicked "Log in" (see ``auth.return_after_login``)."""
    from .auth import PendingReturns

    return PendingReturns()


def _prep_key(spec: AssessmentSpec) -> str:
    d = spec.to_dict()
    for k in ("reference", "min_group_size", "include_small_groups", "n_boot", "confidence",
              "random_state"):
        d.pop(k, None)
    return json.dumps(d, sort_keys=True, default=str)


@st.cache_resource(show_spinner=False)
def _count_store() -> OrderedDict:
    """Counts shared by all sessions, newest last: the prepared rows of an upload or the
    grouped table of a dataset opened by path, per dataset and choices that change them."""
    return OrderedDict()


_COUNT_LOCK = threading.Lock()
COUNTS_KEPT = 16


def _counts(digest: str, spec: AssessmentSpec, count, derive, *, bins_on_values: bool,
            scores_kept, counting=None):
    """The counts of ``spec``: kept ones, else derived by ``derive(counts, spec, counted_spec)``
    from kept counts of more sensitive features, or of another decision rule when
    ``scores_kept(counts)`` (removing a feature, choosing features already counted or a new
    threshold is fast), else ``count()`` inside ``counting()`` (a progress indicator). Counts
    made under the same rule are preferred: a new rule may read a few rows again."""
    from ..engine.derive import derivable

    store = _count_store()
    key = (digest, _prep_key(spec))
    with _COUNT_LOCK:
        if key in store:
            store.move_to_end(key)
            return store[key][1]
        bases = [(not derivable(s, spec, bins_on_values=bins_on_values), len(s.sensitive), -i,
                  s, v) for i, ((d, _), (s, v)) in enumerate(store.items())
                 if d == digest and derivable(s, spec, bins_on_values=bins_on_values,
                                              scores_kept=scores_kept(v))]
    if bases:
        # the same rule first, then the fewest features, then the newest
        *_, base_spec, base = min(bases, key=lambda b: b[:3])
        value = derive(base, spec, base_spec)
    else:
        with counting() if counting is not None else nullcontext():
            value = count()
    with _COUNT_LOCK:
        store[key] = (spec, value)
        while len(store) > COUNTS_KEPT:
            store.popitem(last=False)
    return value


def _prepared(digest: str, data: pd.DataFrame, spec: AssessmentSpec, counting=None) -> Prepared:
    from ..engine.derive import derive_prepared

    return _counts(digest, spec, lambda: prepare(data, spec),
                   lambda prepared, s, _: derive_prepared(prepared, s), bins_on_values=False,
                   scores_kept=lambda p: p.y_score is not None, counting=counting)


NO_BOOTSTRAP = "no_bootstrap"
"""The key of an assessment's ``extras`` holding why it has no bootstrap intervals though the
app asked for them (see :func:`resampled_if_possible`)."""


def resampled_if_possible(assess, spec: AssessmentSpec) -> Assessment:
    """``assess(spec)``, or, when its combinations of groups are too many for ``spec``'s
    bootstrap replicates (:class:`~faircard.prepare.TooManyToResample`; the app has no control
    for their number), ``assess`` without the bootstrap, its ``extras[NO_BOOTSTRAP]`` saying
    which intervals are missing, why and how to have them."""
    from ..formatting import mid_sentence
    from ..metrics import COUNT_METRICS, LABELS
    from ..uncertainty import PROPORTIONS

    try:
        return assess(spec)
    except TooManyToResample as exc:
        a = assess(dataclasses.replace(spec, n_boot=0))
        names = " and ".join(f"'{f}'" for f in a.cube.index.features)
        missing = [mid_sentence(LABELS[m]) for m in a.metrics
                   if m in COUNT_METRICS and m != "count" and m not in PROPORTIONS]
        a.extras[NO_BOOTSTRAP] = (
            f"Shown without bootstrap intervals: the groups of {names} occur in "
            f"{exc.n_cells:,} combinations, more than the {max_cells(exc.n_boot):,} whose "
            f"{exc.n_boot:,} bootstrap replicates faircard resamples, so "
            f"{', '.join(missing)}, the gaps between groups and the fairness criteria have no "
            "interval (rates keep their Wilson intervals, and the tests of equal rates their "
            "p-values); bin a feature into bands or choose fewer features to have them all.")
        return a


@st.cache_resource(max_entries=64, show_spinner=False)
def _assessment(digest: str, key: str, _prepared: Prepared, _spec: AssessmentSpec) -> Assessment:
    return resampled_if_possible(lambda s: assess_prepared(_prepared, s), _spec)


def assessment(digest: str, data: pd.DataFrame, spec: AssessmentSpec,
               counting=None) -> Assessment:
    """The assessment of ``spec`` on ``data`` (identified by ``digest``), cached; rows are
    read (inside ``counting()``) only for sensitive features not counted yet."""
    prepared = _prepared(digest, data, spec, counting)
    full_key = json.dumps(spec.to_dict(), sort_keys=True, default=str)
    return _assessment(digest, full_key, prepared, spec)


def _grouped(digest: str, path: str, spec: AssessmentSpec, counting=None, recounting=None):
    from ..engine import recount
    from ..engine.derive import derivable, derive_grouped, scores_exact
    from ..engine.sources import count_duckdb

    def derive(grouped, s: AssessmentSpec, counted: AssessmentSpec):
        if derivable(counted, s, bins_on_values=True):  # the same rule: new bands keep the
            return derive_grouped(grouped, s.sensitive)  # table and what its cubes keep
        if scores_exact(grouped):  # every score kept: any rule, no row read
            return derive_grouped(grouped, s.sensitive, s)
        # scores on a grid: only the rows in the grid cells next to the new thresholds, which
        # reads the file again (seconds on a large one), inside the progress indicator
        with recounting() if recounting is not None else nullcontext():
            return recount.recount_duckdb(path, grouped, s)

    return _counts(digest, spec, lambda: count_duckdb(path, spec), derive, bins_on_values=True,
                   scores_kept=lambda g: scores_exact(g) or recount.recountable(g),
                   counting=counting)


@st.cache_resource(max_entries=COUNTS_KEPT, show_spinner=False)
def _cube(digest: str, key: str, _grouped, _spec: AssessmentSpec):
    """The counts cube of a grouped table, once per dataset and the choices it holds
    (``_prep_key``): the assessments of other reference groups, minimum group sizes or
    intervals share it (and what it keeps of its sweeps and score metrics), as the rows of an
    upload share theirs."""
    from ..engine.grouped import cube_from_grouped

    return cube_from_grouped(_grouped, _spec)


@st.cache_resource(max_entries=64, show_spinner=False)
def _counted(digest: str, key: str, _grouped, _spec: AssessmentSpec) -> Assessment:
    from ..engine import assess_grouped

    cube = _cube(digest, _prep_key(_spec), _grouped, _spec)
    return resampled_if_possible(lambda s: assess_grouped(_grouped, s, cube=cube), _spec)


def counted_assessment(digest: str, path: str, spec: AssessmentSpec,
                       counting=None, recounting=None) -> Assessment:
    """The assessment of ``spec`` counted by DuckDB where the dataset at ``path`` lives
    (identified by ``digest``), cached: the count (inside ``counting()``) once per outcome,
    decision and feature not counted yet, so the reference group, the minimum group size, the
    intervals, the bands and removing a feature re-render from the counts; a new decision rule
    on scores kept on a grid reads again only the rows next to its thresholds (inside
    ``recounting()``)."""
    grouped = _grouped(digest, path, spec, counting, recounting)
    return _counted(digest, json.dumps(spec.to_dict(), sort_keys=True, default=str), grouped,
                    spec)


def _spec_key(assessment: Assessment) -> str:
    return json.dumps(assessment.spec.to_dict(), sort_keys=True, default=str)


@st.cache_resource(max_entries=32, show_spinner=False)
def sweep_of(digest: str, key: str, feature: str, _assessment: Assessment):
    """The threshold sweep of one partition of an assessment (cached; read-only)."""
    from ..thresholds import sweep_assessment

    first = _assessment.features[0]
    # every partition holds the same scores: the thresholds of the first one's sweep
    thresholds = None if feature == first else sweep_of(digest, key, first,
                                                        _assessment).thresholds
    return _read_only(sweep_assessment(_assessment, feature, thresholds=thresholds))


def sweep_for(digest: str, assessment: Assessment, feature: str):
    return sweep_of(digest, _spec_key(assessment), feature, assessment)


@st.cache_resource(max_entries=8, show_spinner=False)
def _sorted_scores(digest: str, key: str, feature: str, _assessment: Assessment):
    from ..thresholds import sort_assessment_scores

    return _read_only(sort_assessment_scores(_assessment, feature))


def sorted_scores_for(digest: str, assessment: Assessment, feature: str):
    """The sorted scores of one partition (exact counts at any threshold; cached, read-only)."""
    return _sorted_scores(digest, _spec_key(assessment), feature, assessment)


@st.cache_resource(max_entries=8, show_spinner=False)
def _cost_curve(digest: str, key: str, _assessment: Assessment):
    from ..thresholds import cost_curve

    # everyone's counts: the same whichever partition's sorted scores they are read from
    return _read_only(cost_curve(sorted_scores_for(digest, _assessment,
                                                   _assessment.features[0])))


def cost_curve_for(digest: str, assessment: Assessment):
    """Everyone's counts at every distinct score (the exact lowest-cost search; cached,
    read-only)."""
    return _cost_curve(digest, _spec_key(assessment), assessment)


@st.cache_data(max_entries=64, show_spinner=False)
def _lowest_cost(digest: str, key: str, fp_cost: float, fn_cost: float, _curve):
    from ..thresholds import lowest_cost_threshold

    return lowest_cost_threshold(_curve, fp_cost, fn_cost)


def lowest_cost_for(digest: str, assessment: Assessment, fp_cost: float, fn_cost: float):
    """:func:`faircard.thresholds.lowest_cost_threshold` of everyone at these costs (searched
    once per costs, not on every move of the slider nor for each partition shown)."""
    return _lowest_cost(digest, _spec_key(assessment), float(fp_cost), float(fn_cost),
                        cost_curve_for(digest, assessment))


@st.cache_data(max_entries=128, show_spinner=False)
def _derived(digest: str, key: str, module: str, name: str, args: tuple, _assessment):
    return getattr(importlib.import_module(module), name)(_assessment, *args)


def of_assessment(fn, digest: str, assessment: Assessment, *args):
    """``fn(assessment, *args)``, computed once per dataset, choices and arguments: tables,
    findings and exports that depend on nothing else (a rerun for another widget reads
    them)."""
    return _derived(digest, _spec_key(assessment), fn.__module__, fn.__name__, args,
                    assessment)


def _read_only(obj):
    """``obj`` (shared by every session) with its arrays made read-only."""
    for value in vars(obj).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return obj


# The searches below depend on the page's choices, not on its threshold slider: each is run
# once per input and choices, and kept for every session (nothing changes them after).
@st.cache_resource(show_spinner=False)
def _search_store() -> OrderedDict:
    """Per-group policies and trade-off fronts shared by all sessions, newest last."""
    return OrderedDict()


_SEARCH_LOCK = threading.Lock()
SEARCHES_KEPT = 96


def _searched(key: str, search, computing=None):
    """``search()`` once per ``key`` (the most recent kept), inside ``computing()`` (a
    progress indicator) only when it runs: a rerun that finds it kept draws nothing for it
    (a spinner costs a thread and a message even when it never shows)."""
    store = _search_store()
    with _SEARCH_LOCK:
        if key in store:
            store.move_to_end(key)
            return store[key]
    with computing() if computing is not None else nullcontext():
        value = search()
    with _SEARCH_LOCK:
        store[key] = value
        while len(store) > SEARCHES_KEPT:
            store.popitem(last=False)
    return value


def _search_key(kind: str, digest: str, assessment: Assessment, feature: str,
                choices: dict) -> str:
    return json.dumps([kind, digest, _spec_key(assessment), feature, choices], sort_keys=True,
                      default=str)


def policy_search(digest: str, assessment: Assessment, feature: str, computing=None,
                  **choices) -> Policy:
    """:func:`faircard.policy.choose_policy_from_sweep` on the partition's cached sweep,
    searched once per choices (inside ``computing()`` when it runs)."""
    return _searched(_search_key("policy", digest, assessment, feature, choices),
                     lambda: choose_policy_from_sweep(sweep_for(digest, assessment, feature),
                                                      feature=feature, **choices), computing)


def tradeoff_front(digest: str, assessment: Assessment, feature: str, *, chosen: Policy,
                   computing=None, **choices) -> pd.DataFrame:
    """The trade-off front of the partition (searched once per choices, inside
    ``computing()`` when it runs) with ``chosen``, as a new frame."""
    front = _searched(_search_key("front", digest, assessment, feature, choices),
                      lambda: pareto_front_from_sweep(sweep_for(digest, assessment, feature),
                                                      **choices), computing)
    return with_chosen(front, chosen)


@st.cache_data(max_entries=32, show_spinner=False)
def _roc_drawn(digest: str, key: str, feature: str, _sw) -> pd.DataFrame:
    from ..thresholds import roc_pr_curves
    from .tables import roc_drawn

    return roc_drawn(roc_pr_curves(_sw, feature))


def roc_drawn(digest: str, assessment: Assessment, feature: str) -> pd.DataFrame:
    """The ROC points the chart draws (:func:`faircard.ui.tables.roc_drawn`), per partition."""
    return _roc_drawn(digest, _spec_key(assessment), feature,
                      sweep_for(digest, assessment, feature))


def _named_frames(data, frames: dict):
    """Altair data transformer: a data frame becomes a named data set kept as it is in
    ``frames`` (Streamlit sends it as Arrow), instead of rows of JSON values that Altair writes
    and hashes row by row (0.05-0.14 s for a ROC chart of a few thousand points)."""
    from altair.vegalite.data import default_data_transformer

    if isinstance(data, pd.DataFrame):
        data = data.reset_index(drop=True)
        # layers drawn from the same rows share one data set, as Altair's do
        name = next((n for n, f in frames.items() if f.equals(data)), f"data-{len(frames)}")
        frames[name] = data
        return {"name": name}
    return default_data_transformer(data, max_rows=None)


_transformer_registered = False
_validated: set[tuple[str, str]] = set()


def _build_chart_spec(module: str, builder: str, args: tuple, kwargs: dict) -> dict:
    """The Vega-Lite spec of the Altair chart ``module.builder(*args, **kwargs)``, converted as
    ``st.altair_chart`` does (no Altair theme, every row of data kept), except that its data
    sets, named by their order in the chart, are kept as the Arrow bytes that Streamlit sends
    (made once, not on every rerun)."""
    import altair as alt
    from streamlit import dataframe_util

    global _transformer_registered
    chart = getattr(importlib.import_module(module), builder)(*args, **kwargs)
    frames: dict[str, pd.DataFrame] = {}
    with _ALTAIR_LOCK:
        if not _transformer_registered:  # asking Altair reads every package's entry points
            alt.data_transformers.register("faircard_frames", _named_frames)
            _transformer_registered = True
        theme = alt.theme.enable("none") if alt.theme.active == "default" else nullcontext()
        with theme, alt.data_transformers.enable("faircard_frames", frames=frames):
            # validated against the Vega-Lite schema once per builder and process (a quarter
            # of the time of a chart): a builder's charts differ in their data and titles (and
            # at most by a layer), and tests/unit/test_charts.py and
            # tests/security/test_audit_labels.py validate the builders' variants
            first = (module, builder) not in _validated
            spec = chart.to_dict(validate=first)
            _validated.add((module, builder))
    frames = {**{name: pd.DataFrame.from_records(rows)
                 for name, rows in spec.get("datasets", {}).items()}, **frames}
    spec["datasets"] = {name: dataframe_util.convert_anything_to_arrow_bytes(frame)
                        for name, frame in frames.items()}
    return spec


@st.cache_data(max_entries=256, show_spinner=False)
def chart_spec(module: str, builder: str, args: tuple, kwargs: dict) -> dict:
    """:func:`_build_chart_spec`, built once per inputs (Altair takes about 0.04-0.08 s per
    chart, on every rerun otherwise)."""
    return _build_chart_spec(module, builder, args, kwargs)


@st.cache_data(max_entries=256, show_spinner=False)
def keyed_chart_spec(module: str, builder: str, key: str, _args: tuple, _kwargs: dict) -> dict:
    """:func:`_build_chart_spec`, once per ``key``: a string that says everything the chart
    depends on (see :func:`assessment_key`), so a rerun does not hash its data."""
    return _build_chart_spec(module, builder, _args, _kwargs)


def assessment_key(digest: str, assessment: Assessment) -> str:
    """What an assessment depends on: the dataset's digest and the assessment's choices."""
    return json.dumps([digest, _spec_key(assessment)])


@st.cache_resource(show_spinner=False)
def _diagnostics_store() -> OrderedDict:
    """Diagnostics shared by all sessions, newest last. A plain store instead of a cached
    function, so the progress bar drawn while computing is not replayed on later hits."""
    return OrderedDict()


def diagnostics(digest: str, data: pd.DataFrame, spec: AssessmentSpec, reference_digest,
                reference: pd.DataFrame | None, shares: dict, exclude: tuple, progress=None,
                model=None, model_positive_class=None, model_exclude: tuple = ()):
    """The diagnostics of ``spec`` on ``data`` (with optional reference data), kept by the
    data's digest, the choices, the reference data's digest, the shares and the exclusions
    (the 8 most recent). With ``model`` (the model whose scores the spec's column holds),
    permutation importance too, kept by the model file's sha256 and its positive class."""
    from ..diagnostics import diagnose_spec

    model_key = None if model is None else [model.sha256, repr(model_positive_class),
                                            list(model_exclude)]
    key = json.dumps([digest, spec.to_dict(), reference_digest, shares, list(exclude),
                      model_key], sort_keys=True, default=str)
    store = _diagnostics_store()
    if key in store:
        store.move_to_end(key)
        return store[key]
    result = diagnose_spec(data, spec, reference_data=reference, progress=progress,
                           reference_shares=shares or None, exclude=tuple(exclude),
                           model=model, model_positive_class=model_positive_class,
                           model_exclude=tuple(model_exclude))
    store[key] = result
    while len(store) > 8:
        store.popitem(last=False)
    return result
