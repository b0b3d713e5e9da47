"""Malicious model files are refused with a clear message and never run their payload."""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import struct

import joblib
import numpy as np
import pytest

from faircard import FaircardError
from faircard.io.models import load_model
from faircard.io.safe_pickle import RefusedGlobal, check_global


class _Reduce:
    """An object whose unpickling calls ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _marker_cmd(marker):
    return f"touch {marker}"


def _stack_global(module: str, name: str, arg: str) -> bytes:
    """Raw protocol-4 opcodes: STACK_GLOBAL(module, name)(arg)."""
    def unicode(s: str) -> bytes:
        b = s.encode()
        return b"\x8c" + bytes([len(b)]) + b  # SHORT_BINUNICODE

    body = unicode(module) + unicode(name) + b"\x93" + unicode(arg) + b"\x85" + b"R" + b"."
    return b"\x80\x04" + b"\x95" + struct.pack("<Q", len(body)) + body


def _payloads(marker):
    import subprocess

    import sklearn.datasets

    victim = marker.parent / "data_home"
    victim.mkdir(exist_ok=True)
    (victim / "keep.txt").write_text("precious")
    return {
        "os.system": (pickle.dumps(_Reduce(os.system, _marker_cmd(marker))), "system"),
        "builtins.eval": (pickle.dumps(_Reduce(eval, f"open({str(marker)!r}, 'w')")), "eval"),
        "subprocess.Popen": (pickle.dumps(_Reduce(subprocess.Popen, ["touch", str(marker)])),
                             "Popen"),
        "dotted STACK_GLOBAL": (_stack_global("sklearn._config", "os.system",
                                              _marker_cmd(marker)), "os.system"),
        "harmful sklearn function": (pickle.dumps(_Reduce(sklearn.datasets.clear_data_home,
                                                          str(victim))), "clear_data_home"),
    }


@pytest.mark.parametrize("ext", [".pkl", ".joblib"])
@pytest.mark.parametrize("case", ["os.system", "builtins.eval", "subprocess.Popen",
                                  "dotted STACK_GLOBAL", "harmful sklearn function"])
def test_malicious_pickles_are_refused(tmp_path, case, ext):
    marker = tmp_path / "pwned"
    raw, word = _payloads(marker)[case]
    with pytest.raises(FaircardError) as info:
        load_model(raw, filename="model" + ext)
    msg = str(info.value)
    assert "does not allow" in msg and word in msg, msg
    assert "\n" not in msg
    assert not marker.exists()
    assert (tmp_path / "data_home" / "keep.txt").exists()


def test_payload_inside_object_array_in_joblib_file(tmp_path):
    marker = tmp_path / "pwned"
    arr = np.empty(2, dtype=object)
    arr[0] = _Reduce(os.system, _marker_cmd(marker))
    arr[1] = "ok"
    buf = io.BytesIO()
    joblib.dump({"coef": arr}, buf)
    with pytest.raises(FaircardError, match="system"):
        load_model(buf.getvalue(), filename="m.joblib")
    assert not marker.exists()
    # and the same payload refused in-process by joblib's inner unpickler path
    from faircard.io.safe_pickle import restricted_joblib_loads

    with pytest.raises(RefusedGlobal):
        restricted_joblib_loads(buf.getvalue())
    assert not marker.exists()


def test_compressed_joblib_payload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    joblib.dump(_Reduce(os.system, _marker_cmd(marker)), buf, compress=3)
    with pytest.raises(FaircardError, match="does not allow"):
        load_model(buf.getvalue(), filename="m.joblib")
    assert not marker.exists()


def test_allowlist_is_exact_not_a_prefix():
    check_global("sklearn.pipeline", "Pipeline")
    for module, name in [("sklearn._config", "os.system"), ("sklearn.pipeline", "os"),
                         ("sklearn", "datasets"), ("sklearn.datasets", "clear_data_home"),
                         ("numpy", "load"), ("numpy.testing", "run_module_suite"),
                         ("builtins", "getattr"), ("joblib", "load"), ("os", "system")]:
        with pytest.raises(RefusedGlobal):
            check_global(module, name)


def test_untrusted_type_in_skops_file_is_refused(tmp_path):
    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = Pipeline([("f", FunctionTransformer(np.log1p))])
    with pytest.raises(FaircardError, match="log1p"):
        load_model(sio.dumps(pipe), filename="m.skops")


def _u(text: str) -> bytes:
    b = text.encode()
    return b"\x8c" + bytes([len(b)]) + b  # SHORT_BINUNICODE


def test_memory_bomb_is_stopped_and_caller_survives():
    # _reconstruct(ndarray, (4e9,), b"b") with only allowed globals: asks for 4 GB at load time
    n = 4_000_000_000
    long1 = b"\x8a\x05" + n.to_bytes(5, "little", signed=True)
    body = (_u("numpy._core.multiarray") + _u("_reconstruct") + b"\x93"
            + _u("numpy") + _u("ndarray") + b"\x93"
            + long1 + b"\x85" + b"C\x01b" + b"\x87R.")
    raw = b"\x80\x04" + body
    pickletools.dis(raw, out=io.StringIO())  # a well-formed pickle
    with pytest.raises(FaircardError, match="memory"):
        load_model(raw, filename="bomb.pkl", memory_limit_mb=1024)


def test_timeout_stops_a_slow_load():
    buf = io.BytesIO()
    joblib.dump(np.zeros(10), buf)
    with pytest.raises(FaircardError, match="longer than"):
        load_model(buf.getvalue(), filename="m.joblib", timeout_s=0.05)


def test_unsafe_mode_loads_trusted_file_with_warning(tmp_path):
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(0).normal(size=(50, 2))
    est = LogisticRegression().fit(X, X[:, 0] > 0)
    m = load_model(pickle.dumps(est), filename="m.pkl", allow_unsafe_pickle=True)
    assert any("unsafe" in w for w in m.warnings)
    np.testing.assert_array_equal(m.predict_labels(X), est.predict(X))


def _fitted_tree_models():
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    return X, {
        "tree": DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y),
        "forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
        "hgb": HistGradientBoostingClassifier(max_iter=3).fit(X, y),
    }


def _tamper(est, field, value):
    """Overwrite one node field of the first tree inside ``est`` (in place)."""
    if hasattr(est, "_predictors"):
        nodes = est._predictors[0][0].nodes
        key = {"left_child": "left", "feature": "feature_idx"}[field]
        internal = np.flatnonzero(~nodes["is_leaf"].astype(bool))[0]
        nodes[key][internal] = value
        return
    tree = (est.estimators_[0] if hasattr(est, "estimators_") else est).tree_
    state = tree.__getstate__()
    state["nodes"][field][0] = value
    tree.__setstate__(state)


@pytest.mark.parametrize("kind", ["tree", "forest", "hgb"])
@pytest.mark.parametrize("field,value", [("left_child", 10**6), ("left_child", 0),
                                         ("feature", 999)])
@pytest.mark.parametrize("fmt", ["pkl", "skops"])
def test_tampered_trees_are_refused_before_use(kind, field, value, fmt):
    import skops.io as sio

    _, models = _fitted_tree_models()
    est = models[kind]
    _tamper(est, field, value)
    raw = pickle.dumps(est) if fmt == "pkl" else sio.dumps(est)
    with pytest.raises(FaircardError, match="damaged or tampered"):
        load_model(raw, filename="m." + fmt)


def test_intact_trees_pass_validation():
    from faircard.io.validate import validate_estimator

    X, models = _fitted_tree_models()
    for est in models.values():
        validate_estimator(est)
