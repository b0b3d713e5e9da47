"""Hostile model files, generated at test time (no binary blobs in the repository).

Each payload is ``(file name, bytes, expected)``: ``expected`` is a regular expression the
one-line message must match. Families:

- crafted fitted state: allowed classes whose fitted arrays make scikit-learn's compiled code
  read or write out of bounds (each as pickle, joblib and .skops);
- pickle gadgets: files that would run code on loading (each would create ``canary``);
- zip bombs inside .skops files;
- resource hogs: deep nesting, huge allocations, stride-0 views.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

CRASHED = r"crashed while predicting \(signal \d+, SIG[A-Z]+\)"
TAMPERED = r"damaged or tampered"
REFUSED = r"does not allow"
UNREADABLE = r"could not be read|could not be opened|could not score"
MEMORY = r"more than [\d,]+ MB of memory"


def frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three numeric features ``a, b, c``, a 0/1 target ``y`` and a group column ``g``."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    X["y"] = (X["a"] + rng.normal(size=n) > 0).astype(int)
    X["g"] = rng.choice(["u", "v"], n)
    return X


def _fit(est):
    df = frame()
    return est.fit(df[["a", "b", "c"]], df["y"])


def _set_tree(tree, field: str, value, n_features: int | None = None):
    """A copy of ``tree`` (sklearn Tree) with node 0's ``field`` set to ``value`` (and a
    claimed feature count ``n_features``)."""
    from sklearn.tree._tree import Tree

    state = tree.__getstate__()
    state["nodes"] = state["nodes"].copy()
    state["nodes"][field][0] = value
    nf = tree.n_features if n_features is None else n_features
    new = Tree(nf, np.asarray(tree.n_classes), tree.n_outputs)
    new.__setstate__(state)
    return new


# ---------------------------------------------------------------- crafted fitted state


def gb_zero_init_wide():
    """GradientBoosting with ``init_="zero"`` and more trees per stage than it says it has."""
    from sklearn.ensemble import GradientBoostingClassifier

    est = _fit(GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0))
    est.init_ = "zero"
    wide = np.empty((est.estimators_.shape[0], 64), dtype=object)
    for j in range(wide.shape[1]):
        wide[:, j] = est.estimators_[:, 0]
    est.estimators_ = wide
    return est


def tree_far_feature():
    """A tree without ``n_features_in_`` whose root splits on feature 50,000,000."""
    from sklearn.tree import DecisionTreeClassifier

    est = _fit(DecisionTreeClassifier(max_depth=3, random_state=0))
    est.tree_ = _set_tree(est.tree_, "feature", 50_000_000, n_features=50_000_001)
    del est.n_features_in_
    del est.feature_names_in_
    est.n_features_ = 50_000_001
    return est


def tree_decoy():
    """A decoy attribute holds another estimator sharing the same crafted ``Tree``: a walker
    that checks the tree under the decoy's bounds and then skips it as seen is fooled."""
    from sklearn.tree import DecisionTreeClassifier

    est = _fit(DecisionTreeClassifier(max_depth=3, random_state=0))
    shared = _set_tree(est.tree_, "feature", 50_000_000, n_features=50_000_001)
    decoy = DecisionTreeClassifier()
    decoy.n_features_in_ = 50_000_001
    decoy.tree_ = shared
    est.tree_ = shared
    est.__dict__ = {"_aaa_decoy": decoy, **est.__dict__}
    return est


def hgb_feature_idx():
    """A HistGradientBoosting predictor splitting on a feature far out of range."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    est = _fit(HistGradientBoostingClassifier(max_iter=3, random_state=0))
    nodes = est._predictors[0][0].nodes
    internal = np.flatnonzero(~nodes["is_leaf"].astype(bool))[0]
    nodes["feature_idx"][internal] = 2_000_000_000
    del est.n_features_in_
    del est.feature_names_in_
    return est


def tree_child_out_of_range():
    """A tree whose root's left child points far past the node array."""
    from sklearn.tree import DecisionTreeClassifier

    est = _fit(DecisionTreeClassifier(max_depth=3, random_state=0))
    est.tree_ = _set_tree(est.tree_, "left_child", 10**9)
    return est


def svc_support():
    """An SVC whose support arrays claim more support vectors than it holds."""
    from sklearn.svm import SVC

    est = _fit(SVC())
    est._n_support = np.asarray([10**6, 10**6], dtype=np.int32)
    est.support_ = est.support_[:2]
    est.support_vectors_ = est.support_vectors_[:2]
    return est


CRAFTED: dict[str, tuple[Callable, str]] = {
    "gb zero init, wide estimators": (gb_zero_init_wide, f"{CRASHED}|{UNREADABLE}"),
    "tree split on feature 50,000,000": (tree_far_feature, f"{CRASHED}|{TAMPERED}"),
    "decoy sharing a crafted tree": (tree_decoy, f"{CRASHED}|{TAMPERED}"),
    "hgb feature_idx out of range": (hgb_feature_idx, f"{CRASHED}|{TAMPERED}"),
    "tree child out of range": (tree_child_out_of_range, TAMPERED),
    "svc crafted support arrays": (svc_support, f"{REFUSED}|{UNREADABLE}"),
}


def dump(est, fmt: str) -> bytes:
    if fmt == "skops":
        import skops.io as sio

        return sio.dumps(est)
    if fmt == "pkl":
        return pickle.dumps(est, protocol=5)
    buf = io.BytesIO()
    joblib.dump(est, buf)
    return buf.getvalue()


# ---------------------------------------------------------------- pickle gadgets


class _Reduce:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _u(text: str) -> bytes:
    b = text.encode()
    return b"\x8c" + bytes([len(b)]) + b  # SHORT_BINUNICODE


def _stack_global_call(module: str, name: str, arg: str) -> bytes:
    body = _u(module) + _u(name) + b"\x93" + _u(arg) + b"\x85" + b"R" + b"."
    return b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body


_IMPORT_OS = _u("importlib") + _u("import_module") + b"\x93" + _u("os") + b"\x85R"


def _ops(body: bytes) -> bytes:
    """A protocol-4 pickle of raw opcodes ``body``."""
    return b"\x80\x04" + body + b"."


def gadgets(canary: Path) -> dict[str, bytes]:
    """Files that would create ``canary`` if anything ran them."""
    import builtins
    import functools
    import subprocess

    touch = f"touch {canary}"
    py = f"open({str(canary)!r}, 'w').close()"
    partial = functools.partial(functools.partial(os.system), touch)
    return {
        "os.system": pickle.dumps(_Reduce(os.system, touch)),
        "GLOBAL opcode posix.system": b"\x80\x02" + f"cposix\nsystem\n(V{touch}\ntR.".encode(),
        "builtins.eval": pickle.dumps(_Reduce(builtins.eval, py)),
        "builtins.exec": pickle.dumps(_Reduce(builtins.exec, py)),
        "subprocess.Popen": pickle.dumps(_Reduce(subprocess.Popen, ["touch", str(canary)])),
        "subprocess.check_call": pickle.dumps(_Reduce(subprocess.check_call,
                                                      ["touch", str(canary)])),
        "functools.partial chain": pickle.dumps(_Reduce(partial)),
        "operator.methodcaller": _ops(
            _u("operator") + _u("methodcaller") + b"\x93" + _u("system") + _u(touch) + b"\x86R"
            + _IMPORT_OS + b"\x85R"),
        "getattr on an imported module": _ops(
            _u("builtins") + _u("getattr") + b"\x93" + _IMPORT_OS + _u("system") + b"\x86R"
            + _u(touch) + b"\x85R"),
        "importlib.import_module": _stack_global_call("importlib", "import_module", "os"),
        "dotted name in STACK_GLOBAL": _stack_global_call("sklearn._config", "os.system", touch),
        "numpy.load of a path": _stack_global_call("numpy", "load", str(canary)),
        "gadget inside an object array": _joblib({"coef": np.array(
            [_Reduce(os.system, touch), "x"], dtype=object)}),
        "compressed joblib gadget": _joblib(_Reduce(os.system, touch), compress=3),
    }


def _joblib(obj, compress=0) -> bytes:
    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=compress)
    return buf.getvalue()


# ---------------------------------------------------------------- zip bombs and hogs


def _deflate_bomb(prefix: bytes, n_mb: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``prefix`` then ``n_mb`` MB of spaces, made fast: after a full flush the
    compressor forgets everything, so one compressed megabyte can simply be repeated.
    Returns (stream, crc32, uncompressed size)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    mb = b" " * (1 << 20)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(mb) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush()
    crc = zlib.crc32(prefix)
    for _ in range(n_mb):
        crc = zlib.crc32(mb, crc)
    return head + block * n_mb + tail, crc, len(prefix) + n_mb * (1 << 20)


def _zip_member_bomb(good: bytes, member: str, n_mb: int) -> bytes:
    """``good`` (a zip) with ``member`` replaced by its content followed by ``n_mb`` MB of
    spaces, stored deflated (the archive stays small)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename != member:
                dst.writestr(item, src.read(item.filename))
    entries = out.getvalue()
    # append one hand-made local entry and rebuild the central directory around it
    data, crc, size = _deflate_bomb(_read_member(good, member), n_mb)
    name = member.encode()
    with zipfile.ZipFile(io.BytesIO(entries)) as zf:
        infos = zf.infolist()
    body = bytearray(entries[:_central_start(entries)])
    offset = len(body)
    body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data) & 0xFFFFFFFF,
                        size, len(name), 0) + name + data
    central = bytearray(entries[_central_start(entries):_eocd_start(entries)])
    central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc,
                           len(data), size, len(name), 0, 0, 0, 0, 0, offset) + name
    cd_offset = len(body)
    body += central
    body += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(infos) + 1, len(infos) + 1,
                        len(central), cd_offset, 0)
    return bytes(body)


def _read_member(good: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        return zf.read(member)


def _eocd_start(z: bytes) -> int:
    return z.rindex(b"PK\x05\x06")


def _central_start(z: bytes) -> int:
    return struct.unpack("<I", z[_eocd_start(z) + 16:_eocd_start(z) + 20])[0]


def skops_bombs() -> dict[str, bytes]:
    """.skops files whose members inflate to far more than the memory limit."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    good = sio.dumps(_fit(LogisticRegression()))
    bombs = {"schema.json inflating to 3 GB": _zip_member_bomb(good, "schema.json", 3 * 1024)}
    # an .npy member whose header claims 40 GB: allocated before any data is read
    header = {"descr": "<f8", "fortran_order": False, "shape": (5_000_000_000,)}
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, header)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith(".npy"):
                data = npy.getvalue() + b"\0" * 4096
            dst.writestr(item, data)
    bombs["npy header claiming 40 GB"] = out.getvalue()
    return bombs


def _huge_ndarray(n_bytes: int) -> bytes:
    """``_reconstruct(ndarray, (n_bytes,), b"b")``: allowed globals asking for ``n_bytes``."""
    return (b"\x80\x04" + _u("numpy._core.multiarray") + _u("_reconstruct") + b"\x93"
            + _u("numpy") + _u("ndarray") + b"\x93"
            + b"\x8a\x05" + n_bytes.to_bytes(5, "little", signed=True) + b"\x85" + b"C\x01b"
            + b"\x87R.")


def _nested_lists(depth: int) -> bytes:
    """A pickle of ``depth`` nested lists, written as opcodes (making it does not recurse)."""
    return b"\x80\x02" + b"(" * depth + b"l" * depth + b"."


def self_referential_pipeline() -> bytes:
    """A Pipeline whose only step is itself: it loads, and asking it anything recurses."""
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("self", "passthrough")])
    pipe.steps[0] = ("self", pipe)
    return pickle.dumps(pipe, protocol=5)


def hogs() -> dict[str, tuple[bytes, str]]:
    """Files of allowed globals that ask for too much memory or recurse."""
    return {
        "ndarray of 6e9 bytes": (_huge_ndarray(6_000_000_000), MEMORY),
        "lists nested 100,000 deep": (_nested_lists(100_000),
                                      r"does not make predictions|nests objects too deeply|"
                                      r"crashed while opening"),
        "self-referential pipeline": (self_referential_pipeline(),
                                      r"nests objects too deeply"),
    }
