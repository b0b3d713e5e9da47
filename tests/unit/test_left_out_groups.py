"""The groups a policy's constraint left out (smaller than the minimum group size) are named,
with their sizes, wherever the policy is stated: the card (Markdown, HTML, JSON), the
Thresholds search's summary, the CLI's ``thresholds`` and ``card`` output, and the record of
how the policy was chosen. Sizes are checked against pandas counting the rows.

``data/store_left_out_before.sqlite3`` was written by faircard before policies recorded the
groups they left out (``faircard thresholds --json`` then ``faircard record --policy`` on
``data/left_out_small.csv`` with ``data/left_out_policy_before.json``): its record still
verifies, and the same command with the same policy file finds the same fingerprint.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import faircard
from faircard.card import build_card
from faircard.cli import main
from faircard.decision import DecisionPolicy
from faircard.errors import FaircardError
from faircard.formatting import fmt_threshold
from faircard.governance import AuditStore
from faircard.governance.share import assessment_from_cells
from faircard.policy import choose_policy_from_sweep
from faircard.render import render_html, render_json, render_markdown, render_pdf
from faircard.thresholds import sweep_assessment

DATA = Path(__file__).parent / "data"
CSV = DATA / "left_out_small.csv"
OLD_STORE = DATA / "store_left_out_before.sqlite3"
OLD_POLICY = DATA / "left_out_policy_before.json"
OLD_FINGERPRINT = "5bc6f8a79c037762edad39e54f3fc2775769cc4b87c953c4a32d1f379cf680a2"


def _sizes() -> dict[str, int]:
    """People per group of 'race', counted by pandas."""
    return {str(k): int(v) for k, v in pd.read_csv(CSV)["race"].value_counts().items()}


def _small(m: int = 30) -> dict[str, int]:
    return {g: n for g, n in _sizes().items() if n < m}


def _named(sizes: dict[str, int]) -> str:
    return ", ".join(f"{g} ({n} {'person' if n == 1 else 'people'})"
                     for g, n in sorted(sizes.items()))


def _chosen(min_group_size: int = 30, include_small_groups: bool = False):
    a = faircard.assess(pd.read_csv(CSV), target="y", score="score", sensitive=["race"],
                        n_boot=0, min_group_size=min_group_size,
                        include_small_groups=include_small_groups)
    p = choose_policy_from_sweep(sweep_assessment(a, "race"), feature="race",
                                 constraint="equal_opportunity", tolerance=0.02,
                                 min_group_size=min_group_size,
                                 include_small_groups=include_small_groups)
    return a, p


def test_the_fixture_has_small_groups():
    assert len(_small()) == 2 and all(n >= 30 for g, n in _sizes().items() if g not in _small())


def test_a_chosen_policy_records_the_groups_it_left_out_with_their_sizes():
    _, p = _chosen()
    assert p.left_out() == _small()
    rule = p.decision_policy()
    assert rule.chosen_for["left_out"] == _small()
    assert rule.chosen_for["min_group_size"] == 30
    assert f"Left out of the constraint as smaller than 30 people: {_named(_small())}." \
        in p.summary
    # the policy file (faircard thresholds --json, the page's download) carries them back
    back = DecisionPolicy.from_dict({"policy": p.to_dict()})
    assert back.chosen_for == rule.chosen_for
    assert DecisionPolicy.from_dict(back.to_dict()) == back


@pytest.mark.parametrize("min_group_size, include", [(5, False), (30, True)])
def test_a_policy_that_left_none_out_is_recorded_as_before(min_group_size, include):
    """Nothing left out: the choice is recorded in the words it was before (so it is
    fingerprinted as before), and no card sentence is added."""
    a, p = _chosen(min_group_size, include)
    assert p.left_out() == {}
    assert p.decision_policy().chosen_for == {"constraint": "equal_opportunity",
                                              "objective": "accuracy", "tolerance": 0.02}
    b = faircard.assess(pd.read_csv(CSV), target="y", score="score", sensitive=["race"],
                        n_boot=0, min_group_size=min_group_size, include_small_groups=include,
                        policy=p.decision_policy())
    d = build_card(b).metrics["decision"]["policy"]
    assert "left_out_of_constraint" not in d and "Left out" not in d["summary"]


def _card_under_policy(**kw):
    _, p = _chosen()
    b = faircard.assess(pd.read_csv(CSV), target="y", score="score", sensitive=["race"],
                        n_boot=0, policy=p.decision_policy())
    return build_card(b, generated_at="2026-01-01T00:00:00+00:00", versions={}, **kw)


def test_every_format_of_the_card_names_them_with_their_sizes():
    card = _card_under_policy()
    d = card.metrics["decision"]["policy"]
    part = {"min_group_size": 30, "groups": _small()}
    assert d["left_out_of_constraint"] == {"when_chosen": part, "on_these_data": part}
    sentence = ("Left out of the constraint as smaller than 30 people, so never held to it: "
                + _named(_small()) + ".")
    assert sentence in d["summary"]
    assert sentence in render_markdown(card)
    html = render_html(card, charts={})
    assert sentence in re.sub(r"\s+", " ", html)
    doc = json.loads(render_json(card))
    assert doc["metrics"]["decision"]["policy"]["left_out_of_constraint"]["when_chosen"] == part


def _flat(text: str) -> str:
    return " ".join(text.split())


def _rendered(card, tmp_path) -> dict[str, str]:
    """The card's text in its four formats (the PDF through pdftotext), spaces collapsed."""
    html = render_html(card, charts={})
    out = {"md": render_markdown(card), "html": html, "json": render_json(card)}
    if shutil.which("pdftotext"):
        path = tmp_path / "card.pdf"
        path.write_bytes(render_pdf(card, html=html))
        out["pdf"] = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                    text=True, check=True).stdout
    return {k: _flat(v) for k, v in out.items()}


def test_a_card_leaving_small_groups_out_states_their_thresholds_marked_without_sizes(
        tmp_path):
    """The rule must state every group's threshold (else the card's rule differs from the
    one its figures were computed under), so the groups the card leaves out are named there,
    marked as left out, and nowhere given a size or a figure."""
    _, p = _chosen()
    card = _card_under_policy(suppress_small_groups=True)
    d = card.metrics["decision"]["policy"]
    assert d["left_out_of_constraint"]["when_chosen"] == {
        "min_group_size": 30, "groups": {}, "size_not_given": sorted(_small())}
    assert d["chosen_for"]["left_out"] == {g: None for g in _small()}  # left out, size unsaid
    assert d["thresholds"] == p.thresholds  # the rule applied, every group's threshold
    marked = [f"{g} {fmt_threshold(p.thresholds[g])} (fewer than 30 people: left out of this card)"
              for g in sorted(_small())]
    left = ("so never held to it: " + ", ".join(sorted(_small()))
            + " (left out of this card, so no sizes are given).")
    for fmt, text in _rendered(card, tmp_path).items():
        said = text.replace('\\"', '"')
        assert all(m in said for m in marked), fmt
        assert left in said, fmt
        # no size of theirs anywhere: not in the rule, the tables or the notes
        assert all(f"({n} people)" not in said and f'"{g}": {n}' not in said
                   and f"| {g} |" not in said for g, n in _small().items()), fmt
    assert all(f"{g} {fmt_threshold(p.thresholds[g])}" in d["summary"] for g in p.thresholds)
    # a group the card shows is not marked
    big = [g for g in p.thresholds if g not in _small()]
    assert all(f"{g} {fmt_threshold(p.thresholds[g])};" in d["summary"] for g in big)


def test_a_card_showing_small_groups_marks_their_thresholds_as_not_compared(tmp_path):
    _, p = _chosen()
    card = _card_under_policy()
    for fmt, text in _rendered(card, tmp_path).items():
        for g in _small():
            assert f"{g} {fmt_threshold(p.thresholds[g])} (fewer than 30 people: not compared)" in text, fmt
    # compared as asked: no such mark
    a, q = _chosen(include_small_groups=True)
    b = faircard.assess(pd.read_csv(CSV), target="y", score="score", sensitive=["race"],
                        n_boot=0, policy=q.decision_policy(), include_small_groups=True)
    assert "not compared" not in build_card(b).metrics["decision"]["policy"]["summary"]
    assert "not compared" not in q.summary and "too few to compare" not in q.summary


def test_the_search_summary_marks_them():
    """The Thresholds page's summary (and faircard thresholds) give a small group's threshold
    and per-1,000 figures marked as not compared, never as a gap."""
    _, p = _chosen()
    for g in _small():
        assert f"{g} {fmt_threshold(p.thresholds[g])} (fewer than 30 people: not compared)" in p.summary
        assert f"; {g} (too few to compare): " in p.summary
    big = [g for g in p.thresholds if g not in _small()]
    assert all(f" {g}: " in p.summary for g in big)  # compared groups: unmarked
    assert p.excluded_groups == sorted(_small())


def test_a_policy_applied_to_other_data_says_both_when_they_differ():
    """Chosen where C and D were small, checked on data where only D is: each is said."""
    _, p = _chosen()
    df = pd.read_csv(CSV)
    more_c = df[df["race"] == "C"].copy()
    bigger = pd.concat([df, more_c, more_c], ignore_index=True)  # C: 3 x its size
    b = faircard.assess(bigger, target="y", score="score", sensitive=["race"], n_boot=0,
                        policy=p.decision_policy())
    d = build_card(b).metrics["decision"]["policy"]
    here = {g: n for g, n in bigger["race"].value_counts().items() if n < 30}
    assert d["left_out_of_constraint"]["on_these_data"]["groups"] == here == \
        {"D": _small()["D"]}
    assert ("When the policy was chosen, left out of the constraint as smaller than 30 "
            f"people: {_named(_small())}.") in d["summary"]
    assert ("On these data, left out of the check of the constraint as smaller than 30 "
            f"people: {_named(here)}.") in d["summary"]


@pytest.mark.parametrize("bad", [
    {"left_out": ["C"]},
    {"left_out": {"C": "many"}},
    {"left_out": {"C": 2.5}, "min_group_size": 30},
    {"left_out": {"C": 18}},
    {"left_out": {"C": 40}, "min_group_size": 30},
])
def test_a_policy_file_with_a_wrong_record_of_left_out_groups_is_refused(bad):
    doc = {"feature": "race", "thresholds": {"C": 0.5},
           "chosen_for": {"constraint": "equal_opportunity", **bad}}
    with pytest.raises(FaircardError) as e:
        DecisionPolicy.from_dict(doc)
    assert "\n" not in str(e.value)


def test_the_cli_names_them_in_thresholds_and_card(tmp_path, capsys):
    out = tmp_path / "policy.json"
    assert main(["thresholds", str(CSV), "--target", "y", "--score", "score", "--sensitive",
                 "race", "--constraint", "equal_opportunity", "--tolerance", "0.02",
                 "--json", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"Left out of the constraint as smaller than 30 people: {_named(_small())}." in said
    assert json.loads(out.read_text())["policy"]["left_out"] == _small()
    assert main(["card", str(CSV), "--target", "y", "--score", "score", "--sensitive", "race",
                 "--policy", str(out), "--out", str(tmp_path / "card"), "--format", "md"]) == 0
    said = capsys.readouterr().out
    assert ("Note: Left out of the constraint as smaller than 30 people, so never held to it: "
            f"{_named(_small())}.") in said
    assert _named(_small()) in (tmp_path / "card" / "model_card.md").read_text()


def test_the_cli_marks_them_in_thresholds_assess_and_a_card_leaving_them_out(tmp_path, capsys):
    out = tmp_path / "policy.json"
    args = [str(CSV), "--target", "y", "--score", "score", "--sensitive", "race"]
    assert main(["thresholds", *args, "--constraint", "equal_opportunity", "--tolerance",
                 "0.02", "--json", str(out)]) == 0
    said = capsys.readouterr().out
    thresholds = json.loads(out.read_text())["policy"]["thresholds"]
    for g in _small():
        assert f"{g} {fmt_threshold(thresholds[g])} (fewer than 30 people: not compared)" in said
        assert f"; {g} (too few to compare): " in said
    assert main(["assess", *args, "--policy", str(out), "--bootstrap", "0"]) == 0
    decision = next(line for line in capsys.readouterr().out.splitlines()
                    if line.startswith("Decision:"))
    for g, t in thresholds.items():
        mark = " (fewer than 30 people: not compared)" if g in _small() else ""
        assert f"{g} {fmt_threshold(t)}{mark}" in decision
    assert main(["card", *args, "--policy", str(out), "--out", str(tmp_path / "card"),
                 "--format", "md", "--suppress-small-groups"]) == 0
    said = capsys.readouterr().out
    assert ("Note: Left out of the constraint as smaller than 30 people, so never held to it: "
            + ", ".join(sorted(_small())) + " (left out of this card, so no sizes are given)."
            ) in said
    md = (tmp_path / "card" / "model_card.md").read_text()
    assert all(f"{g} {fmt_threshold(thresholds[g])} (fewer than 30 people: left out of this "
               "card)" in md for g in _small())


def test_a_record_written_before_still_verifies_and_its_card_names_them(tmp_path):
    path = tmp_path / "audit.db"
    shutil.copy(OLD_STORE, path)
    with AuditStore(path, create=False) as store:
        result = store.verify()
        assert result.ok, result.problems
        rec = store.get(1)
        assert rec.fingerprint == OLD_FINGERPRINT
        a = assessment_from_cells(store.cells(1))
    assert "left_out" not in a.spec.policy.chosen_for  # as it was recorded
    d = build_card(a).metrics["decision"]["policy"]
    assert d["left_out_of_constraint"] == {
        "on_these_data": {"min_group_size": 30, "groups": _small()}}
    assert ("On these data, left out of the check of the constraint as smaller than 30 "
            f"people: {_named(_small())}.") in d["summary"]


def test_the_same_command_with_the_old_policy_file_finds_the_old_fingerprint(tmp_path, capsys):
    """A policy file written before records the same choice: same fingerprint."""
    path = tmp_path / "audit.db"
    shutil.copy(OLD_STORE, path)
    assert main(["record", str(CSV), "--target", "y", "--score", "score", "--sensitive",
                 "race", "--policy", str(OLD_POLICY), "--author", "Ada New", "--title", "again",
                 "--store", str(path)]) == 0
    assert f"fingerprint {OLD_FINGERPRINT}" in capsys.readouterr().out
    with AuditStore(path, create=False) as store:
        assert store.verify().ok


def test_a_randomised_policy_records_them_too():
    a = faircard.assess(pd.read_csv(CSV), target="y", score="score", sensitive=["race"],
                        n_boot=0)
    p = choose_policy_from_sweep(sweep_assessment(a, "race"), feature="race",
                                 constraint="demographic_parity", tolerance=0.0,
                                 min_group_size=30, randomized=True)
    assert p.randomized and p.left_out() == _small()
    b = faircard.assess(pd.read_csv(CSV), target="y", score="score", sensitive=["race"],
                        n_boot=0, policy=p.decision_policy())
    assert f"so never held to it: {_named(_small())}." in \
        build_card(b).metrics["decision"]["policy"]["summary"]
