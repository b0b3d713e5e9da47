"""The same groups, with the same names, whichever engine counts: an upload read by pandas,
DuckDB reading the file where it lives, and Spark. A code written with a leading zero ("01",
"007", a ZIP code "00501") stays as written; what counts as missing is the same everywhere."""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.engine import spark_frame
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.io.tables import NA_WORDS, read_table
from faircard.spec import AssessmentSpec

FEATURES = ("region", "zip", "num", "mixed", "flag", "ws", "late")
SPEC = AssessmentSpec(target="y", score="score", sensitive=FEATURES, threshold=0.5, n_boot=0,
                      min_group_size=0, intersection=False)
N = 25_000  # more rows than DuckDB's type sniffing samples (20,480)

CHOICES = {
    "region": ["01", "02", "10", " 01", "01 ", "NA", "null", "", "  "],
    "zip": ["00501", "02134", "94105", "10001"],
    "num": ["1", " 2", "3.0", "1e0", "+1", "2 ", "NA", "N/A", "?", ""],
    "mixed": ["1", "x", "2.0", "01", "TRUE", "None"],
    "flag": ["true", "False", "TRUE", "false", "NA", "nan"],
    "ws": [" a", "a", "a ", "  ", "b", "NULL", "<NA>"],
}
EXPECTED_GROUPS = {  # the rule, written out by hand for the values above
    "region": {"01", "02", "10", "01 ", "(missing)"},
    "zip": {"00501", "02134", "94105", "10001"},
    "num": {"1", "2", "3", "(missing)"},
    "mixed": {"1", "x", "2.0", "01", "TRUE", "(missing)"},
    "flag": {"True", "False", "(missing)"},
    "ws": {"a", "a ", "b", "(missing)"},
    "late": {"1", "2", "3", "007"},
}


def _csv_text(n: int = N, seed: int = 3) -> str:
    rng = np.random.default_rng(seed)
    cols = {"y": rng.integers(0, 2, n).astype(str),
            "score": np.char.mod("%.3f", np.round(rng.random(n), 3))}
    cols["score"][:15] = "NA"
    cols["y"][15:25] = ""
    for name, choices in CHOICES.items():
        cols[name] = rng.choice(np.array(choices, dtype=object), n)
    late = rng.choice(np.array(["1", "2", "3"], dtype=object), n)
    late[n - 3] = "007"  # one code, far past any sample: the whole column is codes
    cols["late"] = late
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(cols))
    writer.writerows(zip(*cols.values(), strict=True))
    return out.getvalue()


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "codes.csv"
    path.write_text(_csv_text())
    return path


def _groups(assessment, feature: str) -> set[str]:
    frame = assessment.counts_frame()
    return set(frame.loc[frame["feature"] == feature, "group"])


def _oracle_sizes(text: str, feature: str) -> dict[str, int]:
    """Rows per written value (spaces after the delimiter skipped, missing words as one
    group), among the rows with an outcome and a score, read with Python's csv module."""
    sizes: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["y"].lstrip(" ") in NA_WORDS or row["score"].lstrip(" ") in NA_WORDS:
            continue
        value = row[feature].lstrip(" ")
        value = "(missing)" if value in NA_WORDS else value
        sizes[value] = sizes.get(value, 0) + 1
    return sizes


def test_faircards_reader_keeps_codes_as_written(csv_path):
    table = read_table(csv_path).frame
    for col in ("region", "zip", "late"):
        assert table[col].dtype.kind in "OT" or pd.api.types.is_string_dtype(table[col]), col
    assert set(table["zip"]) == {"00501", "02134", "94105", "10001"}
    assert pd.api.types.is_float_dtype(table["num"]) and pd.api.types.is_float_dtype(
        table["score"])
    assert table["late"].iloc[N - 3] == "007" and table["late"].iloc[0] in ("1", "2", "3")


def test_pandas_and_duckdb_form_the_same_groups_with_the_same_names(csv_path):
    """The seven features in two assessments (all seven at once occur in about 10,500
    combinations, more than 1,000 bootstrap replicates may resample: ``prepare.max_cells``)."""
    text = csv_path.read_text()
    table = read_table(csv_path).frame
    for part in (FEATURES[:3], FEATURES[3:]):
        spec = dataclasses.replace(SPEC, sensitive=part)
        expected = faircard.assess_spec(table, spec)
        got = assess_grouped(count_duckdb(str(csv_path), spec), spec)
        pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
        pd.testing.assert_frame_equal(expected.by_group, got.by_group)
        for feature in part:
            assert _groups(expected, feature) == EXPECTED_GROUPS[feature], feature
        # sizes of the written values (region and ws: the values as the csv module reads them)
        for feature in {"region", "zip", "late"} & set(part):
            frame = got.counts_frame()
            shown = frame[frame["feature"] == feature].set_index("group")["n"].to_dict()
            assert shown == _oracle_sizes(text, feature), feature
        assert got.n_rows == expected.n_rows and got.n_dropped == expected.n_dropped == 25


def test_a_folder_of_csv_files_with_codes_in_one_file_only(tmp_path):
    """The code '007' is in the last file only: every file's column is text."""
    lines = _csv_text(n=3000, seed=8).splitlines()
    folder = tmp_path / "parts"
    folder.mkdir()
    for j in range(3):
        (folder / f"p{j}.csv").write_text("\n".join([lines[0], *lines[1 + j * 1000:
                                                                    1 + (j + 1) * 1000]]) + "\n")
    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join(lines) + "\n")
    expected = faircard.assess_spec(read_table(whole).frame, SPEC)
    got = assess_grouped(count_duckdb(str(folder), SPEC), SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    assert "007" in _groups(got, "late")


def _parquet_frame(n: int = 3000, seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    text = rng.choice(np.array(["01", "1", "007", "", " a", "a", "NA", "null", None],
                               dtype=object), n)
    return pd.DataFrame({
        "y": rng.integers(0, 2, n), "score": np.round(rng.random(n), 3),
        "region": pd.array(text, dtype="string"), "code": text,
        "num": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 4, n).astype(float)),
        "flag": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5),
                         dtype="boolean")})


PARQUET_SPEC = AssessmentSpec(target="y", score="score", sensitive=("region", "code", "num",
                                                                    "flag"),
                              threshold=0.5, n_boot=0, min_group_size=0, intersection=False)


def test_parquet_text_is_kept_as_written_and_only_nulls_are_missing(tmp_path):
    path = tmp_path / "codes.parquet"
    _parquet_frame().to_parquet(path)
    expected = faircard.assess_spec(read_table(path).frame, PARQUET_SPEC)
    got = assess_grouped(count_duckdb(str(path), PARQUET_SPEC), PARQUET_SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    for feature in ("region", "code"):
        assert _groups(got, feature) == {"01", "1", "007", "", " a", "a", "NA", "null",
                                         "(missing)"}
    assert _groups(got, "num") == {"1", "2", "3", "(missing)"}
    assert _groups(got, "flag") == {"True", "False", "(missing)"}


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_forms_the_same_groups_as_pandas_and_duckdb(spark, tmp_path):
    """(Spark reads every row as text before typing, so fewer rows show the same.)"""
    from faircard.engine.sources import count_spark

    csv_path = tmp_path / "codes.csv"
    csv_path.write_text(_csv_text(n=3000))
    expected = faircard.assess_spec(read_table(csv_path).frame, SPEC)
    got = assess_grouped(count_spark(spark_frame(str(csv_path), spark=spark), SPEC), SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    pd.testing.assert_frame_equal(expected.by_group, got.by_group, rtol=1e-12)
    for feature in FEATURES:
        assert _groups(got, feature) == EXPECTED_GROUPS[feature], feature
    path = tmp_path / "codes.parquet"
    _parquet_frame().to_parquet(path)
    expected = faircard.assess_spec(read_table(path).frame, PARQUET_SPEC)
    got = assess_grouped(count_spark(spark_frame(str(path), spark=spark), PARQUET_SPEC),
                         PARQUET_SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
