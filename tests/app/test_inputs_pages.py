"""Inputs that mislead, in the app: encodings, one-hot features, many groups, personal data,
age bands and single-column files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from faircard.io import fingerprint
from faircard.ui import state
from tests.app.conftest import new, no_exception, small_frame, text_of
from tests.app.conftest import seed_state as _seed


def seed_state(at, df, sensitive=("sex", "race")):
    """Seeded state with a digest of its own: cached assessments of other tests' data (seeded
    with the same digest) are never reused for these modified tables."""
    at = _seed(at, df=df, sensitive=sensitive)
    at.session_state[state.DATA_DIGEST] = "inputs-" + fingerprint(df.to_csv().encode())
    return at


def _upload(raw: bytes, name: str = "w.csv"):
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload(name, raw, "text/csv").run()
    no_exception(at)
    return at


def _western(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"outcome": rng.integers(0, 2, n), "risk_score": rng.random(n).round(3),
                         "site": rng.choice(["Ärzteheim", "Café Süd"], n)})


def test_encoding_is_detected_shown_and_can_be_chosen():
    raw = _western().to_csv(index=False).encode("cp1252")
    at = _upload(raw)
    data = at.session_state[state.DATA]
    assert set(data["site"]) == {"Ärzteheim", "Café Süd"}
    assert any("Read as cp1252 (detected)" in c.value for c in at.caption)
    box = at.selectbox(key=state.encoding_widget(fingerprint(raw)))
    assert box.value == "detect"
    box.set_value("utf-8").run()  # wrong: said so, and the data stays as it was
    no_exception(at)
    assert any("not utf-8 text" in text_of(e) for e in at.error)
    assert set(at.session_state[state.DATA]["site"]) == {"Ärzteheim", "Café Süd"}
    at.selectbox(key=state.encoding_widget(fingerprint(raw))).set_value("cp1251").run()
    no_exception(at)
    assert at.session_state[state.DATA_DIGEST].endswith("@cp1251")
    assert "Дrzteheim" in set(at.session_state[state.DATA]["site"])
    assert any("Read as cp1251 (chosen)" in c.value for c in at.caption)
    at.selectbox(key=state.encoding_widget(fingerprint(raw))).set_value("detect").run()
    assert set(at.session_state[state.DATA]["site"]) == {"Ärzteheim", "Café Süd"}


def test_single_column_file_warns():
    at = _upload(b"outcome score sex\n1 0.5 F\n0 0.2 M\n")
    assert any("single column" in w.value for w in at.warning)


def _one_hot_frame() -> pd.DataFrame:
    df = small_frame()
    dummies = pd.get_dummies(df["race"], prefix="race", dtype=int)
    return pd.concat([df.drop(columns=["race"]), dummies], axis=1)


def test_one_hot_columns_are_offered_as_one_feature():
    df = _one_hot_frame()
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=())
    at.run()
    no_exception(at)
    options = at.multiselect(key="w_sensitive").options
    assert "race" in options and not any(o.startswith("race_") for o in options)
    assert "race" in at.session_state[state.SENSITIVE]  # suggested
    at.multiselect(key="w_sensitive").set_value(["race"]).run()
    no_exception(at)
    table = at.dataframe[0].value
    expected = small_frame()["race"].value_counts()
    assert dict(zip(table["group"], table["people"], strict=True)) == expected.to_dict()


def test_many_groups_need_a_confirmation():
    df = small_frame()
    df["postcode"] = [f"P{i % 80:02d}" for i in range(len(df))]
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=("postcode",))
    at.run()
    no_exception(at)
    assert any("80 groups" in w.value for w in at.warning)
    assert not at.dataframe  # stopped until confirmed
    at.checkbox(key="w_many_postcode").check().run()
    no_exception(at)
    assert len(at.dataframe[0].value) == 80
    assert at.session_state[state.MANY_GROUPS_OK] == {"postcode": 80}


def test_personal_data_is_not_offered_as_a_role():
    df = small_frame()
    df.insert(0, "full_name", [f"Person {i}" for i in range(len(df))])
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload("p.csv", df.to_csv(index=False).encode(),
                                               "text/csv").run()
    no_exception(at)
    assert "full_name" not in at.selectbox(key="w_target").options
    sens = seed_state(new("app_pages/sensitive.py"), df=df)
    sens.session_state[state.PII] = at.session_state[state.PII]
    sens.run()
    no_exception(sens)
    assert "full_name" not in sens.multiselect(key="w_sensitive").options
    assert "sex" in sens.multiselect(key="w_sensitive").options


def test_age_bands_start_at_the_youngest():
    df = small_frame()
    df.loc[:5, "age"] = 17
    at = seed_state(new("app_pages/sensitive.py"), df=df, sensitive=("age",))
    at.run()
    no_exception(at)
    groups = list(at.dataframe[0].value["group"])
    assert groups[0] == "17-24" and "(missing)" not in groups
