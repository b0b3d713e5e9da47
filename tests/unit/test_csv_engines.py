"""CSV files read the same way by every engine, beyond the codes of test_engine_labels.py:
whole numbers too long for 64 bits, Spark reading a folder and a glob of CSV files, and
DuckDB's typed copy of a CSV file made again when the file changes."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.engine import spark_frame
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.io.tables import read_table
from faircard.spec import AssessmentSpec

LONG = ("account", "unsigned", "fits")
LONG_SPEC = AssessmentSpec(target="y", score="score", sensitive=LONG, threshold=0.5, n_boot=0,
                           min_group_size=0, intersection=False)
LONG_VALUES = {  # written values; the first two columns are identifiers, the last integers
    "account": ["1", "99999999999999999999", "-99999999999999999999", "42"],
    "unsigned": ["9223372036854775808", "3", "18446744073709551615"],
    "fits": ["9223372036854775807", "-9223372036854775808", "5"],
}


def _write(rows: dict[str, list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows))
    writer.writerows(zip(*rows.values(), strict=True))
    return out.getvalue()


def _long_csv(n: int = 400, seed: int = 5) -> str:
    rng = np.random.default_rng(seed)
    rows = {"y": rng.integers(0, 2, n).astype(str).tolist(),
            "score": [f"{x:.3f}" for x in rng.random(n)]}
    for name, values in LONG_VALUES.items():
        rows[name] = [values[i % len(values)] for i in rng.permutation(n)]
    return _write(rows)


def _groups(assessment, feature: str) -> set[str]:
    frame = assessment.counts_frame()
    return set(frame.loc[frame["feature"] == feature, "group"])


def _sizes(text: str, feature: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        sizes[row[feature]] = sizes.get(row[feature], 0) + 1
    return sizes


def test_whole_numbers_too_long_for_64_bits_are_identifiers_as_written(tmp_path):
    path = tmp_path / "long.csv"
    text = _long_csv()
    path.write_text(text)
    table = read_table(path).frame
    assert table["account"].map(type).eq(str).all()
    assert table["unsigned"].map(type).eq(str).all()
    assert pd.api.types.is_integer_dtype(table["fits"]) and table["fits"].dtype == np.int64
    expected = faircard.assess_spec(table, LONG_SPEC)
    got = assess_grouped(count_duckdb(str(path), LONG_SPEC), LONG_SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    for feature in ("account", "unsigned"):
        assert _groups(got, feature) == set(LONG_VALUES[feature])
        frame = got.counts_frame()
        shown = frame[frame["feature"] == feature].set_index("group")["n"].to_dict()
        assert shown == _sizes(text, feature)
    assert _groups(got, "fits") == set(LONG_VALUES["fits"])  # integers print as written


def test_duckdb_types_a_changed_csv_file_again(tmp_path):
    """The typed copy is kept per file, size and time: a '01' added later is a code."""
    path = tmp_path / "changing.csv"
    rows = {"y": ["1", "0"] * 50, "score": ["0.7", "0.2"] * 50, "region": ["1", "2"] * 50}
    path.write_text(_write(rows))
    spec = AssessmentSpec(target="y", score="score", sensitive=("region",), threshold=0.5,
                          n_boot=0, min_group_size=0)
    first = assess_grouped(count_duckdb(str(path), spec), spec)
    again = assess_grouped(count_duckdb(str(path), spec), spec)
    pd.testing.assert_frame_equal(first.counts_frame(), again.counts_frame())
    rows["region"][-1] = "01"
    path.write_text(_write(rows))
    changed = assess_grouped(count_duckdb(str(path), spec), spec)
    assert _groups(first, "region") == {"1", "2"}
    assert _groups(changed, "region") == {"1", "2", "01"}
    pd.testing.assert_frame_equal(
        faircard.assess_spec(read_table(path).frame, spec).counts_frame(),
        changed.counts_frame())


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_reads_long_integers_and_folders_and_globs_of_csv_files(spark, tmp_path):
    from faircard.engine.sources import count_spark

    path = tmp_path / "long.csv"
    path.write_text(_long_csv(n=200))
    expected = faircard.assess_spec(read_table(path).frame, LONG_SPEC)
    got = assess_grouped(count_spark(spark_frame(str(path), spark=spark), LONG_SPEC),
                         LONG_SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    # three files, a code '007' in the last only: the whole column is codes
    rng = np.random.default_rng(2)
    n = 300
    rows = {"y": rng.integers(0, 2, n).astype(str).tolist(),
            "score": [f"{x:.2f}" for x in rng.random(n)],
            "late": rng.choice(["1", "2", "3"], n).tolist(),
            "sex": rng.choice(["F", "M", "NA"], n).tolist()}
    rows["late"][-1] = "007"
    whole = tmp_path / "whole.csv"
    whole.write_text(_write(rows))
    lines = whole.read_text().splitlines()
    folder = tmp_path / "parts"
    folder.mkdir()
    for j in range(3):
        part = lines[1 + j * 100: 1 + (j + 1) * 100]
        (folder / f"p{j}.csv").write_text("\n".join([lines[0], *part]) + "\n")
    spec = AssessmentSpec(target="y", score="score", sensitive=("late", "sex"), threshold=0.5,
                          n_boot=0, min_group_size=0, intersection=False)
    expected = faircard.assess_spec(read_table(whole).frame, spec).counts_frame()
    assert {"007", "1"} <= set(expected["group"])
    for source in (str(folder), str(folder / "p*.csv")):
        got = assess_grouped(count_spark(spark_frame(source, spark=spark), spec), spec)
        pd.testing.assert_frame_equal(expected, got.counts_frame())
        duck = assess_grouped(count_duckdb(source, spec), spec)
        pd.testing.assert_frame_equal(expected, duck.counts_frame())
