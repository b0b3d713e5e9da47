"""Model card: the authors' text, a live preview, completeness, and exports."""

import streamlit as st

from faircard.card import CHECKLIST_SECTION, QUESTIONS, TEXT_SECTIONS, ModelCard, build_card
from faircard.diagnostics import SOURCES, STATUSES
from faircard.errors import FaircardError
from faircard.governance.approval import CHANGED, UNVERIFIED
from faircard.render import (
    PLAIN_TABLE_GROUPS,
    markdown_body,
    render_html,
    render_json,
    render_markdown,
    render_pdf,
)
from faircard.ui import components, state

st.title("Model card")
st.caption("What leaves the tool: the numbers come from the assessment; the text comes from you. "
           "Answer the questions, check the preview, and download the card.")
components.need(state.has_sensitive(), "Choose the sensitive features first.",
                components.PAGE_SENSITIVE, "Go to Sensitive features")

results = components.current_assessments()
components.without_bootstrap(results)
name, a = components.focus(results)

text = components.card_text(name)
draft = st.file_uploader("Continue a draft: import a card JSON", type=["json"], key="upload_card")
if draft is not None:
    try:
        old = ModelCard.from_bytes(draft.getvalue())
    except FaircardError as exc:
        components.error(exc)
    else:
        imported = old.authors_text()
        imported.pop(CHECKLIST_SECTION, None)  # the checklist is answered on Diagnostics
        answers = {i["source"]: {"status": i.get("status") or "", "note": i.get("note") or ""}
                   for i in old.ethical_considerations.get("bias_sources") or []
                   if isinstance(i, dict) and i.get("source") in SOURCES
                   and (i.get("status") or "") in STATUSES}
        if imported != text:
            text = imported
            state.put(state.CARD_TEXT, text)
            state.forget_widgets("w_card_")
        if answers and answers != {k: v for k, v in state.get(state.DIAG_CHECKLIST).items()
                                   if k in answers}:
            state.put(state.DIAG_CHECKLIST, {**state.get(state.DIAG_CHECKLIST), **answers})
            state.forget_widgets("w_check_")
            state.forget_widgets("w_note_")
            st.info("The draft's bias-sources answers were restored: open the Diagnostics page "
                    "to see them with this data's evidence and put them in the card.")

LABELS = {"model_details": "Model details", "intended_use": "Intended use", "factors": "Factors",
          "metrics": "Metrics", "evaluation_data": "Evaluation data",
          "training_data": "Training data", "ethical_considerations": "Ethical considerations",
          "caveats": "Caveats and recommendations"}
model_info = components.model_info(name)
left, right = st.columns([1, 1])
with left:
    for section, fields in TEXT_SECTIONS.items():
        part = text.setdefault(section, {})
        filled = sum(1 for f in fields if str(part.get(f) or "").strip())
        with st.expander(f"{LABELS[section]}  ({filled}/{len(fields)} answered)",
                         expanded=section in ("model_details", "intended_use")):
            st.progress(filled / len(fields))
            for f in fields:
                key = f"w_card_{section}_{f}"
                state.seed(key, part.get(f) or (
                    model_info.get(f, "") if section == "model_details" else ""))
                help_text = QUESTIONS.get(f"{section}.{f}")
                widget = st.text_area if f in ("description", "text", "primary_uses",
                                               "out_of_scope") or f.startswith("why") \
                    else st.text_input
                part[f] = widget(f.replace("_", " ").capitalize(), key=key, help=help_text,
                                 placeholder=help_text or "")
state.put(state.CARD_TEXT, text)
state.restore("w_card_suppress", state.CARD_SUPPRESS)
st.checkbox("Leave groups below the minimum size out of the card", key="w_card_suppress")
suppress = bool(state.keep("w_card_suppress", state.CARD_SUPPRESS))
data_info = {"name": state.get(state.DATA_NAME), "sha256": components.dataset_sha256()}
checklist = components.card_diagnostics(name, a.spec)
if checklist is None:
    st.caption("The bias-sources checklist and the columns that stand in for a sensitive "
               "feature come from the Diagnostics page: open it (with this model and these "
               "choices) to put them in the card's ethical considerations and caveats.")
    components.link(components.PAGE_DIAGNOSTICS, label="Open Diagnostics",
                    icon=":material/troubleshoot:")
card = build_card(a, text=text, model=model_info,
                  dataset=data_info, personal_data=[f.column for f in state.get(state.PII)],
                  metrics=state.get(state.METRICS), suppress_small_groups=suppress,
                  **(checklist or {}))
signed = components.review_of(a, name)
if signed:
    card.review.update(signed)
    shown = {"approved": st.success, CHANGED: st.warning, UNVERIFIED: st.error}.get(
        signed["status"], st.caption)
    shown(f"Review status from the audit store: **{signed['status']}** "
          f"({components.escape(signed['notes'])}).")
else:
    st.caption("Review status: draft. Record the assessment and have it reviewed on the "
               "Governance page to put the sign-off on the card.")
md = render_markdown(card)
with right:
    st.markdown("**Preview**")
    with st.container(height=720, border=True):
        st.markdown(markdown_body(card))

st.subheader("Download")
d1, d2, d3, d4 = st.columns(4)
d1.download_button("Markdown", md, file_name="model_card.md", mime="text/markdown",
                   key="dl_card_md")
d2.download_button("JSON", render_json(card), file_name="model_card.json",
                   mime="application/json", key="dl_card_json")
files = state.get(state.CARD_FILES)
fingerprint = card.content_sha256()  # not the generation time: one download keeps the other
state.restore("w_card_table_groups", state.CARD_TABLE_GROUPS)
st.number_input("Groups laid out as a table in the HTML and PDF card", min_value=0, step=10,
                key="w_card_table_groups",
                help="A feature with more groups lists them, with every figure, in an appendix "
                f"as plain text (default {PLAIN_TABLE_GROUPS}): laying out thousands of table "
                "rows takes the PDF renderer minutes. The Markdown and JSON cards keep every "
                "group in their tables.")
table_groups = int(state.keep("w_card_table_groups", state.CARD_TABLE_GROUPS))
# the files are for this card laid out this way: another setting prepares them again
fingerprint = (fingerprint, table_groups)
if d3.button("Prepare HTML and PDF", key="prepare_card"):
    html = pdf = None
    with st.spinner("Drawing charts and laying out the PDF..."):
        try:
            html = render_html(card, table_groups=table_groups)
            pdf = render_pdf(card, html=html)
        except FaircardError as exc:
            components.error(exc)
    files = {"for": fingerprint, "html": html, "pdf": pdf} if html else {}
    state.put(state.CARD_FILES, files)
if files and files.get("for") == fingerprint:
    d3.download_button("HTML", files["html"], file_name="model_card.html", mime="text/html",
                       key="dl_card_html")
    if files.get("pdf"):
        d4.download_button("PDF", files["pdf"], file_name="model_card.pdf",
                           mime="application/pdf", key="dl_card_pdf")
elif files:
    st.caption("The card changed since the HTML and PDF were prepared; prepare them again.")

components.link(components.PAGE_GOVERNANCE, label="Next: record the assessment and sign it off",
                icon=":material/verified:")
components.page_done("model_card")
