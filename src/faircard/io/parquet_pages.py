"""What a Parquet file's pages will decompress to, read from the pages' own headers.

The footer states each row group's uncompressed size, but nothing makes it true: a 3 KB file
whose footer said 0 bytes decoded to 50 MB of text (and a larger one to many GB), because the
reader trusts each page's own header when it decompresses. This module walks the page headers
of every column chunk (Thrift compact protocol, the fields skipped generically) and adds up
their ``uncompressed_page_size``, the size the reader allocates and must fill for the page.
"""

from __future__ import annotations

_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = \
    range(13)
_MAX_DEPTH = 64  # page headers nest three levels; deeper is not a page header
MAX_PAGES = 2_000_000
"""Most pages a file may have: each header is parsed in Python (about 7 us), and a file of
empty pages, 7 bytes each, would otherwise keep the server busy for minutes per GB. Writers
put thousands of values in a page, so a file within the limit on cells has far fewer."""


class MalformedPage(ValueError):
    """A page header that cannot be parsed."""


class TooManyPages(ValueError):
    """A file with more than :data:`MAX_PAGES` pages."""


class _Reader:
    def __init__(self, data: bytes | memoryview, pos: int, end: int):
        self.data, self.pos, self.end = data, pos, end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise MalformedPage("page header runs past the file")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = value = 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 70:
                raise MalformedPage("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.end:
            raise MalformedPage("page header runs past the file")
        self.pos += n

    def value(self, kind: int, depth: int) -> int | None:
        """Reads one value of compact type ``kind``; returns it when it is an integer."""
        if depth > _MAX_DEPTH:
            raise MalformedPage("page header nested too deeply")
        if kind in (_TRUE, _FALSE):
            return None
        if kind == _BYTE:
            self.byte()
            return None
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            self.skip(8)
        elif kind == _BINARY:
            self.skip(self.varint())
        elif kind in (_LIST, _SET):
            head = self.byte()
            size, elem = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            for _ in range(size):
                if elem in (_TRUE, _FALSE):
                    self.byte()  # booleans inside a list take one byte each
                else:
                    self.value(elem, depth + 1)
        elif kind == _MAP:
            size = self.varint()
            if size:
                kinds = self.byte()
                for _ in range(size):
                    self.value(kinds >> 4, depth + 1)
                    self.value(kinds & 0x0F, depth + 1)
        elif kind == _STRUCT:
            self.struct(depth + 1)
        else:
            raise MalformedPage(f"unknown Thrift type {kind}")
        return None

    def struct(self, depth: int) -> dict[int, int]:
        """Reads a struct; returns its integer fields by field id."""
        fields: dict[int, int] = {}
        last = 0
        while True:
            head = self.byte()
            kind = head & 0x0F
            if kind == _STOP:
                return fields
            delta = head >> 4
            last = last + delta if delta else self.zigzag()
            value = self.value(kind, depth)
            if value is not None:
                fields[last] = value


def chunk_uncompressed_bytes(data: bytes | memoryview, start: int, length: int,
                             stop_after: int, pages: list[int]) -> int:
    """Sum of ``uncompressed_page_size`` over the pages of the column chunk stored at
    ``data[start:start + length]``; stops early once the sum passes ``stop_after``; ``pages``
    holds the count of pages walked so far (updated). Raises :class:`TooManyPages` past
    :data:`MAX_PAGES` pages. The walk ends at a header it cannot parse: the reader, which
    reads the same bytes in the same order, cannot get past it either (and refuses the file
    if it needs what follows)."""
    end = min(len(data), start + max(length, 0))
    pos, total = max(start, 0), 0
    while pos < end:
        pages[0] += 1
        if pages[0] > MAX_PAGES:
            raise TooManyPages(f"more than {MAX_PAGES:,} pages")
        reader = _Reader(data, pos, len(data))
        try:
            header = reader.struct(0)
        except MalformedPage:
            return total
        uncompressed, compressed = header.get(2, -1), header.get(3, -1)
        if uncompressed < 0 or compressed < 0:
            return total
        total += uncompressed
        if total > stop_after:
            return total
        pos = reader.pos + compressed
    return total


def declared_page_bytes(data: bytes | memoryview, metadata, stop_after: int) -> int:
    """Uncompressed bytes of every page of every column chunk in a Parquet file ``data``
    whose footer was read into ``metadata`` (``pyarrow.parquet.FileMetaData``), as the pages'
    headers state them; stops early once the sum passes ``stop_after``."""
    total, pages = 0, [0]
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for j in range(group.num_columns):
            chunk = group.column(j)
            start = chunk.data_page_offset
            if chunk.has_dictionary_page and chunk.dictionary_page_offset is not None \
                    and 0 < chunk.dictionary_page_offset < start:
                start = chunk.dictionary_page_offset
            total += chunk_uncompressed_bytes(data, start, chunk.total_compressed_size,
                                              stop_after - total, pages)
            if total > stop_after:
                return total
    return total
