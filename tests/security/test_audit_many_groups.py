"""A card of a feature with hundreds of groups: its chart draws the lowest and highest groups
and says so, its tables and JSON keep every group with the same figures. A chart of 1,000 bars
was a 52,000-pixel image: half a minute to draw, a 37 MB page, minutes more for the PDF."""

from __future__ import annotations

import base64
import json
import struct

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from faircard import render
from faircard.assess import assess
from faircard.card import build_card

GROUPS = 300


@pytest.fixture(scope="module")
def many():
    rng = np.random.default_rng(3)
    n = GROUPS * 20
    frame = pd.DataFrame({"outcome": rng.integers(0, 2, n), "score": rng.random(n).round(4),
                          "zip": [f"z{i:03d}" for i in rng.integers(0, GROUPS, n)]})
    card = build_card(assess(frame, target="outcome", score="score", sensitive=["zip"],
                             n_boot=0, min_group_size=5))
    return frame, card


def test_the_chart_of_many_groups_draws_the_lowest_and_highest_and_says_so(many, monkeypatch):
    frame, card = many
    sent = []
    monkeypatch.setattr(render, "run_job", lambda kind, payload: sent.append(payload) or
                        {"png": ["x"] * len(payload["specs"])})
    assert list(render.chart_images(card)) == ["zip|selection_rate"]
    spec = json.loads(sent[0]["specs"][0])
    bars = [row for data in spec["datasets"].values() for row in data if "label" in row]
    k = render.MAX_BARS // 2
    # oracle: each group's selection rate from its rows, sorted here
    rates = frame.assign(pos=frame["score"] >= 0.5).groupby("zip")["pos"].mean().sort_values(
        kind="stable")
    assert len(rates) == GROUPS
    assert [b["group"] for b in bars] == list(rates.index[:k]) + list(rates.index[-k:])
    assert [b["value"] for b in bars] == pytest.approx(list(rates.iloc[:k]) +
                                                       list(rates.iloc[-k:]))
    title = spec["title"]["text"]
    assert title[0].startswith("Selection rate") and title[0].endswith(" by zip")
    assert title[1] == (f"the {k} lowest and {k} highest of {GROUPS} groups; the table lists "
                        "every group")


def test_every_group_keeps_its_figures_in_the_card(many):
    frame, card = many
    rows = {r["group"]: r for r in card.to_dict()["quantitative"]["by_group"]}
    assert len(rows) == GROUPS
    html = render.render_html(card, charts={})
    for group in ("z000", "z150", "z299"):
        part = frame[frame["zip"] == group]
        tn, fp, fn, tp = confusion_matrix(part["outcome"], part["score"] >= 0.5,
                                          labels=[0, 1]).ravel()
        assert rows[group]["n"] == len(part)
        assert rows[group]["values"]["true_positive_rate"] == pytest.approx(tp / (tp + fn))
        # more than 100 groups: the HTML lists them in a plain-text appendix (group, people,
        # then each metric with its interval), whose first block holds the true positive rate
        first = html.split('<pre class="groups">', 2)[1]
        line = next(x for x in first.splitlines() if x.split()[:1] == [group])
        assert line.split()[1] == str(len(part))
        header = first.splitlines()[0].split("  ")
        assert [h.strip() for h in header if h.strip()][4] == "True positive rate"
        assert line.split()[2 + 2 * 2] == f"{tp / (tp + fn):.3f}"  # after 2 metrics + interval


def test_the_chart_image_of_many_groups_is_a_page_high(many):
    png = base64.b64decode(render.chart_images(many[1])["zip|selection_rate"].split(",", 1)[1])
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's size
    assert height < 3000, (width, height)  # 300 bars were 15,600 pixels high, 1,000 52,000
