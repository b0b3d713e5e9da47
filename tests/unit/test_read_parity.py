"""The same file gives the same assessment, or the same sentence, whichever way faircard reads
it: uploaded (pandas, :func:`faircard.io.tables.read_table`), counted by DuckDB where it lies
(:func:`faircard.engine.sources.count_duckdb`) or by Spark (local[*], the shared session)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.engine import assess_source
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.errors import FaircardError
from faircard.io.tables import read_table
from faircard.spec import AssessmentSpec

pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated",
                                        "ignore:PySpark does not yet fully support")


def _spec(**kw) -> AssessmentSpec:
    return AssessmentSpec(**{"target": "y", "score": "s", "sensitive": ("g",), "threshold": 0.5,
                             "n_boot": 0, "min_group_size": 0} | kw)


def _upload(path, spec):
    return faircard.assess_spec(read_table(path).frame, spec)


def _duckdb(path, spec):
    return assess_grouped(count_duckdb(str(path), spec), spec)


def _refusal(read, *args, **kw) -> str:
    with pytest.raises(FaircardError) as caught:
        read(*args, **kw)
    return str(caught.value)


def _frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, n), "s": np.round(rng.random(n), 3),
                         "g": rng.choice(["a", "b"], n)})


def _durations(tmp_path):
    frame = _frame().assign(s=lambda f: pd.to_timedelta((f["s"] * 1000).astype(int), unit="s"))
    path = tmp_path / "durations.parquet"
    frame.to_parquet(path)  # pyarrow writes durations as plain INT64 with an Arrow note
    return path


def test_a_parquet_column_of_durations_is_no_score_by_path_either(tmp_path):
    path = _durations(tmp_path)
    said = _refusal(_upload, path, _spec())
    assert said.startswith("Score column 's' has dates or times; a score must be a number.")
    assert _refusal(_duckdb, path, _spec()) == said
    # the same column of whole numbers is a score everywhere
    plain = tmp_path / "seconds.parquet"
    pd.read_parquet(path).assign(s=lambda f: f["s"].dt.total_seconds().astype("int64")) \
        .to_parquet(plain)
    pd.testing.assert_frame_equal(_upload(plain, _spec()).counts_frame(),
                                  _duckdb(plain, _spec()).counts_frame())


def _with_zero_byte(tmp_path, deep: bool):
    """A CSV with a zero byte in a score on line 52, or past the first 64 KB."""
    lines = ["y,s,g"] + [f"{i % 2},{i % 10 / 10},a" for i in range(10_000 if deep else 50)]
    path = tmp_path / ("deep.csv" if deep else "nul.csv")
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"1,0.\x005,b\n")
    return path, len(lines) + 1


@pytest.mark.parametrize("deep", [False, True])
def test_a_zero_byte_in_a_csv_by_path_is_named_as_an_upload_names_it(tmp_path, deep):
    path, line = _with_zero_byte(tmp_path, deep)
    said = _refusal(_upload, path, _spec())
    if deep:
        assert said.startswith(f"Line {line:,} of '{path.name}' holds a zero byte (NUL)")
    else:
        assert said.startswith(f"'{path.name}' looks like a binary file")
    assert _refusal(_duckdb, path, _spec()) == said
    # in a folder of CSV files too, named by the file that holds it
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.csv").write_text("y,s,g\n1,0.5,a\n")
    path.rename(folder / path.name)
    assert _refusal(_duckdb, folder, _spec()) == said


def test_spark_refuses_durations_and_zero_bytes_as_the_upload_does(spark, tmp_path):
    durations = _durations(tmp_path)
    nul, _ = _with_zero_byte(tmp_path, deep=True)
    for path in (durations, nul):
        said = _refusal(_upload, path, _spec())
        assert _refusal(assess_source, str(path), _spec(), engine="spark", spark=spark) == said


NAMED = ["y", "s", "g", "g.1", "G.2", "Unnamed: 5"]
"""faircard's names of the header 'y,s,g,g,G,' (a repeated name numbered ignoring case, an
empty one named by its position)."""
NAMED_SPEC = _spec(sensitive=("g.1", "G.2", "Unnamed: 5"), intersection=False)


def _repeated_names(tmp_path):
    frame = _frame(seed=3)
    rng = np.random.default_rng(3)
    rows = ["y,s,g,g,G,"] + [f"{y},{s},{g},{rng.choice(['u', 'v'])},{rng.choice(['p', 'q'])},"
                             f"{rng.choice(['m', 'n'])}" for y, s, g in frame.itertuples(False)]
    path = tmp_path / "names.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_repeated_and_empty_column_names_are_named_alike_by_every_reader(tmp_path):
    """pandas named the header 'y,s,g,g,G,' y, s, g, g.1, G, Unnamed: 5 and DuckDB y, s, g,
    g_1, G_2, column5: a feature chosen on the upload was not in the file read by path."""
    from faircard.engine.sources import sample_duckdb

    path = _repeated_names(tmp_path)
    table = read_table(path).frame
    assert list(table.columns) == NAMED
    assert list(sample_duckdb(str(path)).columns) == NAMED  # the choices offered by path
    excel = tmp_path / "names.xlsx"
    table.set_axis(["y", "s", "g", "g", "G", None], axis=1).to_excel(excel, index=False)
    assert list(read_table(excel).frame.columns) == NAMED
    expected = _upload(path, NAMED_SPEC).counts_frame()
    assert set(expected["feature"]) == set(NAMED_SPEC.sensitive)
    pd.testing.assert_frame_equal(_upload(excel, NAMED_SPEC).counts_frame(), expected)
    pd.testing.assert_frame_equal(_duckdb(path, NAMED_SPEC).counts_frame(), expected)


def _reordered_glob(tmp_path):
    """Three CSV files of one table, the second with its columns in another order and the
    third without 'g'; and the same rows in one file, as an upload."""
    frame = _frame(n=150, seed=4)
    parts = tmp_path / "parts"
    parts.mkdir()
    frame.iloc[:60].to_csv(parts / "a.csv", index=False)
    frame.iloc[60:120][["g", "y", "s"]].to_csv(parts / "b.csv", index=False)
    frame.iloc[120:].drop(columns="g").to_csv(parts / "c.csv", index=False)
    whole = tmp_path / "whole.csv"
    frame.assign(g=frame["g"].where(frame.index < 120)).to_csv(whole, index=False)
    return parts, whole


def test_duckdb_reads_a_glob_of_csv_files_by_their_column_names(tmp_path):
    parts, whole = _reordered_glob(tmp_path)
    expected = _upload(whole, _spec()).counts_frame()
    assert "(missing)" in set(expected["group"])
    for source in (parts, parts / "*.csv"):
        pd.testing.assert_frame_equal(_duckdb(source, _spec()).counts_frame(), expected)


def test_spark_names_columns_and_reads_csv_globs_by_name_as_duckdb_does(spark, tmp_path):
    """Spark named the header 'y,s,g,g,G,' y, s, g3, g4 (ignoring case), _c5, and read the
    files of a glob by position, under the first file's names: the second file's groups were
    read as outcomes ('Target column 'y' has 3 different values')."""
    path = _repeated_names(tmp_path)
    expected = _upload(path, NAMED_SPEC).counts_frame()
    got = assess_source(str(path), NAMED_SPEC, engine="spark", spark=spark)
    pd.testing.assert_frame_equal(got.counts_frame(), expected)
    parts, whole = _reordered_glob(tmp_path)
    expected = _upload(whole, _spec()).counts_frame()
    for source in (parts, parts / "*.csv"):
        got = assess_source(str(source), _spec(), engine="spark", spark=spark)
        pd.testing.assert_frame_equal(got.counts_frame(), expected)


def test_a_parquet_file_named_pq_is_read_by_path_as_uploaded(tmp_path):
    path = tmp_path / "rows.pq"
    _frame(seed=5).to_parquet(path)
    pd.testing.assert_frame_equal(_duckdb(path, _spec()).counts_frame(),
                                  _upload(path, _spec()).counts_frame())


def test_spark_says_an_excel_file_is_not_read_by_path_as_duckdb_says(spark, tmp_path):
    """Spark answered with its Java error about a missing Parquet footer."""
    path = tmp_path / "rows.xlsx"
    _frame(seed=5).to_excel(path, index=False)
    said = _refusal(_duckdb, path, _spec())
    assert said == (f"'{path}' is not a Parquet or CSV file; DuckDB reads those (use the "
                    "pandas engine for Excel).")
    by_spark = _refusal(assess_source, str(path), _spec(), engine="spark", spark=spark)
    assert by_spark == said.replace("DuckDB", "Spark")


def _written(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _messages_files(tmp_path):
    """CSV files each refused with a sentence: a score with a text value; a decimal comma
    (the delimiter ';'); predictions in other words than the outcome's."""
    frame = _frame(n=60, seed=6)
    rows = list(frame.itertuples(False))
    text = ["y,s,g"] + [f"{y},{'high' if i % 9 == 4 else s},{g}" for i, (y, s, g) in
                        enumerate(rows)]
    comma = ["y;s;g"] + [f"{y};{str(s).replace('.', ',')};{g}" for y, s, g in rows]
    words = ["y,p,g"] + [f"{y},{['no', 'yes'][int(s > 0.5)]},{g}" for y, s, g in
                         sorted(rows, key=lambda r: -r[1])]  # 'yes' first
    return {_written(tmp_path, "text.csv", "\n".join(text) + "\n"): _spec(),
            _written(tmp_path, "comma.csv", "\n".join(comma) + "\n"): _spec(),
            _written(tmp_path, "words.csv", "\n".join(words) + "\n"):
                _spec(score=None, prediction="p")}


def test_refusals_by_path_say_what_the_upload_says(tmp_path):
    """DuckDB said 'has text values' without the values the upload names."""
    for path, spec in _messages_files(tmp_path).items():
        said = _refusal(_upload, path, spec)
        assert said == _refusal(_duckdb, path, spec), path.name
        if spec.score:
            assert " such as '" in said
    assert "values 'no', 'yes' that the target 'y' never takes (0.0, 1.0)" in said


def _not_utf8(tmp_path):
    """The same rows in cp1252, UTF-16 (with a byte-order mark), Korean cp949 and cp1252 with
    one line of UTF-8; a folder of the first two."""
    rows = "y,s,g\n" + "".join(f"{i % 2},0.{i},{['Café', 'Zoë', 'Ærø'][i % 3]}\n"
                                for i in range(40))
    korean = rows.replace("Café", "서울").replace("Zoë", "부산").replace("Ærø", "한국")
    mixed = _written(tmp_path, "mixed.csv", rows, "cp1252")
    mixed.write_bytes(mixed.read_bytes() + "1,0.5,Müller\n".encode())
    folder = tmp_path / "folder"
    folder.mkdir()
    _written(folder, "a.csv", rows, "cp1252")
    _written(folder, "b.csv", rows.replace("0.", "0.9"), "utf-16")
    return [_written(tmp_path, "cp.csv", rows, "cp1252"),
            _written(tmp_path, "wide.csv", rows, "utf-16"),
            _written(tmp_path, "kr.csv", korean, "cp949"), mixed, folder]


def _upload_of(path):
    """The upload of a CSV file, or of a folder's files put one after the other (as UTF-8)."""
    if not path.is_dir():
        return _upload(path, _spec())
    frames = [read_table(f).frame for f in sorted(path.iterdir())]
    return faircard.assess_spec(pd.concat(frames, ignore_index=True), _spec())


def test_a_csv_file_by_path_in_another_encoding_than_utf8_is_read_as_uploaded(tmp_path):
    """DuckDB answered 'CSV Error on Line: 2' and Spark read 'Caf\\ufffd' as a group, then
    both refused the file ('a file read by its path must be UTF-8'), while an upload detected
    its encoding; now the file is read from the encoding an upload detects, with its note."""
    for path in _not_utf8(tmp_path):
        expected = _upload_of(path)
        got = _duckdb(path, _spec())
        pd.testing.assert_frame_equal(got.counts_frame(), expected.counts_frame())
        groups = set(expected.counts_frame()["group"])
        assert groups in ({"Café", "Zoë", "Ærø"}, {"서울", "부산", "한국"},
                          {"Café", "Zoë", "Ærø", "Müller"})
        read = read_table(path) if path.is_file() else None
        if read is not None:
            assert f"'{path.name}' is not UTF-8; it was read as {read.encoding} (detected)." \
                in got.notes
            assert set(read.warnings) <= set(got.notes)
    assert got.notes == ["'a.csv' is not UTF-8; it was read as cp1252 (detected).",
                         "'b.csv' is not UTF-8; it was read as utf-16 (detected)."]  # the folder
    mixed = _duckdb(tmp_path / "mixed.csv", _spec()).notes
    assert any(n.startswith("'mixed.csv' mixes text encodings: 1 line(s) are UTF-8 (first: "
                            "line 42) and 40 are cp1252") for n in mixed)


def test_spark_refuses_as_duckdb_and_the_upload_do(spark, tmp_path):
    for path, spec in _messages_files(tmp_path).items():
        said = _refusal(_upload, path, spec)
        assert _refusal(assess_source, str(path), spec, engine="spark", spark=spark) == said


def test_spark_reads_a_csv_file_in_another_encoding_as_uploaded(spark, tmp_path):
    """cp1252, UTF-16 and cp949 files are read where they lie, in the Java charset that
    decodes them as the upload does (as on a cluster; Spark read a UTF-8 copy on this
    machine's disk, and refused them on a cluster); a file mixing UTF-8 lines with cp1252
    ones from the copy. The shared session keeps Java's other charsets off."""
    from faircard.engine import spark_frame

    for path in _not_utf8(tmp_path):
        got = assess_source(str(path), _spec(), engine="spark", spark=spark)
        pd.testing.assert_frame_equal(got.counts_frame(), _upload_of(path).counts_frame())
        assert got.notes == _duckdb(path, _spec()).notes
        read = {Path(unquote(urlparse(f).path)) for f in
                spark_frame(str(path), spark=spark).inputFiles()}
        wanted = set(path.iterdir()) if path.is_dir() else {path}
        assert (read == wanted) is (path.name != "mixed.csv"), (path.name, read)
    assert spark.conf.get("spark.sql.legacy.javaCharsets") == "false"


def test_spark_names_the_column_whose_type_differs_between_parquet_files(spark, tmp_path):
    """Spark took the type of one file and failed on the others with a Java error
    (PARQUET_COLUMN_DATA_TYPE_MISMATCH); DuckDB reads them together, as the upload of their
    rows in one file."""
    frame = _frame(n=120, seed=7)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:60].to_parquet(folder / "a.parquet")
    frame.iloc[60:].astype({"y": "float64"}).to_parquet(folder / "b.parquet")
    whole = tmp_path / "whole.parquet"
    frame.astype({"y": "float64"}).to_parquet(whole)
    pd.testing.assert_frame_equal(_duckdb(folder, _spec()).counts_frame(),
                                  _upload(whole, _spec()).counts_frame())
    for source in (folder, folder / "*.parquet"):
        said = _refusal(assess_source, str(source), _spec(), engine="spark", spark=spark)
        assert said.startswith(f"Spark cannot read the files of '{source}' together: column "
                               "'y' holds int64 in 'a.parquet' and double in 'b.parquet'")


def _named_parquet(tmp_path):
    """A Parquet file whose names faircard's rule changes: ' g ' and 'h', 'H'."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _frame(n=80, seed=8)
    other = np.random.default_rng(8).choice(["u", "v"], len(frame))
    path = tmp_path / "named.parquet"
    pq.write_table(pa.table([frame["y"], frame["s"], frame["g"], other, frame["g"]],
                            names=["y", "s", " g ", "h", "H"]), path)
    return path


NAMED_PARQUET_SPEC = _spec(sensitive=("g", "H.1"), intersection=False)


def test_parquet_column_names_by_path_follow_the_upload_rule(tmp_path):
    """DuckDB kept ' g ' and named 'h', 'H' as 'h', 'H_1'."""
    from faircard.engine.sources import sample_duckdb

    path = _named_parquet(tmp_path)
    assert list(read_table(path).frame.columns) == ["y", "s", "g", "h", "H.1"]
    assert list(sample_duckdb(str(path)).columns) == ["y", "s", "g", "h", "H.1"]  # the choices
    expected = _upload(path, NAMED_PARQUET_SPEC).counts_frame()
    pd.testing.assert_frame_equal(_duckdb(path, NAMED_PARQUET_SPEC).counts_frame(), expected)
    folder = tmp_path / "folder"
    folder.mkdir()
    path.rename(folder / path.name)
    pd.testing.assert_frame_equal(_duckdb(folder, NAMED_PARQUET_SPEC).counts_frame(), expected)


def test_spark_names_parquet_columns_by_the_upload_rule(spark, tmp_path):
    """Spark kept ' g ' as a name. (Names one file holds twice, ignoring case, Spark refuses
    on reading: 'The column `h` already exists'.)"""
    path = tmp_path / "spaced.parquet"
    _frame(n=80, seed=9).rename(columns={"g": " g "}).to_parquet(path)
    expected = _upload(path, _spec()).counts_frame()
    got = assess_source(str(path), _spec(), engine="spark", spark=spark)
    pd.testing.assert_frame_equal(got.counts_frame(), expected)


def _instants(tmp_path):
    """A Parquet file whose feature holds instants of a zone with summer time (the file keeps
    the zone's name; the instants are stored in UTC), one of them missing."""
    frame = _frame(n=90, seed=10)
    local = ["2024-01-01 10:00", "2024-06-01 12:30", "2024-10-27 02:30"]
    when = pd.Series(pd.to_datetime([local[i % 3] for i in range(len(frame))]))
    when = when.dt.tz_localize("Europe/Paris", ambiguous=True).where(frame.index % 7 != 3)
    path = tmp_path / "instants.parquet"
    frame.assign(g=when).to_parquet(path)
    return path


INSTANTS = {"2024-01-01 09:00:00+00:00", "2024-06-01 10:30:00+00:00",
            "2024-10-27 00:30:00+00:00", "(missing)"}
"""The groups of :func:`_instants`: Paris is UTC+1 in winter, +2 in summer (the ambiguous
02:30 of 27 October 2024 is the first, summer one)."""


def test_instants_are_named_in_utc_by_every_reader(tmp_path):
    """An upload named them in the file's zone ('2024-01-01 10:00:00+01:00') and DuckDB in its
    session's ('2024-01-01 09:00:00+00:00' here): one group, two names."""
    path = _instants(tmp_path)
    expected = _upload(path, _spec()).counts_frame()
    assert set(expected["group"]) == INSTANTS
    pd.testing.assert_frame_equal(_duckdb(path, _spec()).counts_frame(), expected)
    # a naive time is a wall time, named as written
    naive = tmp_path / "naive.parquet"
    pd.read_parquet(path).assign(g=lambda f: f["g"].dt.tz_localize(None)).to_parquet(naive)
    expected = _upload(naive, _spec()).counts_frame()
    assert "2024-01-01 10:00:00" in set(expected["group"])
    pd.testing.assert_frame_equal(_duckdb(naive, _spec()).counts_frame(), expected)


def test_spark_names_instants_in_utc_whatever_its_session_zone(spark, tmp_path):
    """Spark gave its session's wall time without the offset ('2024-01-01 09:00:00' with a UTC
    session, '2024-01-01 04:00:00' with New York's)."""
    path = _instants(tmp_path)
    expected = _upload(path, _spec()).counts_frame()
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        got = assess_source(str(path), _spec(), engine="spark", spark=spark)
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    pd.testing.assert_frame_equal(got.counts_frame(), expected)
    assert set(got.counts_frame()["group"]) == INSTANTS


def _unnamed_and_cased(tmp_path):
    """Parquet files with a column without a name, and with names differing only in case."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _frame(n=80, seed=11)
    other = np.random.default_rng(11).choice(["u", "v"], len(frame))
    unnamed, cased = tmp_path / "unnamed.parquet", tmp_path / "cased.parquet"
    pq.write_table(pa.table([frame["y"], frame["s"], frame["g"], other],
                            names=["y", "s", "g", ""]), unnamed)
    pq.write_table(pa.table([frame["y"], frame["s"], frame["g"], other],
                            names=["y", "s", "g", "G"]), cased)
    return {unnamed: _spec(sensitive=("g", "Unnamed: 3"), intersection=False),
            cased: _spec(sensitive=("g", "G.1"), intersection=False)}


def test_a_parquet_column_without_a_name_is_read_by_path_as_uploaded(tmp_path):
    """DuckDB refused it: 'column_statistics: 'C3' names no column of the scan'."""
    for path, spec in _unnamed_and_cased(tmp_path).items():
        expected = _upload(path, spec).counts_frame()
        assert set(expected["feature"]) == set(spec.sensitive)
        pd.testing.assert_frame_equal(_duckdb(path, spec).counts_frame(), expected)


def test_spark_reads_names_differing_only_in_case_without_changing_its_session(
        spark, tmp_path, monkeypatch):
    """Spark refused names differing only in case ('[COLUMN_ALREADY_EXISTS] The column `g`
    already exists'), then faircard did unless the shared session told case apart; now it
    reads them as the upload in a session of its own, and the shared session's settings stay
    as others see them while faircard counts (its time zone is the counting session's too)."""
    from faircard.engine import sources, spark_frame

    unnamed, cased = _unnamed_and_cased(tmp_path).items()
    got = assess_source(str(unnamed[0]), unnamed[1], engine="spark", spark=spark)
    pd.testing.assert_frame_equal(got.counts_frame(), _upload(*unnamed).counts_frame())
    keys = ("spark.sql.caseSensitive", *sources.SPARK_PUSHDOWN)
    shared = {key: spark.conf.get(key, None) for key in keys}
    seen, unpacked = [], sources._unpacked
    monkeypatch.setattr(sources, "_unpacked", lambda *a, **k: (
        seen.append({key: spark.conf.get(key, None) for key in keys}), unpacked(*a, **k))[1])
    got = assess_source(str(cased[0]), cased[1], engine="spark", spark=spark)
    pd.testing.assert_frame_equal(got.counts_frame(), _upload(*cased).counts_frame())
    assert set(got.counts_frame()["feature"]) == {"g", "G.1"}
    assert seen == [shared] and shared["spark.sql.caseSensitive"] in (None, "false")
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
    try:
        own = spark_frame(str(cased[0]), spark=spark).sparkSession
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    assert own is not spark and own.conf.get("spark.sql.session.timeZone") == "Asia/Kolkata"


def _text_scores(tmp_path):
    """Score columns of text: numbers written as text in Parquet; a CSV column of scores one
    of which is written with a leading zero (a code, so the column is text); text in which
    DuckDB's cast reads numbers that pandas does not ('1_000', 'NAN'), past rows of numbers."""
    frame = _frame(n=60, seed=12)
    numbers = tmp_path / "numbers.parquet"
    frame.assign(s=frame["s"].astype(str)).to_parquet(numbers)
    coded = tmp_path / "coded.csv"
    coded.write_text("y,s,g\n" + "".join(f"{y},{'01' if i == 7 else s},{g}\n"
                                         for i, (y, s, g) in enumerate(frame.itertuples(False))))
    odd = tmp_path / "odd.parquet"
    text = frame["s"].astype(str).where(frame.index < 50, "1_000").where(frame.index != 55, "NAN")
    frame.assign(s=text).to_parquet(odd)
    return numbers, coded, odd


def test_a_score_column_of_text_is_refused_alike_by_every_reader(tmp_path):
    """An upload read numbers written as text as scores, which DuckDB refused ('has text
    values', naming none)."""
    numbers, coded, odd = _text_scores(tmp_path)
    shown = ", ".join(repr(str(v)) for v in _frame(n=60, seed=12)["s"][:3])
    said = _refusal(_upload, numbers, _spec())
    assert said == (f"Score column 's' has numbers written as text such as {shown}; a score "
                    "must be a column of numbers. Store them as numbers in the file, or use it "
                    "as a prediction column instead.")
    assert _refusal(_duckdb, numbers, _spec()) == said
    said = _refusal(_upload, coded, _spec())
    assert said.startswith(f"Score column 's' has numbers written as text such as {shown};")
    assert _refusal(_duckdb, coded, _spec()) == said
    said = _refusal(_upload, odd, _spec())
    assert said.startswith("Score column 's' has text values such as '1_000', 'NAN'; a score")
    assert _refusal(_duckdb, odd, _spec()) == said


def test_spark_refuses_a_score_column_of_text_as_the_upload_does(spark, tmp_path):
    for path in _text_scores(tmp_path):
        said = _refusal(_upload, path, _spec())
        assert _refusal(assess_source, str(path), _spec(), engine="spark", spark=spark) == said


def _quoted_line_ends(tmp_path):
    """CSV files with line ends within quotes: a group name and a note spanning lines; the
    same with \\r\\n line ends and a \\n within quotes (as Excel writes); one whose lines end
    in \\n and \\r\\n alike."""
    frame = _frame(n=90, seed=13)
    groups = {"a": "a", "b": "b\nc"}
    rows = [f'{y},{s},"{groups[g]}","note\n{i}"' for i, (y, s, g) in
            enumerate(frame.itertuples(False))]
    text = "y,s,g,note\n" + "\n".join(rows) + "\n"
    mixed = "y,s,g,note\n" + "".join(r + ("\r\n" if i % 3 else "\n") for i, r in
                                      enumerate(rows))
    crlf = "y,s,g,note\r\n" + "\r\n".join(rows) + "\r\n"
    return (_written(tmp_path, "lf.csv", text), _written(tmp_path, "crlf.csv", crlf),
            _written(tmp_path, "mixed.csv", mixed))


def test_spark_reads_line_ends_within_quotes_as_uploaded(spark, tmp_path):
    """Spark's line reader cut a value spanning lines and its row in two: here the rows' second
    halves made the score column text ('has text values such as 'note''), where the upload and
    DuckDB read the file; a file whose lines end in two ways is refused, not misread."""
    lf, crlf, mixed = _quoted_line_ends(tmp_path)
    for path in (lf, crlf):
        expected = _upload(path, _spec())
        assert set(expected.counts_frame()["group"]) == {"a", "b\nc"}
        pd.testing.assert_frame_equal(_duckdb(path, _spec()).counts_frame(),
                                      expected.counts_frame())
        got = assess_source(str(path), _spec(), engine="spark", spark=spark)
        pd.testing.assert_frame_equal(got.counts_frame(), expected.counts_frame())
        assert got.notes == expected.notes == []
    assert set(_upload(mixed, _spec()).counts_frame()["group"]) == {"a", "b\nc"}
    said = _refusal(assess_source, str(mixed), _spec(), engine="spark", spark=spark)
    assert said == ("Spark cannot read 'mixed.csv' as uploaded: a quoted value in it spans "
                    "lines, so Spark reads it as one stream, where line ends of more than one "
                    "kind (\\n, \\r\\n, \\r) or a \\r within quotes change its values. Save it "
                    "with one kind of line end, or upload it.")
