"""All caching of the app: tables by file digest, models as resources, assessments by spec.

Assessments are cached as resources keyed by (data digest, spec as JSON), so changing the
metrics shown or the reference group re-renders from counts, never from rows.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import pandas as pd
import streamlit as st

from ..assess import Assessment, assess_prepared
from ..demo import Demo, load_demo
from ..io import DETECT, TableRead, read_table
from ..io.models import SandboxedModel, load_model
from ..prepare import Prepared, prepare
from ..spec import AssessmentSpec


@st.cache_data(max_entries=4, show_spinner=False)
def read_upload(digest: str, _raw: bytes, name: str, encoding: str = DETECT) -> TableRead:
    """The uploaded table, parsed once per distinct file and encoding (limits from the
    environment, see :class:`faircard.io.TableLimits`)."""
    return read_table(_raw, filename=name, encoding=encoding)


@st.cache_resource(max_entries=16, show_spinner=False)
def read_model(digest: str, _raw: bytes, name: str, allow_unsafe: bool) -> SandboxedModel:
    """An uploaded model, opened once per distinct file in its sandboxed process (the handle
    holds only the file's bytes and plain facts; the model runs in that process)."""
    return load_model(_raw, filename=name, allow_unsafe_pickle=allow_unsafe)


@st.cache_resource(show_spinner=False)
def demo() -> Demo:
    return load_demo()


def _prep_key(spec: AssessmentSpec) -> str:
    d = spec.to_dict()
    for k in ("reference", "min_group_size", "include_small_groups", "n_boot", "confidence",
              "random_state"):
        d.pop(k, None)
    return json.dumps(d, sort_keys=True, default=str)


@st.cache_resource(max_entries=16, show_spinner=False)
def _prepared(digest: str, key: str, _data: pd.DataFrame, _spec: AssessmentSpec) -> Prepared:
    return prepare(_data, _spec)


@st.cache_resource(max_entries=64, show_spinner=False)
def _assessment(digest: str, key: str, _prepared: Prepared, _spec: AssessmentSpec) -> Assessment:
    return assess_prepared(_prepared, _spec)


def assessment(digest: str, data: pd.DataFrame, spec: AssessmentSpec) -> Assessment:
    """The assessment of ``spec`` on ``data`` (identified by ``digest``), cached."""
    prepared = _prepared(digest, _prep_key(spec), data, spec)
    full_key = json.dumps(spec.to_dict(), sort_keys=True, default=str)
    return _assessment(digest, full_key, prepared, spec)


@st.cache_resource(max_entries=32, show_spinner=False)
def sweep_of(digest: str, key: str, feature: str, _assessment: Assessment):
    """The threshold sweep of one partition of an assessment (cached)."""
    from ..thresholds import sweep_assessment

    return sweep_assessment(_assessment, feature)


def sweep_for(digest: str, assessment: Assessment, feature: str):
    key = json.dumps(assessment.spec.to_dict(), sort_keys=True, default=str)
    return sweep_of(digest, key, feature, assessment)


@st.cache_resource(show_spinner=False)
def _diagnostics_store() -> OrderedDict:
    """Diagnostics shared by all sessions, newest last. A plain store instead of a cached
    function, so the progress bar drawn while computing is not replayed on later hits."""
    return OrderedDict()


def diagnostics(digest: str, data: pd.DataFrame, spec: AssessmentSpec, reference_digest,
                reference: pd.DataFrame | None, shares: dict, exclude: tuple, progress=None):
    """The diagnostics of ``spec`` on ``data`` (with optional reference data), kept by the
    data's digest, the choices, the reference data's digest, the shares and the exclusions
    (the 8 most recent)."""
    from ..diagnostics import diagnose_spec

    key = json.dumps([digest, spec.to_dict(), reference_digest, shares, list(exclude)],
                     sort_keys=True, default=str)
    store = _diagnostics_store()
    if key in store:
        store.move_to_end(key)
        return store[key]
    result = diagnose_spec(data, spec, reference_data=reference, progress=progress,
                           reference_shares=shares or None, exclude=tuple(exclude))
    store[key] = result
    while len(store) > 8:
        store.popitem(last=False)
    return result
