"""The command line against the rows: a policy chosen by ``faircard thresholds`` is written so
that applying it as written gives its figures, and ``card`` and ``gate`` given that file show
the same figures and verdicts, each checked with scikit-learn on group masks (exit statuses
included)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from faircard.card import ModelCard
from faircard.cli import main
from tests.conftest import make_dataset
from tests.unit.test_rule_oracle import check_card, labels_of, sk_metrics, stated_probability

OPTS = ["--target", "y", "--score", "score", "--sensitive", "sex", "--bootstrap", "0"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_oracle")
    df = make_dataset(21, n=900, n_features=1, with_missing=False)
    df.to_csv(tmp / "d.csv", index=False)
    return tmp, df


@pytest.mark.parametrize("randomized", [False, True])
@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_thresholds_card_and_gate_agree_with_the_rows(data, tmp_path, capsys, randomized,
                                                       favorable):
    tmp, df = data
    pol = tmp_path / "policy.json"
    extra = ["--randomized"] if randomized else []
    assert main(["thresholds", str(tmp / "d.csv"), *OPTS, "--favorable", favorable,
                 "--constraint", "equal_opportunity", "--tolerance", "0.05", "--json",
                 str(pol), *extra]) == 0
    doc = json.loads(pol.read_text())
    written = doc["policy"]
    p = stated_probability(df, {"policy": written}, "score")
    y, s = df["y"].to_numpy(), df["score"].to_numpy()
    lab = labels_of(df, "sex").to_numpy()
    tpr = {}
    for row in doc["by_group"]:
        m = lab == row["group"]
        want = sk_metrics(y[m], p[m], s[m], True)
        for k in ("selection_rate", "accuracy", "true_positive_rate", "false_positive_rate"):
            got = np.nan if row[k] is None else row[k]
            assert got == pytest.approx(want[k], abs=1e-9, nan_ok=True), (row["group"], k)
        assert row["count"] == m.sum()
        if row["in_constraint"]:
            tpr[row["group"]] = want["true_positive_rate"]
    gap = max(tpr.values()) - min(tpr.values())
    assert written["disparity"] == pytest.approx(gap, abs=1e-9)
    assert written["objective_value"] == pytest.approx(sk_metrics(y, p, s, True)["accuracy"],
                                                       abs=1e-9)
    assert written["feasible"] == (gap <= 0.05 + 1e-9)

    out = tmp_path / "card"
    assert main(["card", str(tmp / "d.csv"), *OPTS, "--favorable", favorable, "--policy",
                 str(pol), "--out", str(out), "--formats", "json,md"]) == 0
    card = ModelCard.from_json((out / "model_card.json").read_text())
    check_card(card, df, y, "score")

    capsys.readouterr()
    limit = round(gap + 0.001, 4)  # just above the gap: passes; just below: fails
    for max_eopd, status in ((limit, 0), (round(gap - 0.001, 4), 1)):
        code = main(["gate", str(tmp / "d.csv"), *OPTS, "--favorable", favorable, "--policy",
                     str(pol), "--max-eopd", str(max_eopd), "--allow-trivial"])
        text = capsys.readouterr().out
        assert code == status, text
        line = re.search(r"(PASS|FAIL) \[sex\] equal_opportunity_difference = ([0-9.]+)", text)
        assert line.group(1) == ("PASS" if status == 0 else "FAIL")
        assert float(line.group(2)) == pytest.approx(gap, rel=1e-3)


def test_assess_states_the_rule_its_table_was_computed_under(data, tmp_path, capsys):
    """``faircard assess --policy`` prints the decision rule with its table: the thresholds
    read back from the printed text give the printed selection rates (scikit-learn on masks,
    to the table's three decimals)."""
    tmp, df = data
    groups = sorted(df["sex"].unique())
    pol = tmp_path / "policy.json"
    pol.write_text(json.dumps({"policy": {"feature": "sex", "thresholds": {
        g: round(0.35 + 0.05 * i, 2) for i, g in enumerate(groups)}}}))
    assert main(["assess", str(tmp / "d.csv"), *OPTS, "--policy", str(pol)]) == 0
    out = capsys.readouterr().out
    stated = re.search(r"Thresholds per group of sex: (.*?)\.\n", out)
    assert stated, out
    # a small group's threshold is followed by its mark, as its row is by " *"
    thresholds = dict(re.sub(r" \(fewer than \d+ people: not compared\)$", "", part
                             ).rsplit(" ", 1) for part in stated.group(1).split("; "))
    assert sorted(thresholds) == groups
    s = df["score"].to_numpy()
    for g, t in thresholds.items():
        m = (df["sex"] == g).to_numpy()
        rate = (s[m] >= float(t)).mean()
        row = re.search(rf"^sex\s+{re.escape(g)}(?: \*)?\s+\S+\s+(\d\.\d{{3}})", out, re.M)
        assert float(row.group(1)) == pytest.approx(rate, abs=5e-4 + 1e-12), g
