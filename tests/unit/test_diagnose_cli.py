"""``faircard diagnose`` end to end on a generated dataset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main


@pytest.fixture
def planted_csv(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    race = rng.choice(["A", "B"], n, p=[0.7, 0.3])
    zone = np.where(rng.random(n) < 0.8, race, rng.choice(["A", "B"], n))
    score = rng.random(n)
    y = (rng.random(n) < score).astype(int)
    frame = pd.DataFrame({"y": y, "score": score, "race": race, "zone": [f"z{v}" for v in zone],
                          "full_name": [f"Person {i}" for i in range(n)],
                          "other_model": (score > 0.3).astype(int)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_diagnose_writes_every_section(planted_csv, tmp_path, capsys):
    out = tmp_path / "d.json"
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"measurement": {"status": "concern", "note": "zone"}}))
    code = main(
                ["diagnose", str(planted_csv), "--target", "y", "--score", "score",
                 "--sensitive", "race", "--exclude", "other_model",
                 "--reference-share", "race=A:0.5,B:0.5", "--checklist", str(answers),
                 "--json", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    for key in ("representation", "proxies", "calibration", "importance", "drift",
                "subgroups", "checklist"):
        assert key in doc
    features = {p["feature"] for p in doc["proxies"]}
    assert "zone" in features
    assert "full_name" not in features and "other_model" not in features
    top = [p for p in doc["proxies"] if p["measure"] == "cv_auc"][0]
    assert top["feature"] == "zone" and top["sensitive_feature"] == "race"
    rep = {r["group"]: r for r in doc["representation"]}
    assert rep["A"]["reference_share"] == 0.5
    assert rep["A"]["share"] == pytest.approx(
        (pd.read_csv(planted_csv)["race"] == "A").mean())
    measurement = next(i for i in doc["checklist"] if i["source"] == "measurement")
    assert measurement["status"] == "concern" and measurement["note"] == "zone"
    printed = capsys.readouterr().out
    assert "measurement bias" in printed and "full_name" in printed  # named as left out


@pytest.mark.parametrize("args, message", [
    (["--reference-share", "race=A:1.5"], "between 0 and 1"),
    (["--reference-share", "race"], "must look like"),
    (["--sensitive", "full_name"], "personal data"),
])
def test_diagnose_input_errors_end_in_one_line(planted_csv, capsys, args, message):
    base = ["diagnose", str(planted_csv), "--target", "y", "--score", "score"]
    if "--sensitive" not in args:
        base += ["--sensitive", "race"]
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
