"""Hostile dataset files: text in unexpected Unicode encodings, very wide tables, spreadsheets
that expand or reach out, and every one of them read through the same function as an upload.

Each is made here at test time. What must never happen: a file is read wrongly without a word
(columns named "\\x00a\\x00"), the server spends minutes or gigabytes on a small file, or a
parser's exception reaches the user instead of a sentence naming the problem.
"""

from __future__ import annotations

import codecs

import pandas as pd
import pytest

from faircard.errors import FaircardError
from faircard.io.tables import read_table

TEXT = "group,outcome,score\nA,1,0.5\nB\u00e9,0,0.25\n"
EXPECTED = pd.DataFrame({"group": ["A", "B\u00e9"], "outcome": [1, 0], "score": [0.5, 0.25]})


@pytest.mark.parametrize("raw", [
    TEXT.encode("utf-32"), codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"),
    TEXT.encode("utf-16"), codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    TEXT.encode("utf-16-le"), TEXT.encode("utf-16-be"),
    codecs.BOM_UTF8 + TEXT.encode(),
], ids=["utf-32 BOM", "utf-32-be BOM", "utf-16 BOM", "utf-16-be BOM", "utf-16-le no BOM",
        "utf-16-be no BOM", "utf-8 BOM"])
def test_unicode_encodings_are_read_as_what_they_are(raw):
    frame = read_table(raw, filename="d.csv").frame
    pd.testing.assert_frame_equal(frame, EXPECTED)


@pytest.mark.parametrize("raw, says", [
    (TEXT.encode("utf-32") + b"\x00", "not utf-32 text"),
    (TEXT.encode("utf-16") + b"\x00", "not utf-16 text"),
    (codecs.BOM_UTF16_LE + b"a\x00,\x00\x00\xd8b\x00\n\x001\x00", "not utf-16 text"),
    (b"\x00" * 4096, "binary file"),
], ids=["utf-32 cut", "utf-16 odd length", "utf-16 lone surrogate", "zeros"])
def test_broken_unicode_is_one_sentence(raw, says):
    with pytest.raises(FaircardError, match=says):
        read_table(raw, filename="d.csv")
