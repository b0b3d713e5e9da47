"""When a positive decision is adverse (flagged as high risk), no sentence that faircard writes
calls it favourable: nobody is "selected", "approved" or "granted" for being flagged, in the
thresholds summary, the assessment's text, the gate's lines or the model card."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main

FAVOURABLE_WORDS = re.compile(r"\b(selected|selects|approved|approves|granted|denied|hired)\b",
                              re.I)


@pytest.fixture(scope="module")
def disjoint(tmp_path_factory):
    """Two groups whose scores never meet: their shares flagged, k/40 and j/41, are equal only
    when nobody or everybody is flagged."""
    path = tmp_path_factory.mktemp("adverse") / "risk.csv"
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 41,
                       "s": np.r_[np.arange(1, 41), np.arange(41, 82)] / 100,
                       "y": rng.integers(0, 2, 81)})
    df.to_csv(path, index=False)
    return path, df


OPTS = ["--target", "y", "--score", "s", "--sensitive", "g", "--favorable", "negative"]


def test_an_all_or_nothing_policy_says_who_is_flagged(disjoint, capsys):
    path, df = disjoint
    assert main(["thresholds", str(path), *OPTS, "--constraint", "demographic_parity",
                 "--tolerance", "0", "--allow-degenerate"]) == 0
    out = capsys.readouterr().out
    # the oracle: the only policies with equal shares flag nobody or everybody
    shares = {(k, j) for k in range(41) for j in range(42) if k * 41 == j * 40}
    assert shares == {(0, 0), (40, 41)}
    assert re.search(r"Degenerate: every group gets the same decision \((nobody|everybody) is "
                     r"flagged\)", out), out
    assert not FAVOURABLE_WORDS.search(out), out


def test_no_favourable_word_for_a_flag(disjoint, tmp_path, capsys):
    path, _ = disjoint
    texts = []
    for threshold in ("0.3", "0.9"):  # a real choice; nobody flagged
        rule = ["--threshold", threshold, "--bootstrap", "0", "--min-group-size", "10"]
        main(["assess", str(path), *OPTS, *rule])
        main(["gate", str(path), *OPTS, *rule, "--max-dpd", "0.1", "--min-dir", "0.8"])
        main(["card", str(path), *OPTS, *rule, "--out", str(tmp_path), "--formats", "md"])
        texts.append(capsys.readouterr().out + (tmp_path / "model_card.md").read_text())
    for text in texts:
        found = FAVOURABLE_WORDS.findall(text)
        assert not found, found
    assert "nobody is flagged" in texts[1]
