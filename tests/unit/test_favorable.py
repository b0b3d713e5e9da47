"""Favourable or adverse decisions: the favourable rate, the disparate impact ratio, the
four-fifths rule, the best group, the findings and the words of every output follow one
setting. Checked against scikit-learn on group masks and, when present, ProPublica's COMPAS
figures."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.errors import FaircardError
from faircard.findings import findings
from faircard.formatting import fmt_pct
from faircard.policy import choose_policy
from faircard.render import render_html, render_markdown, render_pdf
from tests.conftest import make_dataset

COMPAS = Path("/work/shared/data/compas-scores-two-years.csv")


def _flagging_data(seed: int = 3, n: int = 4000) -> pd.DataFrame:
    """Risk flags that, like COMPAS, flag people of one group more often when they do not
    reoffend (higher false positive rate) and miss more of the other group's reoffenders."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["G1", "G2", "G3"], size=n, p=[0.5, 0.35, 0.15])
    y = (rng.random(n) < np.where(group == "G1", 0.5, 0.4)).astype(int)
    shift = np.select([group == "G1", group == "G2"], [0.18, -0.05], 0.0)
    score = np.clip(0.35 * y + rng.normal(0.3, 0.2, n) + shift, 0, 1)
    return pd.DataFrame({"reoffended": y, "risk": score, "race": group,
                         "sex": rng.choice(["F", "M"], size=n)})


def _rates_by_sklearn(df, group_col, y_col, pred):
    """{group: (selection rate, FPR, FNR)} from scikit-learn's confusion matrix per mask."""
    out = {}
    for g in sorted(df[group_col].dropna().unique()):
        mask = (df[group_col] == g).to_numpy()
        tn, fp, fn, tp = confusion_matrix(df[y_col][mask], pred[mask], labels=[0, 1]).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[g] = ((tp + fp) / mask.sum(), np.float64(fp) / (fp + tn),
                      np.float64(fn) / (fn + tp))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_disparate_impact_ratio_uses_the_share_not_flagged(seed):
    df = make_dataset(seed, n=2000, n_features=2, tiny_group=True, no_positive_group=False)
    pred = (df["score"] >= 0.5).astype(int).to_numpy()
    for favorable in ("positive", "negative"):
        a = faircard.assess(df, target="y", score="score", threshold=0.5, sensitive=["sex"],
                            favorable_outcome=favorable, n_boot=0)
        doc = a.to_dict()
        assert doc["favorable_outcome"] == favorable
        oracle = _rates_by_sklearn(df, "sex", "y", pred)
        included = {}
        for entry in doc["by_group"]:
            sr = oracle[entry["group"]][0]
            expected = 1 - sr if favorable == "negative" else sr
            assert entry["favorable_rate"] == pytest.approx(expected, abs=1e-12)
            lo, hi = entry["favorable_rate_ci_low"], entry["favorable_rate_ci_high"]
            assert lo <= entry["favorable_rate"] <= hi
            if not entry["is_small_group"]:
                included[entry["group"]] = expected
        assert "tiny" not in included  # the small group is left out of the ratio
        crit = doc["criteria"]["sex"]
        di = min(included.values()) / max(included.values())
        assert crit["disparate_impact_ratio"] == pytest.approx(di, abs=1e-12)
        assert crit["passes_four_fifths"] == (di >= 0.8)
        if favorable == "positive":
            assert crit["disparate_impact_ratio"] == pytest.approx(
                crit["demographic_parity_ratio"], abs=1e-12)


def test_the_best_group_gets_the_most_favourable_decisions():
    df = _flagging_data()
    pred = (df["risk"] >= 0.5).astype(int).to_numpy()
    oracle = _rates_by_sklearn(df, "race", "reoffended", pred)
    most_flagged = max(oracle, key=lambda g: oracle[g][0])
    least_flagged = min(oracle, key=lambda g: oracle[g][0])
    for favorable, best, worst in (("negative", least_flagged, most_flagged),
                                   ("positive", most_flagged, least_flagged)):
        a = faircard.assess(df, target="reoffended", score="risk", sensitive="race",
                            favorable_outcome=favorable, n_boot=0)
        row = a.disparities[a.disparities["metric"] == "selection_rate"].iloc[0]
        assert (row["best_group"], row["worst_group"]) == (best, worst)


def test_adverse_findings_lead_with_the_false_positive_rate_gap():
    df = _flagging_data()
    pred = (df["risk"] >= 0.5).astype(int).to_numpy()
    oracle = _rates_by_sklearn(df, "race", "reoffended", pred)
    a = faircard.assess(df, target="reoffended", score="risk", sensitive=["race", "sex"],
                        favorable_outcome="negative", n_boot=0)
    text = findings(a)
    fpr = {g: v[1] for g, v in oracle.items()}
    hi, lo = max(fpr, key=fpr.get), min(fpr, key=fpr.get)
    assert text[0].startswith("race: the false positive rate is "
                              f"{fmt_pct(fpr[hi])} for '{hi}' vs {fmt_pct(fpr[lo])} for '{lo}'")
    assert "wrongly flagged" in text[0]
    fnr = {g: v[2] for g, v in oracle.items()}
    hi_n, lo_n = max(fnr, key=fnr.get), min(fnr, key=fnr.get)
    fnr_sentence = next(s for s in text if "false negative rate" in s)
    assert f"{fmt_pct(fnr[hi_n])} for '{hi_n}' vs {fmt_pct(fnr[lo_n])} for '{lo_n}'" \
        in fnr_sentence
    assert "wrongly not flagged" in fnr_sentence
    assert text.index(fnr_sentence) > 0
    assert not any("denied" in s or "approved" in s for s in text)
    # four-fifths on the share not flagged
    fav = {g: 1 - v[0] for g, v in oracle.items()}
    rule = next(s for s in text if "four-fifths" in s and s.startswith("race"))
    low, high = min(fav, key=fav.get), max(fav, key=fav.get)
    assert rule.startswith(f"race: the share of people not flagged is {fmt_pct(fav[low])} in "
                           f"'{low}' vs {fmt_pct(fav[high])} in '{high}' "
                           f"({fav[low] / fav[high]:.2f}x)")


def test_favourable_findings_lead_with_the_false_negative_rate_then_selection():
    df = _flagging_data()
    a = faircard.assess(df, target="reoffended", score="risk", sensitive="race", n_boot=0)
    text = findings(a)
    assert "false negative rate" in text[0] and "wrongly denied" in text[0]
    assert "the share of people approved is" in text[1] and "four-fifths" in text[1]
    assert not any("flagged" in s for s in text)


def test_policy_summary_follows_the_setting():
    df = _flagging_data()
    codes, groups = pd.factorize(df["race"], sort=True)
    kw = dict(feature="race", constraint="none")
    adverse = choose_policy(df["reoffended"], df["risk"], codes, list(groups),
                            favorable_outcome="negative", **kw)
    favourable = choose_policy(df["reoffended"], df["risk"], codes, list(groups), **kw)
    assert "wrongly flagged" in adverse.summary and "wrongly not flagged" in adverse.summary
    assert "denied" not in adverse.summary and "approved" not in adverse.summary
    assert "wrongly denied" in favourable.summary and "wrongly approved" in favourable.summary
    assert adverse.to_dict()["favorable_outcome"] == "negative"


def test_a_wrong_setting_is_refused_with_a_sentence():
    df = _flagging_data(n=300)
    with pytest.raises(FaircardError, match="'positive'.*'negative'"):
        faircard.assess(df, target="reoffended", score="risk", sensitive="race",
                        favorable_outcome="good")


def test_cli_favorable_negative_writes_the_setting_and_ratio(tmp_path, capsys):
    df = _flagging_data()
    path = tmp_path / "flags.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "a.json"
    code = main(["assess", str(path), "--target", "reoffended", "--score", "risk",
                 "--sensitive", "race", "--favorable", "negative", "--bootstrap", "0",
                 "--json", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["favorable_outcome"] == "negative"
    api = faircard.assess(df, target="reoffended", score="risk", sensitive="race",
                          favorable_outcome="negative", n_boot=0)
    assert doc["criteria"]["race"]["disparate_impact_ratio"] == pytest.approx(
        api.criteria["race"]["disparate_impact_ratio"], abs=1e-12)
    assert "adverse for the person" in stdout and "wrongly flagged" in stdout
    # thresholds speaks the same words
    code = main(["thresholds", str(path), "--target", "reoffended", "--score", "risk",
                 "--sensitive", "race", "--favorable", "negative"])
    assert code == 0 and "wrongly flagged" in capsys.readouterr().out
    assert main(["assess", str(path), "--target", "reoffended", "--score", "risk",
                 "--sensitive", "race", "--favorable", "maybe"]) == 2


def test_the_card_records_the_setting_in_every_format(tmp_path):
    df = _flagging_data()
    a = faircard.assess(df, target="reoffended", score="risk", sensitive="race",
                        favorable_outcome="negative", n_boot=0)
    card = build_card(a, generated_at="2026-01-01T00:00:00+00:00", versions={})
    d = card.to_dict()
    assert d["metrics"]["favorable_outcome"] == "negative"
    assert d["metrics"]["labels"]["selection_rate"] == "Selection rate (share flagged)"
    assert d["quantitative"]["findings"][0].startswith("race: the false positive rate")
    assert "disparate_impact_ratio" in d["quantitative"]["criteria"]["race"]
    md = render_markdown(card)
    html = render_html(card, charts={})
    for text in (md, html):
        assert "adverse for the person" in text
        assert "share flagged" in text and "wrongly flagged" in text
        assert "wrongly denied" not in text
    if shutil.which("pdftotext"):
        pdf = tmp_path / "card.pdf"
        pdf.write_bytes(render_pdf(card, html=html))
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "adverse for the person" in " ".join(text.split())


@pytest.mark.skipif(not COMPAS.exists(), reason="the COMPAS file is not in /work/shared/data")
def test_compas_as_an_adverse_decision_states_propublicas_error_rates():
    df = pd.read_csv(COMPAS)
    df = df[df["race"].isin(["African-American", "Caucasian"])]
    a = faircard.assess(df, target="two_year_recid", score="decile_score", threshold=5,
                        sensitive="race", favorable_outcome="negative", n_boot=0)
    wide = a.by_group_wide().set_index("group")
    # ProPublica: FPR Black 44.9% vs White 23.5%, FNR 28.0% vs 47.7%
    for group, fpr, fnr in (("African-American", 0.449, 0.280), ("Caucasian", 0.235, 0.477)):
        assert abs(wide.loc[group, "false_positive_rate"] - fpr) < 0.001
        assert abs(wide.loc[group, "false_negative_rate"] - fnr) < 0.001
    flagged = df["decile_score"] >= 5
    not_flagged = {g: (~flagged[df["race"] == g]).mean() for g in ("African-American",
                                                                 "Caucasian")}
    expected = min(not_flagged.values()) / max(not_flagged.values())
    assert a.criteria["race"]["disparate_impact_ratio"] == pytest.approx(expected, abs=1e-12)
    assert a.criteria["race"]["passes_four_fifths"] is False
    text = findings(a)
    assert text[0].startswith("race: the false positive rate is 44.8% for 'African-American' "
                              "vs 23.5% for 'Caucasian'")
    assert any("false negative rate is 47.7% for 'Caucasian' vs 28.0% for 'African-American'"
               in s for s in text)


def test_gate_checks_the_four_fifths_rule_on_favourable_decisions(tmp_path, capsys):
    df = _flagging_data()
    path = tmp_path / "flags.csv"
    df.to_csv(path, index=False)
    pred = (df["risk"] >= 0.5).astype(int).to_numpy()
    oracle = _rates_by_sklearn(df, "race", "reoffended", pred)
    not_flagged = {g: 1 - v[0] for g, v in oracle.items()}
    di = min(not_flagged.values()) / max(not_flagged.values())
    out = tmp_path / "gate.json"
    code = main(["gate", str(path), "--target", "reoffended", "--score", "risk",
                 "--sensitive", "race", "--favorable", "negative", "--bootstrap", "0",
                 "--min-dir", "0.8", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == (0 if di >= 0.8 else 1)
    [check] = json.loads(out.read_text())["results"][0]["checks"][:1]
    assert check["name"] == "disparate_impact_ratio"
    assert check["value"] == pytest.approx(di, abs=1e-12)
    assert "shares of people not flagged" in text
    low = min(not_flagged, key=not_flagged.get)
    assert f"'{low}' ({not_flagged[low]:.3f})" in text
