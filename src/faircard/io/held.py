"""An uploaded file's bytes kept compressed in memory, read back whole or as a stream.

The app keeps an uploaded dataset's bytes to read it again in another encoding. Kept as they
arrived, they sat next to the table parsed from them: a 93 MB CSV cost its 93 MB plus the
table's 166 MB at the end of the parse. Kept compressed (zstd, level 1: about a quarter of a
CSV's size, 0.1 s per 10 MB on one core), a CSV is parsed from a stream that decompresses one
block at a time, so the whole file is never in memory while its table is built.
"""

from __future__ import annotations

import io

import pyarrow as pa

BLOCK = 4 << 20
"""Bytes of the file per compressed block (the most a stream holds decompressed)."""

_LEVEL = 1


def _codec() -> pa.Codec:
    return pa.Codec("zstd", compression_level=_LEVEL)


class HeldBytes:
    """A file's bytes, compressed in blocks of :data:`BLOCK` bytes.

    Build it from the bytes, then drop every other reference to them; :meth:`read` gives them
    back whole, :meth:`open` as a stream. ``size`` is the file's size in bytes."""

    __slots__ = ("_blocks", "size")

    def __init__(self, raw: bytes | bytearray | memoryview) -> None:
        view = memoryview(raw).cast("B")
        codec = _codec()
        self.size = len(view)
        self._blocks = tuple(codec.compress(view[i:i + BLOCK], asbytes=True)
                             for i in range(0, self.size, BLOCK))

    @property
    def compressed_size(self) -> int:
        """Bytes held (the compressed blocks)."""
        return sum(len(b) for b in self._blocks)

    def block(self, i: int) -> bytes:
        """The file's bytes ``i * BLOCK`` up to ``(i + 1) * BLOCK``."""
        size = min(BLOCK, self.size - i * BLOCK)
        return _codec().decompress(self._blocks[i], decompressed_size=size, asbytes=True)

    def head(self, n: int) -> bytes:
        """The file's first ``n`` bytes (fewer if it is shorter)."""
        out = bytearray()
        for i in range(len(self._blocks)):
            if len(out) >= n:
                break
            out += self.block(i)
        return bytes(out[:n])

    def read(self) -> bytes:
        """The file's bytes, whole."""
        # written into one growing buffer (CPython's BytesIO hands its own bytes object back
        # from getvalue(), and glibc grows a large block in place): about the file's size,
        # where joining the blocks would briefly hold it twice
        out = io.BytesIO()
        for i in range(len(self._blocks)):
            out.write(self.block(i))
        return out.getvalue()

    def open(self, start: int = 0) -> io.BufferedReader:
        """The file's bytes from offset ``start`` on, as a binary stream that decompresses
        one block at a time."""
        return io.BufferedReader(_Stream(self, start), buffer_size=1 << 18)

    def __len__(self) -> int:
        return self.size


class _Stream(io.RawIOBase):
    def __init__(self, held: HeldBytes, start: int) -> None:
        self._held = held
        self._next = start // BLOCK
        self._skip = start % BLOCK
        self._part = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not len(self._part):
            if self._next >= len(self._held._blocks):
                return 0
            self._part = memoryview(self._held.block(self._next))[self._skip:]
            self._next += 1
            self._skip = 0
        n = min(len(buffer), len(self._part))
        buffer[:n] = self._part[:n]
        self._part = self._part[n:]
        return n
