"""Structural checks of loaded models whose compiled code trusts their arrays.

scikit-learn's tree code follows node indices without bounds checks, so a crafted file could
make ``predict`` read outside its arrays. Every ``Tree`` and ``TreePredictor`` reachable from a
loaded estimator is checked here: children come after their parent and inside the node array,
split features exist, categorical bitset indices are in range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import FaircardError

_MAX_DEPTH = 60


def _bad(what: str) -> FaircardError:
    return FaircardError(
        f"The model file contains a damaged or tampered decision tree ({what}); faircard does "
        "not use it."
    )


def _check_children(left: np.ndarray, right: np.ndarray, internal: np.ndarray) -> None:
    n = len(left)
    idx = np.arange(n)
    li, ri = left[internal], right[internal]
    if ((li <= idx[internal]) | (li >= n) | (ri <= idx[internal]) | (ri >= n)).any():
        raise _bad("a node points outside the tree or backwards")


def check_sklearn_tree(tree: Any, n_features: int | None) -> None:
    """Check a ``sklearn.tree._tree.Tree``."""
    n = int(tree.node_count)
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    feature = np.asarray(tree.feature, dtype=np.int64)
    if not (len(left) == len(right) == len(feature) == n) or n < 1:
        raise _bad("node arrays of different lengths")
    leaf = (left == -1) & (right == -1)
    internal = ~leaf
    if ((left == -1) != (right == -1)).any():
        raise _bad("a node with a single child")
    _check_children(left, right, internal)
    limit = int(tree.n_features) if n_features is None else min(int(tree.n_features), n_features)
    f = feature[internal]
    if ((f < 0) | (f >= limit)).any():
        raise _bad("a split on a feature that does not exist")
    value = np.asarray(tree.value)
    if value.shape[0] != n:
        raise _bad("leaf values do not match the nodes")


def check_tree_predictor(pred: Any, n_features: int | None) -> None:
    """Check a HistGradientBoosting ``TreePredictor``."""
    nodes = pred.nodes
    n = len(nodes)
    if n < 1:
        raise _bad("an empty tree")
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    internal = ~nodes["is_leaf"].astype(bool)
    _check_children(left, right, internal)
    f = nodes["feature_idx"].astype(np.int64)[internal]
    if n_features is not None and ((f < 0) | (f >= n_features)).any():
        raise _bad("a split on a feature that does not exist")
    cat = internal & nodes["is_categorical"].astype(bool)
    if cat.any():
        bits = np.asarray(pred.raw_left_cat_bitsets)
        b = nodes["bitset_idx"].astype(np.int64)[cat]
        if ((b < 0) | (b >= len(bits))).any():
            raise _bad("a categorical split without its categories")


def validate_estimator(est: Any) -> None:
    """Walk ``est`` (pipelines, ensembles, nested attributes) and check every tree in it.

    Every ``n_jobs`` met on the way is set to 1 (the same predictions): a forest saved with
    ``n_jobs=3000`` asked the child for 3,000 threads, more than its address space holds, and
    failed with "'DummyProcess' object has no attribute 'terminate'"; with ``n_jobs=-1`` it
    would take a thread per core of the server."""
    seen: set[int] = set()
    n_features = getattr(est, "n_features_in_", None)
    _walk(est, seen, n_features, 0)


def _walk(obj: Any, seen: set[int], n_features: int | None, depth: int) -> None:
    if depth > _MAX_DEPTH or id(obj) in seen:
        return
    seen.add(id(obj))
    name = type(obj).__name__
    module = type(obj).__module__
    if module == "sklearn.tree._tree" and name == "Tree":
        check_sklearn_tree(obj, n_features)
        return
    if name == "TreePredictor" and module.startswith("sklearn.ensemble._hist_gradient_boosting"):
        check_tree_predictor(obj, n_features)
        return
    if isinstance(obj, dict):
        for v in obj.values():
            _walk(v, seen, n_features, depth + 1)
    elif isinstance(obj, list | tuple):
        for v in obj:
            _walk(v, seen, n_features, depth + 1)
    elif isinstance(obj, np.ndarray):
        if obj.dtype == object:
            for v in obj.ravel():
                _walk(v, seen, n_features, depth + 1)
    elif hasattr(obj, "__dict__") and module.startswith("sklearn"):
        inner = getattr(obj, "n_features_in_", n_features)
        # a pipeline's later steps see transformed features: do not bound them by the input
        if name in ("Pipeline", "ColumnTransformer"):
            inner = None
        if "n_jobs" in vars(obj):
            obj.n_jobs = 1
        for v in vars(obj).values():
            _walk(v, seen, inner, depth + 1)
