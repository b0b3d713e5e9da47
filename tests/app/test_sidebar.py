"""The sidebar status shows what this run chose, not what the previous run had."""

from __future__ import annotations

from tests.app.conftest import new, no_exception


def _sidebar(at) -> str:
    return " ".join(m.value for m in at.sidebar.markdown) + " " + \
        " ".join(c.value for c in at.sidebar.caption)


def test_sidebar_follows_the_page_in_the_same_run(csv_bytes):
    at = new("app.py")
    at.run()
    no_exception(at)
    assert "No dataset yet" in _sidebar(at)
    at.file_uploader(key="upload_data").upload("small.csv", csv_bytes, "text/csv").run()
    no_exception(at)
    shown = _sidebar(at)
    assert "small\\.csv" in shown and "1,200 rows" in shown, shown
    assert "**Outcome:** outcome" in shown and "favourable" in shown
    assert [p.proto.label for p in at.sidebar.get("page_link")] == ["Choose sensitive features"]

    at.selectbox(key="w_target").set_value("decision").run()
    no_exception(at)
    assert "**Outcome:** decision" in _sidebar(at)
    at.radio(key="w_favorable").set_value("negative").run()
    assert "adverse" in _sidebar(at)
    at.number_input(key="w_threshold").set_value(0.7).run()
    assert "0\\.700 is a positive decision" in _sidebar(at)


def test_sidebar_is_drawn_when_a_page_stops_early():
    at = new("app.py")
    at.switch_page("app_pages/disparities.py").run()
    no_exception(at)
    assert any("sensitive features first" in i.value for i in at.info)
    assert "No dataset yet" in _sidebar(at)
    assert [p.proto.label for p in at.sidebar.get("page_link")] == ["Load data and decisions"]
