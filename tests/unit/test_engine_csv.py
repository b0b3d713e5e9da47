"""A CSV file counted by DuckDB where it lives gives the groups faircard's own CSV reader gives
(the one behind uploads and the pandas engine): the same delimiter, the same words for a
missing value, spaces after a delimiter skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb, sample_duckdb
from faircard.io.tables import NA_WORDS, read_table
from faircard.spec import AssessmentSpec

SPEC = AssessmentSpec(target="y", score="score", sensitive=("grp", "num", "code"),
                      threshold=0.5, n_boot=0, min_group_size=0)


def _csv(delim: str, n: int = 600, seed: int = 4) -> str:
    rng = np.random.default_rng(seed)
    words = [" A", "A", "B", " NA", "None", "#N/A", "<NA>", "n/a", "?", "", "  B", "NULL"]
    lines = [delim.join(["y", " score", "grp", " num", "code"])]
    for _ in range(n):
        lines.append(delim.join([
            str(rng.integers(0, 2)), f" {rng.integers(0, 100) / 100:.2f}",
            str(rng.choice(words)), str(rng.choice(["1", " 2", "", "NA", "nan"])),
            str(rng.choice(["x1", "x2", "N/A", "-nan"]))]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_duckdb_reads_a_csv_as_faircards_reader_does(tmp_path, delim):
    path = tmp_path / "decisions.csv"
    path.write_text(_csv(delim))
    table = read_table(path).frame
    assert list(table.columns) == ["y", "score", "grp", "num", "code"]
    expected = faircard.assess_spec(table, SPEC)
    got = assess_grouped(count_duckdb(str(path), SPEC), SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    groups = set(got.counts_frame().query("feature == 'grp'")["group"])
    assert groups == {"A", "B", "(missing)"}
    assert list(sample_duckdb(str(path), 5).columns) == list(table.columns)


def test_a_folder_of_csv_files_is_read_the_same_way(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    text = _csv(";", n=900, seed=6).splitlines()
    header, rows = text[0], text[1:]
    for j in range(3):
        (folder / f"part{j}.csv").write_text("\n".join([header, *rows[j::3]]) + "\n")
    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join(text) + "\n")
    expected = faircard.assess_spec(read_table(whole).frame, SPEC)
    for source in (folder, tmp_path / "logs" / "*.csv"):
        got = assess_grouped(count_duckdb(str(source), SPEC), SPEC)
        pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())


def test_the_missing_words_are_pandas_defaults_and_a_question_mark():
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(NA_WORDS) == set(STR_NA_VALUES) | {"?"}
