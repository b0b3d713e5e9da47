"""Widgets and blocks shared by pages."""

from __future__ import annotations

import hashlib
from typing import NoReturn

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ..errors import FaircardError
from ..governance.records import SHA256_RE
from ..spec import AssessmentSpec
from . import cache, state

PAGE_DATA = "app_pages/data.py"
PAGE_SENSITIVE = "app_pages/sensitive.py"
PAGE_DISPARITIES = "app_pages/disparities.py"
PAGE_DIAGNOSTICS = "app_pages/diagnostics.py"
PAGE_THRESHOLDS = "app_pages/thresholds.py"
PAGE_CARD = "app_pages/model_card.py"
PAGE_GOVERNANCE = "app_pages/governance.py"
PAGE_RECORD = "app_pages/record.py"


def link(page: str, label: str, icon: str = ":material/arrow_forward:",
         query_params: dict[str, str] | None = None) -> None:
    """A link to another page; a plain hint when the page runs outside the app's navigation."""
    try:
        st.page_link(page, label=label, icon=icon, query_params=query_params)
    except StreamlitPageNotFoundError:
        st.caption(f"Open '{label}' from the app's sidebar.")


def page_done(page: str = "") -> None:
    """Write the end-of-run marker, last on every page: an invisible element carrying the page's
    name and the number of the run that wrote it. Browser tests wait for the marker of a run
    that began after their action, instead of guessing from spinners."""
    run = int(st.session_state.get(state.RUN, 0))
    st.html(f'<span data-testid="fc-page-done" data-page="{page}" data-run="{run}" hidden>'
            "</span>")


def stop(page: str = "") -> NoReturn:
    """``st.stop()`` after writing the end-of-run marker (see :func:`page_done`)."""
    page_done(page)
    st.stop()


def share_link(record_id: int) -> str:
    """The address of a record's read-only view: the app's root with ``?record=ID``."""
    from urllib.parse import urlsplit

    url = urlsplit(st.context.url or "")
    base = "/" + str(st.get_option("server.baseUrlPath") or "").strip("/")
    root = f"{url.scheme}://{url.netloc}" if url.netloc else ""
    return f"{root}{base.rstrip('/')}/?record={int(record_id)}"


def need(condition: bool, message: str, page: str | None = None, label: str = "") -> None:
    """Stop the page with a friendly message (and a link) when an input is missing."""
    if not condition:
        st.info(message)
        if page:
            link(page, label)
        stop()


def decisions() -> list[tuple[str, dict]]:
    """(name, decision kwargs) for each thing to assess: every model, or the chosen column."""
    kind = state.get(state.DECISION)
    if kind == "model":
        cols = state.get(state.MODEL_COLUMNS)
        return [(name, {"prediction": col} if col.startswith("prediction: ")
                 else {"score": col, "policy": state.policy()})
                for name, col in cols.items()]
    if kind == "score":
        col = state.get(state.SCORE_COL)
        return [(col, {"score": col, "policy": state.policy()})]
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
        favorable_outcome=state.get(state.FAVORABLE),
        **decision,
    )
    kwargs.update(overrides)
    return AssessmentSpec(**kwargs)


def group_labels(spec: AssessmentSpec, feature: str) -> tuple[str, ...]:
    """The groups of one sensitive feature under ``spec`` (from the cached assessment)."""
    a = cache.assessment(state.get(state.DATA_DIGEST), state.get(state.DATA), spec)
    return tuple(next(gc.groups for gc in a.counts if gc.feature == feature))


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
        stop()
    return out


def focus(results: list) -> tuple[str, object]:
    """(name, Assessment) of the model in focus (the first when none is chosen)."""
    names = [n for n, _ in results]
    chosen = state.get(state.FOCUS_MODEL)
    name = chosen if chosen in names else names[0]
    return name, dict(results)[name]


def dataset_sha256() -> str:
    """sha256 of the dataset: of the uploaded file's bytes, or, for data that came without a
    file (the built-in demo), of the table written as CSV."""
    digest = str(state.get(state.DATA_DIGEST) or "")
    head = digest.split("+")[0].split("@")[0]
    if SHA256_RE.match(head):
        return head
    cached = state.get(state.TABLE_SHA256)
    if cached and cached[0] == digest:
        return cached[1]
    data = state.get(state.DATA)
    sha = hashlib.sha256(data.to_csv(index=False).encode("utf-8")).hexdigest()
    state.put(state.TABLE_SHA256, (digest, sha))
    return sha


def models_of(name: str) -> list:
    """The loaded model called ``name`` as a one-item list (empty for a score or prediction
    column), for fingerprints and records."""
    return [m for m in state.get(state.MODELS) if m.name == name]


def review_of(assessment, name: str) -> dict[str, str] | None:
    """The review of the newest audit record whose fingerprint matches ``assessment`` (as the
    card's ``review`` section), or None when there is no store or no such record."""
    from ..governance import AuditStore, assessment_fingerprint, store_exists

    if not store_exists():
        return None
    try:
        fp = assessment_fingerprint(assessment, dataset_sha256=dataset_sha256(),
                                    models=models_of(name))
        with AuditStore(create=False) as store:
            found = store.find_by_fingerprint(fp)
            if not found:
                return None
            rec = max(found, key=lambda r: r.id)
            decisions = [h for h in store.history(rec.id)
                         if h.decision in ("approve", "request_changes", "reject")]
    except FaircardError:
        return None
    last = decisions[-1] if decisions else None
    reviewer = f"{last.reviewer} ({last.role})" if last and last.role else \
        (last.reviewer if last else "")
    notes = f"Audit record {rec.id} (fingerprint {rec.fingerprint[:16]})"
    if last and last.comment:
        notes += f": {last.comment}"
    return {"status": rec.status.replace("_", " "), "reviewer": reviewer, "notes": notes}


def next_step() -> tuple[str, str] | None:
    """(page, label) of the first step still missing, or None when everything is set."""
    if not state.has_roles():
        return PAGE_DATA, "Load data and decisions"
    if not state.has_sensitive():
        return PAGE_SENSITIVE, "Choose sensitive features"
    if not state.get(state.POLICY_CHOSEN) and state.get(state.DECISION) != "prediction":
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
        st.markdown(f"**Dataset:** {escape(state.get(state.DATA_NAME))}  \n"
                    f"{len(data):,} rows x {data.shape[1]} columns")
        models = state.get(state.MODELS)
        if models:
            st.markdown("**Models:** " + ", ".join(escape(m.name) for m in models))
        elif state.get(state.DECISION) == "score" and state.get(state.SCORE_COL):
            st.markdown(f"**Score:** {escape(state.get(state.SCORE_COL))}")
        if state.get(state.DECISION) != "prediction":
            st.markdown(f"**Decision policy:** {escape(state.policy().describe())}")
        elif state.get(state.PRED_COL):
            st.markdown(f"**Predictions:** {escape(state.get(state.PRED_COL))}")
        if state.get(state.TARGET):
            st.markdown(f"**Outcome:** {escape(state.get(state.TARGET))}")
        sens = state.get(state.SENSITIVE)
        if sens:
            st.markdown("**Sensitive features:** " + ", ".join(escape(s) for s in sens))


def escape(text) -> str:
    """Escape Markdown control characters in user-provided text."""
    s = str(text)
    for ch in "\\`*_{}[]()#+-.!|<>":
        s = s.replace(ch, "\\" + ch)
    return s
