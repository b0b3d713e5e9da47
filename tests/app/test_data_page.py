"""Data & model page: uploads, bad files, column roles, models, personal data."""

from __future__ import annotations

import io
import os
import pickle

import joblib
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from tests.app.conftest import new, no_exception, small_frame


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
    at.file_uploader(key="upload_data").upload("junk.csv", bytes(range(256)) * 4).run()
    no_exception(at)
    assert any("binary" in e.value for e in at.error)
    assert at.session_state["fc_data_name"] == "small.csv"


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
    assert [m.name for m in at.session_state["fc_models"]] == ["lr"]
    assert "score: lr" in at.session_state["fc_data"].columns

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
    assert [m.name for m in at.session_state["fc_models"]] == ["lr"]
    assert pickle.dumps(1)  # the test process is unaffected


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
