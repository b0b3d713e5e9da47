"""Every page runs alone (with and without inputs) and in flow from app.py."""

from __future__ import annotations

import pytest

from tests.app.conftest import PAGES, new, no_exception, seed_state


@pytest.mark.parametrize("page", PAGES)
def test_page_alone_without_inputs_explains_what_is_missing(page):
    at = new(page)
    at.run()
    no_exception(at)
    assert at.info, "a page without its inputs says what to do"


@pytest.mark.parametrize("page", PAGES)
def test_page_alone_with_inputs(page):
    at = seed_state(new(page))
    at.run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def test_flow_from_app_with_demo():
    at = new("app.py")
    at.run()
    no_exception(at)
    assert [p.proto.label for p in at.sidebar.get("page_link")] == ["Load data and decisions"]
    at.button(key="load_demo").click().run()
    no_exception(at)
    assert at.session_state["fc_is_demo"]
    # the demo fills data, model and features: the next step is the decision policy
    assert [p.proto.label for p in at.sidebar.get("page_link")] == ["Choose the decision policy"]
    assert any("ready" in s.value for s in at.success)
    for page in PAGES[1:]:
        at.switch_page(page).run()
        no_exception(at)
        assert not at.error, (page, [e.value for e in at.error])
    at.switch_page("app_pages/disparities.py").run()
    assert at.dataframe[-1].value.shape[0] == 5
