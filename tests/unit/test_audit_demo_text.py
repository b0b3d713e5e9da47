"""The figures the README and docs/governance.md give for the demo's gate are the demo's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import faircard
from faircard.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_assessment():
    demo = load_demo()
    return faircard.assess(demo.data, target="repaid", score="score", threshold=0.5,
                           sensitive=["sex", "race"], n_boot=0)


@pytest.mark.parametrize("doc", ["README.md", "docs/governance.md"])
def test_the_demo_gate_sentence_gives_the_demo_figures(doc, demo_assessment):
    """The race demographic parity ratio is 0.78650 (Black 0.505 vs White 0.642): 0.786 to
    three decimals, as the gate prints it; the text said 0.787."""
    text = " ".join(ROOT.joinpath(doc).read_text(encoding="utf-8").split())
    said = re.search(r"demographic parity ratio \((\S+): Black (\S+) vs White (\S+)\)", text)
    assert said, doc
    a = demo_assessment
    rates = a.by_group[(a.by_group["feature"] == "race")
                       & (a.by_group["metric"] == "selection_rate")].set_index("group")["value"]
    assert said.groups() == (f"{a.criteria['race']['demographic_parity_ratio']:.3f}",
                             f"{rates['Black']:.3f}", f"{rates['White']:.3f}")
    accuracy = re.search(r"the overall accuracy \((\S+)\)", text)
    assert accuracy and accuracy[1] == f"{a.overall['accuracy']:.3f}"
