"""Give memory that reading a table frees back to the system at once (glibc's malloc).

glibc serves a request below its mmap threshold from the heap, and what the heap frees stays
in the process. It also raises that threshold to the size of each mapped block freed (up to
32 MiB), so after the first large free a parser's column chunks (hundreds of kilobytes each)
come from the heap: when the parser copies them into whole columns and frees them, the freed
chunks stay resident while the columns are mapped beside them, and the read peaks near twice
the table's size. Inside :func:`returning_freed_memory` requests from 128 KiB up are mapped
and unmapped on their own, so a read peaks near the table's own size (measured in
``benchmarks/bench_upload.py``). Afterwards the threshold is fixed at glibc's ceiling of
32 MiB, where a warmed-up process's threshold sits anyway, and the heap is trimmed above twice
that (glibc's own rule for a raised threshold), so later work keeps its speed.
Elsewhere (another C library) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

_M_TRIM_THRESHOLD = -1  # mallopt parameters, glibc's malloc.h
_M_MMAP_THRESHOLD = -3
READ_THRESHOLD = 128 * 1024
"""Requests of this many bytes or more are mapped on their own during a read."""
AFTER_THRESHOLD = 32 * 1024 * 1024
"""glibc's largest automatic threshold on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX)."""

_lock = threading.Lock()
_active = 0


@cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018  (absent from other C libraries)
    except (OSError, AttributeError):
        return None
    return libc


@contextmanager
def returning_freed_memory() -> Iterator[None]:
    """Within the block (and in every thread while one is open), memory freed in pieces of
    128 KiB or more returns to the system at once; on entering the first block and leaving
    the last one, the rest of what was freed is returned too (``malloc_trim``)."""
    global _active
    libc = _glibc()
    if libc is None:
        yield
        return
    with _lock:
        _active += 1
        if _active == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, READ_THRESHOLD)
            libc.malloc_trim(0)  # what was freed before the read goes back first
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                libc.mallopt(_M_MMAP_THRESHOLD, AFTER_THRESHOLD)
                libc.mallopt(_M_TRIM_THRESHOLD, 2 * AFTER_THRESHOLD)  # glibc's own pairing
                libc.malloc_trim(0)
