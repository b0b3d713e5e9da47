"""`faircard thresholds`: JSON policy, agreement with assess, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main


@pytest.fixture
def data_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    g = rng.choice(["a", "b"], n)
    y = rng.random(n) < np.where(g == "a", 0.3, 0.5)
    s = np.clip(0.35 * y + rng.normal(0.35, 0.2, n), 0, 1).round(3)
    path = tmp_path / "d.csv"
    pd.DataFrame({"y": y.astype(int), "s": s, "g": g}).to_csv(path, index=False)
    return path


def test_policy_json(data_csv, tmp_path, capsys):
    out = tmp_path / "p.json"
    code = main(["thresholds", str(data_csv), "--target", "y", "--score", "s", "--sensitive",
                 "g", "--constraint", "demographic_parity", "--tolerance", "0.02", "--json",
                 str(out)])
    assert code == 0
    assert "Per 1,000 people" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    pol = doc["policy"]
    assert set(pol["thresholds"]) == {"a", "b"}
    assert pol["constraint"] == "demographic_parity" and pol["feasible"] is True
    rates = [r["selection_rate"] for r in doc["by_group"]]
    assert abs(rates[0] - rates[1]) <= 0.02 + 1e-12
    assert pol["disparity"] == pytest.approx(abs(rates[0] - rates[1]), abs=1e-12)


def test_single_threshold_policy_agrees_with_assess(data_csv, tmp_path, capsys):
    out = tmp_path / "p.json"
    main(["thresholds", str(data_csv), "--target", "y", "--score", "s", "--sensitive", "g",
          "--json", str(out)])
    pol = json.loads(out.read_text())
    ts = list(pol["policy"]["thresholds"].values())
    # with no constraint each group gets its own best threshold; apply the policy of group a
    # to everyone through assess and compare group a
    out2 = tmp_path / "a.json"
    main(["assess", str(data_csv), "--target", "y", "--score", "s", "--sensitive", "g",
          "--threshold", str(ts[0]), "--bootstrap", "0", "--json", str(out2), "--quiet"])
    a = {r["group"]: r for r in json.loads(out2.read_text())["by_group"]}
    row = pol["by_group"][0]
    for m in ("selection_rate", "accuracy", "true_positive_rate"):
        assert a[row["group"]][m] == pytest.approx(row[m], abs=1e-12)


@pytest.mark.parametrize("extra,words", [
    (["--constraint", "fairness"], "invalid choice"),
    (["--tolerance", "-1"], "tolerance"),
    (["--fp-cost", "-2"], "negative"),
])
def test_bad_options(data_csv, capsys, extra, words):
    code = main(["thresholds", str(data_csv), "--target", "y", "--score", "s", "--sensitive", "g",
                 *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and words in err


def _coarse_csv(tmp_path):
    a = np.repeat(np.arange(1, 11), 100)
    b = np.repeat(np.arange(1, 11), [50, 100, 100, 100, 100, 100, 100, 100, 100, 150])
    s = np.concatenate([a, b])
    y = (np.arange(len(s)) % 10) < (s - 1) * 0.9 + 1
    path = tmp_path / "coarse.csv"
    pd.DataFrame({"y": y.astype(int), "s": s, "g": ["a"] * len(a) + ["b"] * len(b)}).to_csv(
        path, index=False)
    return path


def test_degenerate_policy_json_refused_unless_asked(tmp_path, capsys):
    data = _coarse_csv(tmp_path)
    out = tmp_path / "p.json"
    args = ["thresholds", str(data), "--target", "y", "--score", "s", "--sensitive", "g",
            "--constraint", "demographic_parity", "--json", str(out)]
    assert main(args) == 0
    text = out.read_text()
    assert '"inf' not in text.lower()
    pol = json.loads(text)["policy"]
    assert pol["degenerate"] is False and pol["feasible"] is False
    assert set(pol["selection_rates"]) == {"a", "b"}
    assert "Not met" in capsys.readouterr().out
    assert main(args + ["--allow-degenerate"]) == 0
    pol = json.loads(out.read_text())["policy"]
    assert pol["degenerate"] is True and set(pol["selection_rates"].values()) <= {0.0, 1.0}
    assert all(isinstance(t, float) and t > 10 or t <= 1 for t in pol["thresholds"].values())


def test_randomized_policy_json_is_read_back_by_assess(data_csv, tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["thresholds", str(data_csv), "--target", "y", "--score", "s", "--sensitive",
                 "g", "--constraint", "demographic_parity", "--tolerance", "0",
                 "--randomized", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    doc = json.loads(out.read_text())
    pol = doc["policy"]
    assert pol["randomized"] is True and pol["mix"]
    assert "Randomised" in printed and "probability" in printed
    a_out = tmp_path / "a.json"
    assert main(["assess", str(data_csv), "--target", "y", "--score", "s", "--sensitive", "g",
                 "--policy", str(out), "--bootstrap", "0", "--json", str(a_out),
                 "--quiet"]) == 0
    assessed = {r["group"]: r for r in json.loads(a_out.read_text())["by_group"]}
    for row in doc["by_group"]:
        # the same expected values whether computed by the search or by assess
        assert assessed[row["group"]]["selection_rate"] == pytest.approx(
            row["selection_rate"], abs=1e-12)
    rates = [r["selection_rate"] for r in assessed.values()]
    assert max(rates) - min(rates) <= 1e-6
