"""Compound files (the container of .xls workbooks and of password-protected .xlsx ones),
written at test time: a header, one FAT sector, one directory sector and the streams."""

from __future__ import annotations

import struct

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

def compound_file(streams: dict[str, bytes]) -> bytes:
    """A compound file (version 3, 512-byte sectors): one FAT sector, one directory sector and
    each stream (4,096 bytes or more, so no mini stream) in its own run of sectors."""
    assert 1 <= len(streams) <= 3 and all(len(v) >= 4096 for v in streams.values())
    fat, data, starts = [FATSECT, END], b"", []
    for body in streams.values():
        body += b"\0" * (-len(body) % 512)
        first = len(fat)
        count = len(body) // 512
        starts.append(first)
        fat += [first + k + 1 for k in range(count - 1)] + [END]
        data += body
    assert len(fat) <= 128
    fat += [FREE] * (128 - len(fat))

    def entry(name, kind, child=NOSTREAM, right=NOSTREAM, start=END, size=0):
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3I", len(raw), kind, 1, NOSTREAM, right, child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))
    names = list(streams)
    directory = entry("Root Entry", 5, child=1)
    for i, name in enumerate(names):
        directory += entry(name, 2, right=i + 2 if i + 1 < len(names) else NOSTREAM,
                           start=starts[i], size=len(streams[name]))
    directory = directory.ljust(512, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", 0, *([FREE] * 108)))
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + data
