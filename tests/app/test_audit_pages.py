"""What the pages show, read through AppTest and checked against outside oracles: words the
page must not show, counts written with thousands separators, and agreement in number."""

from __future__ import annotations

from streamlit.testing.v1.element_tree import Title

from tests.app.conftest import new, no_exception, seed_state, small_frame


def test_thresholds_page_opens_with_its_title_and_shows_no_stray_text():
    """A bare string in a page script is shown by Streamlit's magic: the Thresholds page once
    opened with a code note ("The columns of the confusion matrices ...") above its title."""
    at = seed_state(new("app_pages/thresholds.py"), df=small_frame(n=300, seed=3),
                    sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-stray-text"
    at.run()
    no_exception(at)
    first = next(iter(at.main.children.values()))
    assert isinstance(first, Title) and first.value == "Thresholds", first
    assert not [m.value for m in at.markdown if "confusion matrices" in m.value]
