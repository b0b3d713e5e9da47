"""Thresholds: the decision policy (next step of faircard)."""

import streamlit as st

from faircard.ui import components, state

st.title("Thresholds")
components.need(state.has_sensitive(), "Choose the sensitive features first.",
                components.PAGE_SENSITIVE, "Go to Sensitive features")
st.info("Choosing a decision threshold per group under a fairness constraint is the next "
        "feature of faircard. Until then, the threshold is set on the Data & model page: "
        f"currently {state.get(state.THRESHOLD):g}.")
components.link(components.PAGE_DATA, label="Change the threshold", icon=":material/tune:")
