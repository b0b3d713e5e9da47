"""The favourable/adverse setting in the app: one control on Data & model, one session key,
and the Disparities page, the thresholds summary and the card follow it."""

from __future__ import annotations

from tests.app.conftest import new, no_exception, seed_state, small_frame


def test_data_page_asks_once_and_keeps_the_answer(csv_bytes):
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("small.csv", csv_bytes, "text/csv").run()
    no_exception(at)
    control = at.radio(key="w_favorable")
    assert control.label == "For the person, a positive prediction is"
    assert control.value == "positive" and at.session_state["fc_favorable"] == "positive"
    control.set_value("negative").run()
    no_exception(at)
    assert at.session_state["fc_favorable"] == "negative"
    at.run()  # leaving and coming back keeps the answer
    assert at.radio(key="w_favorable").value == "negative"


def test_disparities_page_speaks_of_flags_for_an_adverse_decision():
    at = seed_state(new("app_pages/disparities.py"), sensitive=("sex",))
    at.session_state["fc_favorable"] = "negative"
    at.run()
    no_exception(at)
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "wrongly flagged" in text or "not flagged" in text
    assert "approved" not in " ".join(m.value for m in at.markdown)
    di = next(m for m in at.metric if m.label == "Disparate impact ratio")
    df = small_frame()
    flagged = (df["risk_score"] >= 0.5)
    share = {g: 1 - flagged[df["sex"] == g].mean() for g in ("Female", "Male")}
    assert di.value == f"{min(share.values()) / max(share.values()):.3f}"
    table = at.dataframe[1].value
    assert "Selection rate (share flagged)" in table.columns


def test_model_card_states_the_setting():
    at = seed_state(new("app_pages/model_card.py"), sensitive=("sex",))
    at.session_state["fc_favorable"] = "negative"
    at.run()
    no_exception(at)
    preview = " ".join(m.value for m in at.markdown)
    assert "adverse for the person" in preview


def test_disparity_table_headers_are_short_and_tiny_p_values_readable():
    df = small_frame(n=6000, seed=1)
    at = seed_state(new("app_pages/disparities.py"), df=df, sensitive=("sex",))
    at.run()
    no_exception(at)
    [table] = [d.value for d in at.dataframe if "adjusted p" in d.value.columns]
    # short headers (their meaning is in the column help) so that no column is clipped
    assert list(table.columns) == ["metric", "gap (max - min)", "ratio (min / max)",
                                   "worst group", "best group", "gap to overall", "adjusted p",
                                   "beyond chance"]
    assert "< 0.0001" in set(table["adjusted p"])  # selection rates differ by sex here
    assert not (table["adjusted p"] == "0.0000").any()
    assert {m.label for m in at.metric} >= {"Parity difference", "Parity ratio",
                                            "Disparate impact ratio", "Four-fifths rule"}
