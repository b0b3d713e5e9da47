"""Hostile inputs for the engines that count next to the data (DuckDB, Spark): every engine
gives the counts scikit-learn gives on the rows, or refuses with a sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from faircard.decision import DecisionPolicy
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb, count_spark
from faircard.spec import AssessmentSpec

SPARK_WARNINGS = pytest.mark.filterwarnings("ignore::FutureWarning",
                                            "ignore:The copy keyword is deprecated")


def _oracle_counts(rows: pd.DataFrame, feature: str, y_pred: np.ndarray) -> dict:
    """(tn, fp, fn, tp) of every group, by scikit-learn on the group's mask."""
    y = rows["y"].to_numpy()
    out = {}
    for group in pd.unique(rows[feature]):
        mask = (rows[feature] == group).to_numpy()
        tn, fp, fn, tp = confusion_matrix(y[mask], y_pred[mask], labels=[0, 1]).ravel()
        out[str(group)] = (int(tn), int(fp), int(fn), int(tp))
    return out


def _counts(assessment, feature: str) -> dict:
    frame = assessment.counts_frame()
    frame = frame[frame["feature"] == feature]
    return {r.group: (int(r.tn), int(r.fp), int(r.fn), int(r.tp)) for r in frame.itertuples()}


@pytest.fixture(scope="module")
def many_groups(tmp_path_factory):
    """28 groups, each with its own threshold: 2**28 decision flags do not fit the 32-bit
    integers an engine types small numbers with."""
    rng = np.random.default_rng(11)
    n = 4_000
    groups = np.array([f"g{i:02d}" for i in range(28)])
    rows = pd.DataFrame({"y": rng.integers(0, 2, n), "s": rng.random(n).round(3),
                         "g": rng.choice(groups, n)})
    path = tmp_path_factory.mktemp("audit") / "groups.parquet"
    rows.to_parquet(path)
    thresholds = {g: 0.2 + 0.015 * i for i, g in enumerate(groups)}
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0,
                          policy=DecisionPolicy.per_group("g", thresholds))
    y_pred = (rows["s"].to_numpy() >= rows["g"].map(thresholds).to_numpy()).astype(int)
    return path, spec, _oracle_counts(rows, "g", y_pred)


def test_duckdb_counts_a_policy_with_many_thresholds(many_groups):
    path, spec, expected = many_groups
    assert _counts(assess_grouped(count_duckdb(str(path), spec), spec), "g") == expected


@SPARK_WARNINGS
def test_spark_counts_a_policy_with_many_thresholds(spark, many_groups):
    path, spec, expected = many_groups
    got = assess_grouped(count_spark(spark.read.parquet(str(path)), spec), spec)
    assert _counts(got, "g") == expected


def _scored_rows(n: int = 3_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, n), "s": rng.random(n).round(3),
                         "g": rng.choice(["a", "b"], n)})


def _garbled(rows: pd.DataFrame, path) -> None:
    """``rows`` written to ``path``, then every byte between the leading magic and the footer
    overwritten: the footer reads, the pages do not."""
    import struct

    rows.to_parquet(path, compression="snappy")
    data = bytearray(path.read_bytes())
    footer = struct.unpack("<I", bytes(data[-8:-4]))[0]
    end = len(data) - 8 - footer
    data[4:end] = bytes((i * 37 + 11) % 256 for i in range(end - 4))
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """Files the in-memory path refuses or cannot read, with what it says (None: it does
    not read the file at all)."""
    import faircard

    folder = tmp_path_factory.mktemp("refused")
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
    rows = _scored_rows()
    cases = {"no rows": rows.iloc[:0],
             "no outcome": rows.assign(y=np.nan),
             "no score": rows.assign(s=np.nan),
             "nothing at all": rows.assign(y=None, s=None, g=None)}
    out = {}
    for name, frame in cases.items():
        path = folder / f"{name.replace(' ', '_')}.parquet"
        frame.to_parquet(path)
        with pytest.raises(faircard.FaircardError) as said:
            faircard.assess_spec(pd.read_parquet(path), spec)
        out[name] = (path, str(said.value))
    _garbled(rows, folder / "garbled.parquet")
    out["garbled"] = (folder / "garbled.parquet", None)
    return spec, out


@pytest.mark.parametrize("name", ["no rows", "no outcome", "no score", "nothing at all",
                                  "garbled"])
def test_duckdb_refuses_what_pandas_refuses_with_its_sentence(refused, name):
    """No row to assess: the in-memory path's sentence, not a search for the positive label
    among no outcome; pages that do not read: a sentence, not DuckDB's exception."""
    from faircard.errors import FaircardError

    spec, cases = refused
    path, said = cases[name]
    with pytest.raises(FaircardError) as got:
        assess_grouped(count_duckdb(str(path), spec), spec)
    assert str(got.value) == said if said else "DuckDB cannot read" in str(got.value)


@SPARK_WARNINGS
def test_spark_refuses_what_pandas_refuses_with_its_sentence(spark, refused):
    from faircard.engine import spark_frame
    from faircard.errors import FaircardError

    spec, cases = refused
    missing = cases["garbled"][0].parent / "none.parquet"
    for name, (path, said) in [*cases.items(), ("no file", (missing, None))]:
        with pytest.raises(FaircardError) as got:
            assess_grouped(count_spark(spark_frame(str(path), spark=spark), spec), spec)
        assert str(got.value) == said if said else "Spark cannot read" in str(got.value), name


@pytest.mark.parametrize("where", ["pipe.parquet", "logs", "logs/*.parquet"])
def test_a_server_path_reaching_a_pipe_is_refused_not_read_forever(tmp_path, where):
    """A named pipe inside an allowed folder: DuckDB would wait on it for ever (the server's
    count never ends); it is refused before any reading."""
    import os

    from faircard.engine.paths import resolve_data_path
    from faircard.errors import FaircardError

    allowed = tmp_path / "allowed"
    (allowed / "logs").mkdir(parents=True)
    _scored_rows(100).to_parquet(allowed / "logs" / "a.parquet")
    os.mkfifo(allowed / "logs" / "b.parquet")
    os.mkfifo(allowed / "pipe.parquet")
    with pytest.raises(FaircardError, match="not a file but a pipe"):
        resolve_data_path(where, [allowed])
    assert resolve_data_path("logs/a.parquet", [allowed]) == str(allowed / "logs" / "a.parquet")


def test_a_server_path_with_a_nul_character_is_a_sentence(tmp_path):
    from faircard.engine.paths import resolve_data_path
    from faircard.errors import FaircardError

    with pytest.raises(FaircardError, match="NUL character"):
        resolve_data_path("rows.parquet\x00.csv", [tmp_path])


def _with_footer(src, dst, old: bytes, new: bytes) -> None:
    """``src`` copied to ``dst`` with the bytes ``old`` of its footer (the file's metadata:
    row groups, column statistics) replaced by ``new`` of the same length: the rows stay as
    written, only what the footer says about them changes (every occurrence: a statistic is
    written twice, in the old and the new field)."""
    import struct

    data = src.read_bytes()
    size = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - size
    footer = data[start:-8]
    assert len(old) == len(new) and footer.count(old) >= 1
    dst.write_bytes(data[:start] + footer.replace(old, new) + data[-8:])


@pytest.fixture(scope="module")
def lying_footers(tmp_path_factory):
    """Files whose footers disagree with their rows, and the rows as a reader that does not
    trust footers (pyarrow) reads them."""
    import struct

    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("footers")
    rows = _scored_rows(2_000, seed=8)
    rows["s"] = rows["s"].clip(0.01, 0.99)
    rows.loc[3, "s"], rows.loc[4, "s"] = 0.001, 0.999  # the least and greatest scores
    rows["y"] = pd.array(rows["y"], dtype="Int64")
    rows.loc[:6, "y"] = pd.NA  # 7 missing outcomes (null count 7: 0x0e as Parquet writes it)
    honest = folder / "honest.parquet"
    rows.to_parquet(honest, compression="snappy")

    def stats(path, column):
        meta = pq.ParquetFile(path).metadata.row_group(0)
        names = [meta.column(i).path_in_schema for i in range(meta.num_columns)]
        return meta.column(names.index(column)).statistics

    cases = {}
    # the least score said to be 0.6: every score >= 0.5, by the footer
    _with_footer(honest, folder / "least.parquet", struct.pack("<d", 0.001),
                 struct.pack("<d", 0.6))
    assert stats(folder / "least.parquet", "s").min == 0.6
    cases["least score"] = folder / "least.parquet"
    # every score said to lie in [2, 3], out of the rows' range
    _with_footer(honest, folder / "out1.parquet", struct.pack("<d", 0.001),
                 struct.pack("<d", 2.0))
    _with_footer(folder / "out1.parquet", folder / "outside.parquet", struct.pack("<d", 0.999),
                 struct.pack("<d", 3.0))
    assert (stats(folder / "outside.parquet", "s").min,
            stats(folder / "outside.parquet", "s").max) == (2.0, 3.0)
    cases["range outside"] = folder / "outside.parquet"
    # no missing outcome, says the footer (field 3, null_count, of the outcome's statistics)
    _with_footer(honest, folder / "nulls.parquet", b"\x16\x0e", b"\x16\x00")
    assert stats(folder / "nulls.parquet", "y").null_count == 0
    cases["no missing outcome"] = folder / "nulls.parquet"
    return cases


@pytest.mark.parametrize("name", ["least score", "range outside", "no missing outcome"])
def test_duckdb_counts_the_rows_not_what_the_footer_says_of_them(lying_footers, name):
    """A Parquet footer is written by whoever wrote the file: DuckDB took its statistics as
    facts, so that a footer claiming every score >= 0.6 gave a selection rate of 1 (pandas,
    reading the rows: 0.49), and one claiming no missing outcome counted them as outcomes."""
    path = lying_footers[name]
    rows = pd.read_parquet(path)  # pyarrow reads the pages, whatever the footer claims
    assert rows["y"].isna().sum() == 7 and rows["s"].min() == 0.001
    kept = rows.dropna(subset=["y"]).assign(y=lambda r: r["y"].astype(int))
    expected = _oracle_counts(kept, "g", (kept["s"].to_numpy() >= 0.5).astype(int))
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
    got = assess_grouped(count_duckdb(str(path), spec), spec)
    assert _counts(got, "g") == expected
    assert (got.n_rows, got.n_dropped, got.cube.dropped_reasons) == (
        len(rows), 7, {"missing target": 7})


def test_scores_spanning_more_than_a_double_are_refused_with_a_sentence(tmp_path):
    """Over 100,000 distinct scores from -1.7e308 to 1.7e308: their span overflows, the grid
    cell of the greatest was NaN and DuckDB stopped on casting it ('-nan can't be cast')."""
    from faircard.errors import FaircardError

    rng = np.random.default_rng(2)
    n = 100_050
    rows = pd.DataFrame({"y": rng.integers(0, 2, n), "g": rng.choice(["a", "b"], n),
                         "s": np.concatenate([[-1.7e308, 1.7e308], rng.random(n - 2)])})
    with np.errstate(over="ignore"):
        assert rows["s"].nunique() > 100_000 and np.isinf(rows["s"].max() - rows["s"].min())
    rows.to_parquet(tmp_path / "wide.parquet")
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
    with pytest.raises(FaircardError, match="span larger than a number can hold"):
        count_duckdb(str(tmp_path / "wide.parquet"), spec)


@SPARK_WARNINGS
def test_spark_refuses_hive_folder_names_it_would_read_as_other_groups(spark, tmp_path):
    """pyarrow writes the group 'é' as the folder 'g=%C3%A9', which pyarrow and DuckDB read
    back as 'é' and Spark as 'Ã©'; Spark reads 'k=01' and 'k=1' as one number, where DuckDB
    keeps two codes. Spark refuses such folders with a sentence instead of other groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from faircard.engine import spark_frame
    from faircard.errors import FaircardError

    rows = _scored_rows(200).assign(g=lambda r: np.where(r["g"] == "a", "é", "e"))
    pq.write_to_dataset(pa.Table.from_pandas(rows), tmp_path / "accents", partition_cols=["g"])
    assert set(pd.read_parquet(tmp_path / "accents")["g"].astype(str)) == {"é", "e"}
    for code in ("01", "1"):
        (tmp_path / "codes" / f"k={code}").mkdir(parents=True)
        rows.drop(columns="g").to_parquet(tmp_path / "codes" / f"k={code}" / "part.parquet")
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
    with pytest.raises(FaircardError, match="not 'é' as it was written"):
        count_spark(spark_frame(str(tmp_path / "accents"), spark=spark), spec)
    with pytest.raises(FaircardError, match="leading zero"):
        spark_frame(str(tmp_path / "codes"), spark=spark)


@SPARK_WARNINGS
def test_spark_counts_the_row_groups_a_footer_says_hold_no_such_scores(spark, tmp_path):
    """Over 100,000 distinct scores go on a grid whose query keeps the scores' range; a footer
    claiming scores in [2, 3] for a row group of scores in [0, 1] made Spark skip the row
    group uncounted (a third of the rows gone, with no reason given)."""
    import struct

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(9)
    n = 102_000
    rows = pd.DataFrame({"y": rng.integers(0, 2, n), "s": rng.random(n),
                         "g": rng.choice(["a", "b"], n)})
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), tmp_path / "rows.parquet",
                   row_group_size=34_000)
    claimed = pq.ParquetFile(tmp_path / "rows.parquet").metadata.row_group(2).column(1)
    _with_footer(tmp_path / "rows.parquet", tmp_path / "one.parquet",
                 struct.pack("<d", claimed.statistics.min), struct.pack("<d", 2.0))
    _with_footer(tmp_path / "one.parquet", tmp_path / "lying.parquet",
                 struct.pack("<d", claimed.statistics.max), struct.pack("<d", 3.0))
    lying = pq.ParquetFile(tmp_path / "lying.parquet").metadata.row_group(2).column(1)
    assert (lying.statistics.min, lying.statistics.max) == (2.0, 3.0)
    rows = pd.read_parquet(tmp_path / "lying.parquet")  # the rows, as written
    expected = _oracle_counts(rows, "g", (rows["s"].to_numpy() >= 0.5).astype(int))
    spec = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
    got = assess_grouped(count_spark(spark.read.parquet(str(tmp_path / "lying.parquet")), spec),
                         spec)
    assert got.cube.engine["score_step"] is not None  # on the grid
    assert _counts(got, "g") == expected and (got.n_rows, got.n_dropped) == (n, 0)
    assert spark.conf.get("spark.sql.parquet.filterPushdown") == "true"  # restored
