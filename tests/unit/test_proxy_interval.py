"""The proxy AUC's interval: DeLong's variance of the held-out scores' AUC, checked against a
textbook DeLong written here on the rows (every positive against every negative), against a
bootstrap of the rows scored by scikit-learn, and shown wherever the proxy AUC is shown (the
diagnostics' table and chart, the checklist's evidence, the card in its four formats)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from faircard.card import build_card
from faircard.diagnostics import diagnose
from faircard.diagnostics.association import (
    auc_delong_from_counts,
    fold_of_rows,
    proxy_auc,
    proxy_auc_intervals,
)
from faircard.diagnostics.charts import proxy_bars
from faircard.render import render_html, render_json, render_markdown, render_pdf
from tests.unit.test_diagnostics import _planted


def textbook_delong(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong's variance from every (positive, negative) pair: a pair counts 1 when
    the positive scores higher, 1/2 when tied."""
    x, z = s[y], s[~y]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / len(x) + v01.var(ddof=1) / len(z))


def _pandas_held_out(column, group, n_groups, n_folds=5, seed=0) -> np.ndarray:
    """Each row's held-out score per group, encoded with pandas from the other folds alone
    (the group's frequency at the level, smoothed towards the other folds' prior with weight
    1), as tests/unit/test_audit_diagnostics.py checks the AUC itself."""
    fold = fold_of_rows(len(column), n_folds, seed)
    out = np.empty((len(column), n_groups))
    for c in range(n_groups):
        for f in range(n_folds):
            train, held = fold != f, fold == f
            hit = pd.Series(group[train] == c)
            prior = hit.mean()
            agg = hit.groupby(column[train]).agg(["sum", "count"])
            enc = (agg["sum"] + prior) / (agg["count"] + 1)
            out[held, c] = pd.Series(column[held]).map(enc).fillna(prior).to_numpy()
    return out


def test_delong_from_counts_is_the_textbook_delong_with_ties():
    rng = np.random.default_rng(21)
    y = rng.random(900) < 0.35
    s = np.round(rng.random(900) * 0.6 + 0.25 * y, 1)  # few values: many ties
    values = np.unique(s)
    pos = np.array([(y & (s == v)).sum() for v in values])
    neg = np.array([(~y & (s == v)).sum() for v in values])
    auc, var = auc_delong_from_counts(values, pos, neg)
    want_auc, want_var = textbook_delong(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert auc == pytest.approx(want_auc, abs=1e-12)
    assert var == pytest.approx(want_var, rel=1e-9)
    # one positive: no sample variance of its placements
    assert np.isnan(auc_delong_from_counts([0.1, 0.2], [1, 0], [3, 4])[1])


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_each_groups_interval_is_delong_of_the_held_out_scores(confidence):
    rng = np.random.default_rng(5)
    n = 1500
    group = rng.choice(3, n, p=[0.55, 0.3, 0.15])
    column = np.where(rng.random(n) < 0.3, group, rng.integers(0, 5, n))
    res = proxy_auc_intervals(column, 5, group, 3, confidence=confidence)
    scores = _pandas_held_out(column, group, 3)
    z = stats.norm.ppf(0.5 + confidence / 2)
    for c in range(3):
        auc, var = textbook_delong(group == c, scores[:, c])
        assert res.auc[c] == pytest.approx(auc, abs=1e-12)
        assert res.low[c] == pytest.approx(max(auc - z * np.sqrt(var), 0), abs=1e-10)
        assert res.high[c] == pytest.approx(min(auc + z * np.sqrt(var), 1), abs=1e-10)
    assert res.macro == pytest.approx(np.mean(res.auc), abs=1e-15)
    assert np.array_equal(proxy_auc(column, 5, group, 3), res.auc)


def test_the_intervals_widths_match_a_bootstrap_of_the_rows():
    """Rows redrawn with replacement (their held-out scores fixed), each group's AUC and the
    mean of them scored by scikit-learn: the bootstrap's standard deviations agree with the
    intervals' within 12% (the mean's variance adds each row's influence on every group, as
    the groups' AUCs share their rows)."""
    rng = np.random.default_rng(9)
    n = 2000
    group = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    column = np.where(rng.random(n) < 0.25, group, rng.integers(0, 6, n))
    res = proxy_auc_intervals(column, 6, group, 3)
    scores = _pandas_held_out(column, group, 3)
    boot = np.empty((600, 4))
    draw = np.random.default_rng(0)
    for b in range(len(boot)):
        i = draw.integers(0, n, n)
        each = [roc_auc_score(group[i] == c, scores[i, c]) for c in range(3)]
        boot[b] = [*each, np.mean(each)]
    z = stats.norm.ppf(0.975)
    widths = [*(res.high - res.low), res.macro_high - res.macro_low]
    for k, w in enumerate(widths):
        assert w / (2 * z) == pytest.approx(boot[:, k].std(ddof=1), rel=0.12), k


def test_diagnose_shows_the_interval_wherever_it_shows_the_proxy_auc(tmp_path):
    data, ref = _planted(11, n=3000)
    d = diagnose(data, target="y", score="score", sensitive=["race"])
    auc = d.proxies[d.proxies["measure"].isin(["cv_auc", "cv_auc_one_group"])]
    assert auc["ci_low"].notna().all() and auc["ci_high"].notna().all()
    assert ((auc["ci_low"] <= auc["value"]) & (auc["value"] <= auc["ci_high"])).all()
    assert ((auc["ci_high"] - auc["ci_low"]) > 0.005).all()
    others = d.proxies[~d.proxies["measure"].isin(["cv_auc", "cv_auc_one_group"])]
    assert others["ci_low"].isna().all()  # Cramér's V and eta have none
    zone = auc[(auc["feature"] == "zone") & (auc["measure"] == "cv_auc_one_group")].iloc[0]
    # the row's interval is the one proxy_auc_intervals gives for that group
    codes, levels = pd.factorize(data["zone"], sort=True)
    groups, names = pd.factorize(data["race"], sort=True)
    res = proxy_auc_intervals(codes, len(levels), groups, len(names))
    c = list(names).index(zone["group"])
    assert (zone["ci_low"], zone["ci_high"]) == pytest.approx((res.low[c], res.high[c]),
                                                              abs=1e-12)
    shown = f"95% interval {zone['ci_low']:.2f}-{zone['ci_high']:.2f}"
    # the checklist's evidence (the CLI prints it) and the JSON of faircard diagnose
    measurement = next(i for i in d.checklist if i.source == "measurement")
    assert any(f"AUC of {zone['value']:.2f} ({shown}):" in e for e in measurement.evidence)
    top = d.to_dict()["top_proxies"][0]
    assert (top["ci_low"], top["ci_high"], top["confidence"]) == (
        zone["ci_low"], zone["ci_high"], 0.95)
    # the chart draws the interval and gives it in the tooltip
    spec = proxy_bars(d.proxies, "race").to_dict()
    layers = spec["layer"]
    assert any(layer["mark"]["type"] == "rule" and layer["encoding"]["x"]["field"] == "ci_low"
               and layer["encoding"]["x2"]["field"] == "ci_high" for layer in layers)
    # the card, in its four formats
    import faircard

    a = faircard.assess(data, target="y", score="score", sensitive="race", n_boot=0)
    card = build_card(a, **d.for_card())
    caveat = (f"(cross-validated AUC {zone['value']:.3f}, 95% interval {zone['ci_low']:.3f}-"
              f"{zone['ci_high']:.3f})")
    html = render_html(card, charts={})
    texts = {"md": render_markdown(card), "html": html}
    if shutil.which("pdftotext"):
        path = tmp_path / "card.pdf"
        path.write_bytes(render_pdf(card, html=html))
        texts["pdf"] = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                      text=True, check=True).stdout
    for fmt, text in texts.items():
        assert caveat in re.sub(r"\s+", " ", text), fmt
    proxies = json.loads(render_json(card))["caveats"]["proxies"]
    assert proxies[0]["ci_low"] == pytest.approx(zone["ci_low"], abs=1e-12)


def test_a_proxy_recorded_without_an_interval_is_stated_as_before():
    """Records and card JSON written before the interval keep their text (and fingerprint)."""
    from faircard.card import checklist_text

    old = [{"sensitive_feature": "race", "feature": "zone", "group": "A", "value": 0.81}]
    assert checklist_text(None, old)["proxies"] == json.dumps(old, sort_keys=True)
    data, _ = _planted(3, n=600)
    import faircard

    a = faircard.assess(data, target="y", score="score", sensitive="race", n_boot=0)
    md = render_markdown(build_card(a, proxies=old))
    assert "(cross-validated AUC 0.810): it can stand in for race." in md
    assert "interval" not in md.split("## Caveats", 1)[1].split("zone", 1)[1].split("\n")[0]
