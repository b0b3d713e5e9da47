"""Every session key shared between pages, with defaults and small helpers.

Widget values are dropped when a user leaves a page, so pages copy chosen values into these
keys (see :func:`restore` and :func:`keep`).
"""

from __future__ import annotations

import copy
from typing import Any

import streamlit as st

from ..decision import DecisionPolicy
from ..render import PLAIN_TABLE_GROUPS

DATA = "fc_data"                  # DataFrame being assessed (with model score columns added)
DATA_NAME = "fc_data_name"        # file name shown to the user
DATA_DIGEST = "fc_data_digest"    # sha256 of the uploaded bytes (or "demo"); "@encoding" when
                                  # a text encoding was chosen; "+model sha" per scored model
SOURCE = "fc_source"              # a dataset counted where it lives (DuckDB): {"path", "rows"};
                                  # DATA then holds its first rows, for choosing columns
DATA_READ = "fc_data_read"        # how the file was read: {"encoding", "detected", "warnings"}
UPLOAD = "fc_upload"              # the uploaded dataset file: {"name", "digest", "held"}: its
                                  # bytes compressed (io.held.HeldBytes), kept to read it again
                                  # in another encoding
UPLOAD_ROUND = "fc_upload_round"  # how many dataset files were taken from the uploader
UPLOAD_REFUSED = "fc_upload_refused"  # the last uploaded file that could not be read:
                                  # {"file": as UPLOAD, "key": file digest@encoding, "error"}
TARGET = "fc_target"
DECISION = "fc_decision"          # "model" | "score" | "prediction"
SCORE_COL = "fc_score_col"
PRED_COL = "fc_pred_col"
POS_LABEL = "fc_pos_label"
FAVORABLE = "fc_favorable"        # "positive" | "negative": is a positive decision good for people
MODELS = "fc_models"              # list of model handles (faircard.io.models.ModelHandle)
MODEL_COLUMNS = "fc_model_columns"  # {model name: score or prediction column added to DATA}
MODEL_CLASSES = "fc_model_classes"  # {model name: model class meaning the positive outcome}
MODEL_SCORED = "fc_model_scored"  # {model name: {"key": what its column was scored for, "note"}}
MODEL_ERRORS = "fc_model_errors"  # list of messages from the last model upload
PII = "fc_pii"                    # list of PersonalDataFlag
SENSITIVE = "fc_sensitive"
MANY_GROUPS_OK = "fc_many_groups_ok"  # {feature: number of groups the user accepted}
BINS = "fc_bins"                  # {feature: Binning}
INTERSECTION = "fc_intersection"
MIN_GROUP_SIZE = "fc_min_group_size"
REFERENCE = "fc_reference"        # {feature: group}
METRICS = "fc_metrics"
FOCUS_MODEL = "fc_focus_model"
POLICY = "fc_policy"              # the decision policy (DecisionPolicy): the only decision rule
POLICY_CHOSEN = "fc_policy_chosen"  # the user has set the policy (threshold or per group)
CARD_TEXT = "fc_card_text"        # {section: {field: text}} written by the card's authors
CARD_SUPPRESS = "fc_card_suppress"  # the card leaves groups below the minimum size out
CARD_FILES = "fc_card_files"      # rendered HTML/PDF bytes of the last "prepare" click
CARD_TABLE_GROUPS = "fc_card_table_groups"  # more groups: the HTML/PDF appendix lists them
DIAG_REFERENCE = "fc_diag_reference"  # {"digest", "name", "raw"} of the reference (training) data
DIAG_SHARES = "fc_diag_shares"    # {feature: {group: population share}}
DIAG_EXCLUDE = "fc_diag_exclude"  # columns left out of the diagnostics
DIAG_CHECKLIST = "fc_diag_checklist"  # {source: {"status", "note"}} set by the experts
DIAG_CARD = "fc_diag_card"        # {"for": key, "bias_sources", "proxies"}: what the card takes
IS_DEMO = "fc_is_demo"
DEMO_AUTOLOADED = "fc_demo_autoloaded"
RUN = "fc_run"                    # number of the current script run, or of a fragment's rerun
                                  # (see components.page_done and components.fragment)
PAGE_RUNNING = "fc_page_running"  # a run of the whole app is under way (not a fragment's rerun)
FRAGMENT_RUNNING = "fc_fragment_running"  # a part of a page (st.fragment) is running
CURRENT_PAGE = "fc_current_page"  # script path of the page this run shows (set by app.py)
ASSESSED = "fc_assessed"          # [(data digest, spec, Assessment)]: the last few a page
#                                   drew, newest last (the sidebar reads their group sizes)
SIDEBAR_PENDING = "fc_sidebar_pending"  # the sidebar status is still to be drawn in this run
TABLE_SHA256 = "fc_table_sha256"  # (DATA_DIGEST, sha256 of the table as CSV) for file-less data
GOVERNANCE_MESSAGE = "fc_governance_message"  # confirmation shown once after a rerun
GOVERNANCE_BASELINE_FOR = "fc_governance_baseline_for"  # (record ids, model) the baseline
                                                         # choice was seeded for

# Widget keys that code also reads or writes directly (other widget keys stay on their page).
GOVERNANCE_RECORD = "w_gov_record"  # the record open on the Governance page
THRESHOLD_INPUT = "w_threshold"   # the Data page's threshold (shows the single policy)
THRESHOLD_SLIDER = "w_thr_slider"  # the Thresholds page's slider (shows the single policy)


def upload_widget() -> str:
    """Key of the dataset uploader. A file is taken from it once (see
    ``loaders.take_upload``); the next uploader has a new key, so it is drawn empty."""
    n = int(st.session_state.get(UPLOAD_ROUND, 0))
    return "upload_data" if n == 0 else f"upload_data_{n}"


def encoding_widget(file_digest: str) -> str:
    """Key of the Encoding choice for one uploaded file (kept when choices are reset, so
    re-reading the file in another encoding does not undo itself; a new file starts afresh)."""
    return f"encoding_{file_digest[:16]}"


DEFAULTS: dict[str, Any] = {
    DATA: None,
    DATA_NAME: None,
    DATA_DIGEST: None,
    SOURCE: None,
    DATA_READ: {},
    UPLOAD: None,
    UPLOAD_ROUND: 0,
    UPLOAD_REFUSED: None,
    TARGET: None,
    DECISION: "score",
    SCORE_COL: None,
    PRED_COL: None,
    POS_LABEL: None,
    FAVORABLE: "positive",
    MODELS: [],
    MODEL_COLUMNS: {},
    MODEL_CLASSES: {},
    MODEL_SCORED: {},
    MODEL_ERRORS: [],
    PII: [],
    SENSITIVE: [],
    MANY_GROUPS_OK: {},
    BINS: {},
    INTERSECTION: False,
    MIN_GROUP_SIZE: 30,
    REFERENCE: {},
    METRICS: None,
    FOCUS_MODEL: None,
    POLICY: DecisionPolicy.single(0.5),
    POLICY_CHOSEN: False,
    CARD_TEXT: {},
    CARD_SUPPRESS: False,
    CARD_FILES: {},
    CARD_TABLE_GROUPS: PLAIN_TABLE_GROUPS,
    DIAG_REFERENCE: None,
    DIAG_SHARES: {},
    DIAG_EXCLUDE: [],
    DIAG_CHECKLIST: {},
    DIAG_CARD: None,
    IS_DEMO: False,
    DEMO_AUTOLOADED: False,
    RUN: 0,
    PAGE_RUNNING: False,
    FRAGMENT_RUNNING: False,
    TABLE_SHA256: None,
    GOVERNANCE_MESSAGE: None,
    GOVERNANCE_BASELINE_FOR: None,
    SIDEBAR_PENDING: False,
    ASSESSED: [],
    CURRENT_PAGE: None,
}


def init() -> None:
    """Put every key in the session with its default (once)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = copy.deepcopy(value)


def begin_run() -> int:
    """Number this script run (1, 2, ...); called once at the top of every run of the app."""
    st.session_state[PAGE_RUNNING] = True
    return next_run()


def next_run() -> int:
    """The next run number: of a script run, or of a fragment that reruns alone."""
    st.session_state[RUN] = int(st.session_state.get(RUN, 0)) + 1
    return st.session_state[RUN]


def get(key: str) -> Any:
    if key not in st.session_state:  # one look-up: init() costs one per key (~0.1 s a run)
        init()
    return st.session_state[key]


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def take(key: str) -> Any:
    """The value of ``key``, which goes back to its default (a message shown once)."""
    value = get(key)
    st.session_state[key] = copy.deepcopy(DEFAULTS[key])
    return value


def reset_after_data_change() -> None:
    """A new dataset invalidates every choice made about the old one."""
    for key in (DATA_READ, TARGET, SCORE_COL, PRED_COL, POS_LABEL, FAVORABLE, MODELS, MODEL_COLUMNS,
                MODEL_CLASSES, MODEL_SCORED, MODEL_ERRORS, SENSITIVE, MANY_GROUPS_OK, BINS,
                REFERENCE, FOCUS_MODEL,
                DIAG_SHARES, DIAG_EXCLUDE, DIAG_CHECKLIST, DIAG_CARD):
        st.session_state[key] = copy.deepcopy(DEFAULTS[key])
    if not policy().is_single:  # its groups belong to the old data; a single threshold stays
        set_policy(DEFAULTS[POLICY], chosen=False)
    st.session_state[IS_DEMO] = False
    for widget in [k for k in st.session_state if str(k).startswith("w_")]:
        del st.session_state[widget]


def seed(widget_key: str, value: Any) -> Any:
    """Before drawing a widget: give it ``value`` unless it already has one; its value."""
    if widget_key not in st.session_state:
        st.session_state[widget_key] = value
    return st.session_state[widget_key]


def forget_widgets(prefix: str) -> None:
    """Drop the values of the widgets whose keys start with ``prefix`` (they redraw from
    their saved state)."""
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def restore(widget_key: str, state_key: str) -> None:
    """Before drawing a widget: give it the value remembered in ``state_key``."""
    if widget_key not in st.session_state and st.session_state.get(state_key) is not None:
        st.session_state[widget_key] = st.session_state[state_key]


def keep(widget_key: str, state_key: str) -> Any:
    """After drawing a widget: remember its value in ``state_key`` and return it."""
    value = st.session_state.get(widget_key)
    st.session_state[state_key] = value
    return value


def policy() -> DecisionPolicy:
    """The decision policy in force (one threshold, or one per group)."""
    return get(POLICY)


def set_policy(value: DecisionPolicy, chosen: bool = True) -> None:
    """Make ``value`` the decision policy: every page, export and record uses it."""
    if not isinstance(value, DecisionPolicy):
        raise TypeError("the decision policy must be a DecisionPolicy")
    st.session_state[POLICY] = value
    st.session_state[POLICY_CHOSEN] = chosen


def set_single_threshold(widget_key: str) -> None:
    """Widget callback: the threshold the user just entered becomes the policy. An empty or
    non-numeric value (a widget being redrawn) changes nothing."""
    value = st.session_state.get(widget_key)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return
    if value == value and abs(value) != float("inf"):
        set_policy(DecisionPolicy.single(value))


def has_data() -> bool:
    return get(DATA) is not None


def has_roles() -> bool:
    """A target and a decision (score, prediction or a scored model) are chosen."""
    if not has_data() or not get(TARGET):
        return False
    decision = get(DECISION)
    if decision == "model":
        return bool(get(MODEL_COLUMNS))
    if decision == "score":
        return bool(get(SCORE_COL))
    return bool(get(PRED_COL))


def has_sensitive() -> bool:
    return has_roles() and bool(get(SENSITIVE))
