"""Widgets and blocks shared by pages."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ..errors import FaircardError
from ..spec import AssessmentSpec
from . import cache, state

PAGE_DATA = "app_pages/data.py"
PAGE_SENSITIVE = "app_pages/sensitive.py"
PAGE_DISPARITIES = "app_pages/disparities.py"
PAGE_THRESHOLDS = "app_pages/thresholds.py"
PAGE_CARD = "app_pages/model_card.py"


def link(page: str, label: str, icon: str = ":material/arrow_forward:") -> None:
    """A link to another page; a plain hint when the page runs outside the app's navigation."""
    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitPageNotFoundError:
        st.caption(f"Open '{label}' from the app's sidebar.")


def need(condition: bool, message: str, page: str | None = None, label: str = "") -> None:
    """Stop the page with a friendly message (and a link) when an input is missing."""
    if not condition:
        st.info(message)
        if page:
            link(page, label)
        st.stop()


def decisions() -> list[tuple[str, dict]]:
    """(name, decision kwargs) for each thing to assess: every model, or the chosen column."""
    kind = state.get(state.DECISION)
    if kind == "model":
        cols = state.get(state.MODEL_COLUMNS)
        return [(name, {"prediction": col} if col.startswith("prediction: ")
                 else {"score": col, "threshold": state.get(state.THRESHOLD)})
                for name, col in cols.items()]
    if kind == "score":
        col = state.get(state.SCORE_COL)
        return [(col, {"score": col, "threshold": state.get(state.THRESHOLD)})]
    col = state.get(state.PRED_COL)
    return [(col, {"prediction": col})]


def spec_for(decision: dict, **overrides) -> AssessmentSpec:
    """The AssessmentSpec of the current choices for one decision column."""
    kwargs = dict(
        target=state.get(state.TARGET),
        sensitive=tuple(state.get(state.SENSITIVE)),
        pos_label=state.get(state.POS_LABEL),
        reference=dict(state.get(state.REFERENCE)),
        bins=dict(state.get(state.BINS)),
        intersection=bool(state.get(state.INTERSECTION)),
        min_group_size=int(state.get(state.MIN_GROUP_SIZE)),
        **decision,
    )
    kwargs.update(overrides)
    return AssessmentSpec(**kwargs)


def current_assessments(**overrides):
    """[(name, Assessment)] for the current choices; shows st.error and stops on bad input."""
    data = state.get(state.DATA)
    digest = state.get(state.DATA_DIGEST)
    out = []
    try:
        for name, decision in decisions():
            spec = spec_for(decision, **overrides)
            out.append((name, cache.assessment(digest, data, spec)))
    except FaircardError as exc:
        st.error(str(exc))
        st.stop()
    return out


def next_step() -> tuple[str, str] | None:
    """(page, label) of the first step still missing, or None when everything is set."""
    if not state.has_roles():
        return PAGE_DATA, "Load data and decisions"
    if not state.has_sensitive():
        return PAGE_SENSITIVE, "Choose sensitive features"
    if not state.get(state.POLICY) and state.get(state.DECISION) != "prediction":
        return PAGE_THRESHOLDS, "Choose the decision policy"
    return PAGE_CARD, "Write the model card"


def sidebar_status() -> None:
    """What is loaded, and the next step, in the sidebar."""
    with st.sidebar:
        step = next_step()
        if step:
            st.markdown("### Next step")
            link(*step)
        st.markdown("### Loaded")
        data = state.get(state.DATA)
        if data is None:
            st.caption("No dataset yet.")
            return
        st.markdown(f"**Dataset:** {_esc(state.get(state.DATA_NAME))}  \n"
                    f"{len(data):,} rows x {data.shape[1]} columns")
        models = state.get(state.MODELS)
        if models:
            st.markdown("**Models:** " + ", ".join(_esc(m.name) for m in models))
        elif state.get(state.DECISION) == "score" and state.get(state.SCORE_COL):
            st.markdown(f"**Score:** {_esc(state.get(state.SCORE_COL))} "
                        f"(threshold {state.get(state.THRESHOLD):g})")
        elif state.get(state.PRED_COL):
            st.markdown(f"**Predictions:** {_esc(state.get(state.PRED_COL))}")
        if state.get(state.TARGET):
            st.markdown(f"**Outcome:** {_esc(state.get(state.TARGET))}")
        sens = state.get(state.SENSITIVE)
        if sens:
            st.markdown("**Sensitive features:** " + ", ".join(_esc(s) for s in sens))


def _esc(text) -> str:
    """Escape Markdown control characters in user-provided names."""
    s = str(text)
    for ch in "\\`*_{}[]()#+-.!|<>":
        s = s.replace(ch, "\\" + ch)
    return s
