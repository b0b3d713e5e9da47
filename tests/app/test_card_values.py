"""The Model card page's preview, as values: it states the decision policy in force and every
figure in its tables equals faircard.assess under that policy (within display rounding), and
the per-group figures equal scikit-learn on the group masks of the stated thresholds; after
moving the Thresholds slider, after "Use this policy", and for an adverse decision."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix

import faircard
from faircard.favorable import favorable_rate, wording
from faircard.formatting import fmt_threshold
from faircard.metrics import DEFAULT_METRICS
from tests.app.conftest import new, no_exception, seed_state, small_frame
from tests.app.test_page_values import _close
from tests.app.test_policy_flow import _carry

NUM = r"(-?\d+\.\d+|n/a)"


def _table(preview: str, heading: str) -> list[dict[str, str]]:
    """The rows of the Markdown table under ``heading`` (e.g. "### By sex")."""
    block = preview.split(heading + "\n", 1)[1].split("\n#", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in block.splitlines() if line.startswith("|")]
    header, body = rows[0], rows[2:]
    return [dict(zip(header, r, strict=True)) for r in body]


def _p(shown: str) -> str:
    return shown.replace("&lt;", "<")


def _sklearn(df, thresholds: dict[str, float]) -> dict[str, dict[str, float]]:
    out = {}
    for g, t in thresholds.items():
        part = df[df.sex == g]
        pred = (part.risk_score >= t).astype(int)
        tn, fp, fn, tp = confusion_matrix(part.outcome, pred, labels=[0, 1]).ravel()
        out[g] = {"selection_rate": pred.mean(), "accuracy": accuracy_score(part.outcome, pred),
                  "true_positive_rate": tp / (tp + fn), "false_positive_rate": fp / (fp + tn),
                  "false_negative_rate": fn / (fn + tp)}
    return out


def _stated_thresholds(preview: str) -> dict[str, float]:
    """The thresholds the card says it applies, read from its words."""
    single = re.search(r"a score at or above (\d+\.\d+) is a positive decision", preview)
    if single:
        return {g: float(single.group(1)) for g in ("Female", "Male")}
    rule = re.search(r"Thresholds per group of sex: (.+? \d+\.\d+)\.", preview).group(1)
    return {g: float(t) for g, t in (part.rsplit(" ", 1) for part in rule.split("; "))}


def _check_card(at, policy, favorable="positive") -> str:
    """Run the Model card page with ``at``'s session and compare its preview with
    faircard.assess under ``policy`` and with scikit-learn; returns the preview."""
    card = _carry(at, "app_pages/model_card.py")
    card.run()
    no_exception(card)
    preview = "\n".join(m.value for m in card.markdown)
    df = small_frame()
    a = faircard.assess(df, target="outcome", score="risk_score", sensitive=["sex"],
                        policy=policy, favorable_outcome=favorable, intersection=False)
    words = wording(favorable)
    label = words.label
    # the policy in words, and the figures of the thresholds it states (scikit-learn)
    assert policy.describe(positive=words.positive_decision).split(": ", 1)[1].rstrip(".").replace(
        "One threshold for everyone: ", "") in preview.replace("Decision policy: ", "")
    assert words.describe() in preview
    stated = _stated_thresholds(preview)
    assert stated == pytest.approx(
        {g: policy.threshold if policy.is_single else policy.thresholds[g] for g in stated},
        abs=5e-4)
    oracle = _sklearn(df, stated)
    rows = {r["Group"]: r for r in _table(preview, "### By sex")}
    bg = a.by_group[a.by_group.feature == "sex"].set_index(["group", "metric"])
    assert set(rows) == {"Female", "Male"}
    for g, row in rows.items():
        assert row["People"] == str(int(bg.loc[(g, "count"), "n"]))
        for m in DEFAULT_METRICS:
            match = re.fullmatch(NUM + r" \[" + NUM + "-" + NUM + r"\]", row[label(m)])
            assert match, row[label(m)]
            v = bg.loc[(g, m)]
            _close(match.group(1), v["value"])
            _close(match.group(2), v["ci_low"])
            _close(match.group(3), v["ci_high"])
            _close(match.group(1), oracle[g][m])
    overall = {r["Metric"]: r["Value"] for r in _table(preview, "### Overall")}
    for m in DEFAULT_METRICS:
        _close(overall[label(m)], a.overall[m])
    disp = {r["Metric"]: r for r in _table(preview, "### Disparities")}
    d = a.disparities[a.disparities.feature == "sex"].set_index("metric")
    for m in DEFAULT_METRICS:
        shown = disp[label(m)]
        _close(shown["Difference"], d.loc[m, "difference"])
        _close(shown["Ratio"], d.loc[m, "ratio"])
        assert (shown["Worst group"], shown["Best group"]) == (d.loc[m, "worst_group"],
                                                               d.loc[m, "best_group"])
        _close(_p(shown["Adjusted p"]), d.loc[m, "p_adjusted"], digits=4)
    (crit_row,) = _table(preview, "### Fairness criteria")
    crit = a.criteria["sex"]
    _close(crit_row["Demographic parity difference"], crit["demographic_parity_difference"])
    _close(crit_row["Demographic parity ratio"], crit["demographic_parity_ratio"])
    _close(crit_row["Equalized odds difference"], crit["equalized_odds_difference"])
    _close(crit_row["Equal opportunity difference"], crit["equal_opportunity_difference"])
    fav = {g: favorable_rate(v["selection_rate"], favorable) for g, v in oracle.items()}
    _close(crit_row["Disparate impact ratio (favourable rates)"],
           min(fav.values()) / max(fav.values()))
    assert crit_row["Four-fifths rule"] == ("passes" if crit["passes_four_fifths"] else "fails")
    return preview


def _thresholds_page(**state):
    at = seed_state(new("app_pages/thresholds.py"), sensitive=("sex",))
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    no_exception(at)
    return at


@pytest.mark.parametrize("t", [0.62, 0.455, 0.41372])
def test_card_after_moving_the_slider(t):
    at = _thresholds_page()
    at.slider(key="w_thr_slider").set_value(t).run()
    no_exception(at)
    policy = at.session_state["fc_policy"]
    s = small_frame().risk_score.to_numpy()
    assert policy.is_single and np.array_equal(s >= policy.threshold, s >= t)
    preview = _check_card(at, policy)
    assert f"a score at or above {fmt_threshold(policy.threshold)} is a positive decision" \
        in preview


@pytest.mark.parametrize("constraint", ["equal_opportunity", "demographic_parity"])
def test_card_after_use_this_policy(constraint):
    at = _thresholds_page()
    at.selectbox(key="w_constraint").set_value(constraint).run()
    at.button(key="use_policy").click().run()
    no_exception(at)
    policy = at.session_state["fc_policy"]
    assert not policy.is_single and len(set(policy.thresholds.values())) == 2
    preview = _check_card(at, policy)
    assert "Decision policy: Thresholds per group of sex: " in preview


def test_card_of_an_adverse_decision_after_use_this_policy():
    at = _thresholds_page(fc_favorable="negative")
    at.selectbox(key="w_constraint").set_value("false_positive_rate_parity").run()
    at.button(key="use_policy").click().run()
    no_exception(at)
    policy = at.session_state["fc_policy"]
    preview = _check_card(at, policy, favorable="negative")
    assert "Selection rate (share flagged)" in preview
    assert "approved" not in preview and "denied" not in preview
    findings = preview.split("### Findings\n", 1)[1].split("\n#", 1)[0]
    first = [line for line in findings.splitlines() if line.startswith("- ")][0]
    assert "false positive rate" in first or "false discovery rate" in first
