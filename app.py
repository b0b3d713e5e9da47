"""faircard web app: pages declared explicitly, state initialised once, status in the sidebar.

Run: ``streamlit run app.py`` (add ``-- --demo`` to start with the built-in demo loaded).
"""

import sys

import streamlit as st

from faircard.ui import auth, components, state
from faircard.ui.loaders import load_demo_into_state

st.set_page_config(page_title="faircard", page_icon=":material/balance:", layout="wide")
state.init()
state.begin_run()

if "--demo" in sys.argv[1:] and not state.get(state.DEMO_AUTOLOADED):
    state.put(state.DEMO_AUTOLOADED, True)
    load_demo_into_state()

# A share link (?record=ID) opens the read-only view of that record first.
shared = "record" in st.query_params
pages = [
    st.Page(components.PAGE_DATA, title="Data & model", icon=":material/upload_file:",
            default=not shared),
    st.Page(components.PAGE_SENSITIVE, title="Sensitive features", icon=":material/groups:"),
    st.Page(components.PAGE_DISPARITIES, title="Disparities", icon=":material/bar_chart:"),
    st.Page(components.PAGE_DIAGNOSTICS, title="Diagnostics", icon=":material/troubleshoot:"),
    st.Page(components.PAGE_THRESHOLDS, title="Thresholds", icon=":material/tune:"),
    st.Page(components.PAGE_CARD, title="Model card", icon=":material/description:"),
    st.Page(components.PAGE_GOVERNANCE, title="Governance", icon=":material/verified:"),
    st.Page(components.PAGE_RECORD, title="Shared record", icon=":material/share:",
            url_path="record", default=shared),
]
nav = st.navigation(pages)
auth.sidebar_identity()
components.open_sidebar_status()
nav.run()
components.draw_sidebar_status()
