"""The typed copy of a CSV file past the rows its types are guessed from: text columns with few
values (written through an ENUM of the first rows' values) that meet a new value or a value
with spaces after the delimiter, and numbers read as written before they are cleaned. pandas'
``read_csv`` (behind faircard's reader) is the oracle, as in ``test_csv_typing.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faircard.engine import csv_spill
from tests.unit.test_csv_typing import _duckdb_copy, assert_typed_as_pandas

ROWS = 3 * csv_spill.GUESS_ROWS


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "group": rng.choice(["a", "b", "c"], ROWS).astype(object),
        "code": rng.choice(["x1", "x2"], ROWS).astype(object),
        "y": rng.integers(0, 2, ROWS).astype(str).astype(object),
        "score": np.char.mod("%.5f", rng.random(ROWS)).astype(object),
    })


LATE = ROWS - 2


@pytest.mark.parametrize("values", [
    {(LATE, "group"): "d"},                          # a group first seen past the first rows
    {(LATE, "group"): " a"},                         # spaces after the delimiter ('a')
    {(LATE, "group"): " NA", (LATE, "code"): "NA"},  # missing, with and without the spaces
    {(LATE, "score"): " 0.25", (LATE, "y"): " 1"},   # numbers with spaces after the delimiter
    {(LATE, "score"): " 01"},                        # a code once the spaces are skipped: text
    {(LATE, "y"): "\t01"},                           # a tab before '01': the number 1 (pandas)
    {(LATE, "score"): "?", (LATE, "y"): "n/a"},      # words for a missing value in numbers
    {(3, "group"): "NA", (LATE, "group"): "NA", (LATE, "code"): "<NA>"},  # a word seen, one not
])
def test_values_past_the_first_rows_are_typed_as_pandas_reads_them(tmp_path, values):
    frame = _frame(5)
    for (row, column), value in values.items():
        frame.loc[row, column] = value
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    assert_typed_as_pandas(path)


def test_a_file_written_with_spaces_after_each_delimiter(tmp_path):
    """Every text value starts with a space: the copy does not try the first rows' values
    as written (each row would miss them) and still reads them as pandas does."""
    frame = _frame(6)
    path = tmp_path / "spaced.csv"
    lines = [", ".join(frame.columns)] + [", ".join(r) for r in frame.itertuples(index=False)]
    path.write_text("\n".join(lines) + "\n")
    types, copy = _duckdb_copy(path)
    assert types == {"group": "VARCHAR", "code": "VARCHAR", "y": "BIGINT", "score": "DOUBLE"}
    assert set(copy["group"]) == {"a", "b", "c"}
    assert_typed_as_pandas(path)
