"""DuckDB never acts on a Parquet file's footer statistics while it counts.

A footer is written by whoever wrote the file. Counting with DuckDB's optimizer believing it
gave wrong counts (a footer claiming every score >= 0.6 made every decision positive); so a
user's files are read with statistics that claim nothing (see :mod:`faircard.engine.footers`),
and the grouped query still indexes its key directly, from what the query itself implies.
Every count here equals scikit-learn's on the rows as pyarrow reads them (pyarrow reads the
pages, whatever the footer claims); the naive version that believes every footer is shown to
get them wrong, so these files do test the replacement.
"""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import faircard
import faircard.engine.footers as footers
import faircard.engine.sources as sources
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb, duckdb_source
from faircard.spec import AssessmentSpec
from tests.unit.test_audit_engines import _counts, _oracle_counts, _with_footer

SPEC = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame({"y": rng.integers(0, 2, n).astype(np.int64),
                         "s": rng.uniform(0.01, 0.99, n).round(4),
                         "g": rng.choice(["Aaaa", "Mmmm", "Zzzz"], n)})
    rows.loc[3, "s"], rows.loc[4, "s"] = 0.001, 0.999  # the least and greatest scores
    return rows


def _write(rows: pd.DataFrame, path, **kwargs) -> None:
    """Without pandas' metadata, so that a group's name is written only in its statistics."""
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False).replace_schema_metadata(),
                   path, **kwargs)


def _expected(path) -> dict:
    rows = pd.read_parquet(path)  # the rows, as written
    kept = rows.dropna(subset=["y", "s"])
    return _oracle_counts(kept, "g", (kept["s"].to_numpy() >= 0.5).astype(int))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An honest file and files whose footers claim what their rows do not hold."""
    folder = tmp_path_factory.mktemp("claims")
    rows = _rows(3_000, seed=11)
    honest = folder / "honest.parquet"
    _write(rows, honest)
    out = {"honest": honest}
    _with_footer(honest, folder / "least.parquet", struct.pack("<d", 0.001),
                 struct.pack("<d", 0.6))
    out["least score 0.6"] = folder / "least.parquet"
    # DuckDB, told a float column may hold NaN (above every number), claims no greatest score
    _with_footer(honest, folder / "greatest.parquet", struct.pack("<d", 0.999),
                 struct.pack("<d", 0.4))
    out["greatest score 0.4"] = folder / "greatest.parquet"
    _with_footer(honest, folder / "least-group.parquet", b"Aaaa", b"Bbbb")
    out["least group 'Bbbb'"] = folder / "least-group.parquet"
    _with_footer(honest, folder / "greatest-group.parquet", b"Zzzz", b"Yyyy")
    out["greatest group 'Yyyy'"] = folder / "greatest-group.parquet"
    missing = rows.assign(y=pd.array(rows["y"], dtype="Int64"))
    missing.loc[:6, "y"] = pd.NA  # 7 missing outcomes: null count 7, 0x0e as Parquet writes it
    _write(missing, folder / "missing.parquet")
    _with_footer(folder / "missing.parquet", folder / "nulls.parquet", b"\x16\x0e", b"\x16\x00")
    assert pq.ParquetFile(folder / "nulls.parquet").metadata.row_group(0).column(0) \
        .statistics.null_count == 0
    out["no missing outcome"] = folder / "nulls.parquet"
    return out


LIES = ["least score 0.6", "greatest score 0.4", "least group 'Bbbb'",
        "greatest group 'Yyyy'", "no missing outcome"]


@pytest.mark.parametrize("name", ["honest", *LIES])
def test_every_file_counts_as_scikit_learn_whatever_its_footer_claims(files, name):
    got = assess_grouped(count_duckdb(str(files[name]), SPEC), SPEC)
    assert _counts(got, "g") == _expected(files[name])
    in_memory = faircard.assess_spec(pd.read_parquet(files[name]), SPEC)
    pd.testing.assert_frame_equal(got.counts_frame(), in_memory.counts_frame())


@pytest.mark.parametrize("name", ["least score 0.6", "no missing outcome"])
def test_believing_these_footers_would_count_wrong(files, monkeypatch, name):
    """The naive version, which reads the files with their footers' statistics, gets these
    files wrong: what keeps their counts right is the replacement."""
    monkeypatch.setattr(footers, "unclaimed", lambda types: None)
    try:
        got = _counts(assess_grouped(count_duckdb(str(files[name]), SPEC), SPEC), "g")
    except Exception:  # refusing (e.g. an outcome value that is not one) is also not counting
        return
    assert got != _expected(files[name])


@pytest.mark.parametrize("name", ["honest", *LIES])
def test_the_source_claims_nothing_whatever_the_footer_says(files, name):
    """What DuckDB's optimizer takes for each column: no range but a float's (from minus
    infinity to NaN), and a missing value possible."""
    with duckdb_source(str(files[name])) as (con, types):
        claims = con.execute("SELECT stats(y), stats(s), stats(g) FROM src LIMIT 1").fetchone()
    y, s, g = claims
    assert y == {"has_null": True, "has_no_null": True}
    assert s["has_null"] and s["min"] == -np.inf and np.isnan(s["max"])
    assert g["has_null"] and "min" not in g and "max" not in g


def test_the_grouped_query_indexes_its_key_directly_whatever_the_footers_say(tmp_path,
                                                                            monkeypatch):
    """Scores on the grid: the grouped query counts into DuckDB's perfect hash aggregate (its
    key's range is implied by the query), for an honest file and for one whose footer claims
    a least score of 0.6, with the counts of scikit-learn. The lying file's claimed range is
    guessed first, then refused by the rows it leaves out, and the rows counted again."""
    rng = np.random.default_rng(13)
    rows = pd.DataFrame({"y": rng.integers(0, 2, 150_000), "s": rng.uniform(0.01, 0.99, 150_000),
                         "g": rng.choice(["Aaaa", "Mmmm", "Zzzz"], 150_000)})
    rows.loc[3, "s"], rows.loc[4, "s"] = 0.001, 0.999
    _write(rows, tmp_path / "honest.parquet")
    _with_footer(tmp_path / "honest.parquet", tmp_path / "lying.parquet",
                 struct.pack("<d", 0.001), struct.pack("<d", 0.6))
    plans = []
    frame = sources._arrow_frame

    def explained(con, query):
        if "GROUP BY __key" in query:
            plans.append(con.execute("EXPLAIN " + query).fetchall()[0][1])
        return frame(con, query)

    monkeypatch.setattr(sources, "_arrow_frame", explained)
    for name in ("honest", "lying"):
        got = assess_grouped(count_duckdb(str(tmp_path / f"{name}.parquet"), SPEC), SPEC)
        assert _counts(got, "g") == _expected(tmp_path / f"{name}.parquet")
    assert len(plans) == 3 and all("Perfect Hash Group By" in plan or
                                   "PERFECT_HASH_GROUP_BY" in plan for plan in plans)


@pytest.mark.parametrize("names", [["least score 0.6", "least score 0.6"],
                                   ["honest", "least score 0.6", "honest"]])
def test_files_of_a_glob_count_their_rows(files, tmp_path, names):
    for i, name in enumerate(names):
        (tmp_path / f"part-{i}.parquet").write_bytes(files[name].read_bytes())
    got = assess_grouped(count_duckdb(str(tmp_path / "*.parquet"), SPEC), SPEC)
    rows = pd.concat([pd.read_parquet(p) for p in sorted(tmp_path.glob("*.parquet"))])
    assert _counts(got, "g") == _oracle_counts(rows, "g", (rows["s"] >= 0.5).astype(int))


def test_a_row_group_lying_inside_the_files_range_counts_every_row(tmp_path):
    """Filters are never pushed to the row groups, so a row group claiming scores in
    [0.6, 0.999] while it holds lower ones is read whole."""
    rows = _rows(3_000, seed=12)
    _write(rows, tmp_path / "rows.parquet", row_group_size=1_000)
    claimed = pq.ParquetFile(tmp_path / "rows.parquet").metadata.row_group(2).column(1)
    _with_footer(tmp_path / "rows.parquet", tmp_path / "lying.parquet",
                 struct.pack("<d", claimed.statistics.min), struct.pack("<d", 0.6))
    lying = pq.ParquetFile(tmp_path / "lying.parquet").metadata.row_group(2).column(1)
    assert lying.statistics.min == 0.6 and rows["s"][2_000:].min() < 0.5
    got = assess_grouped(count_duckdb(str(tmp_path / "lying.parquet"), SPEC), SPEC)
    assert _counts(got, "g") == _expected(tmp_path / "lying.parquet")


def test_many_small_files_are_read_once_into_duckdbs_own_table(tmp_path, monkeypatch):
    """More than MANY_FILES small files: one read into a DuckDB table, then every query runs
    on it (a lying footer among them is read as rows, like any other)."""
    monkeypatch.setattr(sources, "MANY_FILES", 3)
    spec = AssessmentSpec(target="y", score="s", sensitive=("g", "k"), n_boot=0)
    parts = []
    for i in range(5):
        part = _rows(400, seed=20 + i).assign(k=f"k{i % 2}")
        parts.append(part)
        _write(part.drop(columns="k"), tmp_path / f"plain-{i}.parquet")
        (tmp_path / "hive" / f"k=k{i % 2}").mkdir(parents=True, exist_ok=True)
        _write(part.drop(columns="k"), tmp_path / "hive" / f"k=k{i % 2}" / f"part-{i}.parquet")
    _with_footer(tmp_path / "plain-0.parquet", tmp_path / "lying.parquet",
                 struct.pack("<d", 0.001), struct.pack("<d", 0.6))
    (tmp_path / "plain-0.parquet").write_bytes((tmp_path / "lying.parquet").read_bytes())
    (tmp_path / "lying.parquet").unlink()
    made = []
    copy = sources._many_small_files
    monkeypatch.setattr(sources, "_many_small_files", lambda p: made.append(copy(p)) or made[-1])
    rows = pd.concat(parts, ignore_index=True)
    in_memory = faircard.assess_spec(rows, spec)
    got = assess_grouped(count_duckdb(str(tmp_path / "hive"), spec), spec)
    pd.testing.assert_frame_equal(got.counts_frame(), in_memory.counts_frame())
    one = AssessmentSpec(target="y", score="s", sensitive=("g",), n_boot=0)
    got = assess_grouped(count_duckdb(str(tmp_path / "plain-*.parquet"), one), one)
    assert _counts(got, "g") == _oracle_counts(rows, "g", (rows["s"] >= 0.5).astype(int))
    assert made == [True, True]
