"""A CSV with a double quote that is never closed is named by its row, in words: the message
was pandas' "Error tokenizing data. C error: EOF inside string starting at row 1001", whose
row is counted from 0."""

from __future__ import annotations

import pytest

from faircard.errors import FaircardError
from faircard.io import read_table

CASES = [
    (b"y,g\n" + b"1,a\n" * 1000 + b'0,"b\n' + b"1,a\n" * 20, 1_002),
    (b'y,g\n1,"a\nb"\n0,c\n"1,d\n', 4),  # a quoted value spanning lines is one row
    (b"y,g\n\n\n1,a\n\"0,b\n", 5),       # blank lines count
    (b'"y,g\n1,a\n', 1),                 # the header itself
    (b"y,g\n" + b"1,a\n" * 300_000 + b'"0,b\n', 300_002),  # past the first parse chunk
]


@pytest.mark.parametrize("raw, row", CASES, ids=["row", "multiline", "blank", "header",
                                                 "late"])
def test_an_open_quote_is_named_by_its_row(raw, row):
    with pytest.raises(FaircardError) as caught:
        read_table(raw, filename="q.csv")
    message = str(caught.value)
    assert message.startswith(f"Row {row:,} of 'q.csv' (the header is row 1) opens a double "
                              "quote that is never closed"), message
    assert "\n" not in message and "C error" not in message
    # the row named is where the quote opens, counted as the message says
    lines = [line for line in raw.decode().split("\n")]
    rows, start, quoted = 0, None, False
    for line in lines:
        if not quoted:
            rows += 1
            start = rows
        quoted ^= line.count('"') % 2 == 1
    assert quoted and start == row
