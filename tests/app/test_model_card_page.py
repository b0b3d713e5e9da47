"""Model card page: text fields, completeness, preview, import of a draft, exports."""

from __future__ import annotations

import json

from tests.app.conftest import new, no_exception, seed_state


def test_text_preview_import_and_exports():
    at = seed_state(new("app_pages/model_card.py"))
    at.run()
    no_exception(at)
    at.text_area(key="w_card_ethical_considerations_text").input("이 모델은 <b>대출</b> 심사용").run()
    no_exception(at)
    assert at.session_state["fc_card_text"]["ethical_considerations"]["text"].startswith("이 모델")
    preview = " ".join(m.value for m in at.markdown)
    assert "이 모델은 &lt;b&gt;대출&lt;/b&gt; 심사용" in preview  # HTML neutralised
    assert "### By sex" in preview
    md = at.get("download_button")
    assert md, "download buttons are shown"
    draft = {"model_details": {"name": "Imported model", "owners": "Team K"},
             "intended_use": {"primary_uses": "Screening"}}
    card_json = json.dumps({**draft, "factors": {}, "metrics": {}, "evaluation_data": {},
                            "training_data": {}, "quantitative": {}, "ethical_considerations": {},
                            "caveats": {}, "provenance": {}, "review": {}})
    at.file_uploader(key="upload_card").upload("draft.json", card_json.encode()).run()
    no_exception(at)
    assert at.session_state["fc_card_text"]["model_details"]["name"] == "Imported model"
    assert at.text_input(key="w_card_model_details_owners").value == "Team K"
    at.file_uploader(key="upload_card").upload("bad.json", b"{nope").run()
    assert any("not valid JSON" in e.value for e in at.error)
    at.file_uploader(key="upload_card").upload("odd.json", b'{"model_details": "x"}').run()
    no_exception(at)
    assert any("must be objects" in e.value for e in at.error)
    assert at.session_state["fc_card_text"]["model_details"]["name"] == "Imported model"
    at.button(key="prepare_card").click().run()
    no_exception(at)
    files = at.session_state["fc_card_files"]
    assert files["pdf"][:4] == b"%PDF" and "<html" in files["html"]


def test_the_groups_laid_out_as_a_table_are_a_setting_of_the_page():
    """A setting of 1 puts each feature's groups (2 or more) in the HTML card's appendix; the
    files prepared before a change of it are not offered as this card's."""
    at = seed_state(new("app_pages/model_card.py"), sensitive=("sex",))
    at.run()
    no_exception(at)
    assert at.number_input(key="w_card_table_groups").value == 100
    at.button(key="prepare_card").click().run()
    no_exception(at)
    assert "Appendix: every group of sex" not in at.session_state["fc_card_files"]["html"]
    at.number_input(key="w_card_table_groups").set_value(1).run()
    no_exception(at)
    assert at.session_state["fc_card_table_groups"] == 1
    assert any("prepare them again" in c.value for c in at.caption)
    at.button(key="prepare_card").click().run()
    no_exception(at)
    html = at.session_state["fc_card_files"]["html"]
    assert "Appendix: every group of sex" in html
