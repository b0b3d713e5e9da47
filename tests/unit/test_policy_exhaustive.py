"""The per-group threshold search is exact: on small data with more candidate levels than any
thinning would keep, its best objective and its feasibility equal an exhaustive search over
every combination of per-group thresholds, counted here with scikit-learn and NumPy."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from faircard import policy as P
from faircard.thresholds import grid_thresholds
from tests.unit.test_thresholds import _Scores

FP_COST, FN_COST = 5.0, 1.0


def _rows(sizes, seed):
    """Distinct scores in every group (so every cut is a candidate), outcomes whose rate
    rises with the score differently per group."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(len(sizes)), sizes)
    s = rng.permutation(len(g)) / len(g) + 0.5 / len(g)  # distinct, in (0, 1)
    slope = np.array([0.7, 0.45, 0.9])[g]
    base = np.array([0.1, 0.25, 0.05])[g]
    y = rng.random(len(g)) < base + slope * s
    return y, s, g


DATASETS = {"two groups of 300 and 260": ((300, 260), 1),
            "three groups of 150, 140 and 130": ((150, 140, 130), 2)}


class _Oracle:
    """Every combination of per-group thresholds (each group: each distinct score and
    'nobody'), with its objectives, the groups' rates and whether it is degenerate."""

    def __init__(self, y, s, g):
        n_groups = g.max() + 1
        per = []
        for j in range(n_groups):
            yj, sj = y[g == j], s[g == j]
            cuts = np.append(np.unique(sj), np.inf)
            per.append(np.array([confusion_matrix(yj, sj >= t, labels=[False, True]).ravel()
                                 for t in cuts], dtype=np.float64))
        self.cuts_per_group = [len(c) for c in per]
        shape = tuple(len(c) for c in per)

        def spread(j, col):  # group j's column as an array over every combination
            idx = [None] * n_groups
            idx[j] = slice(None)
            return per[j][:, col][tuple(idx)]

        tn, fp, fn, tp = ([spread(j, c) for j in range(n_groups)] for c in range(4))
        total = [sum(x) + np.zeros(shape) for x in (tn, fp, fn, tp)]
        n, pos = len(y), y.sum()
        self.objective = {
            "accuracy": (total[0] + total[3]) / n,
            "balanced_accuracy": (total[3] / pos + total[0] / (n - pos)) / 2,
            "cost": (total[1] * FP_COST + total[2] * FN_COST) / n}
        size = [tn[j] + fp[j] + fn[j] + tp[j] for j in range(n_groups)]
        rates = {
            "selection_rate": [(fp[j] + tp[j]) / size[j] for j in range(n_groups)],
            "true_positive_rate": [tp[j] / (tp[j] + fn[j]) for j in range(n_groups)],
            "false_positive_rate": [fp[j] / (fp[j] + tn[j]) for j in range(n_groups)],
            "accuracy": [(tp[j] + tn[j]) / size[j] for j in range(n_groups)]}
        self.gap = {m: np.max(np.broadcast_arrays(*r), axis=0)
                    - np.min(np.broadcast_arrays(*r), axis=0) for m, r in rates.items()}
        sel = np.broadcast_arrays(*rates["selection_rate"])
        self.degenerate = np.all([x == 0 for x in sel], axis=0) | \
            np.all([x == 1 for x in sel], axis=0)

    def best(self, constraint, objective, tol):
        """(any non-degenerate policy meets the constraint, the best objective among them)."""
        ok = ~self.degenerate
        for m in P.CONSTRAINTS[constraint]:
            ok &= self.gap[m] <= tol + 1e-9  # rates differ by at least 1 / 78,000 here
        if not ok.any():
            return False, None
        value = self.objective[objective][ok]
        return True, float(value.min() if objective == "cost" else value.max())


@pytest.fixture(scope="module", params=list(DATASETS))
def case(request):
    sizes, seed = DATASETS[request.param]
    y, s, g = _rows(sizes, seed)
    return y, s, g, _Oracle(y, s, g)


@pytest.mark.parametrize("tol", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("objective", P.OBJECTIVES)
@pytest.mark.parametrize("constraint", list(P.CONSTRAINTS))
def test_search_equals_the_exhaustive_optimum(case, constraint, objective, tol):
    y, s, g, oracle = case
    groups = [f"g{j}" for j in range(g.max() + 1)]
    # the grid holds a threshold for every cut between scores (and above them all), so the
    # exhaustive combinations are exactly the policies faircard chooses among
    cuts = np.unique(np.searchsorted(np.sort(s), grid_thresholds(s), side="left"))
    assert len(cuts) == len(s) + 1
    # more candidate levels than the 400 a thinned search kept
    assert sum(oracle.cuts_per_group) > 400
    feasible, best = oracle.best(constraint, objective, tol)
    p = P.choose_policy(y, s, g, groups, constraint=constraint, objective=objective,
                        tolerance=tol, fp_cost=FP_COST, fn_cost=FN_COST, min_group_size=0)
    assert p.feasible == feasible
    if feasible:
        assert p.objective_value == pytest.approx(best, abs=1e-12)
        assert not p.degenerate
        if constraint != "none":
            assert p.disparity <= tol + 1e-9
        assert f"It meets {constraint.replace('_', ' ')}" in p.summary or constraint == "none"
    else:
        assert "cannot meet" in p.summary


def test_exact_parity_exists_at_tolerance_zero_in_both_datasets():
    """The datasets are not trivial for tolerance 0: the exhaustive search finds policies with
    equal selection rates, true positive rates and accuracies (the cases a thinned search
    reported as "cannot meet")."""
    for sizes, seed in DATASETS.values():
        oracle = _Oracle(*_rows(sizes, seed))
        for constraint in ("demographic_parity", "equal_opportunity", "equal_accuracy"):
            assert oracle.best(constraint, "accuracy", 0.0)[0], (sizes, constraint)


@pytest.mark.parametrize("constraint,theirs", [
    ("demographic_parity", "demographic_parity"),
    ("equal_opportunity", "true_positive_rate_parity"),
    ("false_positive_rate_parity", "false_positive_rate_parity"),
    ("equalized_odds", "equalized_odds")])
def test_deterministic_optimum_is_at_most_threshold_optimizers(case, constraint, theirs):
    """fairlearn's ThresholdOptimizer randomises between thresholds to meet the constraint
    exactly, so its expected accuracy bounds every deterministic policy that meets it at
    tolerance 0 from above; the deterministic optimum found stays below it."""
    from fairlearn.postprocessing import ThresholdOptimizer

    y, s, g, oracle = case
    groups = [f"g{j}" for j in range(g.max() + 1)]
    labels = np.array(groups)[g]
    X = pd.DataFrame({"score": s})
    to = ThresholdOptimizer(estimator=_Scores().fit(X, y), constraints=theirs,
                            objective="accuracy_score", prefit=True, predict_method="predict")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to.fit(X, y.astype(int), sensitive_features=labels)
        p_pos = to._pmf_predict(X, sensitive_features=labels)[:, 1]
    theirs_accuracy = float(np.mean(y * p_pos + (~y) * (1 - p_pos)))
    p = P.choose_policy(y, s, g, groups, constraint=constraint, tolerance=0.0,
                        min_group_size=0)
    if p.feasible:
        assert p.objective_value <= theirs_accuracy + 1e-9
        assert p.objective_value == pytest.approx(oracle.best(constraint, "accuracy", 0.0)[1],
                                                  abs=1e-12)
