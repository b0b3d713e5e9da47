"""Audit of the share view (?record=ID) against scikit-learn on the rows: records made by the
command line with pandas and with DuckDB, favourable and adverse outcomes, a small group left
out, and records whose decision rule sets a threshold per group (plain or randomised)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score

from faircard.cli import main as cli
from faircard.decision import DecisionPolicy
from faircard.formatting import fmt_threshold
from tests.app.conftest import new, no_exception, small_frame, text_of

NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
T = 0.45


def _frame() -> pd.DataFrame:
    """The small frame with a group too small to compare (race 'D', 12 people)."""
    df = small_frame(900, seed=3)
    df.loc[df.index[:12], "race"] = "D"
    return df


def _oracle(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Each default metric of the share view, by scikit-learn (pred may be expected values)."""
    if ((pred == 0) | (pred == 1)).all():
        tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
        out = {"accuracy": accuracy_score(y, pred),
               "precision": precision_score(y, pred, zero_division=np.nan),
               "true_positive_rate": recall_score(y, pred, zero_division=np.nan)}
    else:  # a randomised rule: expected counts
        tp, fp = (pred * y).sum(), (pred * (1 - y)).sum()
        fn, tn = ((1 - pred) * y).sum(), ((1 - pred) * (1 - y)).sum()
        out = {"accuracy": (tp + tn) / len(y), "precision": tp / (tp + fp),
               "true_positive_rate": tp / (tp + fn)}
    out.update(selection_rate=float(np.mean(pred)), false_positive_rate=fp / (fp + tn))
    return out


def _share(record: str = "1"):
    at = new("app.py")
    at.query_params["record"] = record
    at.run()
    no_exception(at)
    return at


def _first_numbers(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[float]]:
    """Each row's first number in each of ``columns`` (a value before its interval)."""
    out = {}
    for group, row in frame.iterrows():
        nums = []
        for c in columns:
            found = NUMBER.findall(str(row[c]))
            nums.append(float(found[0].replace(",", "")) if found else np.nan)
        out[str(group)] = nums
    return out


def _check_group_tables(at, df: pd.DataFrame, pred: np.ndarray) -> None:
    metrics = at.multiselect(key="w_share_metrics").value
    assert set(metrics) >= {"selection_rate", "accuracy", "true_positive_rate",
                            "false_positive_rate"}
    checked = 0
    for feature in at.selectbox(key="w_share_feature").options:
        at.selectbox(key="w_share_feature").set_value(feature).run()
        no_exception(at)
        [table] = [d.value for d in at.dataframe if "people" in d.value.columns]
        labels = [c for c in table.columns if c not in ("people", "note")]
        shown = _first_numbers(table, labels)
        cols = feature.split(" & ")
        keys = df[cols].astype(str).agg(" & ".join, axis=1)
        for group, values in shown.items():
            mask = (keys == group).to_numpy()
            assert int(table.loc[group, "people"].replace(",", "")) == mask.sum()
            small = mask.sum() < 30
            assert (table.loc[group, "note"] == "too small to trust") == small
            want = _oracle(df["outcome"].to_numpy()[mask], pred[mask])
            for m, v in zip(metrics, values, strict=True):
                if m in want:
                    if np.isnan(want[m]):
                        assert np.isnan(v), (feature, group, m)
                    else:
                        assert v == pytest.approx(want[m], abs=5.01e-4), (feature, group, m)
                        checked += 1
    assert checked >= 24, (checked, at.selectbox(key="w_share_feature").options, metrics)


COMPAS = Path("/work/shared/data/compas-scores-two-years.csv")


def _compas() -> pd.DataFrame:
    """COMPAS (ProPublica): two-year recidivism, the decile score, sex and race."""
    if not COMPAS.exists():
        pytest.skip("COMPAS is not in /work/shared/data")
    raw = pd.read_csv(COMPAS, usecols=["two_year_recid", "decile_score", "sex", "race"])
    return raw.rename(columns={"two_year_recid": "outcome", "decile_score": "risk_score"})


@pytest.mark.parametrize("data,engine,favorable,threshold", [
    ("synthetic", "duckdb", "negative", T), ("compas", "pandas", "negative", 5)])
def test_share_view_tables_equal_sklearn_for_cli_records(tmp_path, _private_audit_store,
                                                         data, engine, favorable, threshold):
    df = _frame() if data == "synthetic" else _compas()
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    assert cli(["record", str(path), "--target", "outcome", "--score", "risk_score",
                "--threshold", str(threshold), "--sensitive", "sex", "--sensitive", "race",
                "--favorable", favorable, "--engine", engine, "--bootstrap", "0",
                "--author", "Ana Kim", "--store", str(_private_audit_store)]) == 0
    at = _share()
    assert not at.error, [e.value for e in at.error]
    pred = (df["risk_score"].to_numpy() >= threshold).astype(int)
    _check_group_tables(at, df, pred)
    # the small groups are named, and their gaps are not part of the comparison
    at.selectbox(key="w_share_feature").set_value("race").run()
    [gaps] = [d.value for d in at.dataframe if "gap (max - min)" in d.value.columns]
    sizes = df["race"].value_counts()
    assert (sizes < 30).any(), "a small group to leave out"
    rates = {g: float(np.mean(pred[(df["race"] == g).to_numpy()]))
             for g in sizes[sizes >= 30].index}
    row = gaps[gaps["metric"].astype(str).str.lower().str.startswith("selection rate")]
    shown_gap = float(NUMBER.findall(str(row["gap (max - min)"].iloc[0]))[0])
    assert shown_gap == pytest.approx(max(rates.values()) - min(rates.values()), abs=5e-4)


def _record_with_policy(store_path, policy: DecisionPolicy) -> pd.DataFrame:
    """Record the frame under ``policy`` through the Governance page, as Ana Kim's draft."""
    from tests.app.conftest import seed_state

    df = _frame()
    gov = seed_state(new("app_pages/governance.py"), df, sensitive=("sex", "race"))
    gov.session_state["fc_policy"] = policy
    gov.session_state["fc_policy_chosen"] = True
    gov.run()
    gov.text_input(key="w_gov_author").input("Ana Kim")
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    assert any("Recorded as record 1" in s.value for s in gov.success)
    return df


def test_per_group_policy_record_states_its_rule_and_its_figures(_private_audit_store):
    """One threshold per sex, the men's randomised: a record of the Governance page (pandas,
    favourable positive decisions)."""
    thresholds = {"Female": 0.4, "Male": 0.55}
    mix = {"Male": (0.3, 0.45)}
    policy = DecisionPolicy.per_group("sex", thresholds, mix=mix)
    df = _record_with_policy(_private_audit_store, policy)
    at = _share()
    assert not at.error, [e.value for e in at.error]
    # the figures are those of the recorded per-group rule
    score = df["risk_score"].to_numpy()
    pred = np.where(df["sex"] == "Female", score >= 0.4, score >= 0.55).astype(float)
    male = (df["sex"] == "Male").to_numpy()
    pred[male] = 0.3 * (score[male] >= 0.55) + 0.7 * (score[male] >= 0.45)
    _check_group_tables(at, df, pred)
    # the policy tab states the rule in words, never a single (undefined) threshold
    text = " ".join(text_of(m) for m in at.markdown)
    assert "threshold nan" not in text.lower() and "'kind'" not in text
    assert "Female 0.400" in text and "Male" in text and "0.550" in text
    # the what-if starts at the recorded policy, randomisation included (expected counts)
    assert at.radio(key="w_share_what_if_rule").value == "recorded"
    headline = " ".join(m.value for m in at.markdown if m.value.startswith("**The recorded"))
    assert "Thresholds per group of sex" in headline and "in expectation" in headline
    _check_what_if(at, df, pred)
    # one threshold for everyone says it is not the recorded policy
    at.radio(key="w_share_what_if_rule").set_value("single").run()
    no_exception(at)
    what_if = " ".join(text_of(x) for x in [*at.markdown, *at.caption, *at.info, *at.warning])
    assert "per group" in what_if and "not the recorded" in what_if
    slider = at.slider(key="w_share_what_if_threshold")
    slider.set_value(0.5).run()
    no_exception(at)
    assert any("What if: threshold 0.500 for everyone" in m.value for m in at.markdown)
    _check_what_if(at, df, (score >= 0.5).astype(float))
    # a threshold per group: each group starts at its recorded threshold, and moves alone
    at.radio(key="w_share_what_if_rule").set_value("per_group").run()
    no_exception(at)
    assert at.selectbox(key="w_share_what_if_by").value == "sex"
    female, male = at.slider(key="w_share_what_if_0_0"), at.slider(key="w_share_what_if_0_1")
    assert (female.label, female.value, male.label, male.value) == ("Female", 0.4, "Male",
                                                                     0.55)
    male.set_value(0.62).run()
    no_exception(at)
    _check_what_if(at, df, np.where(df["sex"] == "Female", score >= 0.4,
                                    score >= 0.62).astype(float))
    # on another grouping, each group starts in the middle of the scores' range
    at.selectbox(key="w_share_what_if_by").set_value("race").run()
    no_exception(at)
    race = df["race"].to_numpy()
    groups = sorted(set(race))
    assert [at.slider(key=f"w_share_what_if_1_{i}").value for i in range(len(groups))] == \
        [0.5] * len(groups)
    at.slider(key="w_share_what_if_1_0").set_value(0.3).run()
    no_exception(at)
    _check_what_if(at, df, np.where(race == groups[0], score >= 0.3, score >= 0.5).astype(float))


def _check_what_if(at, df: pd.DataFrame, pred: np.ndarray) -> None:
    """The what-if table of every grouping equals scikit-learn (weighted by the probability
    of a positive decision, for a randomised rule) on the rows."""
    checked = 0
    for feature in at.selectbox(key="w_share_what_if_feature").options:
        at.selectbox(key="w_share_what_if_feature").set_value(feature).run()
        no_exception(at)
        [table] = [d.value.set_index("group") for d in at.dataframe
                   if "group size" in d.value.columns]
        keys = df[feature.split(" & ")].astype(str).agg(" & ".join, axis=1).to_numpy()
        for shown, row in table.iterrows():
            mask = keys == shown.removesuffix(" (small group)")
            y = df["outcome"].to_numpy()[mask]
            n = int(mask.sum())
            p = pred[mask]
            tn, fp, fn, tp = confusion_matrix(np.concatenate([y, y]), np.repeat([1, 0], n),
                                              labels=[0, 1],
                                              sample_weight=np.concatenate([p, 1 - p])).ravel()
            want = _oracle(y, p)
            assert int(row["group size"].replace(",", "")) == n
            values = [float(str(v).replace(",", "")) for v in row.iloc[-11:]]
            expected = [fp + tp, tn, fp, fn, tp, want["selection_rate"], want["accuracy"],
                        want["precision"], want["true_positive_rate"],
                        want["false_positive_rate"], fn / (fn + tp)]
            assert values == pytest.approx(expected, abs=5.01e-3), (feature, shown)
            checked += 1
    assert checked >= 2 + 4


def test_share_view_names_the_groups_the_policys_constraint_left_out(tmp_path,
                                                                    _private_audit_store):
    """A record made under a policy chosen with groups below the minimum size left out of its
    constraint: the share view's account of how the policy was chosen names them with their
    sizes (counted by pandas)."""
    from pathlib import Path

    csv = Path(__file__).parents[1] / "unit" / "data" / "left_out_small.csv"
    policy = tmp_path / "policy.json"
    assert cli(["thresholds", str(csv), "--target", "y", "--score", "score", "--sensitive",
                "race", "--constraint", "equal_opportunity", "--tolerance", "0.02", "--json",
                str(policy)]) == 0
    assert cli(["record", str(csv), "--target", "y", "--score", "score", "--sensitive", "race",
                "--policy", str(policy), "--bootstrap", "0", "--author", "Ana Kim",
                "--store", str(_private_audit_store)]) == 0
    at = _share()
    assert not at.error, [e.value for e in at.error]
    sizes = pd.read_csv(csv)["race"].value_counts()
    said = " ".join(text_of(m) for m in at.markdown)
    assert (f"Left out of its constraint as smaller than 30 people: C ({sizes['C']} people), "
            f"D ({sizes['D']} people)") in said
    assert "'C': " not in said and "min_group_size" not in said  # no raw dict
    # the policy tab's rule states their thresholds, marked as the card marks them
    thresholds = json.loads(policy.read_text())["policy"]["thresholds"]
    rule = next(line for m in at.markdown for line in text_of(m).splitlines()
                if "with the recorded decision policy" in line)
    for g, t in thresholds.items():
        mark = " (fewer than 30 people: not compared)" if g in ("C", "D") else ";"
        assert f"{g} {fmt_threshold(t)}{mark}" in rule, (g, rule)


def test_what_if_counts_of_a_deterministic_rule_are_whole_people(_private_audit_store):
    """Under a deterministic per-group rule the what-if said 'approved: 452.0 of 900
    people', and its table's counts ended in '.0': counts of people under a rule that decides every row
    are whole numbers, as pandas counts them (only a randomised rule's are expected values)."""
    thresholds = {"Female": 0.4, "Male": 0.55}
    df = _record_with_policy(_private_audit_store, DecisionPolicy.per_group("sex", thresholds))
    at = _share()
    assert at.radio(key="w_share_what_if_rule").value == "recorded"
    chosen = (df["risk_score"] >= df["sex"].map(thresholds)).to_numpy()
    [headline] = [text_of(m) for m in at.markdown if m.value.startswith("**The recorded")]
    assert f"approved: {int(chosen.sum()):,} of {len(df):,} people" in headline, headline
    at.selectbox(key="w_share_what_if_feature").set_value("sex").run()
    [table] = [d.value for d in at.dataframe if "group size" in d.value.columns]
    counts = table[["approved", "wrongly approved", "wrongly denied"]]
    assert not counts.map(lambda c: "." in str(c)).any().any(), counts
    female = (df["sex"] == "Female").to_numpy()
    assert table.set_index("group").loc["Female", "approved"] == f"{int(chosen[female].sum()):,}"
