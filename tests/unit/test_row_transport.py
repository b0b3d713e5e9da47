"""Rows sent to the model's process: every column kind comes back exactly, nothing can run code.

The oracle is the frame itself (``pandas.testing.assert_frame_equal`` with exact comparison,
plus the Python type and float bits of every object value) and scikit-learn run in this
process on the original frame.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircard import FaircardError
from faircard.io import rows
from faircard.io.rows import decode_rows, encode_rows

IO = Path(rows.__file__).parent


def _body(X) -> bytearray:
    return bytearray(b"".join(bytes(p) for p in encode_rows(X)))


def _roundtrip(X):
    return decode_rows(_body(X))


def _bits(v: float) -> bytes:
    return struct.pack("<d", v)


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    want = want.reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_column_type=True,
                                  check_index_type=True, check_categorical=True)
    assert got.columns.name == want.columns.name
    assert type(got.columns.name) is type(want.columns.name)
    for j in range(want.shape[1]):
        a, b = got.iloc[:, j], want.iloc[:, j]
        assert a.dtype == b.dtype
        if isinstance(b.dtype, np.dtype) and b.dtype != object:
            assert a.to_numpy().tobytes() == b.to_numpy().tobytes()  # NaN payloads, -0.0
        elif b.dtype == object:
            for x, y in zip(a.tolist(), b.tolist(), strict=True):
                assert type(x) is type(y), (x, y)
                if isinstance(y, float):
                    assert _bits(x) == _bits(y)
                elif y is None or y is pd.NA or y is pd.NaT:
                    assert x is y
                else:
                    assert x == y or (x != x and repr(x) == repr(y))  # Decimal("NaN")
    for x, y in zip(got.columns, want.columns, strict=True):
        assert type(x) is type(y)


def _nan_with_payload() -> float:
    return np.frombuffer(struct.pack("<Q", 0x7FF8_0000_0000_1234), dtype="<f8")[0].item()


CASES = {
    "floats": lambda: pd.DataFrame({
        "f8": [1.5, np.nan, -0.0, np.inf, _nan_with_payload()],
        "f4": np.array([0.1, np.nan, -0.0, 3e38, 1], dtype=np.float32),
        "f2": np.array([0.1, np.nan, -0.0, 65504, 1], dtype=np.float16),
    }),
    "integers and booleans": lambda: pd.DataFrame({
        "i1": np.array([-128, 127, 0, 1, 2], dtype=np.int8),
        "i8": np.array([-(2**63), 2**63 - 1, 0, 1, 2], dtype=np.int64),
        "u8": np.array([0, 2**64 - 1, 5, 6, 7], dtype=np.uint64),
        "u2": np.array([0, 65535, 5, 6, 7], dtype=np.uint16),
        "b": [True, False, True, True, False],
        "c16": np.array([1 + 2j, np.nan, 0, -1j, 3], dtype=np.complex128),
    }),
    "naive datetimes and durations": lambda: pd.DataFrame({
        "ns": np.array(["2020-01-01T00:00:00.000000001", "NaT", "1700-01-01", "2262-04-11",
                        "1970-01-01"], dtype="M8[ns]"),
        "s": np.array(["2020-01-01", "NaT", "0001-01-01", "9999-12-31", "1970-01-01"],
                      dtype="M8[s]"),
        "td": pd.to_timedelta([1, None, -5, 0, 10**6], unit="ms").as_unit("us"),
    }),
    "time zones": lambda: pd.DataFrame({
        "paris": pd.to_datetime(["2020-03-29 01:30", None, "2020-10-25 01:30", "2021-06-01",
                                 "1900-01-01"], format="ISO8601").tz_localize("Europe/Paris"),
        "utc": pd.to_datetime(["2020-01-01", None, "2020-01-02", "2020-01-03", "2020-01-04"],
                              utc=True),
    }),
    "nullable": lambda: pd.DataFrame({
        "Int64": pd.array([1, None, -(2**63), 2**63 - 1, 0], dtype="Int64"),
        "UInt8": pd.array([1, None, 255, 0, 3], dtype="UInt8"),
        "Float64": pd.array([1.5, None, -0.0, 2, 3], dtype="Float64"),
        # NaN that is a value, not a missing value
        "Float64 NaN": pd.arrays.FloatingArray(np.array([np.nan, 1.0, 2.0, np.nan, 0.0]),
                                               np.array([False, True, False, True, False])),
        "boolean": pd.array([True, None, False, True, None], dtype="boolean"),
    }),
    "categories": lambda: pd.DataFrame({
        "text": pd.Categorical(["a", None, "b", "a", "é"]),
        "ordered ints": pd.Categorical([3, 1, None, 2, 3], categories=[3, 1, 2, 99],
                                       ordered=True),
        "dates": pd.Categorical(pd.to_datetime(["2020-01-01", "2021-01-01", None,
                                                "2020-01-01", "2021-01-01"])),
        "object categories": pd.Categorical(["x", 1, "x", 1, None],
                                            categories=pd.Index(["x", 1], dtype=object)),
    }),
    "pandas text types": lambda: pd.DataFrame({
        "str": pd.array(["x", None, "", "é 🙂", "x"], dtype="str"),
        "string[python]": pd.array(["x", None, "\udcff", "", "x"],
                                   dtype=pd.StringDtype("python")),
        "string[pyarrow]": pd.array(["x", None, "", "🙂", None],
                                    dtype=pd.StringDtype("pyarrow")),
        "str, python storage": pd.array(["a", None, "b", "", "a"],
                                        dtype=pd.StringDtype("python", na_value=np.nan)),
    }),
    "object text": lambda: pd.DataFrame({
        "only text": pd.Series(["a", "", "é 🙂", "a", "\udcff"], dtype=object),
        "text and missing": pd.Series([None, np.nan, "q", pd.NA, "q"], dtype=object),
        "missing only": pd.Series([None, np.nan, None, pd.NaT, np.nan], dtype=object),
        "numpy text": pd.Series(["a", np.str_("a"), "b", "a", np.str_("b")], dtype=object),
    }),
    "object mixed": lambda: pd.DataFrame({
        "python": pd.Series([1, 1.0, True, "1", -(2**70)], dtype=object),
        "numpy": pd.Series([np.int64(1), np.float64(-0.0), np.bool_(True),
                            np.uint64(2**64 - 1), np.float32(0.1)], dtype=object),
        "nan kinds": pd.Series([float("nan"), np.float64("nan"), None, np.int8(-3), 2**70],
                               dtype=object),
        "dates": pd.Series([dt.date(2020, 1, 2), dt.datetime(1800, 1, 1, 3, 4, 5, 6),
                            pd.Timestamp("2020-01-01 00:00:00.000000001"),
                            pd.Timestamp("2020-01-01").as_unit("s"), pd.NaT], dtype=object),
        "times of day": pd.Series([dt.time(23, 59, 59, 999999), dt.time(0), None, dt.time(12, 30),
                                   dt.time(1, 2, 3)], dtype=object),
        "others": pd.Series([decimal.Decimal("1.10"), decimal.Decimal("NaN"), b"\xff\x00",
                             np.str_("z"), "z"], dtype=object),
    }),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_column_kind_comes_back_exactly(case):
    X = CASES[case]()
    _assert_same(_roundtrip(X), X)


@pytest.mark.parametrize("case", list(CASES))
def test_chunks_cut_from_the_middle_come_back_exactly(case):
    X = pd.concat([CASES[case]()] * 5, ignore_index=True)
    for lo, hi in ((3, 17), (1, 2), (9, 9)):
        _assert_same(_roundtrip(X.iloc[lo:hi]), X.iloc[lo:hi])


@pytest.mark.parametrize("make", [
    lambda: pd.DataFrame(np.ones((3, 2))),                                  # RangeIndex
    lambda: pd.DataFrame(np.ones((3, 3)), columns=[10, 20, 5]),             # int64 labels
    lambda: pd.DataFrame(np.ones((3, 5)), columns=pd.Index([0, "a", 2.5, True, None],
                                                           dtype=object)),
    lambda: pd.DataFrame([[1, "x", 2.0]], columns=["a", "a", "b"]),        # duplicates
    lambda: pd.DataFrame({"é 🙂": [1], "": [2]}),
    lambda: pd.DataFrame({"a": [1.0]}).rename_axis(columns="features"),
    lambda: pd.DataFrame({"a": [1.0]}).rename_axis(columns=7),
    lambda: pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype="str"),
                          "c": pd.Series([], dtype=object),
                          "d": pd.Series([], dtype="category")}),
    lambda: pd.DataFrame(index=range(5)),
])
def test_column_labels_order_and_empty_frames(make):
    X = make()
    _assert_same(_roundtrip(X), X)


def test_a_numeric_array_comes_back_as_itself():
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    got = _roundtrip(X)
    assert got.dtype == X.dtype and got.shape == X.shape
    np.testing.assert_array_equal(got, X)


def test_rebuilt_arrays_are_writable_like_the_model_saw_them():
    X = pd.DataFrame({"f": [1.0, 2.0], "i": [1, 2], "n": pd.array([1, None], dtype="Int64")})
    got = _roundtrip(X)
    assert got.to_numpy().flags.writeable == X.to_numpy().flags.writeable
    for name in ("f", "i"):
        assert got[name].array._ndarray.flags.writeable  # as in a frame built in memory
        assert X[name].array._ndarray.flags.writeable


@pytest.mark.parametrize("column, found", [
    (pd.period_range("2020-01", periods=3, freq="M"), "period"),
    (pd.arrays.IntervalArray.from_breaks([0, 1, 2, 3]), "interval"),
    (pd.arrays.SparseArray([0.0, 1.0, 0.0]), "Sparse"),
    (pd.array([1, 2, 3], dtype="int64[pyarrow]"), "int64[pyarrow]"),
    (pd.Series([[1], [2], [3]], dtype=object), "list"),
    (pd.Series([pd.Timestamp("2020-01-01", tz="UTC"), 1, 2], dtype=object), "time zone"),
    (pd.Series([object(), 1, 2], dtype=object), "object"),
    (pd.Series([dt.timedelta(1), 1, 2], dtype=object), "timedelta"),
])
def test_what_the_format_cannot_carry_is_refused_by_column(column, found):
    X = pd.DataFrame({"fine": [1.0, 2.0, 3.0], "odd one": column})
    with pytest.raises(FaircardError, match="Column 'odd one' cannot be sent") as info:
        encode_rows(X)
    assert found in str(info.value)
    assert "convert the column" in str(info.value)


@pytest.mark.parametrize("X, match", [
    (pd.DataFrame(np.ones((2, 2)), columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)])),
     "several levels of column names"),
    (pd.DataFrame(np.ones((2, 2)), columns=pd.Index([("a", 1), "b"], dtype=object)),
     "column names cannot be sent"),
    ([[1, 2], [3, 4]], "must be a table"),
])
def test_unsendable_tables_are_refused(X, match):
    with pytest.raises(FaircardError, match=match):
        encode_rows(X)


def _rewrite(body: bytearray, edit) -> bytearray:
    (hlen,) = struct.unpack("<I", body[4:8])
    layout = json.loads(bytes(body[8:8 + hlen]))
    edit(layout)
    head = json.dumps(layout).encode()
    head += b" " * (-(8 + len(head)) % 8)
    return bytearray(b"FCR1" + struct.pack("<I", len(head)) + head + body[8 + hlen:])


def _first(layout: dict) -> dict:
    return layout["columns"][0]


@pytest.mark.parametrize("edit", [
    lambda L: _first(L).update(dtype="|O"),                       # objects from raw bytes
    lambda L: _first(L).update(dtype="<f8", n=10**9),             # more rows than bytes
    lambda L: L["buffers"].__setitem__(0, [0, 10**9]),            # buffer past the end
    lambda L: _first(L).update(kind="pickle"),                    # unknown kind
    lambda L: L.update(type="something else"),
])
def test_a_malformed_body_is_refused_not_interpreted(edit):
    body = _body(pd.DataFrame({"f": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="rows:"):
        decode_rows(_rewrite(body, edit))


def test_bad_codes_and_bad_text_are_refused():
    text = _body(pd.DataFrame({"t": pd.Series(["a", "b"], dtype=object)}))
    (hlen,) = struct.unpack("<I", text[4:8])
    layout = json.loads(bytes(text[8:8 + hlen]))
    start = 8 + hlen + layout["buffers"][_first(layout)["codes"]][0]
    text[start:start + 4] = struct.pack("<i", 7)  # a code past the distinct values
    with pytest.raises(ValueError, match="rows: bad codes"):
        decode_rows(text)
    arrow = _body(pd.DataFrame({"s": pd.array(["ab", "cd"], dtype="str")}))
    bad = arrow.copy()
    at = bad.rfind(b"ab")  # the value, not the layout
    bad[at:at + 2] = b"\xff\xfe"  # not UTF-8
    with pytest.raises(ValueError, match="rows: bad text"):
        decode_rows(bad)
    with pytest.raises(ValueError, match="not a row body"):
        decode_rows(bytearray(pickle.dumps(pd.DataFrame({"a": [1]}))))


# --------------------------------------------------------------------- no unpickling in the box

_FULL_LOADERS = {"pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load",
                 "_pickle.loads", "_pickle.Unpickler", "cPickle.loads", "marshal.load",
                 "marshal.loads", "pd.read_pickle", "pandas.read_pickle", "np.load",
                 "numpy.load", "joblib.load", "dill.load", "dill.loads", "cloudpickle.load",
                 "cloudpickle.loads", "shelve.open"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _full_unpickling(source: str) -> list[tuple[str, int, bool]]:
    """Each call of a full unpickler in ``source``: (name, line, inside the operator's
    opt-in, i.e. the body of an ``if``/``elif`` that tests ``unsafe``)."""
    tree = ast.parse(source)
    opted_in: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "unsafe":
            opted_in |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("pickle", "_pickle", "marshal"):
            names = {a.name for a in node.names}
            if names & {"load", "loads", "Unpickler", "*"}:
                found.append((f"from {node.module} import", node.lineno, False))
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in _FULL_LOADERS or name.endswith((".Unpickler", "pickle.loads")):
                found.append((name, node.lineno, id(node) in opted_in))
    return found


def test_the_check_finds_an_unpickling_call():
    found = _full_unpickling("import pickle\nX = pickle.loads(body)\n"
                             "from pickle import loads\n"
                             "if unsafe:\n    est = joblib.load(f)\n")
    assert ("pickle.loads", 2, False) in found
    assert ("joblib.load", 5, True) in found
    assert any(n == "from pickle import" for n, _, _ in found)


@pytest.mark.parametrize("module", ["_load_worker.py", "rows.py", "_estimator.py", "validate.py"])
def test_the_model_process_unpickles_only_with_the_operators_opt_in(module):
    source = (IO / module).read_text()
    found = _full_unpickling(source)
    outside = [(name, line) for name, line, opted in found if not opted]
    assert outside == [], f"{module} unpickles outside the operator's opt-in: {outside}"
    if module == "_load_worker.py":
        # the one full unpickler left is the operator's explicit opt-in for a trusted file
        assert [name for name, _, _ in found] == ["joblib.load"]
    else:
        assert found == [] and "import pickle" not in source


# --------------------------------------------------------------------- the real child process

def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    work = np.array(["Private", "Self-emp", "Gov", "Other", "Unpaid"], dtype=object)
    occupation = rng.choice(np.array([f"occ {i} é" for i in range(14)], dtype=object), n)
    employer = rng.choice(np.array(["acme", "globex", "initech"], dtype=object), n)
    employer[rng.random(n) < 0.1] = None
    income = rng.exponential(5e4, n)
    income[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "age": rng.integers(17, 90, n).astype(float),
        "hours": rng.integers(1, 99, n),
        "married": rng.random(n) < 0.5,
        "income": income,
        "children": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 5, n)),
                             dtype="Int64"),
        "region": pd.Categorical(rng.choice(["north", "south", "east", "west"], n)),
        "workclass": pd.array(rng.choice(work, n), dtype="str"),
        "occupation": pd.Series(occupation, dtype=object),
        "employer": pd.Series(employer, dtype=object),
    })


@pytest.fixture(scope="module")
def fitted():
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    train = _people(3_000, seed=1)
    y = ((train["age"] > 45) ^ (train["workclass"] == "Gov")).to_numpy().astype(int)
    onehot = Pipeline([
        ("pre", ColumnTransformer([
            ("num", StandardScaler(), ["age", "hours", "married"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["region", "workclass",
                                                             "occupation"]),
            ("gaps", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"),
                                   OneHotEncoder(handle_unknown="ignore")), ["employer"]),
        ])),
        ("clf", LogisticRegression(max_iter=1_000)),
    ]).fit(train, y)
    boosted = Pipeline([
        ("pre", ColumnTransformer([
            ("num", "passthrough", ["age", "hours", "income"]),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
             ["workclass", "occupation", "region"]),
        ])),
        ("clf", HistGradientBoostingClassifier(max_iter=30, random_state=0)),
    ]).fit(train, y)
    nullable = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    nullable.fit(train[["age", "income", "children"]], y)
    return {"one-hot + logistic regression": (onehot, None),
            "ordinal + gradient boosting": (boosted, None),
            "nullable integers": (nullable, ["age", "income", "children"])}


@pytest.mark.parametrize("name", ["one-hot + logistic regression", "ordinal + gradient boosting",
                                  "nullable integers"])
def test_sandboxed_predictions_equal_in_process_ones_bit_for_bit(monkeypatch, fitted, name):
    from faircard.io import sandbox
    from faircard.io.models import load_model

    monkeypatch.setattr(sandbox, "CHUNK_CELLS", 9 * 1_000)  # several chunks, cut mid-frame
    est, cols = fitted[name]
    X = _people(2_500, seed=2)
    X = X if cols is None else X[cols]
    m = load_model(pickle.dumps(est), filename="model.pkl")
    try:
        np.testing.assert_array_equal(m.predict_scores(X, 1), est.predict_proba(X)[:, 1])
        np.testing.assert_array_equal(m.predict_labels(X), est.predict(X))
    finally:
        m.close()


def test_a_column_the_format_cannot_carry_is_one_clear_error_and_the_model_carries_on(fitted):
    from faircard.io.models import load_model

    est, cols = fitted["nullable integers"]
    X = _people(50, seed=3)[cols]
    m = load_model(pickle.dumps(est), filename="model.pkl")
    try:
        odd = X.assign(age=pd.Series([[1]] * len(X), dtype=object))
        with pytest.raises(FaircardError, match="Column 'age' cannot be sent to the model's "
                                                "process: it holds a value of type list"):
            m.predict_scores(odd)
        np.testing.assert_array_equal(m.predict_scores(X), est.predict_proba(X)[:, 1])
    finally:
        m.close()
