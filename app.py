"""faircard web app: pages declared explicitly, state initialised once, status in the sidebar.

Run: ``streamlit run app.py`` (add ``-- --demo`` to start with the built-in demo loaded).
"""

import sys

import streamlit as st

from faircard.ui import auth, components, state
from faircard.ui.loaders import load_demo_into_state

st.set_page_config(page_title="faircard", page_icon=":material/balance:", layout="wide")
components.freeze_libraries()
state.init()
state.begin_run()

if "--demo" in sys.argv[1:] and not state.get(state.DEMO_AUTOLOADED):
    state.put(state.DEMO_AUTOLOADED, True)
    load_demo_into_state()

# A share link (?record=ID) opens the read-only view of that record first.
shared = "record" in st.query_params
steps = [
    (components.PAGE_DATA, {"title": "Data & model", "icon": ":material/upload_file:",
                            "default": not shared}),
    (components.PAGE_SENSITIVE, {"title": "Sensitive features", "icon": ":material/groups:"}),
    (components.PAGE_DISPARITIES, {"title": "Disparities", "icon": ":material/bar_chart:"}),
    (components.PAGE_DIAGNOSTICS, {"title": "Diagnostics", "icon": ":material/troubleshoot:"}),
    (components.PAGE_THRESHOLDS, {"title": "Thresholds", "icon": ":material/tune:"}),
    (components.PAGE_CARD, {"title": "Model card", "icon": ":material/description:"}),
    (components.PAGE_GOVERNANCE, {"title": "Governance", "icon": ":material/verified:"}),
    (components.PAGE_RECORD, {"title": "Shared record", "icon": ":material/share:",
                              "url_path": "record", "default": shared}),
]
pages = [st.Page(path, **options) for path, options in steps]
nav = st.navigation(pages)
state.put(state.CURRENT_PAGE, next(path for (path, _), page in zip(steps, pages, strict=True)
                                   if page.url_path == nav.url_path))
auth.return_after_login()  # Streamlit's sign-in comes back to the start page
auth.sidebar_identity()
components.open_sidebar_status()
nav.run()
components.draw_sidebar_status()
