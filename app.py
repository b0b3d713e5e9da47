"""faircard web app entry point (the pages arrive with the app issue)."""

import streamlit as st

st.set_page_config(page_title="faircard", layout="wide")
st.title("faircard")
st.write("The app is being built; use the `faircard` command meanwhile.")
