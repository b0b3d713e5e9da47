"""Model card: document the assessment (next step of faircard)."""

import streamlit as st

from faircard.ui import components, state

st.title("Model card")
components.need(state.has_sensitive(), "Choose the sensitive features first.",
                components.PAGE_SENSITIVE, "Go to Sensitive features")
st.info("The model card editor and its Markdown, HTML, PDF and JSON exports are the next "
        "feature of faircard. Meanwhile, download the full assessment as JSON on the "
        "Disparities page.")
components.link(components.PAGE_DISPARITIES, label="Go to Disparities",
             icon=":material/bar_chart:")
