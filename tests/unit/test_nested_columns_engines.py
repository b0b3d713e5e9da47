"""A column of lists, arrays, records or maps named as the outcome, the score or a sensitive
feature is refused by DuckDB and Spark with the sentence an upload gives for a sensitive
feature of lists (``prepare.build_group_index``), never with the engine's own error (DuckDB's
"Unimplemented type for cast (DOUBLE[] -> DOUBLE)", or "strlen(VARCHAR[])" from the check of
group names' lengths)."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faircard.engine.sources import count_duckdb, count_spark, is_nested_type, is_text_type
from faircard.errors import FaircardError
from faircard.prepare import build_group_index
from faircard.spec import AssessmentSpec

N = 40
ROLES = {"y": "Target column", "score": "Score column", "sex": "Sensitive feature"}
ADVICE = {"sex": "choose a column such as sex, race or an age band."}


def _plain() -> dict[str, pa.Array]:
    return {"y": pa.array([0, 1] * (N // 2)), "score": pa.array([0.2, 0.7] * (N // 2)),
            "sex": pa.array(["a", "a", "b", "b"] * (N // 4))}


def _nested(kind: str, column: str) -> pa.Array:
    plain = _plain()[column].to_pylist()
    if kind == "list":
        return pa.array([[v] for v in plain])
    if kind == "fixed":
        return pa.array([[v, v] for v in plain], pa.list_(pa.array(plain).type, 2))
    if kind == "struct":
        return pa.array([{"v": v} for v in plain])
    return pa.array([[("k", v)] for v in plain], pa.map_(pa.string(), pa.array(plain).type))


def _file(tmp_path, kind: str, column: str) -> str:
    cols = _plain()
    cols[column] = _nested(kind, column)
    path = tmp_path / f"{kind}_{column}.parquet"
    pq.write_table(pa.table(cols), path)
    return str(path)


def _expected(column: str) -> str:
    return (f"{ROLES[column]} '{column}' holds lists or records, not one value per person; "
            + ADVICE.get(column, "choose a column of one value per person."))


SPEC = AssessmentSpec(target="y", score="score", sensitive=("sex",))


@pytest.mark.parametrize("kind", ["list", "fixed", "struct", "map"])
@pytest.mark.parametrize("column", ["y", "score", "sex"])
def test_duckdb_refuses_a_nested_column_in_one_sentence(tmp_path, kind, column):
    path = _file(tmp_path, kind, column)
    with pytest.raises(FaircardError) as err:
        count_duckdb(path, SPEC)
    assert str(err.value) == _expected(column)


def test_the_sentence_is_the_uploads_for_a_sensitive_feature():
    frame = pd.DataFrame({"y": [0, 1], "score": [0.2, 0.7], "sex": [["a"], ["b"]]})
    with pytest.raises(FaircardError) as err:
        build_group_index(frame, SPEC)
    assert str(err.value) == _expected("sex")


def test_plain_columns_of_the_same_file_still_count(tmp_path):
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table(_plain()), path)
    counted = count_duckdb(str(path), SPEC)
    assert counted.n_input == N


@pytest.mark.parametrize(("kind", "nested", "text"), [
    ("DOUBLE[]", True, False), ("VARCHAR[]", True, False), ("DOUBLE[3]", True, False),
    ("STRUCT(v DOUBLE)", True, False), ("MAP(VARCHAR, DOUBLE)", True, False),
    ("UNION(a INTEGER, b VARCHAR)", True, False), ("ARRAY<STRING>", True, False),
    ("MAP<STRING,DOUBLE>", True, False), ("VARCHAR", False, True), ("STRING", False, True),
    ("DOUBLE", False, False), ("DECIMAL(10,2)", False, False), ("INTEGER", False, False)])
def test_engine_types_are_told_apart(kind, nested, text):
    assert is_nested_type(kind) is nested
    assert is_text_type(kind) is text


@pytest.mark.parametrize("column", ["score", "sex"])
def test_spark_refuses_a_list_column_in_the_same_sentence(spark, tmp_path, column):
    path = _file(tmp_path, "list", column)
    with pytest.raises(FaircardError) as err:
        count_spark(spark.read.parquet(path), SPEC, path=path)
    assert str(err.value) == _expected(column)
