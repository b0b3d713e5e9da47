"""Bands of a numeric sensitive feature say what they hold: their names and the sentence on the
Sensitive features page agree with where each value goes, checked against pandas.cut."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from faircard.roles import default_bands
from faircard.spec import Binning


def _holds(label: str, value: float) -> bool:
    """Whether a default band name ("17-24", "65+", "17 to < 25", ">= 65", "< 0.2") says it
    holds ``value``, read as a person reads it ("17-24": whole years 17 to 24)."""
    if m := re.fullmatch(r"([\d.]+)-([\d.]+)", label):
        return float(m[1]) <= value <= float(m[2])
    if m := re.fullmatch(r"([\d.]+)\+", label):
        return value >= float(m[1])
    if m := re.fullmatch(r"([-\d.]+) to < ([-\d.]+)", label):
        return float(m[1]) <= value < float(m[2])
    if m := re.fullmatch(r">= ([-\d.]+)", label):
        return value >= float(m[1])
    if m := re.fullmatch(r"< ([-\d.]+)", label):
        return value < float(m[1])
    raise AssertionError(label)


@pytest.mark.parametrize("ages", [
    [17.5, 24.5, 24.99, 39.9, 30.2, 64.5, 70.9, 65.0],
    [18, 24, 25, 39, 40, 64, 65, 90],
])
def test_default_age_bands_hold_what_their_names_say(ages):
    """Ages with fractions were banded '17-24', '25-39', so 24.5 sat in '17-24' and 39.9 in
    '25-39'; with fractions the names now give the edges ('17 to < 25'). Whole ages keep
    '25-39'."""
    col = pd.Series(ages)
    edges, labels = default_bands(col, "age")
    banded = Binning(tuple(edges), tuple(labels)).apply(col)
    for value, label in zip(ages, banded, strict=True):
        assert _holds(str(label), value), (value, label)


def _described(binning: Binning) -> dict[str, tuple[float, float, bool, bool]]:
    """Each band's (low, high, low included, high included) read from describe_edges()."""
    out = {}
    for part in binning.describe_edges().rstrip(".").split("; "):
        m = re.fullmatch(r"'(.+)' holds (.+)", part)
        name, held = m[1], m[2]
        if held == "every number":
            out[name] = (-math.inf, math.inf, True, True)
        elif m2 := re.fullmatch(r"(\S+) to (\S+), both included", held):
            out[name] = (float(m2[1]), float(m2[2]), True, True)
        elif m2 := re.fullmatch(r"(\S+) to under (\S+)", held):
            out[name] = (float(m2[1]), float(m2[2]), True, False)
        elif m2 := re.fullmatch(r"under (\S+)", held):
            out[name] = (-math.inf, float(m2[1]), True, False)
        elif m2 := re.fullmatch(r"(\S+) or less", held):
            out[name] = (-math.inf, float(m2[1]), True, True)
        elif m2 := re.fullmatch(r"(\S+) or more", held):
            out[name] = (float(m2[1]), math.inf, True, True)
        else:
            raise AssertionError(held)
    return out


@pytest.mark.parametrize("edges", [
    (18, 25, 40, 65, 120), (-np.inf, 0.2, 0.45, np.inf), (0, 123456.7), (-np.inf, 1234567.0),
    (0.1, 0.3, np.inf),
])
def test_the_band_sentence_states_the_edges_as_applied(edges):
    """The Sensitive features page said where values outside the bands go but not which band
    a value on an edge joins. The sentence it now shows gives each band's edges, included or
    not; every value (edges among them) lies where it says, and where pandas.cut(right=False)
    puts it, the last band also holding its upper edge."""
    labels = tuple(f"b{i}" for i in range(len(edges) - 1))
    binning = Binning(edges, labels)
    finite = [e for e in edges if np.isfinite(e)]
    values = np.array(sorted({*finite, *(np.nextafter(e, np.inf) for e in finite),
                              *(np.nextafter(e, -np.inf) for e in finite),
                              *np.linspace(min(finite) - 1, max(finite) + 1, 41)}))
    got = binning.apply(pd.Series(values))
    expected = pd.cut(values, list(edges), right=False, labels=list(labels)).astype(object)
    expected[values == edges[-1]] = labels[-1]
    said = _described(binning)
    for v, g, e in zip(values, got, expected, strict=True):
        if g in labels:
            assert g == e, (v, g, e)
            low, high, low_in, high_in = said[g]
            assert (low < v or (low_in and v == low)) and (v < high or (high_in and v == high))
        else:  # outside every band: not in pandas' bands, and named by its exact edge
            assert pd.isna(e), (v, g)
            side = "under" if v < edges[0] else "over"
            edge = edges[0] if side == "under" else edges[-1]
            assert float(str(g).removeprefix(f"{side} ")) == edge, (v, g)


def test_a_value_just_over_the_top_edge_is_named_by_the_edge_it_passed():
    """'over 123457' held 123456.9, which is under 123457."""
    b = Binning((0, 123456.7), ("a",))
    assert list(b.apply(pd.Series([123456.7, 123456.9]))) == ["a", "over 123456.7"]


def test_quartile_bands_of_large_values_name_their_exact_edges():
    """Quartiles of incomes such as 123456.5 were named '< 123457' and '123457 to < ...', so
    123456.8 sat in a band whose name excludes it."""
    col = pd.Series([100000.0, 123456.0, 123457.0, 150000.0, 160000.0, 170000.0, 1234567.5,
                     1300000.0])
    edges, labels = default_bands(col, "income")
    banded = Binning(tuple(edges), tuple(labels)).apply(pd.concat([col, pd.Series(
        [np.nextafter(e, np.inf) for e in edges[1:-1]])]))
    for value, label in zip([*col, *(np.nextafter(e, np.inf) for e in edges[1:-1])], banded,
                            strict=True):
        assert _holds(str(label), value), (value, label)


@pytest.mark.skipif(not __import__("shutil").which("pdftotext"),
                    reason="poppler-utils is not installed")
def test_the_card_states_each_band_with_its_edges_in_every_format(tmp_path):
    """The card named the bands only ('Bands of age: young, mid, old.'), which leaves a reader
    without the edges the groups were cut at. Markdown, HTML and the PDF's text now give each
    band's edges as they were applied; the JSON keeps the edges themselves."""
    import json
    import subprocess

    import faircard
    from faircard.card import build_card
    from faircard.render import render_html, render_json, render_markdown, render_pdf

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"age": rng.integers(18, 90, 600), "y": rng.integers(0, 2, 600),
                       "s": rng.random(600)})
    bands = Binning((18, 40, 65, np.inf), ("young", "mid", "old"))
    a = faircard.assess(df, target="y", score="s", sensitive="age", bins={"age": bands},
                        n_boot=0)
    said = ("Bands of age: 'young' holds 18 to under 40; 'mid' holds 40 to under 65; 'old' "
            "holds 65 or more.")
    card = build_card(a)
    assert said in render_markdown(card)
    assert said.replace("'", "&#39;") in render_html(card)
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(render_pdf(card))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert said in " ".join(text.split())
    assert json.loads(render_json(card))["factors"]["bins"]["age"] == {
        "edges": [18.0, 40.0, 65.0, "inf"], "labels": ["young", "mid", "old"]}
    # the groups are those the sentence describes
    sizes = a.by_group[a.by_group["metric"] == "count"].set_index("group")["n"]
    assert sizes.to_dict() == {"young": int((df.age < 40).sum()),
                               "mid": int(((df.age >= 40) & (df.age < 65)).sum()),
                               "old": int((df.age >= 65).sum())}
