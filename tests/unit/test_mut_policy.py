"""faircard.policy (per-group thresholds under a fairness constraint) against an exhaustive
search over every combination of per-group thresholds, counted with scikit-learn on group
masks; plus hand-worked figures, words and bounds of the pieces around the search. Written to
kill mutmut survivors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, multilabel_confusion_matrix

from faircard import policy as P
from faircard.errors import FaircardError
from faircard.thresholds import grid_thresholds, sweep
from tests.policy_parts import written_probability

NAMES = P.CONSTRAINTS  # constraint -> the rates it holds equal (read by the oracle)


# ------------------------------------------------------------- exhaustive oracle

def _masked_counts(y, decided, g, n_groups):
    """[tn, fp, fn, tp] of each group (G, 4) for each column of ``decided`` (n, T): (T, G, 4),
    by scikit-learn's multilabel_confusion_matrix with one label per (group, column); rows of
    other groups are negatives never selected, so they are taken out of tn."""
    masks = g[:, None] == np.arange(n_groups)[None, :]  # (n, G)
    truth = (y[:, None, None] & masks[:, None, :]).repeat(decided.shape[1], axis=1)
    pred = decided[:, :, None] & masks[:, None, :]
    # one more label, never true nor predicted, so that one column is still multilabel
    spare = np.zeros((len(y), 1), int)
    m = multilabel_confusion_matrix(np.hstack([truth.reshape(len(y), -1), spare]),
                                    np.hstack([pred.reshape(len(y), -1), spare]))
    out = m[:-1].reshape(decided.shape[1], n_groups, 4).copy()  # tn, fp, fn, tp
    out[..., 0] -= len(y) - masks.sum(axis=0)
    return out


def _group_counts(y, s, g, n_groups):
    """Counts of every group at every candidate threshold: each distinct score (everybody at
    or above it selected) and +inf (nobody), as a list per group of (T, 4) arrays."""
    cands = np.append(np.unique(s), np.inf)
    counts = _masked_counts(y, s[:, None] >= cands[None, :], g, n_groups)
    return cands, [counts[:, j] for j in range(n_groups)]


def _rates(c):
    """Rates of counts [..., tn, fp, fn, tp] (NaN where undefined)."""
    tn, fp, fn, tp = np.moveaxis(np.asarray(c, float), -1, 0)
    n = tn + fp + fn + tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"selection_rate": (fp + tp) / n, "true_positive_rate": tp / (tp + fn),
                "false_positive_rate": fp / (fp + tn), "accuracy": (tp + tn) / n}


def _gap(c, constraint, inc):
    """Largest gap over the included groups (last axis but one of ``c``) of each constrained
    rate that is defined; NaN when none is."""
    rates = _rates(c)
    gaps = []
    for name in NAMES[constraint]:
        v = rates[name][..., inc]
        defined = ~np.isnan(v)
        hi = np.where(defined, v, -np.inf).max(axis=-1)
        lo = np.where(defined, v, np.inf).min(axis=-1)
        gaps.append(np.where(defined.any(axis=-1), hi - lo, np.nan))
    if not gaps:
        return math.nan
    gaps = np.array(gaps)
    out = np.where(np.isnan(gaps).all(axis=0), np.nan,
                   np.where(np.isnan(gaps), -np.inf, gaps).max(axis=0))
    return float(out) if out.ndim == 0 else out


def _value(c, objective, fp_cost, fn_cost):
    """Objective of the whole population (larger is better: cost is negated)."""
    tn, fp, fn, tp = np.moveaxis(np.asarray(c, float).sum(axis=-2), -1, 0)
    if objective == "accuracy":
        return (tp + tn) / (tn + fp + fn + tp)
    if objective == "balanced_accuracy":
        return (tp / np.maximum(tp + fn, 1) + tn / np.maximum(tn + fp, 1)) / 2
    return -(fp * fp_cost + fn * fn_cost) / (tn + fp + fn + tp)


def _exhaustive(per_group, constraint, objective, tol, allow_degenerate, inc, fp_cost, fn_cost,
                smallest=False):
    """The best objective over every combination of one candidate per group that meets the
    constraint within ``tol`` and, unless allowed, does not give every group (every included
    group under a constraint) the same all-or-nothing decision. None when nothing qualifies.
    ``smallest``: instead, the smallest gap of such a combination at any tolerance."""
    combos = np.array(list(itertools.product(*[range(len(c)) for c in per_group])))
    c = np.stack([np.asarray(per_group[j])[combos[:, j]] for j in range(len(per_group))],
                 axis=1)  # (combinations, groups, 4)
    sel = _rates(c)["selection_rate"]
    kinds = np.where(sel == 0, 1, np.where(sel == 1, 2, 0))
    held = kinds if constraint == "none" else kinds[:, inc]
    ok = np.ones(len(c), bool)
    if not allow_degenerate:
        ok &= ~((held > 0).all(axis=1) & (held == held[:, :1]).all(axis=1))
    if smallest:
        gap = _gap(c, constraint, inc)
        ok &= ~np.isnan(gap)  # NaN: unmeasurable
        return float(gap[ok].min()) if ok.any() else None
    if constraint != "none":
        ok &= _gap(c, constraint, inc) <= tol + 1e-9  # NaN (unmeasurable) fails
    if not ok.any():
        return None
    return float(_value(c[ok], objective, fp_cost, fn_cost).max())


def _expected(per_group, constraint, objective, tol, allow_degenerate, inc, fp_cost, fn_cost):
    """(feasible, best objective) as documented: the best policy within ``tol``; else the best
    of those with the smallest gap any qualifying policy has, then without the constraint,
    then allowing all-or-nothing policies."""
    args = (objective,)
    found = _exhaustive(per_group, constraint, *args, tol, allow_degenerate, inc, fp_cost,
                        fn_cost)
    if found is not None:
        return True, found
    gap = _exhaustive(per_group, constraint, *args, tol, allow_degenerate, inc, fp_cost,
                      fn_cost, smallest=True)
    if gap is not None:
        return False, _exhaustive(per_group, constraint, *args, gap, allow_degenerate, inc,
                                  fp_cost, fn_cost)
    found = _exhaustive(per_group, "none", *args, 0.0, allow_degenerate, inc, fp_cost, fn_cost)
    if found is not None:
        return False, found
    return False, _exhaustive(per_group, "none", *args, 0.0, True, inc, fp_cost, fn_cost)


def _case(seed):
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(1, 4))
    n = int(rng.integers(4, 13))
    g = rng.permutation(np.concatenate([np.arange(n_groups),
                                        rng.integers(0, n_groups, n - n_groups)]))
    s = rng.integers(0, 5, n) / 4
    y = rng.random(n) < rng.random()
    return dict(y=y, s=s, g=g, n_groups=n_groups,
                constraint=str(rng.choice(list(NAMES))),
                objective=str(rng.choice(list(P.OBJECTIVES))),
                tolerance=float(rng.choice([0.0, 0.1, 0.3])),
                allow_degenerate=bool(rng.random() < 0.3),
                min_group_size=int(rng.choice([0, 3, 4])),
                fn_cost=float(rng.choice([2.0, 0.5])))


@pytest.mark.parametrize("block", range(10))
def test_search_equals_the_exhaustive_optimum_on_small_data(block):
    """On 400 small random cases (1 to 3 groups, ties, groups without positives or negatives,
    small groups left out) the chosen policy's objective is the exhaustive optimum, it meets the
    constraint exactly when some policy does, and its stated gap, flags and per-group figures
    are those scikit-learn counts at its thresholds. Block 6 holds equal accuracy at
    tolerance 0 with all-or-nothing policies allowed (often unmeetable: the closest is found
    among all-or-nothing ones too); block 8 constrains nothing and allows all-or-nothing
    policies; block 9 holds only the one largest group to the constraint."""
    for seed in range(40 * block, 40 * block + 40):
        c = _case(seed)
        if block == 6:
            c.update(constraint="equal_accuracy", tolerance=0.0, allow_degenerate=True)
        if block == 7:  # a tolerance whose double (the first one tried wider) is below 0.02
            c.update(tolerance=0.005)
        if block == 8:  # nothing constrained, all-or-nothing allowed
            c.update(constraint="none", allow_degenerate=True)
        y, s, g, k = c["y"], c["s"], c["g"], c["n_groups"]
        groups = [f"g{j}" for j in range(k)]
        sizes = np.bincount(g, minlength=k)
        if block == 9:  # one group held to the constraint among several
            if k < 2 or (sizes == sizes.max()).sum() > 1:
                continue
            c.update(min_group_size=int(sizes.max()), allow_degenerate=False)
        inc = sizes >= c["min_group_size"]
        if not inc.any():
            inc[:] = True
        _, per_group = _group_counts(y, s, g, k)
        feasible, best = _expected(per_group, c["constraint"], c["objective"], c["tolerance"],
                                   c["allow_degenerate"], inc, 1.0, c["fn_cost"])
        p = P.choose_policy(y, s, g, groups, feature="f", constraint=c["constraint"],
                            objective=c["objective"], tolerance=c["tolerance"],
                            fn_cost=c["fn_cost"], min_group_size=c["min_group_size"],
                            allow_degenerate=c["allow_degenerate"])
        msg = (seed, c["constraint"], c["objective"], p.thresholds)
        got = -p.objective_value if c["objective"] == "cost" else p.objective_value
        assert got == pytest.approx(best, abs=1e-12), msg
        # the figures of the thresholds it states, counted from scratch
        t = np.array([p.thresholds[x] for x in groups])[g]
        counts = _masked_counts(y, (s >= t)[:, None], g, k)[0]
        assert got == pytest.approx(_value(counts, c["objective"], 1.0, c["fn_cost"]),
                                    abs=1e-12), msg
        gap = _gap(counts, c["constraint"], inc) if c["constraint"] != "none" else \
            _gap(counts, "demographic_parity", inc)
        assert p.disparity == pytest.approx(gap, abs=1e-12, nan_ok=True), msg
        assert p.feasible == (feasible and (c["constraint"] == "none" or gap <= c["tolerance"]
                                            + 1e-9)), msg
        sel = _rates(counts)["selection_rate"]
        held = sel if c["constraint"] == "none" else sel[inc]
        assert p.degenerate == bool((held == 0).all() or (held == 1).all()), msg
        assert p.selection_rates == pytest.approx(dict(zip(groups, sel, strict=True))), msg
        assert p.excluded_groups == [x for x, i in zip(groups, inc, strict=True) if not i]
        assert [r["count"] for r in p.by_group] == sizes.tolist()
        assert all(type(r["count"]) is int for r in p.by_group)
        assert [r["in_constraint"] for r in p.by_group] == inc.tolist()
        for r, (tn, fp, fn, tp) in zip(p.by_group, counts, strict=True):
            assert r["false_positive_rate"] == (fp / (fp + tn) if fp + tn else None), msg
            assert r["true_positive_rate"] == (tp / (tp + fn) if tp + fn else None), msg
        if c["allow_degenerate"] is False and p.feasible:
            assert not p.degenerate, msg


# --------------------------------------------------- cases the search once got wrong

def test_a_constraint_no_group_can_be_measured_by_is_not_met():
    """Nobody has a positive outcome: no group has a true positive rate at any threshold, so
    equal opportunity cannot be checked, and the search says it is not met."""
    y = np.zeros(6, bool)
    s = np.array([0.9, 0.2, 0.6, 0.8, 0.3, 0.1])
    g = np.array([0, 0, 0, 1, 1, 1])
    sw = sweep(y, s, g, ["a", "b"], grid_thresholds(s))
    assert P.search(sw, "equal_opportunity", "accuracy", 0.0) == (None, False)


def test_a_group_without_positives_is_not_held_to_equal_opportunity():
    # group b has no positive outcome: its true positive rate is undefined at every threshold,
    # so (as in the stated gap) it cannot make equal opportunity fail
    y = np.array([1, 0, 1, 0, 0, 0], bool)
    s = np.array([0.9, 0.2, 0.6, 0.8, 0.3, 0.1])
    g = np.array([0, 0, 0, 1, 1, 1])
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_opportunity", tolerance=0.0,
                        min_group_size=0)
    # a: 0.6 selects both positives (TPR 1) and no negative; b: nobody selected is best
    assert p.feasible and p.disparity == 0.0
    assert p.objective_value == 1.0
    assert "meets equal opportunity" in p.summary
    eo = P.choose_policy(y, s, g, ["a", "b"], constraint="equalized_odds", tolerance=0.0,
                         min_group_size=0)
    # b is held to the false positive rate only: 0 in both groups, with a's TPR 1
    assert eo.feasible and eo.objective_value == 1.0
    fpr = P.choose_policy(~y, s, g, ["a", "b"], constraint="false_positive_rate_parity",
                          tolerance=0.0, min_group_size=0)
    # outcomes flipped: b has no negatives, so no false positive rate
    assert fpr.feasible


def test_opposite_all_or_nothing_decisions_are_not_degenerate():
    # every score of a group is the same, so each group can only select everybody or nobody;
    # a selects everybody and b nobody: accuracy 1/2 in both (gap 0), balanced accuracy 1/2.
    # Only "everybody in both" or "nobody in both" is degenerate.
    y = np.array([0, 1, 0, 1], bool)
    s = np.array([1.0, 1.0, 1.0, 1.0])
    g = np.array([0, 0, 1, 1])
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_accuracy", tolerance=0.0,
                        objective="balanced_accuracy", min_group_size=0)
    assert p.feasible and not p.degenerate
    assert sorted(p.selection_rates.values()) == [0.0, 1.0]
    assert p.objective_value == 0.5
    # with no constraint, the same pair is the only policy that is not degenerate
    free = P.choose_policy(y, s, g, ["a", "b"], constraint="none", min_group_size=0)
    assert sorted(free.selection_rates.values()) == [0.0, 1.0] and not free.degenerate


def test_a_group_left_out_of_the_constraint_cannot_end_a_degenerate_policy():
    # a (1 person) is left out; b and c (3 each) must not both select everybody or nobody.
    # c has one score, 0.5, so it only selects everybody or nobody.
    y = np.array([1, 0, 0, 1, 0, 1, 1], bool)
    s = np.array([0.3, 0.7, 0.5, 0.9, 0.5, 0.5, 0.5])
    g = np.array([0, 1, 1, 1, 2, 2, 2])
    p = P.choose_policy(y, s, g, ["a", "b", "c"], constraint="demographic_parity",
                        tolerance=1.0, min_group_size=3)
    assert p.excluded_groups == ["a"] and not p.degenerate
    assert {p.selection_rates["b"], p.selection_rates["c"]} != {0.0} and \
        {p.selection_rates["b"], p.selection_rates["c"]} != {1.0}
    # b selects its positive only (1/2), c everybody (2 of 3 right); a freely takes 0.3 or
    # nobody (1 of 2 right either way): 1 + 1 + 2 + 1 of 7... the best over all choices:
    _, per_group = _group_counts(y, s, g, 3)
    want = _exhaustive(per_group, "demographic_parity", "accuracy", 1.0, False,
                       np.array([False, True, True]), 1.0, 1.0)
    assert p.objective_value == pytest.approx(want)


def test_a_single_group_is_never_given_all_or_nothing_unless_allowed():
    # one group: selecting everybody and selecting nobody are both degenerate, so the best
    # real threshold is taken even though "nobody" is more accurate (4 of 6)
    y = np.array([1, 0, 0, 1, 0, 0], bool)
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    p = P.choose_policy(y, s, np.zeros(6, int), ["a"], constraint="none")
    assert 0 < p.selection_rates["a"] < 1 and not p.degenerate
    # the best real threshold: 0.4 selects 0.4, 0.5, 0.6 (one right of three) and leaves
    # 0.1 wrongly out: 3 of 6; 0.2 .. 0.3 do worse or equal; 0.6 gets 3 of 6 too
    assert p.objective_value == pytest.approx(0.5)
    sw = sweep(y, s, np.zeros(6, int), ["a"], grid_thresholds(s))
    assert not P.choose_policy_from_sweep(sw).degenerate  # refused by default here too
    allowed = P.choose_policy(y, s, np.zeros(6, int), ["a"], constraint="none",
                              allow_degenerate=True)
    assert allowed.selection_rates["a"] == 0.0 and allowed.objective_value == pytest.approx(4 / 6)


# ------------------------------------------------------------ front and one threshold

def _small_rows():
    """Three groups of 6, 5 and 2 people with tied scores; c is left out at size 3."""
    y = np.array([1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0], bool)
    s = np.array([0.9, 0.2, 0.6, 0.6, 0.1, 0.4, 0.8, 0.8, 0.3, 0.5, 0.2, 0.7, 0.9])
    g = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
    return y, s, g, ["a", "b", "c"]


@pytest.mark.parametrize("rules", [
    dict(objective="accuracy", min_group_size=3, include_small_groups=False,
         allow_degenerate=False),
    dict(objective="cost", fp_cost=2.0, fn_cost=3.0, min_group_size=0,
         include_small_groups=False, allow_degenerate=True),
    dict(objective="balanced_accuracy", min_group_size=3, include_small_groups=True,
         allow_degenerate=False),
])
def test_front_points_are_the_exhaustive_optimum_at_each_tolerance(rules):
    y, s, g, groups = _small_rows()
    tolerances = (0.0, 0.1, 0.25)
    front = P.pareto_front(y, s, g, groups, constraint="equal_opportunity",
                           tolerances=tolerances, **rules)
    inc = np.bincount(g) >= rules["min_group_size"]
    if rules["include_small_groups"]:
        inc[:] = True
    _, per_group = _group_counts(y, s, g, 3)
    fp_cost, fn_cost = rules.get("fp_cost", 1.0), rules.get("fn_cost", 1.0)
    sign = -1.0 if rules["objective"] == "cost" else 1.0
    assert list(front.columns) == ["tolerance", "objective_value", "disparity", "feasible",
                                   "is_single_threshold", "is_chosen"]
    assert len(front) == 4
    for i, tol in enumerate(tolerances):
        row = front.iloc[i]
        feasible, best = _expected(per_group, "equal_opportunity", rules["objective"], tol,
                                   rules["allow_degenerate"], inc, fp_cost, fn_cost)
        assert row["tolerance"] == tol
        assert sign * row["objective_value"] == pytest.approx(best, abs=1e-12)
        assert bool(row["feasible"]) == feasible
        assert not row["is_single_threshold"] and not row["is_chosen"]
        if feasible:
            assert row["disparity"] <= tol + 1e-12
    single = front.iloc[3]
    assert math.isnan(single["tolerance"]) and single["is_single_threshold"]
    assert single["feasible"] and not single["is_chosen"]
    # the best single threshold over every distinct score, by scikit-learn
    scored = []
    for t in np.append(np.unique(s), np.inf):
        tn, fp, fn, tp = confusion_matrix(y, s >= t, labels=[False, True]).ravel()
        scored.append(sign * _value(np.array([[tn, fp, fn, tp]]), rules["objective"], fp_cost,
                                    fn_cost))
    assert single["objective_value"] == pytest.approx(max(scored) if sign > 0 else min(scored),
                                                      abs=1e-12)
    best_t = P.best_single_threshold(y, s, g, groups, objective=rules["objective"],
                                     constraint="equal_opportunity", fp_cost=fp_cost,
                                     fn_cost=fn_cost)
    t = next(iter(best_t.thresholds.values()))
    c = np.array([confusion_matrix(y[g == j], s[g == j] >= t, labels=[False, True]).ravel()
                  for j in range(3)])
    assert single["disparity"] == pytest.approx(_gap(c, "equal_opportunity", inc), abs=1e-12)
    # best_single_threshold measures the gap over every group
    assert best_t.disparity == pytest.approx(_gap(c, "equal_opportunity", np.ones(3, bool)),
                                             abs=1e-12)
    assert best_t.objective_value == single["objective_value"]
    assert set(best_t.thresholds) == set(groups) and len(set(best_t.thresholds.values())) == 1


def test_the_chosen_policy_is_added_to_the_front_as_one_more_row():
    y, s, g, groups = _small_rows()
    chosen = P.choose_policy(y, s, g, groups, constraint="demographic_parity", tolerance=0.2,
                             min_group_size=0)
    front = P.pareto_front(y, s, g, groups, constraint="demographic_parity", tolerances=(0.2,),
                           min_group_size=0)
    both = P.with_chosen(front, chosen)
    assert len(both) == 3 and both.index.tolist() == [0, 1, 2]
    last = both.iloc[2]
    assert last.to_dict() == {"tolerance": 0.2, "objective_value": chosen.objective_value,
                              "disparity": chosen.disparity, "feasible": chosen.feasible,
                              "is_single_threshold": False, "is_chosen": True}
    assert both.iloc[:2].equals(front)
    same = P.with_chosen(front, None)
    assert same.equals(front) and same is not front
    # pareto_front with chosen= gives the same frame, and the point at the chosen tolerance
    # is the chosen policy
    assert P.pareto_front(y, s, g, groups, constraint="demographic_parity", tolerances=(0.2,),
                          min_group_size=0, chosen=chosen).equals(both)
    assert front.iloc[0]["objective_value"] == chosen.objective_value


# ------------------------------------------------------------------ the summary

def _two_groups(thresholds, counts, **kw):
    return P.policy_from_counts(np.array(counts), ["a", "b"], thresholds,
                                included=np.array([True, True]), feature="sex", **kw)


def test_summary_of_a_per_group_policy_that_misses_its_constraint():
    # a: tn 3, fp 1, fn 1, tp 5 (selects 6 of 10); b: tn 6, fp 0, fn 2, tp 2 (2 of 10)
    p = _two_groups({"a": 0.5, "b": 0.7}, [[3, 1, 1, 5], [6, 0, 2, 2]],
                    constraint="demographic_parity", tolerance=0.05)
    assert p.objective_value == pytest.approx(16 / 20)
    assert p.disparity == pytest.approx(0.4) and not p.feasible and not p.degenerate
    # given thresholds that miss the constraint only "do not meet" it: nothing was searched
    assert p.summary == (
        "Thresholds per group: a 0.500, b 0.700. Accuracy: 0.800. It does not meet demographic "
        "parity within 0.05 (largest gap 0.400). Per 1,000 people: a: 100 wrongly denied and "
        "100 wrongly approved; b: 200 wrongly denied and 0 wrongly approved.")
    searched = _two_groups({"a": 0.5, "b": 0.7}, [[3, 1, 1, 5], [6, 0, 2, 2]],
                           constraint="demographic_parity", tolerance=0.05,
                           searched_feasible=False)
    assert searched.summary == (
        "Thresholds per group: a 0.500, b 0.700. Accuracy: 0.800. It cannot meet demographic "
        "parity within 0.05 (largest gap 0.400). No non-trivial policy (one that does not give "
        "every group the same all-or-nothing decision) with one threshold per group, each among "
        "the candidate thresholds searched, meets it; this is the one closest to meeting it (no "
        "such policy has a smaller largest gap). Per 1,000 people: a: 100 "
        "wrongly denied and 100 wrongly approved; b: 200 wrongly denied and 0 wrongly approved.")
    assert p.costs is None and p.min_group_size == 0 and p.excluded_groups == []
    assert p.to_dict()["kind"] == "per_group"
    assert p.to_dict()["thresholds"] == {"a": 0.5, "b": 0.7}
    assert p.to_dict()["summary"] == p.summary


def test_summary_of_a_cost_policy_in_adverse_words_with_a_volume():
    # cost per decision: (1 false positive x 1 + 3 false negatives x 3) / 20 = 0.5
    p = _two_groups({"a": 0.4, "b": 0.4}, [[3, 1, 1, 5], [6, 0, 2, 2]], objective="cost",
                    fp_cost=1.0, fn_cost=3.0, volume=10_000, constraint="equal_opportunity",
                    tolerance=0.5, favorable_outcome="negative")
    # TPR a 5/6, b 2/4: gap 1/3, within 0.5
    assert p.feasible and p.disparity == pytest.approx(1 / 3)
    assert p.costs == {"fp": 1.0, "fn": 3.0, "volume": 10_000}
    assert p.favorable_outcome == "negative"
    assert p.summary == (
        "One threshold for everyone: 0.400. Expected cost per decision: 0.500. It meets equal "
        "opportunity within 0.5 (largest gap 0.333). Per 1,000 people: a: 100 wrongly not "
        "flagged and 100 wrongly flagged; b: 200 wrongly not flagged and 0 wrongly flagged. "
        "Expected cost for 10,000 decisions: 5,000.")


def test_summary_states_the_cost_of_an_accuracy_policy_given_a_volume():
    p = _two_groups({"a": 0.4, "b": 0.4}, [[3, 1, 1, 5], [6, 0, 2, 2]], fp_cost=2.0,
                    fn_cost=1.0, volume=7)
    # (1 x 2 + 3 x 1) / 20 = 0.25 per decision, 1.75 for 7 (not rounded to 2)
    assert p.costs == {"fp": 2.0, "fn": 1.0, "volume": 7}
    assert p.summary.endswith("Expected cost 0.250 per decision, 1.75 for 7 decisions.")
    none = _two_groups({"a": 0.4, "b": 0.4}, [[3, 1, 1, 5], [6, 0, 2, 2]], objective="cost",
                       fn_cost=2.0)
    assert none.costs == {"fp": 1.0, "fn": 2.0, "volume": None}
    # (1 + 3 x 2) / 20, stated once, at the precision of the objective
    assert "Expected cost per decision: 0.350." in none.summary
    assert none.summary.count("Expected cost") == 1


def test_summary_of_a_degenerate_policy_and_of_left_out_groups():
    p = P.policy_from_counts(np.array([[0, 4, 0, 6], [0, 3, 0, 2], [1, 0, 0, 0]]),
                             ["a", "b", "c"], {"a": 0.1, "b": 0.1, "c": 0.1},
                             included=np.array([True, True, False]), feature="race",
                             constraint="demographic_parity", tolerance=0.0, min_group_size=5)
    # a and b select everybody; c (left out) nobody
    assert p.degenerate and p.feasible and p.disparity == 0.0
    assert p.excluded_groups == ["c"] and p.min_group_size == 5
    assert " Degenerate: every group gets the same decision (everybody is selected)." in \
        p.summary
    assert " Left out of the constraint as smaller than 5 people: c (1 person)." in p.summary
    # c has a false negative rate of 0 of 1 person
    # marked as not compared: its figures are not a gap measured against the others
    assert p.summary.endswith("; c (too few to compare): 0 wrongly denied and 0 wrongly "
                              "approved.")
    nobody = _two_groups({"a": 0.99, "b": 0.99}, [[4, 0, 6, 0], [3, 0, 2, 0]],
                         constraint="demographic_parity", tolerance=0.0, searched_feasible=False)
    assert p.summary.startswith("One threshold for everyone: 0.100. Accuracy: 0.562.")
    assert nobody.degenerate and not nobody.feasible
    assert "(nobody is selected)" in nobody.summary
    assert "It cannot meet demographic parity within 0 (largest gap 0.000). This is the " \
        "closest policy found." in nobody.summary


def test_summary_and_rule_of_a_randomised_policy():
    # b uses 0.6 with probability 0.25, else 0.8; counts are expected values
    p = _two_groups({"a": 0.5, "b": 0.6}, [[3, 1, 1, 5], [6.5, 0.5, 2, 1]],
                    mix={"b": (0.25, 0.8)}, objective="balanced_accuracy",
                    constraint="equal_opportunity", tolerance=0.1)
    assert p.randomized is True
    assert p.mix == {"b": {"probability": 0.25, "else_threshold": 0.8}}
    rows = {r["group"]: r for r in p.by_group}
    assert rows["b"]["probability"] == 0.25 and rows["b"]["else_threshold"] == 0.8
    assert "probability" not in rows["a"]
    assert p.summary.startswith(
        "Randomised: people with the same score in the same group may get different decisions; "
        "group b: threshold 0.600 with probability 0.250, else 0.800. Thresholds per group: "
        "a 0.500, b 0.600. Figures are expected values over the randomisation. Balanced "
        "accuracy: ")
    # balanced accuracy of everyone: TPR (5 + 1) / 9, TNR (3 + 6.5) / 11
    assert p.objective_value == pytest.approx((6 / 9 + 9.5 / 11) / 2)
    rule = p.decision_policy()
    assert rule.feature == "sex" and rule.is_randomized
    assert rule.rules["b"].probability == 0.25 and rule.rules["b"].else_threshold == 0.8
    assert rule.rules["a"].threshold == 0.5 and not rule.rules["a"].is_randomized
    assert rule.chosen_for == {"constraint": "equal_opportunity",
                               "objective": "balanced_accuracy", "tolerance": 0.1}
    # 1 - 0.25 = 0.75 of b's decisions use 0.8
    np.testing.assert_allclose(rule.positive_probability(np.array([0.7, 0.7]),
                                                         np.array([0, 1]), ["a", "b"]),
                               [1.0, 0.25])


# ------------------------------------------------------------- small pieces, by hand

def test_choices_are_checked_with_a_sentence():
    with pytest.raises(FaircardError) as err:
        P.check_choices("parity", "accuracy", 0.0)
    assert str(err.value) == (
        "Unknown constraint 'parity'. Choose one of: none, demographic_parity, "
        "equal_opportunity, false_positive_rate_parity, equalized_odds, equal_accuracy.")
    with pytest.raises(FaircardError) as err:
        P.check_choices("none", "f1", 0.0)
    assert str(err.value) == ("Unknown objective 'f1'. Choose one of: accuracy, "
                              "balanced_accuracy, cost.")
    for bad in (-0.001, math.nan):
        with pytest.raises(FaircardError) as err:
            P.check_choices("none", "cost", bad)
        assert str(err.value) == "The tolerance must be zero or a positive number, e.g. 0.01."
    P.check_choices("equal_accuracy", "cost", 0.0)  # the bound itself is allowed
    with pytest.raises(FaircardError):
        P.choose_policy([True, False], [0.1, 0.2], [0, 0], ["a"], tolerance=-1.0)


def test_groups_at_exactly_the_minimum_size_are_held_to_the_constraint():
    group = np.array([0, 0, 0, 1, 1, 3])  # sizes 3, 2, 0, 1
    assert P.included_groups(group, 4, 2, False).tolist() == [True, True, False, False]
    assert P.included_groups(group, 4, 3, False).tolist() == [True, False, False, False]
    assert P.included_groups(group, 4, 3, True).tolist() == [True, True, True, True]
    assert P.included_groups(group, 5, 0, False).tolist() == [True] * 5
    assert P.included_of(np.array([30, 29]), 30, False).tolist() == [True, False]


def test_policy_decisions_and_expected_counts_by_hand():
    t = {"a": 0.5, "b": 0.7}
    got = P.apply_policy(t, [0.5, 0.49, 0.7, 0.69], [0, 0, 1, 1], ["a", "b"])
    assert got.tolist() == [True, False, True, False]
    # group 0: a positive decided with probability 0.5, a negative with probability 1;
    # group 1: a positive never decided positive
    counts = P.expected_counts(np.array([0, 0, 1]), np.array([True, False, True]),
                               np.array([0.5, 1.0, 0.0]), 2)
    assert counts.tolist() == [[0.0, 1.0, 0.5, 0.5], [0.0, 0.0, 1.0, 0.0]]
    assert counts.dtype == np.float64
    whole = P.expected_counts(np.array([0, 0, 1, 2]), np.array([True, False, True, False]),
                              np.array([1.0, 0.0, 0.0, 1.0]), 4)
    assert whole.tolist() == [[1, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert whole.dtype == np.int64


def test_evaluate_policy_counts_the_rows_and_their_expected_values():
    y = np.array([1, 0, 1, 0, 1, 0], bool)
    s = np.array([0.9, 0.6, 0.65, 0.3, 0.5, 0.7])
    g = np.array([0, 0, 0, 1, 1, 1])
    p = P.evaluate_policy(y, s, g, ["a", "b"], {"a": 0.6, "b": 0.6}, feature="sex",
                          constraint="equal_opportunity", tolerance=0.1, objective="cost",
                          fp_cost=2.0, fn_cost=1.0, volume=100, min_group_size=3)
    # a: 0.9 tp, 0.6 fp, 0.65 tp; b: 0.3 tn, 0.5 fn, 0.7 fp
    assert p.feature == "sex" and p.constraint == "equal_opportunity"
    assert p.objective_value == pytest.approx((2 * 2.0 + 1 * 1.0) / 6)
    assert p.disparity == pytest.approx(1.0) and not p.feasible  # TPR 1 against 0
    assert p.costs == {"fp": 2.0, "fn": 1.0, "volume": 100}
    assert p.excluded_groups == [] and p.min_group_size == 3
    small = P.evaluate_policy(y, s, g, ["a", "b"], {"a": 0.6, "b": 0.6}, min_group_size=4,
                              constraint="equal_opportunity")
    # both groups are smaller than 4: rather than nobody, everybody is held to the constraint
    assert small.excluded_groups == [] and small.disparity == pytest.approx(1.0)
    assert [r["in_constraint"] for r in small.by_group] == [True, True]
    kept = P.evaluate_policy(y, s, g, ["a", "b"], {"a": 0.6, "b": 0.6}, min_group_size=4,
                             include_small_groups=True, searched_feasible=False)
    assert kept.excluded_groups == [] and not kept.feasible
    assert P.evaluate_policy(y, s, g, ["a", "b"], {"a": 0.6, "b": 0.6},
                             favorable_outcome="negative").favorable_outcome == "negative"
    # b decides with 0.6 half the time, else 0.4: 0.5 is selected with probability 1/2
    mixed = P.evaluate_policy(y, s, g, ["a", "b"], {"a": 0.6, "b": 0.6},
                              mix={"b": (0.5, 0.4)}, objective="accuracy")
    rows = {r["group"]: r for r in mixed.by_group}
    assert rows["b"]["true_positive_rate"] == 0.5
    assert rows["b"]["false_positive_rate"] == 0.5
    assert mixed.objective_value == pytest.approx((1 + 0 + 1 + 1 + 0.5 + 0) / 6)


def test_thresholds_that_select_nobody_are_written_above_every_score():
    # the grid writes its top threshold as the shortest number with the same decisions (0.7
    # selects the same people as 0.75); "nobody" must then lie above 0.75, not above 0.7
    s = np.array([0.5, 0.0, 0.75, 0.0, 0.75])
    y = np.array([1, 1, 0, 0, 0], bool)
    g = np.zeros(5, int)
    sw = sweep(y, s, g, ["a"], grid_thresholds(s))
    top = P.finite_thresholds(sw)[-1]
    assert top > 0.75 and not (s >= top).any()
    assert P.finite_thresholds(sw)[:-1].tolist() == sw.thresholds[:-1].tolist()
    # nobody selected is the most accurate (3 of 5), and then written so that it holds
    p = P.choose_policy(y, s, g, ["a"], allow_degenerate=True)
    assert p.selection_rates == {"a": 0.0} and not (s >= p.thresholds["a"]).any()
    assert P.group_sizes(sw).tolist() == [5]


def test_defaults_of_the_entry_points():
    y, s, g, groups = _small_rows()
    _, per_group = _group_counts(y, s, g, 3)
    singles = {}
    for t in np.append(np.unique(s), np.inf):
        tn, fp, fn, tp = confusion_matrix(y, s >= t, labels=[False, True]).ravel()
        singles[t] = ((tp + tn) / len(y), (fp + fn) / len(y), (2 * fp + fn) / len(y))
    # accuracy, and a cost of 1 per error of either kind, unless told otherwise
    assert P.best_single_threshold(y, s, g, groups).objective_value == \
        pytest.approx(max(v[0] for v in singles.values()))
    assert P.best_single_threshold(y, s, g, groups, objective="cost").objective_value == \
        pytest.approx(min(v[1] for v in singles.values()))
    assert P.best_single_threshold(y, s, g, groups, objective="cost", fp_cost=2.0)\
        .objective_value == pytest.approx(min(v[2] for v in singles.values()))
    sw = sweep(y, s, g, groups, grid_thresholds(s))
    one = P.best_single_from_sweep(sw, objective="cost")
    assert one.objective_value == pytest.approx(min(v[1] for v in singles.values()))
    assert one.costs == {"fp": 1.0, "fn": 1.0, "volume": None}
    two = P.best_single_from_sweep(sw, objective="cost", fp_cost=2.0)
    assert two.objective_value == pytest.approx(min(v[2] for v in singles.values()))
    assert two.costs == {"fp": 2.0, "fn": 1.0, "volume": None}
    front = P.pareto_front(y, s, g, groups, constraint="none", objective="cost",
                           tolerances=(0.0,), min_group_size=0)
    assert front.iloc[0]["objective_value"] == pytest.approx(
        -_exhaustive(per_group, "none", "cost", 0.0, False, np.ones(3, bool), 1.0, 1.0))
    chosen = P.choose_policy(y, s, g, groups, volume=1000, objective="cost")
    assert chosen.favorable_outcome == "positive"
    assert chosen.costs == {"fp": 1.0, "fn": 1.0, "volume": 1000}
    assert chosen.summary.endswith(
        f" Expected cost for 1,000 decisions: {chosen.objective_value * 1000:,.0f}.")


def test_default_group_sizes_of_evaluation_and_front():
    y, s, g, groups = _small_rows()
    # a listed group with nobody in it: held to the constraint only at a minimum size of 0
    p = P.evaluate_policy(y, s, g, groups + ["d"], {x: 0.5 for x in groups + ["d"]},
                          constraint="demographic_parity")
    assert p.excluded_groups == [] and [r["count"] for r in p.by_group] == [6, 5, 2, 0]
    # the front leaves out groups smaller than 30 by default: b (30 people) is held to the
    # constraint, c (29) is not
    rng = np.random.default_rng(5)
    g2 = np.repeat([0, 1, 2], [40, 30, 29])
    s2 = np.round(rng.random(99) * (1 + 0.5 * (g2 == 1)), 2)
    y2 = rng.random(99) < 0.5
    sw = sweep(y2, s2, g2, ["a", "b", "c"], grid_thresholds(s2))
    front = P.pareto_front_from_sweep(sw, constraint="demographic_parity", tolerances=(0.0,))
    t = next(iter(P.best_single_from_sweep(sw).thresholds.values()))
    sel = [np.mean(s2[g2 == j] >= t) for j in range(3)]
    assert front.iloc[1]["disparity"] == pytest.approx(abs(sel[0] - sel[1]))
    held = P.choose_policy_from_sweep(sw, constraint="demographic_parity", tolerance=0.0)
    assert held.excluded_groups == ["c"]
    assert front.iloc[0]["objective_value"] == held.objective_value


def _shifted():
    """Two groups whose score distributions differ: equal false and true positive rates need
    a mix of two thresholds in one group."""
    rng = np.random.default_rng(11)
    g = np.repeat([0, 1], [300, 200])
    y = rng.random(500) < np.where(g == 0, 0.4, 0.6)
    s = np.clip(0.35 * y + rng.normal(np.where(g == 0, 0.3, 0.45), 0.18), 0, 1).round(2)
    return y, s, g, ["a", "b"]


def _selection_probability(policy, s, g, groups):
    """Each row's probability of a positive decision under a policy's thresholds and mix."""
    p_pos = np.zeros(len(s))
    for j, x in enumerate(groups):
        rows = g == j
        p_pos[rows] = written_probability(s[rows], policy.thresholds[x], policy.mix.get(x))
    return p_pos


def test_a_randomised_choice_has_the_expected_figures_of_its_rows():
    y, s, g, groups = _shifted()
    rules = dict(constraint="equalized_odds", tolerance=0.0, objective="accuracy")
    mixed = P.choose_policy(y, s, g, groups, randomized=True, **rules)
    plain = P.choose_policy(y, s, g, groups, **rules)
    assert mixed.randomized and mixed.mix and mixed.feasible
    assert mixed.objective_value > plain.objective_value
    # expected counts of the rows under the mix: each row is selected with its probability
    p_pos = _selection_probability(mixed, s, g, groups)
    for j, r in enumerate(mixed.by_group):
        rows = g == j
        tp = p_pos[rows & y].sum()
        fp = p_pos[rows & ~y].sum()
        assert r["true_positive_rate"] == pytest.approx(tp / (rows & y).sum(), abs=1e-12)
        assert r["false_positive_rate"] == pytest.approx(fp / (rows & ~y).sum(), abs=1e-12)
    assert mixed.objective_value == pytest.approx(
        (p_pos[y].sum() + (1 - p_pos[~y]).sum()) / len(y), abs=1e-12)
    front = P.pareto_front(y, s, g, groups, constraint="equalized_odds", tolerances=(0.0,),
                           randomized=True)
    assert front.iloc[0]["objective_value"] == pytest.approx(mixed.objective_value)


def test_when_every_policy_is_all_or_nothing_the_closest_is_one():
    # one score for everybody: each group can only select everybody or nobody
    y = np.array([1, 0, 1, 1, 0, 0], bool)
    s = np.full(6, 0.4)
    g = np.array([0, 0, 0, 1, 1, 1])
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="none", min_group_size=0)
    # nothing is degenerate when the groups differ: a everybody (2 of 3 right), b nobody
    assert p.selection_rates == {"a": 1.0, "b": 0.0} and p.feasible
    one = P.choose_policy(y[:3], s[:3], g[:3], ["a"], constraint="none")
    # with one group, both choices are degenerate: the better one (2 of 3) is shown
    assert one.degenerate and not one.feasible
    assert one.selection_rates == {"a": 1.0} and one.objective_value == pytest.approx(2 / 3)
    assert "Degenerate" in one.summary


def test_a_policy_as_json_has_plain_float_thresholds():
    p = _two_groups({"a": np.float64(0.5), "b": np.float64(0.7)}, [[3, 1, 1, 5], [6, 0, 2, 2]])
    d = p.to_dict()
    assert set(d) == {"feature", "thresholds", "constraint", "objective", "objective_value",
                      "disparity", "tolerance", "feasible", "costs", "by_group", "summary",
                      "degenerate", "randomized", "mix", "selection_rates", "excluded_groups",
                      "min_group_size", "favorable_outcome", "kind", "left_out"}
    assert [type(t) for t in d["thresholds"].values()] == [float, float]
    assert d["kind"] == "per_group" and d["randomized"] is False


def test_summary_names_every_randomised_group():
    p = _two_groups({"a": 0.5, "b": 0.6}, [[3, 1, 1, 5], [6.5, 0.5, 2, 1]],
                    mix={"a": (0.5, 0.4), "b": (0.25, 0.8)})
    assert ("decisions; group a: threshold 0.500 with probability 0.500, else 0.400; group b: "
            "threshold 0.600 with probability 0.250, else 0.800. Thresholds") in p.summary


@pytest.mark.parametrize("tolerance", [0.0, 1.0])
@pytest.mark.parametrize("constraint", ["none", "equalized_odds", "demographic_parity"])
def test_one_group_gets_a_real_threshold_even_when_everybody_is_better(constraint, tolerance):
    # scores run against the outcome: nobody selected is right for 2 of 3, everybody for 1 of
    # 3, and the only real threshold (0.9, both negatives) for none. With one group both
    # all-or-nothing decisions are degenerate, so 0.9 it is.
    y = np.array([1, 0, 0], bool)
    s = np.array([0.1, 0.9, 0.9])
    p = P.choose_policy(y, s, np.zeros(3, int), ["a"], constraint=constraint,
                        tolerance=tolerance, min_group_size=0)
    assert not p.degenerate and p.feasible
    assert p.thresholds["a"] <= 0.9 and p.thresholds["a"] > 0.1
    assert p.objective_value == 0.0


def test_a_randomised_policy_is_kept_only_when_it_costs_less():
    y, s, g, groups = _shifted()
    rules = dict(constraint="equalized_odds", tolerance=0.02, objective="cost", fp_cost=1.0,
                 fn_cost=2.0)
    plain = P.choose_policy(y, s, g, groups, **rules)
    mixed = P.choose_policy(y, s, g, groups, randomized=True, **rules)
    assert plain.feasible and mixed.feasible
    # on these scores a mix meets the constraint more cheaply than any two thresholds
    assert mixed.randomized and mixed.objective_value < plain.objective_value


def test_the_closest_policy_may_be_all_or_nothing_when_allowed():
    # one score per group, so each group selects everybody or nobody. Accuracy of nobody:
    # a 3/4, b 3/5 (gap 0.15); of everybody: a 1/4, b 2/5 (gap 0.15); mixed choices differ by
    # 0.35. Equal accuracy at 0 cannot be met; the closest (within 0.2) is nobody in both,
    # all-or-nothing, which is allowed here: 6 of 9 right
    y = np.array([1, 0, 0, 0, 1, 1, 0, 0, 0], bool)
    s = np.full(9, 0.5)
    g = np.repeat([0, 1], [4, 5])
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_accuracy", tolerance=0.0,
                        allow_degenerate=True, min_group_size=0)
    assert not p.feasible and p.degenerate
    assert p.selection_rates == {"a": 0.0, "b": 0.0}
    assert p.objective_value == pytest.approx(6 / 9)
    assert p.disparity == pytest.approx(0.15)
    _, per_group = _group_counts(y, s, g, 2)
    assert _expected(per_group, "equal_accuracy", "accuracy", 0.0, True, np.ones(2, bool), 1.0,
                     1.0) == (False, pytest.approx(6 / 9))


def test_defaults_of_the_search_and_of_a_policy():
    y, s, g, groups = _small_rows()
    sw = sweep(y, s, g, groups, grid_thresholds(s))
    _, per_group = _group_counts(y, s, g, 3)
    # every group held, costs of 1
    idx, ok = P.search(sw, "none", "cost", 0.0)
    assert ok
    finite = P.finite_thresholds(sw)
    chosen = {x: finite[i] for x, i in zip(groups, idx, strict=True)}
    t = np.array([chosen[x] for x in groups])[g]
    counts = _masked_counts(y, (s >= t)[:, None], g, 3)[0]
    assert _value(counts, "cost", 1.0, 1.0) == pytest.approx(
        _exhaustive(per_group, "none", "cost", 0.0, False, np.ones(3, bool), 1.0, 1.0))
    p = P.choose_policy(y, s, g, groups)
    q = P.choose_policy_from_sweep(sw)
    assert p.tolerance == q.tolerance == 0.01 and p.feature == q.feature == ""
    # all smaller than 30: rather than none, all are held
    assert q.min_group_size == 30 and q.excluded_groups == [] and not q.degenerate
    rng = np.random.default_rng(5)
    g2 = np.repeat([0, 1, 2], [40, 30, 29])
    s2 = np.round(rng.random(99), 2)
    sw2 = sweep(rng.random(99) < 0.5, s2, g2, ["a", "b", "c"], grid_thresholds(s2))
    assert P.choose_policy_from_sweep(sw2, constraint="demographic_parity",
                                      tolerance=0.1).excluded_groups == ["c"]
    assert P.choose_policy_from_sweep(sw2, constraint="demographic_parity", tolerance=0.1,
                                      include_small_groups=True).excluded_groups == []
    e = P.evaluate_policy(y, s, g, groups, {x: 0.5 for x in groups})
    assert e.tolerance == 0.01 and e.feature == ""
    c = P.policy_from_counts(np.array([[1, 0, 0, 1]]), ["a"], {"a": 0.5},
                             included=np.array([True]))
    assert c.tolerance == 0.01 and c.feature == "" and " It meets" not in c.summary
    assert P.best_single_threshold(y, s, g, groups, objective="cost").costs == \
        {"fp": 1.0, "fn": 1.0, "volume": None}
    acc = max(np.mean((s >= t) == y) for t in np.append(np.unique(s), np.inf))
    assert P.best_single_from_sweep(sw).objective_value == pytest.approx(acc)


def test_the_best_single_threshold_for_balanced_accuracy_by_scikit_learn():
    from sklearn.metrics import balanced_accuracy_score

    y, s, g, groups = _shifted()
    sw = sweep(y, s, g, groups, grid_thresholds(s))
    best = max(balanced_accuracy_score(y, s >= t) for t in np.append(np.unique(s), np.inf))
    got = P.best_single_from_sweep(sw, objective="balanced_accuracy")
    assert got.objective_value == pytest.approx(best, abs=1e-12)


def test_a_policy_of_all_or_nothing_groups_says_it_depends_on_the_group_alone():
    p = _two_groups({"a": 0.1, "b": 0.99}, [[0, 4, 0, 6], [3, 0, 2, 0]],
                    constraint="demographic_parity", tolerance=1.0)
    assert not p.degenerate
    assert (" Every group gets an all-or-nothing decision (a: everybody approved; b: nobody "
            "approved): who is approved depends on the group alone, not on the model's scores."
            ) in p.summary


def test_opposite_all_or_nothing_decisions_meet_equalized_odds_when_loose_enough():
    # as above, with equalized odds: everybody in a (TPR 1, FPR 1), nobody in b (0, 0)
    y = np.array([0, 1, 0, 1], bool)
    s = np.full(4, 1.0)
    g = np.array([0, 0, 1, 1])
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equalized_odds", tolerance=1.0,
                        objective="balanced_accuracy", min_group_size=0)
    assert p.feasible and not p.degenerate
    assert sorted(p.selection_rates.values()) == [0.0, 1.0]


def test_the_closest_policy_has_the_smallest_gap_any_policy_reaches():
    """Equal accuracy within 0.04 cannot be met here; the policy returned has the smallest gap
    of any non-trivial policy (exhaustive search) and is the best of those, though a wider
    tolerance (twice 0.04) holds a more accurate one."""
    g = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0])
    s = np.array([6, 7, 2, 0, 3, 5, 2, 0, 2, 8, 6, 3, 5, 6]) / 8
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1], bool)
    _, per_group = _group_counts(y, s, g, 2)
    inc = np.ones(2, bool)
    args = ("equal_accuracy", "balanced_accuracy")
    assert _exhaustive(per_group, *args, 0.04, False, inc, 1.0, 1.0) is None
    smallest = _exhaustive(per_group, *args, 0.04, False, inc, 1.0, 1.0, smallest=True)
    assert 0.04 < smallest <= 0.08
    at_smallest = _exhaustive(per_group, *args, smallest, False, inc, 1.0, 1.0)
    assert _exhaustive(per_group, *args, 0.08, False, inc, 1.0, 1.0) > at_smallest
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_accuracy",
                        objective="balanced_accuracy", tolerance=0.04, min_group_size=0)
    assert not p.feasible
    assert p.disparity == pytest.approx(smallest, abs=1e-9)
    assert p.objective_value == pytest.approx(at_smallest, abs=1e-12)


def test_the_closest_policy_may_be_all_or_nothing_when_that_is_allowed():
    """Equal accuracy within 0 cannot be met here even with all-or-nothing policies; allowed,
    one of them comes closest (gap 0.2: 0.8 against 1.0 for nobody selected) while every
    policy that tells people apart leaves a gap of 0.4. The closest is searched with
    all-or-nothing allowed, at every tolerance tried."""
    g = np.array([0, 0, 0, 0, 1, 0])
    s = np.array([2, 2, 4, 2, 2, 4]) / 4
    y = np.array([0, 1, 0, 0, 0, 0], bool)
    _, per_group = _group_counts(y, s, g, 2)
    inc = np.ones(2, bool)
    args = ("equal_accuracy", "accuracy", 0.0)
    assert _exhaustive(per_group, *args, True, inc, 1.0, 1.0) is None
    smallest = _exhaustive(per_group, *args, True, inc, 1.0, 1.0, smallest=True)
    assert smallest == pytest.approx(0.2)
    assert _exhaustive(per_group, *args, False, inc, 1.0, 1.0, smallest=True) == \
        pytest.approx(0.4)
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_accuracy", tolerance=0.0,
                        min_group_size=0, allow_degenerate=True)
    assert not p.feasible and p.degenerate
    assert p.disparity == pytest.approx(0.2, abs=1e-9)
    assert p.objective_value == pytest.approx(
        _exhaustive(per_group, "equal_accuracy", "accuracy", smallest, True, inc, 1.0, 1.0),
        abs=1e-12)


def test_a_randomised_policy_that_meets_the_constraint_beats_a_better_one_that_does_not():
    """Groups of 3 and 4 people never have equal selection rates under one threshold each
    (except all-or-nothing), so no deterministic policy meets demographic parity at tolerance
    0; a mix can. It is returned though the closest deterministic policy is more accurate."""
    g = np.array([0, 0, 0, 1, 1, 1, 1])
    s = np.array([6, 7, 0, 7, 4, 4, 5]) / 8
    y = np.array([1, 1, 1, 1, 1, 0, 0], bool)
    _, per_group = _group_counts(y, s, g, 2)
    assert _exhaustive(per_group, "demographic_parity", "accuracy", 0.0, False,
                       np.ones(2, bool), 1.0, 1.0) is None
    kw = dict(constraint="demographic_parity", objective="accuracy", tolerance=0.0,
              min_group_size=0)
    fixed = P.choose_policy(y, s, g, ["a", "b"], **kw)
    p = P.choose_policy(y, s, g, ["a", "b"], randomized=True, **kw)
    assert not fixed.feasible and not fixed.degenerate
    assert p.randomized and p.feasible
    assert p.objective_value < fixed.objective_value
    # the mix's expected selection rates, from the rows
    rates = []
    for j, name in enumerate(["a", "b"]):
        mine = s[g == j]
        rates.append(np.mean(written_probability(mine, p.thresholds[name], p.mix.get(name))))
    assert rates[0] == pytest.approx(rates[1], abs=1e-9)
    assert 0 < rates[0] < 1


def test_the_best_single_threshold_for_balanced_accuracy_on_rare_positives():
    """One positive in ten: accuracy is best selecting nobody, balanced accuracy is best at
    0.6 (scikit-learn over every distinct score)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    s = np.array([0.6, 0.9, 0.7, 0.2, 0.3, 0.1, 0.2, 0.3, 0.4, 0.5])
    g = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    sw = sweep(y, s, g, ["a", "b"], grid_thresholds(s))
    cands = np.append(np.unique(s), np.inf)
    scores = [balanced_accuracy_score(y, s >= t) for t in cands]
    got = P.best_single_from_sweep(sw, objective="balanced_accuracy")
    assert got.objective_value == pytest.approx(max(scores), abs=1e-12)
    t = next(iter(got.thresholds.values()))
    assert balanced_accuracy_score(y, s >= t) == pytest.approx(max(scores), abs=1e-12)
    accuracies = [accuracy_score(y, s >= t) for t in cands]
    assert int(np.argmax(accuracies)) == len(cands) - 1 != int(np.argmax(scores))


@pytest.mark.parametrize("fn_cost", [10.0, 0.2])
@pytest.mark.parametrize("small", [True, False])
@pytest.mark.parametrize("constraint", ["demographic_parity", "equal_opportunity"])
def test_front_with_a_costly_false_negative_and_small_groups(constraint, small, fn_cost):
    """Every point of the front is the exhaustive optimum with false negatives costing 10
    times (or a fifth of) a false positive; the single threshold's gap is measured over the
    groups held to the constraint (the small one too when small groups are included)."""
    y, s, g, groups = _small_rows()
    tolerances = (0.0, 0.1, 0.25)
    front = P.pareto_front(y, s, g, groups, constraint=constraint, objective="cost",
                           fp_cost=1.0, fn_cost=fn_cost, tolerances=tolerances,
                           min_group_size=3, include_small_groups=small)
    inc = np.ones(3, bool) if small else np.bincount(g) >= 3
    _, per_group = _group_counts(y, s, g, 3)
    for i, tol in enumerate(tolerances):
        feasible, best = _expected(per_group, constraint, "cost", tol, False, inc, 1.0, fn_cost)
        assert -front.iloc[i]["objective_value"] == pytest.approx(best, abs=1e-12)
        assert bool(front.iloc[i]["feasible"]) == feasible
    single = front.iloc[len(tolerances)]
    # the single threshold, like every point, is never one that gives every group held to
    # the constraint the same all-or-nothing decision (a costly false negative made it
    # "everybody" before)
    held = np.isin(g, np.flatnonzero(inc))
    cands = [t for t in np.append(np.unique(s), np.inf) if 0 < (s[held] >= t).mean() < 1]
    costs = [(np.sum(~y & (s >= t)) + fn_cost * np.sum(y & (s < t))) / len(y) for t in cands]
    assert single["objective_value"] == pytest.approx(min(costs), abs=1e-12)
    t = cands[int(np.argmin(costs))]
    c = np.array([confusion_matrix(y[g == j], s[g == j] >= t, labels=[False, True]).ravel()
                  for j in range(3)])
    assert single["disparity"] == pytest.approx(_gap(c, constraint, inc), abs=1e-12)


@pytest.mark.parametrize("constraint", ["none", "demographic_parity"])
def test_a_costly_false_positive_is_weighed_as_given(constraint):
    y, s, g, groups = _small_rows()
    _, per_group = _group_counts(y, s, g, 3)
    p = P.choose_policy(y, s, g, groups, constraint=constraint, objective="cost",
                        fp_cost=3.0, fn_cost=0.5, tolerance=0.1, min_group_size=0)
    feasible, best = _expected(per_group, constraint, "cost", 0.1, False, np.ones(3, bool),
                               3.0, 0.5)
    assert p.feasible == feasible
    assert -p.objective_value == pytest.approx(best, abs=1e-12)


def test_the_search_uses_the_number_of_thresholds_asked_for():
    rng = np.random.default_rng(5)
    s = np.round(rng.random(60), 3)
    y = rng.random(60) < s
    g = np.repeat([0, 1], 30)
    grid = grid_thresholds(s, 5)
    p = P.choose_policy(y, s, g, ["a", "b"], n_thresholds=5, min_group_size=0)
    for t in p.thresholds.values():
        assert t in grid[np.isfinite(grid)] or t > s.max()


def test_small_groups_can_be_held_to_the_constraint():
    y, s, g, groups = _small_rows()
    p = P.choose_policy(y, s, g, groups, constraint="demographic_parity", tolerance=0.2,
                        min_group_size=3, include_small_groups=True)
    assert p.excluded_groups == []
    assert [r["in_constraint"] for r in p.by_group] == [True, True, True]


@pytest.mark.parametrize("g, s, y, allow", [
    ([0, 1, 1, 0, 1, 1, 0, 1, 0], [0, 0, 1, 0, 3, 0, 3, 4, 4], [0, 0, 1, 0, 1, 1, 0, 0, 1], False),
    # everybody selected in both groups is the best, and allowed
    ([0, 0, 0, 1, 0, 1, 1, 0], [1, 1, 4, 2, 0, 2, 4, 2], [1, 1, 1, 1, 1, 0, 1, 0], True),
])
def test_a_randomised_policy_no_better_than_the_deterministic_one_is_not_used(g, s, y, allow):
    """When a mix only ties the best deterministic policy (the exhaustive optimum over one
    threshold per group), the deterministic one is kept: no one is randomised for nothing."""
    g, s, y = np.array(g), np.array(s) / 4, np.array(y, bool)
    kw = dict(constraint="equal_opportunity", objective="accuracy", tolerance=0.05,
              allow_degenerate=allow, min_group_size=0)
    _, per_group = _group_counts(y, s, g, 2)
    feasible, best = _expected(per_group, "equal_opportunity", "accuracy", 0.05, allow,
                               np.ones(2, bool), 1.0, 1.0)
    p = P.choose_policy(y, s, g, ["a", "b"], randomized=True, **kw)
    assert feasible and p.feasible
    assert p.objective_value == pytest.approx(best, abs=1e-12)
    assert not p.randomized and p.mix == {}
    assert p.thresholds == P.choose_policy(y, s, g, ["a", "b"], **kw).thresholds


def test_two_groups_without_positives_can_end_a_degenerate_policy():
    """Equal opportunity holds only group c (a and b have no positives, so no true positive
    rate); selecting nobody anywhere is the cheapest but degenerate, and moving a or b off
    "nobody" must use that group's own best other threshold (the exhaustive optimum)."""
    g = np.array([1, 2, 0, 1, 1, 0, 1, 2, 0, 2])
    s = np.array([0, 3, 3, 1, 1, 2, 1, 4, 0, 4]) / 4
    y = np.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    _, per_group = _group_counts(y, s, g, 3)
    feasible, best = _expected(per_group, "equal_opportunity", "cost", 0.0, False,
                               np.ones(3, bool), 1.0, 1.0)
    p = P.choose_policy(y, s, g, ["a", "b", "c"], constraint="equal_opportunity",
                        objective="cost", tolerance=0.0, min_group_size=0)
    assert feasible and p.feasible and not p.degenerate
    assert -p.objective_value == pytest.approx(best, abs=1e-12)


def test_costs_default_to_one_in_the_search_the_sweep_entry_and_the_evaluation():
    y, s, g, groups = _small_rows()
    _, per_group = _group_counts(y, s, g, 3)
    sw = sweep(y, s, g, groups, grid_thresholds(s))
    for constraint in ("demographic_parity", "false_positive_rate_parity"):
        feasible, best = _expected(per_group, constraint, "cost", 0.1, False,
                                   np.ones(3, bool), 1.0, 1.0)
        idx, ok = P.search(sw, constraint, "cost", 0.1)  # every group included
        tn, fp, fn, tp = sw.counts[idx, np.arange(3)].sum(axis=0)
        assert ok == feasible and -(fp + fn) / len(y) == pytest.approx(best, abs=1e-12)
    feasible, best = _expected(per_group, "demographic_parity", "cost", 0.1, False,
                               np.ones(3, bool), 1.0, 1.0)
    p = P.choose_policy_from_sweep(sw, constraint="demographic_parity", objective="cost",
                                   tolerance=0.1, min_group_size=0)
    assert -p.objective_value == pytest.approx(best, abs=1e-12)
    front = P.pareto_front_from_sweep(sw, constraint="demographic_parity", objective="cost",
                                      tolerances=(0.1,), min_group_size=0)
    assert -front.iloc[0]["objective_value"] == pytest.approx(best, abs=1e-12)
    e = P.evaluate_policy(y, s, g, groups, p.thresholds, objective="cost")
    t = np.array([p.thresholds[x] for x in groups])[g]
    tn, fp, fn, tp = confusion_matrix(y, s >= t, labels=[False, True]).ravel()
    assert e.objective_value == pytest.approx((fp + fn) / len(y), abs=1e-12)


def test_rows_of_a_policy_state_their_threshold_and_the_summary_every_left_out_group():
    y, s, g, groups = _small_rows()
    p = P.choose_policy(y, s, g, groups, constraint="demographic_parity", tolerance=0.2,
                        min_group_size=6)
    assert [r["threshold"] for r in p.by_group] == [p.thresholds[x] for x in groups]
    assert p.summary.count(" Left out of the constraint as smaller than 6 people: b (5 people), c (2 people).") == 1


# ------------------------------------------------- the rest of the mutation run

def test_a_one_score_group_without_positives_can_end_a_degenerate_policy():
    """Equal opportunity at tolerance 0: a and b reach a common true positive rate only at 0
    (nobody) or 1 (every positive, with many negatives); c has no positive and one score, so
    it selects everybody or nobody. Nobody everywhere is degenerate; the optimum (exhaustive)
    lets c select everybody, an all-or-nothing choice of a group outside the rate."""
    y = np.array([1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0], bool)
    s = np.array([1.0, .5, .5, .5, .5, .25, 1.0, .75, .5, .5, .5, .25, .5])
    g = np.array([0] * 6 + [1] * 6 + [2])
    _, per_group = _group_counts(y, s, g, 3)
    for objective in ("cost", "accuracy"):
        feasible, best = _expected(per_group, "equal_opportunity", objective, 0.0, False,
                                   np.ones(3, bool), 1.0, 1.0)
        p = P.choose_policy(y, s, g, ["a", "b", "c"], constraint="equal_opportunity",
                            objective=objective, tolerance=0.0, min_group_size=0)
        got = -p.objective_value if objective == "cost" else p.objective_value
        assert feasible and p.feasible and not p.degenerate
        assert got == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("constraint, tolerance", [("equalized_odds", 0.02),
                                                   ("equalized_odds", 0.05),
                                                   ("demographic_parity", 0.02)])
def test_the_more_accurate_of_the_randomised_and_the_deterministic_policy_is_kept(
        constraint, tolerance):
    """Both meet the constraint here; the one returned is never less accurate than the best
    deterministic policy, each accuracy counted on the rows (expected over the mix)."""
    from sklearn.metrics import accuracy_score

    y, s, g, groups = _shifted()
    rules = dict(constraint=constraint, tolerance=tolerance, objective="accuracy")
    plain = P.choose_policy(y, s, g, groups, **rules)
    p = P.choose_policy(y, s, g, groups, randomized=True, **rules)
    assert plain.feasible and p.feasible
    t = np.array([plain.thresholds[x] for x in groups])[g]
    plain_accuracy = accuracy_score(y, s >= t)
    p_pos = _selection_probability(p, s, g, groups)
    accuracy = (p_pos[y].sum() + (1 - p_pos[~y]).sum()) / len(y)
    assert p.objective_value == pytest.approx(accuracy, abs=1e-12)
    assert accuracy >= plain_accuracy - 1e-12
    if p.randomized:
        assert accuracy > plain_accuracy
    else:
        assert p.thresholds == plain.thresholds


def test_the_front_holds_all_or_nothing_policies_when_allowed():
    """One score per group (each selects everybody or nobody): with all-or-nothing allowed,
    nobody in both groups is the best policy and every point of the front is the exhaustive
    optimum under that rule."""
    y = np.array([1, 0, 0, 0, 1, 1, 0, 0, 0], bool)
    s = np.full(9, 0.5)
    g = np.repeat([0, 1], [4, 5])
    _, per_group = _group_counts(y, s, g, 2)
    front = P.pareto_front(y, s, g, ["a", "b"], constraint="equal_accuracy",
                           tolerances=(0.0, 0.2), allow_degenerate=True, min_group_size=0)
    for i, tol in enumerate((0.0, 0.2)):
        feasible, best = _expected(per_group, "equal_accuracy", "accuracy", tol, True,
                                   np.ones(2, bool), 1.0, 1.0)
        assert front.iloc[i]["objective_value"] == pytest.approx(best, abs=1e-12)
        assert bool(front.iloc[i]["feasible"]) == feasible
    # refused, the best is another (and no policy meets the constraint)
    assert _expected(per_group, "equal_accuracy", "accuracy", 0.2, False, np.ones(2, bool),
                     1.0, 1.0)[1] < front.iloc[1]["objective_value"]


def test_the_front_counts_a_false_negative_as_one_by_default():
    y, s, g, groups = _small_rows()
    _, per_group = _group_counts(y, s, g, 3)
    front = P.pareto_front(y, s, g, groups, constraint="demographic_parity", objective="cost",
                           tolerances=(0.1,), min_group_size=0)
    assert -front.iloc[0]["objective_value"] == pytest.approx(
        _expected(per_group, "demographic_parity", "cost", 0.1, False, np.ones(3, bool),
                  1.0, 1.0)[1], abs=1e-12)
    costs = [np.mean((s >= t) != y) for t in np.append(np.unique(s), np.inf)]
    assert front.iloc[1]["objective_value"] == pytest.approx(min(costs), abs=1e-12)


def test_an_evaluation_weighs_false_negatives_and_holds_small_groups_as_asked():
    """Groups of 4 and 2 with a minimum size of 3: the small group is held to the constraint
    when asked; a false negative costs 3; figures by scikit-learn on group masks."""
    y = np.array([1, 0, 1, 0, 1, 0], bool)
    s = np.array([0.9, 0.6, 0.3, 0.2, 0.5, 0.7])
    g = np.array([0, 0, 0, 0, 1, 1])
    thresholds = {"a": 0.5, "b": 0.6}
    t = np.array([0.5, 0.6])[g]
    kw = dict(feature="sex", constraint="demographic_parity", tolerance=0.1,
              objective="cost", fp_cost=1.0, fn_cost=3.0, min_group_size=3)
    held = P.evaluate_policy(y, s, g, ["a", "b"], thresholds, include_small_groups=True, **kw)
    left = P.evaluate_policy(y, s, g, ["a", "b"], thresholds, **kw)
    tn, fp, fn, tp = confusion_matrix(y, s >= t, labels=[False, True]).ravel()
    assert held.objective_value == pytest.approx((fp + 3 * fn) / len(y), abs=1e-12)
    rates = [np.mean(s[g == j] >= t[g == j]) for j in range(2)]
    assert held.excluded_groups == [] and held.disparity == pytest.approx(abs(rates[0] - rates[1]))
    assert [r["in_constraint"] for r in held.by_group] == [True, True]
    assert left.excluded_groups == ["b"] and left.disparity == 0.0
    assert [r["feature"] for r in held.by_group] == ["sex", "sex"]


def _counts_of(y, decided, g, n_groups):
    """[tn, fp, fn, tp] of each group (G, 4), by scikit-learn on group masks."""
    return np.array([confusion_matrix(y[g == j], decided[g == j], labels=[False, True]).ravel()
                     for j in range(n_groups)])


def test_figures_from_counts_count_a_false_negative_as_one_by_default():
    y = np.array([1, 0, 1, 1, 0, 0, 1], bool)
    s = np.array([0.8, 0.7, 0.2, 0.4, 0.1, 0.9, 0.3])
    g = np.array([0, 0, 0, 1, 1, 1, 1])
    counts = _counts_of(y, s >= 0.5, g, 2)
    p = P.policy_from_counts(counts, ["a", "b"], {"a": 0.5, "b": 0.5},
                             included=np.ones(2, bool), objective="cost")
    assert p.objective_value == pytest.approx(np.mean((s >= 0.5) != y), abs=1e-12)
    assert p.costs == {"fp": 1.0, "fn": 1.0, "volume": None}


def test_summary_per_1000_people_and_the_cost_of_an_accuracy_policy():
    """a: 3 of its 4 people wrongly denied; b: 3 of 4 wrongly approved. The cost per decision
    of an accuracy policy weighs each false negative by its cost (3 here)."""
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    s = np.array([0.9, 0.2, 0.3, 0.1, 0.8, 0.7, 0.9, 0.2])
    g = np.repeat([0, 1], 4)
    counts = _counts_of(y, s >= 0.5, g, 2)
    p = P.policy_from_counts(counts, ["a", "b"], {"a": 0.5, "b": 0.5}, included=np.ones(2, bool),
                             fp_cost=1.0, fn_cost=3.0, volume=100)
    fn = [np.sum(y & (s < 0.5) & (g == j)) for j in range(2)]
    fp = [np.sum(~y & (s >= 0.5) & (g == j)) for j in range(2)]
    n = np.bincount(g)
    assert (f" Per 1,000 people: a: {1000 * fn[0] / n[0]:.0f} wrongly denied and "
            f"{1000 * fp[0] / n[0]:.0f} wrongly approved; b: {1000 * fn[1] / n[1]:.0f} wrongly "
            f"denied and {1000 * fp[1] / n[1]:.0f} wrongly approved.") in p.summary
    per = (sum(fp) * 1.0 + sum(fn) * 3.0) / len(y)
    assert p.summary.endswith(f" Expected cost {per:.3f} per decision, {per * 100:,.0f} for "
                              "100 decisions.")


def test_summary_of_all_or_nothing_groups_and_of_a_group_left_out_without_a_constraint():
    """Without a constraint every group counts, also one left out by size: a selects
    everybody and b nobody, but c a real share, so the decision is not by group alone."""
    counts = np.array([[0, 4, 0, 6], [3, 0, 2, 0], [1, 1, 1, 1]])
    p = P.policy_from_counts(counts, ["a", "b", "c"], {"a": 0.1, "b": 0.99, "c": 0.5},
                             included=np.array([True, True, False]), constraint="none",
                             min_group_size=5)
    assert p.excluded_groups == ["c"] and not p.degenerate and not p.group_only
    assert "all-or-nothing" not in p.summary
    # with c also all-or-nothing, the summary says so, after its head and figures
    alone = P.policy_from_counts(np.array([[0, 4, 0, 6], [3, 0, 2, 0], [2, 0, 2, 0]]),
                                 ["a", "b", "c"], {"a": 0.1, "b": 0.99, "c": 0.99},
                                 included=np.array([True, True, False]), constraint="none",
                                 min_group_size=5)
    assert alone.group_only
    assert alone.summary.startswith("Thresholds per group: a 0.100, b 0.990, c 0.990 (fewer "
                                    "than 5 people: not compared). Accuracy: ")
    assert (" Every group gets an all-or-nothing decision (a: everybody approved; b: nobody "
            "approved; c: nobody approved)") in alone.summary


def test_the_search_refuses_all_or_nothing_by_default_and_an_unmeasurable_constraint():
    # one group: nobody selected is the most accurate (4 of 6) but degenerate
    y = np.array([1, 0, 0, 1, 0, 0], bool)
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    sw = sweep(y, s, np.zeros(6, int), ["a"], grid_thresholds(s))
    idx, ok = P.search(sw, "none", "accuracy", 0.0)
    assert ok and 0 < sw.counts[idx[0], 0, [1, 3]].sum() < 6
    # the only group held to equalized odds has nobody in it: nothing can be checked
    sw2 = sweep(y, s, np.ones(6, int), ["a", "b"], grid_thresholds(s))
    assert P.search(sw2, "equalized_odds", "accuracy", 0.1,
                    included=np.array([True, False])) == (None, False)


def test_the_groups_held_to_the_constraint_are_a_boolean_mask():
    sizes = np.array([40, 3, 30])
    for small in (False, True):
        mask = P.included_of(sizes, 30, small)
        assert mask.dtype == bool
        assert sizes[mask].tolist() == ([40, 3, 30] if small else [40, 30])


def test_many_levels_find_the_optimum_when_every_gap_is_allowed():
    """600 people with distinct scores give more than 400 candidate levels of the selection
    rate. Within a tolerance of 1 every policy meets demographic parity, so the best is each
    group's most accurate threshold (scikit-learn over every distinct score): a selects all but
    its 5 lowest (rate 0.983), b only its 3 highest (0.01), so a window holding both must be
    searched."""
    from sklearn.metrics import accuracy_score

    n = 300
    s = np.tile(np.arange(n) / n + 0.0005, 2)
    g = np.repeat([0, 1], n)
    y = np.concatenate([np.arange(n) >= 5, np.arange(n) >= n - 3])
    best = sum(max(accuracy_score(y[g == j], s[g == j] >= t)
                   for t in np.append(np.unique(s[g == j]), np.inf)) * n for j in range(2))
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="demographic_parity", tolerance=1.0,
                        min_group_size=0)
    assert p.feasible
    assert p.objective_value == pytest.approx(best / len(y), abs=1e-12)


def test_exact_parity_over_many_levels_is_found_when_it_exists():
    """Groups of 300 and 260 people with distinct scores reach the same selection rate at 19
    pairs of real thresholds (t / 20); the best of them (exhaustive over every pair of
    thresholds, counted by scikit-learn) meets demographic parity at tolerance 0."""
    rng = np.random.default_rng(0)
    n = (300, 260)
    g = np.repeat([0, 1], n)
    s = np.concatenate([(np.arange(n[0]) + 0.5) / n[0], (np.arange(n[1]) + 0.5) / n[1]])
    y = rng.random(len(g)) < np.where(g == 0, 0.2 + 0.6 * s, 0.1 + 0.5 * s)
    cands = [np.append(np.unique(s[g == j]), np.inf) for j in range(2)]
    c = [np.array([confusion_matrix(y[g == j], s[g == j] >= t, labels=[False, True]).ravel()
                   for t in cands[j]]) for j in range(2)]
    rate = [(c[j][:, 1] + c[j][:, 3]) / n[j] for j in range(2)]
    right = (c[0][:, 0] + c[0][:, 3])[:, None] + (c[1][:, 0] + c[1][:, 3])[None, :]
    equal = (rate[0][:, None] == rate[1][None, :]) & (rate[0][:, None] > 0) & \
        (rate[0][:, None] < 1)
    assert equal.sum() == 19
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="demographic_parity", tolerance=0.0,
                        min_group_size=0)
    assert p.feasible
    assert p.objective_value == pytest.approx(right[equal].max() / len(g), abs=1e-12)


def test_equalized_odds_searches_the_level_where_a_group_is_best_off_selecting_nobody():
    """Group a has no positives, so it is held to the false positive rate only, and it is most
    accurate selecting nobody. The best policy within 0.1 (exhaustive over every combination of
    the three groups' thresholds, counted by scikit-learn on group masks) must be found: each
    TPR level's upper bound counts a's best choice, nobody selected; ranked without it, the
    bound of the best level fell below a policy found first and that level was skipped."""
    rng = np.random.default_rng(37)
    sizes = (15, 25, 25)
    g = np.repeat([0, 1, 2], sizes)
    s = rng.integers(0, 101, len(g)) / 100
    y = (rng.random(len(g)) < 0.2 + 0.6 * s) & (g > 0)
    tol = 0.1
    cells = []
    for j in range(3):
        cuts = np.append(np.unique(s[g == j]), np.inf)
        c = np.array([confusion_matrix(y[g == j], s[g == j] >= t, labels=[False, True]).ravel()
                      for t in cuts], dtype=np.float64)
        shape = [1, 1, 1]
        shape[j] = len(cuts)
        cells.append([c[:, i].reshape(shape) for i in range(4)])  # tn, fp, fn, tp
    right_a = cells[0][0] + cells[0][3]
    assert right_a.argmax() == right_a.size - 1  # a: nobody selected is the most accurate
    fpr = [fp / (fp + tn) for tn, fp, _, _ in cells]
    tpr = [tp / (tp + fn) for _, _, fn, tp in cells[1:]]  # a's is undefined: no gap
    sel = [(fp + tp) / n for (_, fp, _, tp), n in zip(cells, sizes, strict=True)]
    gap_f = np.max(np.broadcast_arrays(*fpr), axis=0) - np.min(np.broadcast_arrays(*fpr), axis=0)
    gap_t = np.abs(tpr[0] - tpr[1])
    every = np.broadcast_arrays(*sel)
    degenerate = np.all([x == 0 for x in every], axis=0) | np.all([x == 1 for x in every],
                                                                  axis=0)
    right = sum(tn + tp for tn, _, _, tp in cells)
    ok = (gap_f <= tol + 1e-9) & (gap_t <= tol + 1e-9) & ~degenerate
    p = P.choose_policy(y, s, g, ["a", "b", "c"], constraint="equalized_odds", tolerance=tol,
                        min_group_size=0)
    assert p.feasible
    assert p.objective_value == pytest.approx(right[ok].max() / len(g), abs=1e-12)


@pytest.mark.parametrize("g, s4, y, tolerance", [
    # gap 0.5 (false positive rates 0.5 and 1 or 0, exact in binary)
    ([0, 0, 0, 1, 1, 1, 1, 1], [2, 0, 0, 0, 1, 2, 3, 3], [0, 1, 1, 0, 1, 1, 0, 1], 0.5 - 1e-12),
    # gap 0.25
    ([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [2, 1, 1, 0, 3, 3, 0, 0, 1, 1, 2],
     [1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0], 0.25 - 1e-12)])
def test_a_gap_above_the_tolerance_by_rounding_alone_meets_equalized_odds(g, s4, y, tolerance):
    """The windows of the search admit a gap up to 1e-12 above the tolerance (rounding), as the
    policy's own check does: the best policy here has a gap of 0.5 (or 0.25), 1e-12 above the
    tolerance, and is found, as the exhaustive search (which admits 1e-9) says. The check that
    a TPR level's FPR spans can meet and the filter of its FPR levels end with the same slack."""
    g, s, y = np.array(g), np.array(s4) / 4, np.array(y, bool)
    _, per_group = _group_counts(y, s, g, 2)
    feasible, best = _expected(per_group, "equalized_odds", "accuracy", tolerance, True,
                               np.ones(2, bool), 1.0, 1.0)
    assert feasible
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equalized_odds", tolerance=tolerance,
                        min_group_size=0, allow_degenerate=True)
    assert p.feasible
    assert p.objective_value == pytest.approx(best, abs=1e-12)
    assert p.disparity == pytest.approx(tolerance, abs=2e-12)  # the slack is used


@pytest.mark.parametrize("g, s4, y, tolerance", [
    # the smallest gap, 1/6, is reached both by an all-or-nothing policy (everybody selected)
    # and by one that tells people apart; the all-or-nothing one is more accurate
    ([0, 1, 0, 0, 1, 0, 0, 0, 1], [0, 1, 2, 2, 1, 3, 3, 1, 3], [1, 1, 1, 1, 1, 0, 1, 1, 1], 0.0),
    # all-or-nothing reaches 0.25, nothing else better than 0.5; twice the tolerance, the
    # first wider one tried, lies just below 0.5
    ([0, 0, 1, 0, 0], [3, 2, 1, 2, 0], [0, 1, 0, 0, 0], (0.5 - 4e-7) / 2),
])
def test_the_closest_policy_weighs_all_or_nothing_ones_at_every_step_when_allowed(
        g, s4, y, tolerance):
    """Equal accuracy cannot be met here; with all-or-nothing policies allowed, the closest
    policy is the best of those with the smallest gap any policy reaches, all-or-nothing ones
    included (exhaustive search). Refused in the widening tolerances, the search would start
    its bisection above that gap; refused in the bisection, it would miss the better one."""
    g, s, y = np.array(g), np.array(s4) / 4, np.array(y, bool)
    _, per_group = _group_counts(y, s, g, 2)
    inc = np.ones(2, bool)
    args = ("equal_accuracy", "accuracy", tolerance)
    smallest = _exhaustive(per_group, *args, True, inc, 1.0, 1.0, smallest=True)
    assert _exhaustive(per_group, *args, False, inc, 1.0, 1.0, smallest=True) >= smallest
    feasible, best = _expected(per_group, *args, True, inc, 1.0, 1.0)
    assert not feasible
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_accuracy", tolerance=tolerance,
                        min_group_size=0, allow_degenerate=True)
    assert not p.feasible
    assert p.disparity == pytest.approx(smallest, abs=1e-6)
    assert p.objective_value == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("patch", [{"_CELLS": 5}, {"_BLOCK": 1}])
def test_the_search_in_small_memory_chunks_finds_the_same_optimum(monkeypatch, patch):
    """The levels are searched in chunks of at most ``_CELLS`` level x group cells (about a
    million: only dozens of groups with thousands of levels need several). Forced down to a
    few cells, every chunking path runs on small data, and the chosen policy's objective and
    feasibility are still those of the exhaustive search (as in the test above). With blocks
    of one level, the batches of blocks double (1, 2, 4, ...) until the blocks run out, which
    the last batch may do before it is full."""
    for name, value in patch.items():
        monkeypatch.setattr(P, name, value)
    for seed in range(48):
        c = _case(1000 + seed)
        c["constraint"] = list(NAMES)[seed % len(NAMES)]
        y, s, g, k = c["y"], c["s"], c["g"], c["n_groups"]
        inc = np.bincount(g, minlength=k) >= c["min_group_size"]
        if not inc.any():
            inc[:] = True
        _, per_group = _group_counts(y, s, g, k)
        feasible, best = _expected(per_group, c["constraint"], c["objective"], c["tolerance"],
                                   c["allow_degenerate"], inc, 1.0, c["fn_cost"])
        p = P.choose_policy(y, s, g, [f"g{j}" for j in range(k)], constraint=c["constraint"],
                            objective=c["objective"], tolerance=c["tolerance"],
                            fn_cost=c["fn_cost"], min_group_size=c["min_group_size"],
                            allow_degenerate=c["allow_degenerate"])
        got = -p.objective_value if c["objective"] == "cost" else p.objective_value
        assert got == pytest.approx(best, abs=1e-12), (seed, c["constraint"])
        if feasible:
            assert p.feasible, (seed, c["constraint"])


def test_the_last_block_of_levels_alone_is_searched():
    """Groups of 40 and 26 people with distinct scores reach 65 distinct selection rates: the
    search bounds blocks of 64 levels, so the last level, 1 (everybody selected), is a block of
    its own. Almost everybody is a positive, so with all-or-nothing policies allowed the best
    policy under exact demographic parity selects everybody (exhaustive search); the bound of
    that block must reach its own level."""
    rng = np.random.default_rng(3)
    g = np.repeat([0, 1], [40, 26])
    s = np.concatenate([(np.arange(40) + 0.5) / 40, (np.arange(26) + 0.25) / 26])
    y = rng.random(66) < 0.95
    rates = np.unique(np.concatenate([np.arange(41) / 40, np.arange(27) / 26]))
    assert len(rates) == P._BLOCK + 1
    _, per_group = _group_counts(y, s, g, 2)
    feasible, best = _expected(per_group, "demographic_parity", "accuracy", 0.0, True,
                               np.ones(2, bool), 1.0, 1.0)
    assert feasible and best == pytest.approx(y.mean())
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="demographic_parity", tolerance=0.0,
                        allow_degenerate=True, min_group_size=0)
    assert p.feasible and p.objective_value == pytest.approx(best, abs=1e-12)
    assert p.selection_rates == {"a": 1.0, "b": 1.0}


@pytest.mark.parametrize("constraint", ["false_positive_rate_parity", "demographic_parity"])
def test_a_group_with_one_score_alone_gets_the_better_all_or_nothing_decision(constraint):
    """One group whose four people share one score: selecting everybody or nobody is all there
    is, and with one group held both are all-or-nothing (refused), so no policy qualifies;
    the last resort is the best all-or-nothing one, nobody selected (3 of 4 right), as the
    exhaustive search has it. Had the opposite decision counted as a way out for one group,
    everybody (1 of 4) would have been returned."""
    y = np.array([0, 1, 0, 0], bool)
    s = np.ones(4)
    g = np.zeros(4, int)
    _, per_group = _group_counts(y, s, g, 1)
    assert _expected(per_group, constraint, "accuracy", 0.3, False, np.ones(1, bool), 1.0,
                     1.0) == (False, pytest.approx(0.75))
    p = P.choose_policy(y, s, g, ["a"], constraint=constraint, tolerance=0.3, min_group_size=3)
    assert not p.feasible and p.degenerate
    assert p.selection_rates == {"a": 0.0} and p.objective_value == pytest.approx(0.75)


def test_a_block_of_levels_where_a_group_is_best_off_selecting_nobody_is_searched():
    """Groups of 56 and 57 people with distinct scores reach more than 64 accuracy levels, so
    levels are bounded in blocks; group a has few positives, so selecting nobody is often its
    cheapest choice. The best policy (equal accuracy within 0.1, cost with a false negative
    twice a false positive) is the exhaustive optimum only if each block's bound counts that
    choice; ranked without it, a block was skipped for a costlier policy."""
    rng = np.random.default_rng(215)
    na, nb = int(rng.integers(30, 60)), int(rng.integers(30, 60))
    g = np.repeat([0, 1], [na, nb])
    s = rng.permutation(na + nb) / (na + nb) + 0.001
    pa, pb = rng.uniform(0.0, 0.15), rng.uniform(0.2, 0.8)
    y = rng.random(na + nb) < np.where(g == 0, pa * (1 - s), pb * s * 1.5)
    _, per_group = _group_counts(y, s, g, 2)
    assert (na, nb) == (56, 57)
    rules = ("equal_accuracy", "cost", 0.1, False, np.ones(2, bool), 1.0, 2.0)
    feasible, best = _expected(per_group, *rules)
    p = P.choose_policy(y, s, g, ["a", "b"], constraint="equal_accuracy", objective="cost",
                        tolerance=0.1, fn_cost=2.0, min_group_size=0)
    assert feasible and p.feasible
    assert -p.objective_value == pytest.approx(best, abs=1e-12)


def test_groups_without_positives_each_weigh_their_own_way_out_of_an_all_or_nothing_policy():
    """Equal opportunity holds only group a (b and c have no positives, so no true positive
    rate; they are still among the groups that must not all get one all-or-nothing decision).
    The best policy (exhaustive search) gets all 9 right: a selects everybody (its two
    positives), b and c nobody. Where a level's best choices are all-or-nothing for every
    group, one group is moved to its best other choice, weighed by that group's own gains;
    weighed by the best of both free groups' gains, a repaired level looked better than it
    is and a policy with 6 of 9 right was returned."""
    g = np.array([0, 2, 1, 1, 0, 1, 2, 1, 1])
    s = np.array([3, 0, 0, 1, 0, 1, 1, 3, 2]) / 4
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0], bool)
    _, per_group = _group_counts(y, s, g, 3)
    assert _expected(per_group, "equal_opportunity", "accuracy", 0.3, False, np.ones(3, bool),
                     1.0, 1.0) == (True, 1.0)
    p = P.choose_policy(y, s, g, ["a", "b", "c"], constraint="equal_opportunity",
                        tolerance=0.3, min_group_size=0)
    assert p.feasible and not p.degenerate
    assert p.objective_value == 1.0


def test_the_search_counts_a_false_positive_as_one_by_default():
    """One group: a threshold at 0.1 selects two negatives and misses no positive (2 false
    positives), one at 0.9 misses three positives (3 false negatives); everybody or nobody is
    refused. With both errors costing 1 by default, 0.1 is the cheaper (scikit-learn's
    confusion matrix at every distinct score)."""
    y = np.array([0, 1, 1, 1, 0, 0, 1], bool)
    s = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9])
    sw = sweep(y, s, np.zeros(7, int), ["a"], grid_thresholds(s))
    idx, ok = P.search(sw, "none", "cost", 0.0)
    t = P.finite_thresholds(sw)[idx[0]]
    _, fp, fn, _ = confusion_matrix(y, s >= t, labels=[False, True]).ravel()
    costs = [sum(confusion_matrix(y, s >= c, labels=[False, True]).ravel()[1:3])
             for c in np.unique(s)[1:]]  # every real threshold
    assert ok and fp + fn == min(costs) == 2
