"""Parquet files whose metadata lies or is built to exhaust the reader, read as uploads.

Every file is written here by pyarrow, then its footer is edited byte for byte. What must never
happen: a small file decodes to more than the limit on decoded bytes because its footer said
otherwise, a parser's exception reaches the user, or a file keeps the server busy for minutes.
"""

from __future__ import annotations

import io
import struct
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faircard.errors import FaircardError
from faircard.io import parquet_pages
from faircard.io.limits import TableLimits
from faircard.io.tables import read_table

LIMITS = TableLimits(max_decoded_bytes=10 * 1024**2)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _understated(raw: bytes) -> bytes:
    """``raw`` with every uncompressed size in its footer (each row group's and each column
    chunk's) written as 0, in a varint of the same length so nothing else moves."""
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    sizes = set()
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        sizes.add(group.total_byte_size)
        sizes.update(group.column(j).total_uncompressed_size for j in range(group.num_columns))
    length = struct.unpack("<I", raw[-8:-4])[0]
    footer = raw[-8 - length:-8]
    for size in sizes:
        coded = _varint(size << 1)  # zigzag of a positive i64
        assert coded in footer
        footer = footer.replace(coded, b"\x80" * (len(coded) - 1) + b"\x00")
    out = raw[:-8 - length] + footer + raw[-8:]
    forged = pq.ParquetFile(io.BytesIO(out)).metadata
    assert all(forged.row_group(g).total_byte_size == 0 for g in range(forged.num_row_groups))
    return out


def _long_text_file(rows: int, width: int) -> bytes:
    table = pa.table({"outcome": [i % 2 for i in range(rows)],
                      "group": ["a" * (width - 1) + str(i % 2) for i in range(rows)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", use_dictionary=False)
    return sink.getvalue()


def test_a_footer_that_understates_the_data_does_not_get_it_read():
    raw = _understated(_long_text_file(50, 1_000_000))  # 50 MB of text
    assert len(raw) < 10_000
    start = time.perf_counter()
    with pytest.raises(FaircardError) as err:
        read_table(raw, filename="bomb.parquet", limits=LIMITS)
    assert time.perf_counter() - start < 5
    message = str(err.value)
    assert message.count("\n") == 0 and "'bomb.parquet' has more than 10 MB" in message
    assert "FAIRCARD_MAX_DECODED_MB" in message


def test_the_same_file_with_its_footer_intact_was_refused_by_the_footer_already():
    with pytest.raises(FaircardError, match="has 48 MB of uncompressed data"):
        read_table(_long_text_file(50, 1_000_000), filename="b.parquet", limits=LIMITS)


def test_a_file_within_the_limit_reads_as_pyarrow_reads_it_even_with_its_footer_understated():
    rng = np.random.default_rng(0)
    table = pa.table({"outcome": rng.integers(0, 2, 5000), "score": rng.random(5000),
                      "group": rng.choice(["F", "M", "X"], 5000)})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1000, data_page_size=512)
    for raw in (sink.getvalue(), _understated(sink.getvalue())):
        frame = read_table(raw, filename="ok.parquet", limits=LIMITS).frame
        pd.testing.assert_frame_equal(frame, table.to_pandas())


def test_a_file_cut_into_too_many_pages_is_one_sentence(monkeypatch):
    monkeypatch.setattr(parquet_pages, "MAX_PAGES", 20)
    table = pa.table({"outcome": np.arange(20_000) % 2})
    sink = io.BytesIO()
    pq.write_table(table, sink, data_page_size=64, write_batch_size=64)
    with pytest.raises(FaircardError, match="'p.parquet' is cut into more than 20 pages"):
        read_table(sink.getvalue(), filename="p.parquet", limits=LIMITS)


def test_pages_are_counted_as_their_headers_state():
    table = pa.table({"outcome": np.arange(100_000) % 7, "text": ["x" * 30] * 100_000})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=30_000, data_page_size=4096)
    raw = sink.getvalue()
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    counted = parquet_pages.declared_page_bytes(raw, meta, 10**12)
    # the footer's sizes add the page headers to the pages' own sizes
    footer = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    assert 0.9 * footer < counted <= footer


@pytest.mark.parametrize("cut", [1, 7, 40])
def test_a_broken_page_header_is_one_sentence(cut):
    raw = bytearray(_long_text_file(4, 100))
    meta = pq.ParquetFile(io.BytesIO(bytes(raw))).metadata
    start = meta.row_group(0).column(1).data_page_offset
    raw[start:start + cut] = b"\xff" * cut  # varints that never end, or unknown types
    with pytest.raises(FaircardError) as err:
        read_table(bytes(raw), filename="h.parquet", limits=LIMITS)
    assert "could not be read as Parquet" in str(err.value) and "\n" not in str(err.value)


def test_a_schema_nested_a_thousand_levels_deep_is_one_sentence():
    kind = pa.int64()
    for _ in range(1000):
        kind = pa.struct([("a", kind)])
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": [1], "n": pa.array([None], kind)}), sink)
    with pytest.raises(FaircardError, match="could not be read as Parquet: .*too deeply nested"):
        read_table(sink.getvalue(), filename="n.parquet", limits=LIMITS)


def test_a_column_named_with_double_quotes_is_counted_by_duckdb_as_uploaded(tmp_path):
    from faircard.assess import assess
    from faircard.engine.grouped import assess_grouped
    from faircard.engine.sources import count_duckdb
    from faircard.spec import AssessmentSpec

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({'say "yes"': rng.integers(0, 2, 500), 'the "score"': rng.random(500),
                          '"g"."h"': rng.choice(["a", 'b "c"'], 500)})
    path = tmp_path / "q.parquet"
    frame.to_parquet(path)
    spec = AssessmentSpec(target='say "yes"', score='the "score"', sensitive=('"g"."h"',),
                          n_boot=0)
    by_path = assess_grouped(count_duckdb(str(path), spec), spec)
    uploaded = assess(read_table(path.read_bytes(), filename="q.parquet").frame,
                      target='say "yes"', score='the "score"', sensitive=['"g"."h"'], n_boot=0)
    for result in (by_path, uploaded):
        got = result.by_group_wide().set_index("group")["selection_rate"]
        # oracle: each group's share of scores at or above 0.5, from the rows
        expected = (frame['the "score"'] >= 0.5).groupby(frame['"g"."h"']).mean()
        assert got.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
