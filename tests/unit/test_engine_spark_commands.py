"""faircard card, gate and thresholds count with Spark (local[*]) and write what pandas writes
from the same file; the personal-data check and the dataset's fingerprint are computed by
Spark, with only counts coming back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main
from faircard.engine.sources import sample_duckdb
from faircard.privacy import detect_personal_data
from tests.unit.test_engines import _rows, _same

pytestmark = [pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("spark_commands") / "rows.parquet"
    _rows(4_000, seed=11).to_parquet(path)
    return path


def _card(args, out):
    assert main(["card", *args, "--out", str(out), "--formats", "md,json"]) == 0
    card = json.loads((out / "model_card.json").read_text())
    stamp = card["provenance"].pop("generated_at")  # the second it was written
    return (out / "model_card.md").read_text().replace(stamp, "(time)"), card


CARD = ["--target", "y", "--score", "score", "--sensitive", "sex", "--sensitive", "race",
        "--threshold", "0.45", "--bootstrap", "50"]


def test_card_spark_writes_what_pandas_writes(spark, parquet, tmp_path):
    cards = {engine: _card([str(parquet), *CARD, "--engine", engine], tmp_path / engine)
             for engine in ("pandas", "spark")}
    assert cards["spark"][0] == cards["pandas"][0]
    assert cards["spark"][1] == cards["pandas"][1]
    assert cards["spark"][1]["provenance"]["dataset_sha256"]  # the file's, as with pandas


@pytest.mark.parametrize("limits", [["--max-dpd", "0.05"], ["--max-dpd", "0.5"]])
def test_gate_spark_decides_as_pandas(spark, parquet, tmp_path, capsys, limits):
    results = {}
    for engine in ("pandas", "spark"):
        out = tmp_path / f"gate-{engine}.json"
        code = main(["gate", str(parquet), "--target", "y", "--score", "score", "--sensitive",
                     "sex", "--engine", engine, *limits, "--json", str(out)])
        results[engine] = (code, json.loads(out.read_text()), capsys.readouterr().out)
    assert results["spark"] == results["pandas"]
    # the demographic parity gap of these rows is above 0.05 and below 0.5
    assert results["spark"][0] == (1 if limits[1] == "0.05" else 0)


def test_thresholds_spark_writes_what_pandas_writes(spark, parquet, tmp_path, capsys):
    docs = {}
    for engine in ("pandas", "spark"):
        out = tmp_path / f"{engine}.json"
        assert main(["thresholds", str(parquet), "--target", "y", "--score", "score",
                     "--sensitive", "sex", "--constraint", "equal_opportunity", "--engine",
                     engine, "--json", str(out)]) == 0
        docs[engine] = (json.loads(out.read_text()), capsys.readouterr().out)
    assert docs["spark"] == docs["pandas"]


def _people(n: int = 1_500, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.integers(100, 999, n)
    frame = pd.DataFrame({
        "y": rng.integers(0, 2, n), "score": rng.random(n),
        "contact": [f" user{i}@example.org " for i in range(n)],  # stripped before matching
        "rrn": [f"{rng.integers(100000, 999999)}-{rng.integers(1, 5)}{i:06d}" for i in range(n)],
        "ssn_text": [f"{i:03d}-{i % 89 + 10:02d}-{i % 9000 + 1000:04d}" for i in ids],
        "tel": [f"+82 10-{i:04d}-{i % 10_000:04d}" for i in range(n)],
        "mostly_mail": [f"x{i}@a.io" if i % 4 else "n/a" for i in range(n)],  # 75%: not flagged
        "이메일주소": ["a"] * n,  # by its Korean name
        "email": ["none"] * n,  # by its English name
        "region": rng.choice(["north", "south"], n),
        "sparse": [None] * n,
    })
    frame.loc[:300, "tel"] = None  # the first 200 non-missing values come later
    frame.loc[5, "contact"] = "\u00e9l\u00e8ve@\u00e9cole.fr"  # \w matches letters beyond ASCII
    frame["sparse"] = frame["sparse"].astype(object)
    frame.loc[[10, 20, 30], "sparse"] = "a@b.cd"  # fewer than 5 values: never judged
    return frame


def test_spark_flags_personal_data_as_the_rows_are_flagged(spark, tmp_path):
    from faircard.engine.sources import personal_data_spark

    path = tmp_path / "people.parquet"
    frame = _people()
    frame.to_parquet(path)
    got = personal_data_spark(spark.read.parquet(str(path)))
    expected = detect_personal_data(frame)
    assert got == detect_personal_data(sample_duckdb(str(path))) == expected
    assert {f.column for f in expected} == {"contact", "rrn", "ssn_text", "tel", "이메일주소",
                                            "email"}


def test_spark_refuses_personal_data_as_a_sensitive_feature(spark, tmp_path, capsys):
    path = tmp_path / "people.parquet"
    _people(300).to_parquet(path)
    for command in (["card", "--out", str(tmp_path / "card")], ["gate", "--max-dpd", "0.1"],
                    ["assess", "--quiet"]):
        code = main([command[0], str(path), "--target", "y", "--score", "score", "--sensitive",
                     "contact", "--engine", "spark", "--bootstrap", "0", *command[1:]])
        assert code == 2
        assert "looks like personal data" in capsys.readouterr().err
    assert not (tmp_path / "card").exists()


def test_spark_table_card_and_gate(spark, parquet, tmp_path, capsys):
    frame = spark.read.parquet(str(parquet))
    frame.createOrReplaceTempView("decisions")
    table = _card(["-", *CARD, "--engine", "spark", "--spark-table", "decisions"],
                  tmp_path / "table")
    path = _card([str(parquet), *CARD, "--engine", "pandas"], tmp_path / "pandas")
    (table_md, table_doc), (path_md, path_doc) = table, path
    # the same figures; the dataset is named by the table and fingerprinted by Spark
    sha = table_doc["provenance"].pop("dataset_sha256")
    path_sha = path_doc["provenance"].pop("dataset_sha256")
    assert table_doc["evaluation_data"].pop("sha256") == sha
    assert path_doc["evaluation_data"].pop("sha256") == path_sha
    assert len(sha) == 64 and sha != path_sha
    assert table_doc["evaluation_data"].pop("name") == "decisions"
    assert path_doc["evaluation_data"].pop("name") == "rows.parquet"
    assert table_doc == path_doc
    assert table_md.replace(sha, path_sha).replace("name: decisions", "name: rows.parquet") \
        == path_md
    gates = []
    for args in (["-", "--spark-table", "decisions", "--engine", "spark"], [str(parquet)]):
        out = tmp_path / "gate.json"
        code = main(["gate", *args, "--target", "y", "--score", "score", "--sensitive", "sex",
                     "--max-dpd", "0.05", "--json", str(out)])
        doc = json.loads(out.read_text())
        gates.append((code, doc.pop("data"), [r["passed"] for r in doc["results"]],
                      [c for r in doc["results"] for c in r["checks"]]))
        capsys.readouterr()
    assert gates[0][0] == gates[1][0] == 1
    assert (gates[0][1], gates[1][1]) == ("decisions", "rows.parquet")
    assert gates[0][2:] == gates[1][2:]


def test_spark_digest_names_the_rows_not_their_order(spark, parquet):
    from faircard.engine.sources import digest_spark

    frame = spark.read.parquet(str(parquet))
    first = digest_spark(frame, "t")
    assert digest_spark(frame.orderBy("score").repartition(3), "t") == first
    assert digest_spark(frame, "u") != first
    changed = frame.withColumn("score", frame["score"] + (frame["age"] == 40).cast("double"))
    assert digest_spark(changed, "t") != first
    assert digest_spark(frame.limit(3_999), "t") != first


def test_the_python_api_takes_a_session_and_a_table(spark, parquet):
    """The Python example of docs/scale.md: a SparkSession and a catalog table, or a DataFrame."""
    import faircard
    from faircard import AssessmentSpec
    from faircard.engine import assess_grouped, assess_source
    from faircard.engine.sources import count_spark

    spark.read.parquet(str(parquet)).createOrReplaceTempView("decisions_api")
    spec = AssessmentSpec(target="y", score="score", sensitive=("sex",), n_boot=0)
    expected = faircard.assess_spec(pd.read_parquet(parquet), spec)
    by_table = assess_source(None, spec, engine="spark", spark_table="decisions_api",
                             spark=spark)
    by_frame = assess_grouped(count_spark(spark.table("decisions_api"), spec), spec)
    assert by_table.to_dict() == by_frame.to_dict()
    _same(expected, by_table)  # counts equal, metrics to 1e-12
    with pytest.raises(faircard.FaircardError, match="cannot open table 'no_such.table'"):
        assess_source(None, spec, engine="spark", spark_table="no_such.table", spark=spark)
