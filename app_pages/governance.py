"""Governance: record the assessment in the audit store, submit it, review and sign it off,
and check that the audit trail has not been altered."""

import json

import pandas as pd
import streamlit as st

from faircard.errors import FaircardError
from faircard.formatting import fmt_num
from faircard.governance import AuditStore, assessment_fingerprint, default_location, store_exists
from faircard.governance.diff import default_baseline
from faircard.governance.identity import same_person
from faircard.governance.share import cells_of
from faircard.governance.store import PENDING, REPLACE_RULE
from faircard.ui import auth, components, state

DECISION_LABELS = {"approve": "Approve (sign off)", "request_changes": "Request changes",
                   "reject": "Reject", "comment": "Comment only"}
STATUS_LABELS = {"draft": "draft", "in_review": "in review", "approved": "approved",
                 "changes_requested": "changes requested", "rejected": "rejected"}
CRITERIA = (("demographic_parity_difference", "Demographic parity difference"),
            ("demographic_parity_ratio", "Demographic parity ratio"),
            ("equalized_odds_difference", "Equalized odds difference"),
            ("equal_opportunity_difference", "Equal opportunity difference"))

st.title("Governance")
st.caption("Keep a record of what was assessed and who signed it off. Each record carries a "
           "fingerprint of the data, the model, the choices and the results; reviews are added "
           "to a tamper-evident trail, and `faircard gate --require-approved` lets a CI job "
           "check that the model it tests is the one that was approved.")

location = default_location()
who = auth.require("view", "governance")  # None in local mode: names are typed
if who is None:
    st.caption(auth.LOCAL_MODE_NOTE)


def _actor(widget_key: str):
    """Who acts: the signed-in identity, or (local mode) the name typed in ``widget_key``."""
    return who if who is not None else st.session_state.get(widget_key, "")


def _may(action: str) -> bool:
    return who is None or who.can(action)


st.markdown(f"**Audit store:** `{location}`")
st.caption("Set the environment variable FAIRCARD_STORE before starting the app to use another "
           "SQLite file or a database URL. The command line reads the same store.")
try:
    signer = auth.store_keys().signer
except FaircardError as exc:
    components.error(exc)
else:
    st.caption(f"New entries are signed with the key `{signer.key_id}`." if signer else
               "New entries are not signed: set signing_key under [faircard] in Streamlit's "
               "secrets (or FAIRCARD_SIGNING_KEY) so that entries cannot be forged.")


def _open(create: bool) -> AuditStore | None:
    """The store, or None (with the reason shown) when it cannot be opened. A store that does
    not exist yet is created only when ``create``; otherwise it is quietly None."""
    if not create and not store_exists(location):
        return None
    try:
        return auth.open_store(location, create=create)
    except FaircardError as exc:
        components.error(exc)
        return None


def _done(message: str) -> None:
    state.put(state.GOVERNANCE_MESSAGE, message)
    st.rerun()


message = state.take(state.GOVERNANCE_MESSAGE)
if message:
    st.success(message)

# -- record the current assessment -------------------------------------------------------------
st.subheader("Record this assessment")
fingerprint = None
if not _may("record"):
    st.info("Recording an assessment needs the author role; the records are listed below.")
elif not state.has_sensitive():
    st.info("Load data and choose the sensitive features to record an assessment; the records "
            "already in the store are listed below.")
    components.link(components.PAGE_DATA, "Go to Data & model")
else:
    results = components.current_assessments()
    components.without_bootstrap(results)
    names = [n for n, _ in results]
    name, a = components.focus(results)
    if len(names) > 1:
        name = st.selectbox("Model to record", names, index=names.index(name), key="w_gov_model")
        a = dict(results)[name]
    models = components.models_of(name)
    data_sha = components.dataset_sha256()
    spec = components.record_spec(a, name)
    fingerprint = assessment_fingerprint(a, dataset_sha256=data_sha, models=models, spec=spec)
    st.markdown(f"Fingerprint of the assessment on screen: `{fingerprint}`")
    st.caption(f"Dataset sha256 `{data_sha}`"
               + "".join(f"; model '{components.escape(m.name)}' sha256 `{m.sha256}`"
                       for m in models)
               + ". The record keeps the choices (outcome, decision and threshold, whether a "
               "positive decision is favourable or adverse, sensitive features, bands, reference "
               "groups), a fingerprint of the model card's text, the overall metrics and the "
               "fairness criteria, and the full assessment; no row of the data. A card shows "
               "'approved' only while its content matches an approved record.")
    store = _open(create=False)
    same = store.find_by_fingerprint(fingerprint) if store else []
    older = store.list() if store else []
    if store:
        store.close()
    if same:
        st.info("This exact assessment is already recorded: "
                + ", ".join(f"record {r.id} "
                            f"({components.escape(STATUS_LABELS.get(r.status, r.status))})"
                            for r in same)
                + ". Recording it again adds another record.")
    with st.form("record_form", clear_on_submit=False):
        title = st.text_input("Title", value=f"{state.get(state.DATA_NAME)}: {name}",
                              key="w_gov_title", max_chars=500)
        if who is None:
            st.text_input("Your name", key="w_gov_author", max_chars=200,
                          placeholder="Who made this assessment")
        else:
            st.caption(f"Recorded as {components.escape(who.display_name)} (signed in).")
        choices = [None] + [r.id for r in older]
        titles = {r.id: r.title for r in older}
        # a record awaiting a decision is replaced only by its author (the store refuses the
        # others; signed in, they are not offered)
        replaceable = [None] + [r.id for r in older if r.status not in PENDING or who is None
                                or same_person(who.issuer, who.subject, who.display_name,
                                               r.author_issuer, r.author_subject,
                                               r.created_by)]
        supersedes = st.selectbox(
            "Replaces an older record", replaceable, key="w_gov_supersedes",
            format_func=lambda i: "no" if i is None else f"{i}: {titles[i]}",
            help=REPLACE_RULE)
        # the newest earlier record of this model is the natural baseline; a new record in
        # the store (or another model) brings the default back
        if state.get(state.GOVERNANCE_BASELINE_FOR) != (tuple(choices), name):
            state.forget_widgets("w_gov_baseline")
            state.put(state.GOVERNANCE_BASELINE_FOR, (tuple(choices), name))
        state.seed("w_gov_baseline", default_baseline(older, name))
        baseline = st.selectbox(
            "Compare with an earlier record (baseline)", choices, key="w_gov_baseline",
            format_func=lambda i: "none" if i is None else f"{i}: {titles[i]}",
            help="The share link then shows what changed since that record, per criterion "
            "and per group, with intervals (as 'faircard diff' does).")
        recorded = st.form_submit_button("Record as a draft", type="primary")
    if recorded:
        store = _open(create=True)
        if store:
            try:
                cells = cells_of(a)
                with store:
                    rec = store.add(a, title=title, created_by=_actor("w_gov_author"),
                                    dataset_name=str(state.get(state.DATA_NAME)),
                                    dataset_sha256=data_sha, models=models, spec=spec,
                                    supersedes=supersedes, baseline=baseline,
                                    cells=cells, card=components.record_card(name, a))
            except FaircardError as exc:
                components.error(exc)
            else:
                state.put(state.GOVERNANCE_RECORD, rec.id)
                # a cube too large to keep: the record is made, its share link has no what-if
                note = f" {cells['cube_note']}" if cells.get("cube_note") else ""
                _done(f"Recorded as record {rec.id} (draft).{note} Submit it for review below.")

# -- the records -------------------------------------------------------------------------------
st.subheader("Records")
store = _open(create=False)
if store is None:
    if not store_exists(location):
        st.caption("No records yet: the store is created when the first assessment is "
                   "recorded.")
    components.stop("governance")
with store:
    try:
        records = store.list()
    except FaircardError as exc:
        components.error(exc)
        components.stop("governance")
if not records:
    st.caption("No records yet.")
    components.stop("governance")

table = pd.DataFrame([{
    "id": r.id, "title": r.title, "status": STATUS_LABELS.get(r.status, r.status),
    "by": r.created_by if r.authenticated else f"{r.created_by} (unauthenticated)",
    "recorded (UTC)": r.created_at[:19].replace("T", " "),
    "rows": r.n_rows, "fingerprint": r.fingerprint[:16],
    "replaced by": ", ".join(str(i) for i in r.superseded_by),
    "baseline": "" if r.baseline is None else str(r.baseline),
    "on screen": "yes" if r.fingerprint == fingerprint else "",
} for r in records])
st.dataframe(table, hide_index=True, width="stretch")

ids = [r.id for r in records]
if st.session_state.get(state.GOVERNANCE_RECORD) not in ids:
    state.put(state.GOVERNANCE_RECORD, ids[-1])
by_id = {r.id: r for r in records}
rid = st.selectbox("Open record", ids, key=state.GOVERNANCE_RECORD,
                   format_func=lambda i: f"{i}: {by_id[i].title}")
rec = by_id[rid]
try:
    with auth.open_store(location) as store:
        history = store.history(rid)
        export = store.export(rid)
        problems = store.problems(rid)
except FaircardError as exc:
    components.error(exc)
    components.stop("governance")

if problems:
    components.error(f"Record {rid} does not verify: {problems[0]}. Its status, figures and "
                     "reviews may have been changed in the database; run 'Verify the store' "
                     "below.")
status_shown = "not verified" if problems else STATUS_LABELS.get(rec.status, rec.status)
st.markdown(f"**Status:** {components.escape(status_shown)}  \n"
            f"**Fingerprint:** `{rec.fingerprint}`")
criteria = rec.summary.get("criteria") or {}
rows = [{"feature": feature, **{label: fmt_num(values.get(key)) for key, label in CRITERIA}}
        for feature, values in criteria.items()]
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
if history:
    st.markdown("**History**")
    st.dataframe(pd.DataFrame([{
        "when (UTC)": h.at[:19].replace("T", " "),
        "who": h.reviewer if h.authenticated else f"{h.reviewer} (unauthenticated)",
        "role": h.role or "",
        "what": "submitted" if h.decision == "submit" else
        DECISION_LABELS.get(h.decision, h.decision), "comment": h.comment,
    } for h in history]), hide_index=True, width="stretch")
st.markdown(f"**Share link** (read-only, for anyone with at least the viewer role): "
            f"`{components.share_link(rid)}`")
components.link(components.PAGE_RECORD, "Open the shared view", icon=":material/share:",
                query_params={"record": str(rid)})
st.download_button("Download the record (JSON)",
                   json.dumps(export, ensure_ascii=False, indent=2),
                   file_name=f"faircard-record-{rid}.json", mime="application/json",
                   key="dl_gov_record")

if rec.status == "draft" and _may("submit"):
    with st.form("submit_form"):
        if who is None:
            st.text_input("Your name", key="w_gov_submitter", max_chars=200)
        sent = st.form_submit_button("Submit for review")
    if sent:
        try:
            with auth.open_store(location) as store:
                store.submit(rid, _actor("w_gov_submitter"))
        except FaircardError as exc:
            components.error(exc)
        else:
            _done(f"Record {rid} is now in review.")

with st.form("review_form"):
    st.markdown("**Review**" if rec.status == "in_review" else "**Comment**")
    if rec.status != "in_review":
        st.caption("Only a record in review can be approved, sent back or rejected; anyone can "
                   "comment at any time.")
    c1, c2 = st.columns(2)
    if who is None:
        c1.text_input("Reviewer", key="w_gov_reviewer", max_chars=200)
    else:
        c1.caption(f"Reviewer: {components.escape(who.display_name)} (signed in)")
    role = c2.text_input("Role (optional)", key="w_gov_role", max_chars=200,
                         placeholder="for example: model risk, legal, domain expert")
    allowed = [d for d in DECISION_LABELS
               if d == "comment" or _may("approve" if d == "approve" else "decide")]
    if rec.status == "in_review":
        decision = st.radio("Decision", allowed, format_func=DECISION_LABELS.get,
                            key="w_gov_decision", horizontal=True)
    else:
        decision = "comment"
    comment = st.text_area("Comment", key="w_gov_comment", max_chars=10_000,
                           help="Required except for an approval: say what must change or why.")
    reviewed = st.form_submit_button("Add review")
if reviewed:
    try:
        with auth.open_store(location) as store:
            after = store.review(rid, _actor("w_gov_reviewer"), decision, comment,
                                 role=role or None)
    except FaircardError as exc:
        components.error(exc)
    else:
        _done(f"Review added; record {rid} is {STATUS_LABELS.get(after.status, after.status)}.")

# -- integrity ---------------------------------------------------------------------------------
st.subheader("Check the audit trail")
st.caption("Recomputes every fingerprint and every link of the hash chain, so an entry edited "
           "after it was written is found. Keep the head hash somewhere else (for example in CI "
           "logs) to detect a rewritten store.")
try:
    with auth.open_store(location) as store:
        head, n_entries, signed = store.head(), store.event_count(), store.is_signed()
except FaircardError as exc:
    components.error(exc)
    components.stop("governance")
st.markdown(f"**Head of the chain now:** `{head}` ({n_entries:,} entries)")
if not signed:
    st.warning("The entries of this store are not signed. Someone who can write to its "
               "database can remove its newest entries (for example a rejection that withdrew "
               "an approval) or rewrite it, and the store alone cannot show it. Publish the "
               "head above (a CI log, a ticket) and check it below, or with 'faircard verify "
               "--expect-head'; better, configure a signing key.")
expected = st.text_input("Published head to check (optional)", key="w_gov_expect_head",
                         max_chars=200, help="A head hash published earlier: the chain must "
                         "still contain it, or entries were removed or the chain rewritten.")
if st.button("Verify the store", key="gov_verify"):
    result = None
    with st.spinner("Checking every record and review..."):
        try:
            with auth.open_store(location) as store:
                result = store.verify(expect_head=expected.strip() or None)
        except FaircardError as exc:
            components.error(exc)
    if result is not None:
        (st.success if result.ok else st.error)(components.escape(result.message))
        for problem in result.problems[:20]:
            st.markdown(f"- {components.escape(problem)}")
components.page_done("governance")
