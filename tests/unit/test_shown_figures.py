"""Figures and sentences as shown to a reader (CLI text, findings, card in Markdown, HTML and
JSON) checked against the rows, computed here with plain fractions and scikit-learn."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.card import build_card
from faircard.findings import findings
from faircard.render import render_html, render_markdown


def _two_groups(n: int, selected: dict[str, int]) -> pd.DataFrame:
    rows = [(g, int(i < k), int(i % 2 == 0)) for g, k in selected.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["g", "pred", "y"])


@pytest.fixture(scope="module", params=["positive", "negative"])
def just_failing(request):
    """Favourable shares 0.3999 and 0.5 out of 10,000 each: a ratio of 0.7998, which fails."""
    fav = request.param
    n = 10_000
    selected = {"A": 5_000, "B": 3_999} if fav == "positive" else {"A": 5_000, "B": 6_001}
    df = _two_groups(n, selected)
    shares = {g: Fraction(k if fav == "positive" else n - k, n) for g, k in selected.items()}
    ratio = min(shares.values()) / max(shares.values())
    assert ratio < Fraction(4, 5)
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0,
                        favorable_outcome=fav)
    return a, float(ratio)


def _numbers_stated_as_failing(text: str) -> list[float]:
    pats = [r"\(([0-9.]+)x\); this fails the four-fifths rule",
            r"fail the four-fifths rule \(disparate impact ratio ([0-9.]+)\)",
            r"disparate impact ratio ([0-9.]+) \(four-fifths rule: FAILS\)",
            r"\| ([0-9.]+) \| fails \|",
            r'<td class="num">([0-9.]+)</td><td>fails</td>']
    return [float(x) for p in pats for x in re.findall(p, text)]


def test_a_failing_four_fifths_ratio_is_never_written_as_0_8(just_failing):
    a, ratio = just_failing
    assert a.criteria["g"]["passes_four_fifths"] is False
    assert a.criteria["g"]["disparate_impact_ratio"] == pytest.approx(ratio, abs=1e-12)
    card = build_card(a)
    texts = {"findings": "\n".join(findings(a)), "markdown": render_markdown(card),
             "html": render_html(card)}
    for where, text in texts.items():
        shown = _numbers_stated_as_failing(text)
        assert shown, f"no failing four-fifths ratio found in the {where}"
        assert all(x < 0.8 for x in shown), (where, shown)


def test_the_cli_states_a_failing_ratio_below_0_8(just_failing):
    from faircard.commands.assess_cmd import summary_text

    a, _ = just_failing
    shown = _numbers_stated_as_failing(summary_text(a))
    assert shown and all(x < 0.8 for x in shown), shown


def test_the_shares_of_a_failing_finding_fail_the_rule_as_written(just_failing):
    a, _ = just_failing
    [sentence] = [s for s in findings(a) if "four-fifths" in s]
    low, high = (float(x) for x in re.findall(r"([0-9.]+)% in '", sentence))
    assert "fails" in sentence and low < 0.8 * high, sentence


def _na_cells_of_group_tables(markdown: str) -> int:
    body = markdown.split("## Quantitative analyses", 1)[1].split("### Findings", 1)[0]
    table_rows = [line for line in body.splitlines() if line.startswith("| ")
                  and not line.startswith(("| Group", "| Metric", "| ---"))]
    overall = body.split("### By ", 1)[0]
    return sum(line.count("n/a") for line in table_rows if line not in overall)


@pytest.mark.parametrize("scores_outside, metrics", [(False, None), (True, None),
                                                     (True, ["selection_rate", "precision"])])
def test_the_caveat_on_undefined_values_counts_the_n_a_cells_the_card_shows(scores_outside,
                                                                            metrics):
    """Scores on a 1..10 scale have no Brier score, and a group nobody is selected in has no
    precision: neither is a cell of the card's default tables."""
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame({"g": rng.choice(["A", "B", "C"], n), "y": rng.integers(0, 2, n),
                       "s": rng.integers(1, 11, n) if scores_outside else rng.random(n)})
    df.loc[df["g"] == "C", "s"] = 0  # nobody in C is selected: precision is 0/0 there
    a = faircard.assess(df, target="y", score="s", threshold=5 if scores_outside else 0.5,
                        sensitive="g", n_boot=0)
    md = render_markdown(build_card(a, metrics=metrics))
    shown = _na_cells_of_group_tables(md)
    stated = re.findall(r"(\d+) per-group values? (?:are|is) undefined", md)
    assert [int(x) for x in stated] == ([shown] if shown else []), (stated, shown)
    assert bool(shown) == bool(metrics)


@pytest.mark.parametrize("selected_b", [1_000, 1_003, 1_060])
def test_the_interval_of_a_gap_between_two_groups_agrees_with_statsmodels(selected_b):
    """Selection rates 1000/2000 against ``selected_b``/2000: the gap's interval (shown as
    "gap [low-high]") holds the gap itself and matches the Wald interval of a difference of
    two independent proportions; a gap of about 0 has an interval that reaches below 0."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    df = _two_groups(2_000, {"A": 1_000, "B": selected_b})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=4_000,
                        random_state=0)
    d = a.disparities.set_index("metric").loc["selection_rate"]
    assert d["difference"] == pytest.approx(abs(selected_b - 1_000) / 2_000, abs=1e-12)
    assert d["difference_ci_low"] <= d["difference"] <= d["difference_ci_high"]
    lo, hi = confint_proportions_2indep(max(selected_b, 1_000), 2_000,
                                        min(selected_b, 1_000), 2_000, method="wald")
    assert d["difference_ci_low"] == pytest.approx(lo, abs=0.005)
    assert d["difference_ci_high"] == pytest.approx(hi, abs=0.005)
    assert d["ratio_ci_low"] <= d["ratio"] <= d["ratio_ci_high"]


@pytest.fixture(scope="module")
def everybody_or_nobody():
    """Two groups with different base rates, scored so that one threshold selects everybody
    and another nobody."""
    rng = np.random.default_rng(11)
    n = 600
    g = rng.choice(["a", "b"], n)
    y = (rng.random(n) < np.where(g == "a", 0.6, 0.4)).astype(int)
    return pd.DataFrame({"g": g, "y": y, "s": rng.random(n)})


@pytest.mark.parametrize("threshold", [-1.0, 2.0])
@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_a_rule_that_tells_nobody_apart_is_not_described_as_fair(everybody_or_nobody, threshold,
                                                                 favorable):
    from sklearn.metrics import accuracy_score

    df = everybody_or_nobody
    a = faircard.assess(df, target="y", score="s", threshold=threshold, sensitive="g",
                        n_boot=0, favorable_outcome=favorable)
    stated = findings(a)
    assert "tells nobody apart" in stated[0]
    assert not any("passes the four-fifths rule" in s for s in stated), stated
    # the groups' accuracies differ (each is its base rate or its complement): a sentence
    # claiming that every gap between groups is zero would be false
    pred = (df["s"] >= threshold).astype(int)
    acc = {g: accuracy_score(df["y"][df["g"] == g], pred[df["g"] == g]) for g in ("a", "b")}
    assert abs(acc["a"] - acc["b"]) > 0.05
    assert "Every gap between groups is then zero" not in stated[0]
    assert "selection and error rates" in stated[0]


def test_two_groups_with_the_same_share_are_not_compared_with_themselves():
    df = _two_groups(1_000, {"A": 400, "B": 400})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g", n_boot=0)
    [sentence] = [s for s in findings(a) if "four-fifths" in s]
    named = re.findall(r"% in '([^']+)'", sentence)
    assert len(set(named)) == len(named), sentence
    assert "40.0%" in sentence and "passes" in sentence


def test_the_gate_states_a_failing_value_on_the_failing_side_of_its_limit(just_failing):
    from faircard.governance.gate import GateRules, evaluate_gate

    a, ratio = just_failing
    doc = a.to_dict()
    gap = abs(doc["criteria"]["g"]["demographic_parity_difference"])
    limits = {"min_disparate_impact_ratio": 0.8,
              "max_demographic_parity_difference": round(gap, 3)}  # 0.1 for a gap of 0.1001
    assert gap > limits["max_demographic_parity_difference"] + 1e-6 and ratio < 0.8
    result = evaluate_gate(doc, GateRules(limits=limits))
    explained = {c.name: c.explanation for c in result.checks}
    di = explained["disparate_impact_ratio"]
    assert "outside the limit" in di
    assert float(re.search(r"is ([0-9.]+) times the highest", di).group(1)) < 0.8, di
    dp = explained["demographic_parity_difference"]
    assert "outside the limit" in dp
    shown = float(re.search(r"differ by ([0-9.]+)", dp).group(1))
    assert shown > limits["max_demographic_parity_difference"], dp


def test_a_ratio_to_a_reference_value_of_0_is_undefined_not_infinite():
    """The reference group approves nobody: every other group's ratio to its selection rate
    of 0 is undefined (NaN, JSON null), while ratios to a non-zero reference are value/ref
    from the rows; the shared table builder says why the ratio is missing."""
    from faircard.ui.tables import reference_table

    rng = np.random.default_rng(3)
    n = 400
    g = rng.choice(["A", "B", "C"], n)
    y = (rng.random(n) < 0.4).astype(int)
    pred = np.where(g == "A", 0, (rng.random(n) < 0.5).astype(int))
    df = pd.DataFrame({"g": g, "y": y, "pred": pred})
    a = faircard.assess(df, target="y", prediction="pred", sensitive="g",
                        reference={"g": "A"}, n_boot=0)
    bg = a.by_group.set_index(["metric", "group"])
    for group in ("B", "C"):
        assert pred[g == group].mean() > 0
        assert np.isnan(bg.loc[("selection_rate", group), "ratio_to_reference"])
        assert bg.loc[("selection_rate", group), "difference_to_reference"] == \
            pytest.approx(pred[g == group].mean())
        # a reference value above 0 still gives value / reference (accuracy of group A)
        acc = {h: (pred[g == h] == y[g == h]).mean() for h in ("A", group)}
        assert bg.loc[("accuracy", group), "ratio_to_reference"] == \
            pytest.approx(acc[group] / acc["A"], rel=1e-12)
    assert np.isfinite(a.by_group["ratio_to_reference"].fillna(0)).all()
    table = reference_table(a, "g", ["selection_rate", "accuracy"])
    shown = table.loc["B", table.columns[0]]
    assert shown == (f"+{pred[g == 'B'].mean():.3f} (ratio n/a: the reference's value is 0)")
    assert "inf" not in " ".join(table.to_numpy().ravel())
