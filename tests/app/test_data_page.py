"""Data & model page: uploads, bad files, column roles, models, personal data."""

from __future__ import annotations

import io
import os
import pickle

import joblib
import numpy as np
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from tests.app.conftest import new, no_exception, small_frame, text_of


def _uploaded(csv: bytes, name="small.csv"):
    at = new("app_pages/data.py")
    at.run()
    at.file_uploader(key="upload_data").upload(name, csv, "text/csv").run()
    no_exception(at)
    return at


def test_csv_upload_guesses_roles(csv_bytes):
    at = _uploaded(csv_bytes)
    assert at.session_state["fc_data_name"] == "small.csv"
    assert at.session_state["fc_data"].shape == (1200, 6)
    assert at.session_state["fc_target"] == "outcome"
    assert at.session_state["fc_pos_label"] == 1
    assert at.session_state["fc_score_col"] == "risk_score"
    assert any("ready" in s.value for s in at.success)


def test_bad_file_shows_error_and_keeps_previous_data(csv_bytes):
    at = _uploaded(csv_bytes)
    assert at.file_uploader[0].value is None  # the file was taken: the uploader is empty
    at.file_uploader[0].upload("junk.csv", bytes(range(256)) * 4).run()
    no_exception(at)
    assert any("binary" in e.value for e in at.error)
    assert at.session_state["fc_data_name"] == "small.csv"


def test_an_upload_is_taken_once_and_another_dataset_replaces_it(csv_bytes):
    """The uploader is drawn empty once its file is read (Streamlit would copy the file on
    every run otherwise); the file stays the dataset until another one is loaded."""
    at = _uploaded(csv_bytes)
    assert at.file_uploader[0].value is None
    assert at.session_state["fc_upload"]["held"].read() == csv_bytes
    at.radio(key="w_decision").set_value("prediction").run()  # a later run reads nothing
    assert at.session_state["fc_data_name"] == "small.csv"
    at.button(key="load_demo").click().run()
    no_exception(at)
    assert at.session_state["fc_data_name"].startswith("demo")
    assert at.session_state["fc_upload"] is None
    at.run()
    assert at.session_state["fc_data_name"].startswith("demo")


def _take_and_count():
    """A page that takes the uploaded file as the Data page does and records what Streamlit
    still holds of it: (files in its upload manager before, after, the widget's state kept)."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from faircard.ui import state
    from faircard.ui.loaders import take_upload

    key = state.upload_widget()
    upload = st.file_uploader("Dataset", key=key)
    if upload is not None:
        ctx = get_script_run_ctx()

        def files() -> int:
            return len(ctx.uploaded_file_mgr.file_storage.get(ctx.session_id, {}))

        before = files()
        st.session_state["taken"] = take_upload(upload)
        st.session_state["held_by_streamlit"] = (before, files(), key in st.session_state)


def test_streamlit_lets_the_uploaded_bytes_go_once_they_are_taken(csv_bytes):
    """Streamlit kept an uploaded file's bytes (its upload manager and the widget's state) for
    the whole session, next to the table read from them; once taken they are held compressed
    by faircard alone."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_take_and_count)
    at.run()
    at.file_uploader[0].upload("small.csv", csv_bytes, "text/csv").run()
    no_exception(at)
    assert at.session_state["held_by_streamlit"] == (1, 0, False)
    held = at.session_state["taken"]["held"]
    assert held.read() == csv_bytes
    assert held.compressed_size < len(csv_bytes) / 2


def test_prediction_column_choice(csv_bytes):
    at = _uploaded(csv_bytes)
    at.radio(key="w_decision").set_value("prediction").run()
    no_exception(at)
    assert at.session_state["fc_pred_col"] == "decision"
    at.selectbox(key="w_pred").set_value("sex").run()
    assert at.session_state["fc_pred_col"] == "sex"


def test_personal_data_is_flagged_and_hidden():
    df = small_frame()
    df.insert(0, "full_name", [f"Person {i}" for i in range(len(df))])
    at = _uploaded(df.to_csv(index=False).encode())
    assert any("full_name" in w.value for w in at.warning)
    assert "full_name" not in at.dataframe[0].value.columns
    assert "full_name" not in at.selectbox(key="w_target").options


def test_model_upload_scores_data_and_refuses_malicious(tmp_path):
    df = small_frame()
    model = LogisticRegression().fit(df[["risk_score", "age"]], df["outcome"])
    at = _uploaded(df.to_csv(index=False).encode())
    at.radio(key="w_decision").set_value("model").run()
    at.file_uploader(key="upload_models").upload("lr.skops", sio.dumps(model)).run()
    no_exception(at)
    assert [m.name for m in at.session_state["fc_models"]] == ["lr.skops"]
    assert "score: lr.skops" in at.session_state["fc_data"].columns

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    buf = io.BytesIO()
    joblib.dump(Evil(), buf)
    at.file_uploader(key="upload_models").upload("evil.joblib", buf.getvalue()).run()
    no_exception(at)
    assert any("does not allow" in e.value for e in at.error)
    assert not marker.exists()
    assert [m.name for m in at.session_state["fc_models"]] == ["lr.skops"]
    assert pickle.dumps(1)  # the test process is unaffected


def test_an_uploaded_pickle_is_opened_safely_even_when_the_server_allows_pickle(tmp_path,
                                                                                monkeypatch):
    """FAIRCARD_ALLOW_UNSAFE_PICKLE once made every upload go through ordinary unpickling
    (in the sandboxed child, but as the server's user): an upload is never trusted."""
    monkeypatch.setenv("FAIRCARD_ALLOW_UNSAFE_PICKLE", "1")
    df = small_frame()
    at = _uploaded(df.to_csv(index=False).encode())
    at.radio(key="w_decision").set_value("model").run()
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    at.file_uploader(key="upload_models").upload("evil.pkl", pickle.dumps(Evil())).run()
    no_exception(at)
    assert any("does not allow" in e.value for e in at.error)
    assert any("always opened safely" in i.value for i in at.info)
    assert not marker.exists()
    assert at.session_state["fc_models"] == []


def test_changing_the_target_keeps_a_sensible_positive_label():
    df = small_frame()
    df["other_outcome"] = 1 - df["outcome"]
    at = _uploaded(df.to_csv(index=False).encode())
    at.selectbox(key="w_target").set_value("other_outcome").run()
    no_exception(at)
    assert at.session_state["fc_target"] == "other_outcome"
    assert at.session_state["fc_pos_label"] == 1
    at.selectbox(key="w_pos_other_outcome").set_value(0).run()
    assert at.session_state["fc_pos_label"] == 0


def test_crashing_model_then_a_normal_assessment_in_the_same_session():
    """A model whose compiled code crashes is refused in one line; the same server then
    scores a good model and completes an assessment."""
    from sklearn.tree import DecisionTreeClassifier

    from tests.app.conftest import new as new_app
    from tests.security.model_payloads import _set_tree

    df = small_frame()
    feats = ["risk_score", "age"]
    crafted = DecisionTreeClassifier(max_depth=3, random_state=0).fit(df[feats], df["outcome"])
    crafted.tree_ = _set_tree(crafted.tree_, "feature", 50_000_000, n_features=50_000_001)
    del crafted.n_features_in_
    good = LogisticRegression().fit(df[feats], df["outcome"])

    at = new_app("app.py")
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.file_uploader(key="upload_data").upload("small.csv", df.to_csv(index=False).encode(),
                                               "text/csv").run()
    at.radio(key="w_decision").set_value("model").run()
    at.file_uploader(key="upload_models").upload("crafted.pkl", pickle.dumps(crafted)).run()
    no_exception(at)
    errors = [text_of(e) for e in at.error]
    assert any("crashed while predicting (signal 11, SIGSEGV)" in e for e in errors), errors
    assert at.session_state["fc_models"] == []

    at.file_uploader(key="upload_models").upload("good.skops", sio.dumps(good)).run()
    no_exception(at)
    assert [m.name for m in at.session_state["fc_models"]] == ["good.skops"]
    scores = at.session_state["fc_data"]["score: good.skops"].to_numpy()
    assert (scores == good.predict_proba(df[feats])[:, 1]).all()
    at.session_state["fc_sensitive"] = ["sex"]
    at.switch_page("app_pages/disparities.py").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.dataframe, "the assessment is shown"


def test_model_class_mapping_control(tmp_path):
    df = small_frame()
    df["outcome"] = np.where(df["outcome"] == 1, "yes", "no")
    feats = ["risk_score", "age"]
    model = LogisticRegression().fit(df[feats], df["outcome"] == "yes")  # classes False/True
    at = _uploaded(df.to_csv(index=False).encode())
    at.radio(key="w_decision").set_value("model").run()
    at.file_uploader(key="upload_models").upload("lr.skops", sio.dumps(model)).run()
    no_exception(at)
    assert any("counted as the positive outcome 'yes'" in i.value for i in at.info)
    col = at.session_state["fc_data"]["score: lr.skops"].to_numpy()
    assert np.allclose(col, model.predict_proba(df[feats])[:, 1])
    widget = [s for s in at.selectbox if str(s.key).startswith("w_model_class_")][0]
    widget.set_value(False).run()
    no_exception(at)
    col = at.session_state["fc_data"]["score: lr.skops"].to_numpy()
    assert np.allclose(col, model.predict_proba(df[feats])[:, 0])


def test_a_model_without_probabilities_is_judged_where_it_draws_its_line():
    """A linear SVM gives a decision function, which it cuts at 0 to predict; the app's default
    threshold of 0.5 would judge it by a rule it never uses (the command line cuts it at 0)."""
    from sklearn.svm import LinearSVC

    df = small_frame()
    features = ["risk_score", "age"]
    svc = LinearSVC().fit(df[features], df["outcome"])
    lr = LogisticRegression().fit(df[features], df["outcome"])
    at = _uploaded(df.to_csv(index=False).encode())
    at.radio(key="w_decision").set_value("model").run()
    at.file_uploader(key="upload_models").upload("svc.skops", sio.dumps(svc)).run()
    no_exception(at)
    policy = at.session_state["fc_policy"]
    assert policy.is_single and policy.threshold == 0
    decided = at.session_state["fc_data"]["score: svc.skops"].to_numpy() >= policy.threshold
    assert (decided == (svc.predict(df[features]) == 1)).all()  # scikit-learn's own decisions
    assert any("cuts at 0" in i.value and "threshold is 0" in i.value for i in at.info)

    # with a model that gives probabilities too, one threshold cannot suit both: it says so
    at.file_uploader(key="upload_models").upload("lr.skops", sio.dumps(lr)).run()
    no_exception(at)
    assert any("at most one scale" in i.value for i in at.info)


def test_a_threshold_the_user_chose_is_kept_when_a_decision_function_model_arrives():
    from sklearn.svm import LinearSVC

    df = small_frame()
    svc = LinearSVC().fit(df[["risk_score", "age"]], df["outcome"])
    at = _uploaded(df.to_csv(index=False).encode())
    at.radio(key="w_decision").set_value("model").run()
    at.number_input(key="w_threshold").set_value(0.7).run()
    at.file_uploader(key="upload_models").upload("svc.skops", sio.dumps(svc)).run()
    no_exception(at)
    assert at.session_state["fc_policy"].threshold == 0.7
    assert any("read on that scale" in i.value for i in at.info)


def _uploaded_with_outcome(values) -> object:
    df = small_frame(n=300, seed=8)
    df["outcome"] = np.where(df["outcome"] == 1, values[1], values[0])
    at = new("app.py")
    at.run()
    at.file_uploader(key="upload_data").upload("o.csv", df.to_csv(index=False).encode(),
                                               "text/csv").run()
    no_exception(at)
    return at, df


def test_a_positive_outcome_faircard_could_not_tell_is_said_to_be_a_default():
    """Outcomes 'a'/'b': the page took the first value found as the
    positive outcome and said 'Data and decisions are ready' with no word that every figure
    rested on that guess; it now says which value counts as positive and asks to check it,
    for whatever the user then chooses."""
    at, df = _uploaded_with_outcome(("a", "b"))
    first = str(df["outcome"].iloc[0])
    assert at.selectbox(key="w_pos_outcome").value == first
    said = [text_of(w) for w in at.warning]
    assert f"faircard cannot tell which value of 'outcome' is the positive outcome, so every " \
           f"figure counts '{first}' as the positive one: check 'Positive outcome'." in said, said
    other = next(v for v in ("a", "b") if v != first)
    at.selectbox(key="w_pos_outcome").set_value(other).run()
    no_exception(at)
    assert at.session_state["fc_pos_label"] == other
    assert any(f"counts '{other}' as the positive one" in text_of(w) for w in at.warning)


def test_outcomes_minus_one_and_one_count_one_as_positive():
    """-1/1 (scikit-learn's usual encoding, where 1 is the positive class): the page took
    the first value found (-1 here) as positive without a word, so every rate was computed
    on the wrong outcome; 1 is now detected, as 0/1 is, and nothing warns."""
    at, df = _uploaded_with_outcome((-1, 1))
    assert df["outcome"].iloc[0] == -1
    assert at.selectbox(key="w_pos_outcome").value == 1
    assert at.session_state["fc_pos_label"] == 1
    assert not [w for w in at.warning if "positive outcome" in text_of(w)]
