"""Text encodings of uploaded files: measured, or chosen, and always returned as UTF-8 bytes."""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass

from ..errors import FaircardError
from .limits import TableLimits, over_limit

DETECT = "detect"
"""The ``encoding`` value that asks faircard to measure the encoding of a text file."""

ENCODING_CHOICES = (DETECT, "utf-8", "cp1252", "cp949", "latin-1", "cp1250", "cp1251",
                    "shift_jis", "gb18030", "big5")
"""Encodings offered in the app (the CLI accepts any Python codec name)."""

# When several encodings decode a file equally well, the first of these wins: Western European
# Windows text is the most common legacy encoding, then Korean (cp949 is a superset of EUC-KR).
_PREFERRED = ("cp1252", "cp949", "cp1250", "cp1251", "shift_jis", "gb18030", "big5",
              "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258")
_DETECT_SAMPLE = 1 << 20
_CHUNK = 8 << 20


@dataclass(frozen=True)
class Decoded:
    """A text file as UTF-8 bytes, with the encoding it was read from."""

    data: bytes
    encoding: str
    detected: bool
    warnings: tuple[str, ...] = ()
    bom: int = 0
    """Bytes of a UTF-8 byte order mark left at the start of ``data`` (see ``keep_bom``)."""


def decode_text(raw: bytes, name: str, encoding: str = DETECT,
                max_decoded_bytes: int | None = None, keep_bom: bool = False) -> Decoded:
    """The text of a file as UTF-8 bytes (no copy when it already is UTF-8; with
    ``keep_bom``, not even to drop a byte order mark: ``data`` is then ``raw`` itself and
    ``bom`` says how many bytes to skip).

    ``encoding`` is a Python codec name, or ``"detect"`` to measure it: UTF-8 (with or
    without BOM) when the bytes are valid UTF-8, otherwise the encoding charset-normalizer
    finds least chaotic, ties going to cp1252, then cp949. A file whose lines mix UTF-8 with
    another encoding is decoded line by line, with a warning.
    """
    limit = max_decoded_bytes or TableLimits().max_decoded_bytes
    if encoding == DETECT:
        encoding = _unicode_by_bytes(raw) or DETECT
    if encoding == DETECT or not _codec(encoding).startswith(("utf-16", "utf-32")):
        nul = raw.find(b"\x00")
        if nul >= 0:  # text in any other encoding never holds a zero byte
            raise _zero_byte(name, nul, raw.count(b"\n", 0, nul) + 1, binary=encoding == DETECT)
    if encoding != DETECT:
        codec = _codec(encoding)
        if codec == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        if codec in ("utf-8", "utf-8-sig"):
            start = 3 if codec == "utf-8-sig" else 0
            bad = _utf8_error(raw, start)
            if bad is not None:
                raise _wrong_encoding(name, encoding, raw, bad)
            _check_decoded(len(raw) - start, name, limit)
            if keep_bom:
                return Decoded(raw, codec, False, bom=start)
            return Decoded(raw[start:] if start else raw, codec, False)
        return Decoded(_transcode(raw, codec, name, limit, chosen=encoding), codec, False)

    if raw.startswith(codecs.BOM_UTF8):
        bad = _utf8_error(raw, 3)
        if bad is None:
            _check_decoded(len(raw) - 3, name, limit)
            if keep_bom:
                return Decoded(raw, "utf-8-sig", True, bom=3)
            return Decoded(raw[3:], "utf-8-sig", True)
    else:
        bad = _utf8_error(raw, 0)
        if bad is None:
            _check_decoded(len(raw), name, limit)
            return Decoded(raw, "utf-8", True)
    mixed = _mixed_lines(raw)
    for codec in _candidates(raw if mixed is None else b"\n".join(mixed[1])):
        try:
            if mixed is None:
                return Decoded(_transcode(raw, codec, name, limit), codec, True)
            return _decode_mixed(raw, codec, name, limit, mixed[0])
        except UnicodeDecodeError:
            continue
    raise FaircardError(
        f"faircard could not find a text encoding that reads '{name}'. Save it as CSV UTF-8, "
        "or choose its encoding (app: Encoding; CLI: --encoding)."
    )


BINARY_HEAD = 65536
"""A zero byte among a file's first bytes (as many as this) makes it a binary file."""


def _zero_byte(name: str, offset: int, line: int, *, binary: bool) -> FaircardError:
    """The error for a zero byte at ``offset`` (on ``line``) of a text file: early in a file
    whose encoding was not chosen, the file is binary."""
    if binary and offset < BINARY_HEAD:
        return FaircardError(
            f"'{name}' looks like a binary file, not text. Upload a CSV, Parquet or Excel file.")
    return FaircardError(
        f"Line {line:,} of '{name}' holds a zero byte (NUL), which text never holds: "
        "the file is damaged or is not text. Export it again as CSV and upload that.")


def _unicode_by_bytes(raw: bytes) -> str | None:
    """UTF-32 or UTF-16 told by a byte-order mark, or UTF-16 without one told by its zero bytes
    (ASCII text in UTF-16 has a zero in every other byte); None otherwise. UTF-32's marks are
    checked first: its little-endian mark starts with UTF-16's."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = raw[:4096]
    if len(head) >= 4 and len(head) % 2 == 0:
        even, odd = head[0::2], head[1::2]
        if not odd.strip(b"\x00") and even.count(0) == 0:
            return "utf-16-le"
        if not even.strip(b"\x00") and odd.count(0) == 0:
            return "utf-16-be"
    return None


def _codec(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise FaircardError(
            f"'{encoding}' is not a text encoding faircard knows. Use for example utf-8, "
            "cp1252 or cp949, or 'detect'."
        ) from None


def _utf8_error(raw: bytes, start: int) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None (checked in chunks)."""
    dec = codecs.getincrementaldecoder("utf-8")()
    pos = start
    view = memoryview(raw)
    try:
        while pos < len(raw):
            dec.decode(view[pos:pos + _CHUNK], final=pos + _CHUNK >= len(raw))
            pos += _CHUNK
    except UnicodeDecodeError as exc:
        return pos - len(dec.getstate()[0]) + exc.start if exc.start >= 0 else pos
    return None


def _transcode(raw: bytes, codec: str, name: str, limit: int, chosen: str | None = None) -> bytes:
    """``raw`` decoded from ``codec`` and re-encoded as UTF-8, chunk by chunk."""
    dec = codecs.getincrementaldecoder(codec)()
    out = io.BytesIO()
    size = 0
    view = memoryview(raw)
    for pos in range(0, max(len(raw), 1), _CHUNK):
        try:
            text = dec.decode(view[pos:pos + _CHUNK], final=pos + _CHUNK >= len(raw))
        except UnicodeDecodeError as exc:
            if chosen is None:
                raise
            raise _wrong_encoding(name, chosen, raw, pos + max(exc.start, 0)) from None
        chunk = text.encode("utf-8")
        size += len(chunk)
        _check_decoded(size, name, limit)
        out.write(chunk)
    data = out.getvalue()
    return data[3:] if data.startswith(codecs.BOM_UTF8) else data


def _check_decoded(size: int, name: str, limit: int) -> None:
    if size > limit:
        raise over_limit(name, f"more than {limit / 1024**2:,.0f} MB of text", "decoded bytes",
                         f"{limit / 1024**2:,.0f} MB", "FAIRCARD_MAX_DECODED_MB")


def _wrong_encoding(name: str, encoding: str, raw: bytes, offset: int) -> FaircardError:
    line = raw.count(b"\n", 0, offset) + 1
    return FaircardError(
        f"'{name}' is not {encoding} text: line {line} has bytes that {encoding} cannot "
        "decode. Choose another encoding, or 'detect'."
    )


def _candidates(raw: bytes) -> list[str]:
    """Encodings to try on non-UTF-8 bytes, best first.

    Candidates are the encodings charset-normalizer proposes plus the common legacy ones; each
    decodes a sample of the lines that are not plain ASCII (the only ones that tell encodings
    apart) and is scored by charset-normalizer's mess ratio. Scores within 0.01 of the best
    count as a tie, broken by :data:`_PREFERRED` (so cp1252 before cp949 before the rest).
    """
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    lines = [m.group() for m, _ in zip(_NON_ASCII_LINE.finditer(raw), range(2000), strict=False)]
    sample = b"\n".join(lines)[:_DETECT_SAMPLE]
    if lines and len(sample) == _DETECT_SAMPLE and b"\n" in sample:
        sample = sample[:sample.rindex(b"\n")]  # do not cut a character in two
    proposed = [codecs.lookup(c).name for m in from_bytes(sample) for c in m.could_be_from_charset
                if _known(c)]
    pool: list[str] = []
    for c in [*(codecs.lookup(p).name for p in _PREFERRED), *proposed]:
        if c not in pool and c not in ("utf-8", "utf-8-sig", "ascii"):
            pool.append(c)
    scored = []
    for rank, c in enumerate(pool):
        try:
            text = sample.decode(c)
        except (UnicodeDecodeError, LookupError):
            continue
        scored.append((mess_ratio(text, 1.0), rank, c))
    ordered: list[str] = []
    if scored:
        best = min(score for score, _, _ in scored)
        ordered = [c for _, _, c in sorted(scored, key=lambda x: (x[0] > best + 0.01, x[1], x[0]))]
    # latin-1 decodes any bytes, but turns 0x80-0x9f into invisible control characters: a last
    # resort only for text without them
    last = [] if re.search(rb"[\x80-\x9f]", sample) else ["latin-1"]
    return ordered + last


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


_NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")


def _mixed_lines(raw: bytes) -> tuple[list[int], list[bytes]] | None:
    """When some non-ASCII lines are UTF-8 and others are not: (1-based numbers of the UTF-8
    lines, the other lines); None when no line is UTF-8."""
    utf8_at: list[int] = []
    other: list[bytes] = []
    utf8_text: list[bytes] = []
    for m in _NON_ASCII_LINE.finditer(raw):
        line = m.group()
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(line)
        else:
            utf8_at.append(m.start())
            utf8_text.append(line)
    if not _is_mixed(utf8_text, other):
        return None
    return utf8_at, other


def _is_mixed(utf8_text: list[bytes], other: list[bytes]) -> bool:
    """Whether a file whose non-ASCII lines are ``utf8_text`` (those valid as UTF-8) and
    ``other`` mixes encodings (only their first 2,000 lines are looked at)."""
    if not utf8_text or not other:
        return False
    # a legacy line can happen to be valid UTF-8: call the file mixed only when those lines
    # read at least as well as UTF-8 as in the other lines' encoding
    from charset_normalizer.md import mess_ratio

    sample = b"\n".join(utf8_text[:2000])
    legacy = _candidates(b"\n".join(other[:2000]))[0]
    try:
        as_legacy = mess_ratio(sample.decode(legacy), 1.0)
    except UnicodeDecodeError:
        as_legacy = 1.0
    return mess_ratio(sample.decode("utf-8"), 1.0) <= as_legacy


def _decode_mixed(raw: bytes, codec: str, name: str, limit: int,
                  utf8_starts: list[int]) -> Decoded:
    out = io.BytesIO()
    starts = set(utf8_starts)
    n_other = 0
    first_other = first_utf8 = None
    pos = 0
    for m in _NON_ASCII_LINE.finditer(raw):
        out.write(raw[pos:m.start()])
        line = m.group()
        if m.start() in starts:
            out.write(line)
            if first_utf8 is None:
                first_utf8 = raw.count(b"\n", 0, m.start()) + 1
        else:
            out.write(line.decode(codec).encode("utf-8"))
            n_other += 1
            if first_other is None:
                first_other = raw.count(b"\n", 0, m.start()) + 1
        pos = m.end()
        _check_decoded(out.tell(), name, limit)
    out.write(raw[pos:])
    _check_decoded(out.tell(), name, limit)
    note = _mixed_note(name, len(starts), first_utf8, n_other, codec, first_other)
    data = out.getvalue()
    return Decoded(data[3:] if data.startswith(codecs.BOM_UTF8) else data, codec, True, (note,))


def _mixed_note(name: str, n_utf8: int, first_utf8, n_other: int, codec: str, first_other) -> str:
    return (f"'{name}' mixes text encodings: {n_utf8:,} line(s) are UTF-8 (first: line "
            f"{first_utf8}) and {n_other:,} are {codec} (first: line {first_other}). Each line "
            "was read in its own encoding; check the names in those lines, and save the file "
            "as UTF-8 to be sure.")


def detected_note(name: str, encoding: str) -> str:
    """What faircard says of a text file it read from the encoding ``encoding`` it detected
    (not UTF-8)."""
    return f"'{name}' is not UTF-8; it was read as {encoding} (detected)."


def utf8_copy(path, name: str, dest) -> Decoded | None:
    """Reads the text file at ``path`` as an upload of its bytes reads it
    (:func:`decode_text` with ``"detect"``), in passes over chunks of it, never all of it in
    memory: None when it is UTF-8 (its zero bytes and its lines refused with an upload's
    sentences); else its text written as UTF-8 to the file ``dest``, as a :class:`Decoded`
    without its data (the encoding, and the warning of a file that mixes encodings). A file
    read by its path had to be UTF-8, so the same file gave groups on an upload and a refusal
    by path."""
    with open(path, "rb") as fh:
        wide = _unicode_by_bytes(fh.read(_CHUNK))
    if wide:
        _transcode_stream(path, dest, wide)
        return Decoded(b"", wide, True)
    if _utf8_stream(path, name):
        return None
    lines, utf8_text, other = _non_ascii_lines(path)
    mixed = _is_mixed(utf8_text, other)
    for codec in _candidates(b"\n".join(other if mixed else lines)):
        try:
            if not mixed:
                _transcode_stream(path, dest, codec)
                return Decoded(b"", codec, True)
            return Decoded(b"", codec, True, (_mixed_stream(path, dest, codec, name),))
        except UnicodeDecodeError:
            continue
    raise FaircardError(
        f"faircard could not find a text encoding that reads '{name}'. Save it as CSV UTF-8, "
        "or choose its encoding (app: Encoding; CLI: --encoding).")


_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
"""The start of a character of more than one byte in UTF-8: a line without one is not UTF-8
text beyond ASCII."""


def _non_ascii_lines(path) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """The first 2,000 lines of the file at ``path`` holding a byte that is not ASCII (the
    only lines that tell encodings apart), and the first 2,000 of those that are UTF-8 and of
    those that are not (what :func:`decode_text` looks at), read a chunk at a time; once the
    first two are full, only lines that may be UTF-8 are looked at."""
    lines: list[bytes] = []
    utf8_text: list[bytes] = []
    other: list[bytes] = []
    rest = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            data, rest = (rest + chunk, b"") if not chunk else _whole_lines(rest + chunk)
            pos = 0
            while pos < len(data):
                full = len(lines) >= 2000 and len(other) >= 2000
                m = (_UTF8_SEQUENCE if full else _NON_ASCII_BYTE).search(data, pos)
                if m is None:
                    break
                end = data.find(b"\n", m.start())
                end = len(data) if end < 0 else end
                line = data[data.rfind(b"\n", 0, m.start()) + 1:end]
                pos = end + 1
                if len(lines) < 2000:
                    lines.append(line)
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    if len(other) < 2000:
                        other.append(line)
                else:
                    if len(utf8_text) < 2000:
                        utf8_text.append(line)
                if len(utf8_text) >= 2000 and len(other) >= 2000:
                    return lines, utf8_text, other
            if not chunk:
                return lines, utf8_text, other


def _whole_lines(data: bytes) -> tuple[bytes, bytes]:
    """``data`` cut after its last newline: (the whole lines, the rest)."""
    cut = data.rfind(b"\n") + 1
    return data[:cut], data[cut:]


def _utf8_stream(path, name: str) -> bool:
    """Whether the file at ``path`` is UTF-8 text; a zero byte refused as an upload's."""
    with open(path, "rb") as fh:
        dec = codecs.getincrementaldecoder("utf-8")()
        offset, lines, chunk = 0, 0, fh.read(_CHUNK)
        while chunk:
            nul = chunk.find(b"\x00")
            if nul >= 0:
                line = lines + chunk.count(b"\n", 0, nul) + 1
                raise _zero_byte(name, offset + nul, line, binary=True)
            nxt = fh.read(_CHUNK)
            try:
                dec.decode(chunk, final=not nxt)
            except UnicodeDecodeError:
                return False
            lines += chunk.count(b"\n")
            offset += len(chunk)
            chunk = nxt
    return True


def _transcode_stream(path, dest, codec: str) -> None:
    """The file at ``path`` decoded from ``codec`` and written to ``dest`` as UTF-8, chunk by
    chunk, without a byte-order mark (as :func:`_transcode`)."""
    dec = codecs.getincrementaldecoder(codec)()
    with open(path, "rb") as src, open(dest, "wb") as out:
        chunk, first = src.read(_CHUNK), True
        while True:
            nxt = src.read(_CHUNK) if chunk else b""
            text = dec.decode(chunk, final=not nxt)
            if first and text.startswith("\ufeff"):
                text = text[1:]
            first = first and not text
            out.write(text.encode("utf-8"))
            if not nxt:
                return
            chunk = nxt


def _mixed_stream(path, dest, codec: str, name: str) -> str:
    """The file at ``path`` written to ``dest`` as UTF-8, each line that is valid UTF-8 as it
    is and each other one decoded from ``codec`` (as :func:`_decode_mixed`); its note."""
    n_utf8 = n_other = 0
    first_utf8 = first_other = None
    with open(path, "rb") as src, open(dest, "wb") as out:
        for number, line in enumerate(src, start=1):
            if not _NON_ASCII_LINE.search(line):
                out.write(line)
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                out.write(line.decode(codec).encode("utf-8"))
                n_other += 1
                first_other = first_other or number
            else:
                out.write(line)
                n_utf8 += 1
                first_utf8 = first_utf8 or number
    return _mixed_note(name, n_utf8, first_utf8, n_other, codec, first_other)
