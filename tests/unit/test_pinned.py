"""Security and integrity properties pinned: the reviewed unpickler allowlist, written out here
so that any change fails until a reviewer updates this file, and the audit chain's resistance to
a careful tamper (rewrite an entry, rehash it, patch the next entry's prev_hash)."""

from __future__ import annotations

import hashlib
import pickle
import sqlite3

import pytest

import faircard
from faircard.io.allowlist import SAFE_GLOBALS, SKOPS_TRUSTED
from faircard.io.safe_pickle import RefusedGlobal, check_global, restricted_loads
from tests.conftest import make_dataset

# -- the unpickler allowlist ----------------------------------------------------------------

# Reviewed entry by entry. Changing faircard/io/allowlist.py without changing this table fails
# test_allowlist_is_exactly_the_reviewed_list: a new entry needs a reviewer to confirm it
# builds data and can neither run code nor touch files.
REVIEWED_GLOBALS = {
    "__builtin__": ["bytearray", "bytes", "complex", "frozenset", "set", "slice"],
    "_codecs": ["encode"],
    "builtins": ["bytearray", "bytes", "complex", "frozenset", "set", "slice"],
    "collections": ["OrderedDict"],
    "joblib.numpy_pickle": ["NumpyArrayWrapper"],
    "numpy": ["bool_", "dtype", "float32", "float64", "int32", "int64", "ndarray"],
    "numpy._core.multiarray": ["_reconstruct", "scalar"],
    "numpy._core.numeric": ["_frombuffer"],
    "numpy.core.multiarray": ["_reconstruct", "scalar"],
    "numpy.core.numeric": ["_frombuffer"],
    "numpy.random._mt19937": ["MT19937"],
    "numpy.random._pcg64": ["PCG64"],
    "numpy.random._pickle": ["__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor"],
    "numpy.random.bit_generator": ["SeedSequence", "__pyx_unpickle_SeedSequence"],
    "sklearn._loss._loss": ["CyHalfBinomialLoss"],
    "sklearn._loss.link": ["IdentityLink", "Interval", "LogitLink"],
    "sklearn._loss.loss": ["HalfBinomialLoss"],
    "sklearn.calibration": ["CalibratedClassifierCV", "_CalibratedClassifier",
                            "_SigmoidCalibration"],
    "sklearn.compose._column_transformer": ["ColumnTransformer"],
    "sklearn.dummy": ["DummyClassifier"],
    "sklearn.ensemble._forest": ["ExtraTreesClassifier", "RandomForestClassifier",
                                 "RandomForestRegressor"],
    "sklearn.ensemble._gb": ["GradientBoostingClassifier"],
    "sklearn.ensemble._hist_gradient_boosting.binning": ["_BinMapper"],
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting": [
        "HistGradientBoostingClassifier"],
    "sklearn.ensemble._hist_gradient_boosting.predictor": ["TreePredictor"],
    "sklearn.impute._base": ["SimpleImputer"],
    "sklearn.linear_model._base": ["LinearRegression"],
    "sklearn.linear_model._logistic": ["LogisticRegression"],
    "sklearn.linear_model._ridge": ["Ridge", "RidgeClassifier"],
    "sklearn.linear_model._stochastic_gradient": ["SGDClassifier"],
    "sklearn.naive_bayes": ["BernoulliNB", "GaussianNB", "MultinomialNB"],
    "sklearn.pipeline": ["Pipeline"],
    "sklearn.preprocessing._data": ["MinMaxScaler", "RobustScaler", "StandardScaler"],
    "sklearn.preprocessing._encoders": ["OneHotEncoder", "OrdinalEncoder"],
    "sklearn.preprocessing._function_transformer": ["FunctionTransformer"],
    "sklearn.preprocessing._label": ["LabelEncoder"],
    "sklearn.svm._classes": ["LinearSVC"],
    "sklearn.tree._classes": ["DecisionTreeClassifier", "DecisionTreeRegressor",
                              "ExtraTreeClassifier", "ExtraTreeRegressor"],
    "sklearn.tree._tree": ["Tree"],
}
REVIEWED_SKOPS = (
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "numpy.dtype",
)
# Globals an attacker reaches for; none may ever be resolvable.
DANGEROUS = [
    ("builtins", "exec"), ("builtins", "eval"), ("builtins", "compile"), ("builtins", "open"),
    ("builtins", "getattr"), ("builtins", "setattr"), ("builtins", "__import__"),
    ("builtins", "globals"), ("builtins", "breakpoint"), ("builtins", "input"),
    ("builtins", "type"), ("builtins", "object"), ("__builtin__", "exec"),
    ("__builtin__", "eval"), ("os", "system"), ("os", "popen"), ("os", "execv"),
    ("os", "remove"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"),
    ("subprocess", "run"), ("subprocess", "check_output"), ("pty", "spawn"),
    ("runpy", "run_path"), ("runpy", "_run_code"), ("importlib", "import_module"),
    ("pickle", "loads"), ("_pickle", "loads"), ("marshal", "loads"), ("code", "interact"),
    ("types", "FunctionType"), ("types", "CodeType"), ("functools", "partial"),
    ("operator", "attrgetter"), ("operator", "methodcaller"), ("shutil", "rmtree"),
    ("socket", "socket"), ("ctypes", "CDLL"), ("numpy", "load"), ("numpy.lib.npyio", "load"),
    ("joblib", "load"), ("sklearn.utils", "_get_column_indices"), ("codecs", "open"),
]


def test_allowlist_is_exactly_the_reviewed_list():
    reviewed = {(m, n) for m, names in REVIEWED_GLOBALS.items() for n in names}
    added = sorted(SAFE_GLOBALS - reviewed)
    removed = sorted(reviewed - SAFE_GLOBALS)
    assert not added and not removed, (
        f"the unpickler allowlist changed (added {added}, removed {removed}): review each "
        "entry, then update REVIEWED_GLOBALS in this test")
    assert tuple(SKOPS_TRUSTED) == REVIEWED_SKOPS


@pytest.mark.parametrize("module,name", DANGEROUS, ids=[f"{m}.{n}" for m, n in DANGEROUS])
def test_dangerous_globals_are_refused(module, name):
    with pytest.raises(RefusedGlobal):
        check_global(module, name)


def _global_pickle(module: str, name: str) -> bytes:
    """Protocol-0 pickle that resolves ``module.name`` and calls it with one string."""
    return f"c{module}\n{name}\n(S'1'\ntR.".encode()


def test_a_pickle_calling_exec_is_refused_by_the_unpickler():
    for module in ("builtins", "__builtin__"):
        with pytest.raises(RefusedGlobal) as info:
            restricted_loads(_global_pickle(module, "exec"))
        assert (info.value.module, info.value.name) == (module, "exec")
    assert restricted_loads(pickle.dumps(frozenset({1, 2}))) == frozenset({1, 2})


# -- the audit chain: a careful tamper ---------------------------------------------------------

def _store_api():
    """(AuditStore, compute_hash: the entry_hash a row should have, by its hash version)."""
    from faircard.governance.chain import compute_hash
    from faircard.governance.store import AuditStore

    return AuditStore, compute_hash


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A store with a record, its submission, an approval by someone else, and a comment."""
    AuditStore = _store_api()[0]
    df = make_dataset(3, n=300)
    result = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0)
    path = tmp_path_factory.mktemp("chain") / "audit.db"
    with AuditStore(path) as store:
        rec = store.add(result, title="Loans v1", created_by="alice", dataset_name="loans.csv",
                        dataset_sha256=hashlib.sha256(b"loans").hexdigest(), models=[])
        store.submit(rec.id, "alice")
        store.review(rec.id, "bob", "approve", "checked the figures")
        store.review(rec.id, "carol", "comment", "keep an eye on small groups")
        assert store.verify().ok
    return path.read_bytes()


def _careful_tamper(path, table: str, entry_id: int, column: str, value) -> None:
    """Rewrite one column of an entry, recompute its entry_hash exactly as the store does, and
    patch the next entry's prev_hash to the new hash (leaving every other byte alone)."""
    compute_hash = _store_api()[1]
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute(f"SELECT * FROM {table} WHERE id = ?", (entry_id,)).fetchone())
    row[column] = value
    row["entry_hash"] = compute_hash(row, table)
    con.execute(f"UPDATE {table} SET {column} = ?, entry_hash = ? WHERE id = ?",
                (value, row["entry_hash"], entry_id))
    patched = 0
    for other in ("records", "reviews", "comments"):
        patched += con.execute(f"UPDATE {other} SET prev_hash = ? WHERE seq = ?",
                               (row["entry_hash"], row["seq"] + 1)).rowcount
    assert patched == 1, "the tampered entry must have a successor"
    con.commit()
    con.close()


@pytest.mark.parametrize("table,entry_id,column,value,next_entry", [
    ("reviews", 2, "comment", "rubber stamp", "review 3"),     # the approval's comment
    ("reviews", 2, "reviewer", "dave", "review 3"),            # who approved
    ("records", 1, "title", "Loans v1 (final)", "review 1"),   # the record itself
])
def test_careful_tamper_fails_verify(tmp_path, recorded, table, entry_id, column, value,
                                     next_entry):
    AuditStore = _store_api()[0]
    path = tmp_path / "audit.db"
    path.write_bytes(recorded)
    _careful_tamper(path, table, entry_id, column, value)
    with AuditStore(path, create=False) as store:
        v = store.verify()
    assert not v.ok
    # the rewritten entry hashes correctly now; its successor's hash no longer covers its
    # (patched) predecessor, so the chain breaks there
    assert next_entry in {p.entry for p in v.problems}, [str(p) for p in v.problems]

    from faircard.cli import main

    assert main(["verify", "--store", str(path)]) == 1


def test_every_entry_hash_covers_its_predecessor(tmp_path, recorded):
    """Changing only an entry's prev_hash must change what its hash should be."""
    compute_hash = _store_api()[1]
    path = tmp_path / "audit.db"
    path.write_bytes(recorded)
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    for table in ("records", "reviews"):
        for row in map(dict, con.execute(f"SELECT * FROM {table}")):
            assert compute_hash(row, table) == row["entry_hash"]
            assert compute_hash({**row, "prev_hash": "f" * 64}, table) != row["entry_hash"]
    con.close()
