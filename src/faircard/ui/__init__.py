"""The Streamlit side of faircard: session state, caching and shared widgets.

Only this package and ``pages/`` import streamlit.
"""
