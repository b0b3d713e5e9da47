"""faircard record --mlflow: the assessment JSON, the model card and the fingerprint in an MLflow
run, read back from a local file store."""

from __future__ import annotations

import json
import re

import pytest
from fairlearn.metrics import demographic_parity_difference

from faircard.cli import main
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset

mlflow = pytest.importorskip("mlflow", reason="MLflow is optional (faircard[mlflow])")


def test_record_logs_the_assessment_card_and_fingerprint(tmp_path, monkeypatch, capsys):
    df = make_dataset(4, n=500, n_features=1, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    data = tmp_path / "loans.csv"
    df.to_csv(data, index=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 prefers a database
    store = str(tmp_path / "audit.db")
    code = main(["record", str(data), "--target", "y", "--prediction", "pred", "--sensitive",
                 "sex", "--author", "alice", "--store", store, "--bootstrap", "0", "--mlflow"])
    out = capsys.readouterr().out
    assert code == 0, out
    run_id = re.search(r"^mlflow run ([0-9a-f]+)$", out, re.M).group(1)
    fp = re.search(r"^fingerprint ([0-9a-f]{64})$", out, re.M).group(1)
    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    assert run.data.tags["faircard.fingerprint"] == fp
    assert run.data.tags["faircard.record_id"] == "1"
    want = demographic_parity_difference(df["y"], df["pred"], sensitive_features=df["sex"])
    assert run.data.metrics["criteria.sex.demographic_parity_difference"] == \
        pytest.approx(want, abs=1e-12)
    assert run.data.metrics["overall.accuracy"] == pytest.approx((df["y"] == df["pred"]).mean())
    folder = client.download_artifacts(run_id, "faircard", str(tmp_path / "got"))
    logged = json.loads((tmp_path / "got" / "faircard" / "assessment.json").read_text())
    with AuditStore(store) as s:
        assert logged == s.assessment(1)
    card = (tmp_path / "got" / "faircard" / "model_card.md").read_text()
    assert folder and "sex" in card and f"{want:.3f}" in card


def test_a_per_group_policy_is_logged_as_such_not_as_a_threshold_of_none(tmp_path,
                                                                         monkeypatch, capsys):
    """The run's 'decision' parameter read "score >= None" for a record made under one
    threshold per group; it names the policy's feature, and a single threshold is written to
    three decimals."""
    from faircard.decision import DecisionPolicy

    df = make_dataset(4, n=500, n_features=1, with_missing=False, tiny_group=False,
                      no_positive_group=False)
    data = tmp_path / "loans.csv"
    df.to_csv(data, index=False)
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(DecisionPolicy.per_group(
        "sex", {"female": 0.45, "male": 0.6, "non-binary": 0.5}).to_dict()))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = str(tmp_path / "audit.db")
    said = {}
    for name, rule in (("per group", ["--policy", str(policy)]),
                       ("single", ["--threshold", "0.55"])):
        code = main(["record", str(data), "--target", "y", "--score", "score", "--sensitive",
                     "sex", *rule, "--author", "alice", "--store", store, "--bootstrap", "0",
                     "--mlflow"])
        out = capsys.readouterr().out
        assert code == 0, out
        run_id = re.search(r"^mlflow run ([0-9a-f]+)$", out, re.M).group(1)
        said[name] = mlflow.MlflowClient().get_run(run_id).data.params["decision"]
    assert said == {"per group": "score, thresholds per group of sex (see "
                                 "faircard/assessment.json)",
                    "single": "score >= 0.550"}
