"""Rows as data and nothing else: how DataFrame chunks travel to the model's sandboxed process.

The model's process reads rows with :func:`decode_rows`, which only parses JSON and copies
numbers out of byte buffers: no format here can name a class or a function, so no row, column
name or text value can make that process run code (the transport used to be pickle).

A body is ``b"FCR1"``, the layout's length (``<u4``), the layout (UTF-8 JSON), then the
buffers, each starting at a multiple of 8 bytes. The layout gives the number of rows, the
column labels, each column's kind and the ``[offset, length]`` of every buffer:

- ``array``: a NumPy column (bool, integers, floats, complex, naive datetimes and
  timedeltas) as its raw buffer and dtype string;
- ``masked``: a pandas nullable column (``Int64``, ``Float64``, ``boolean``, ...) as values
  plus a mask;
- ``string``: a pandas ``str``/``string`` column: Arrow-backed ones as Arrow's own offsets,
  UTF-8 bytes and validity bits; Python-backed ones as codes (-1 missing) into their distinct
  values;
- ``text``: an ``object`` column of Python ``str`` only, as codes into its distinct values;
- ``objects``: any other ``object`` column, one type tag per value (``str``, ``None``, ``float``
  including NaN, ``int``, ``bool``, NumPy numbers, ``pd.NA``, ``pd.NaT``, dates, times of day,
  naive datetimes and Timestamps, ``Decimal``, ``bytes``) plus the values by tag;
- ``category``: codes plus the categories (encoded recursively as a column), ordered or not;
- ``datetimetz``: a time-zone-aware column as int64 ticks, its unit and time zone name.

Distinct values travel as UTF-8 (lone surrogates kept) in one buffer with int64 offsets. The
rebuilt frame has the same column labels in the same order (duplicates included), the same
dtypes and the same values (NaN vs None, the Python type of each object value, the bits of
every float); its row index is a fresh ``RangeIndex`` (the model never sees it). A column of any
other kind (periods, intervals, sparse or Arrow-typed numbers, lists, time-zone-aware objects,
...) is refused with a :class:`~faircard.errors.FaircardError` before anything is sent.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import struct
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError

MAGIC = b"FCR1"
_LEN = struct.Struct("<I")
_ALIGN = 8
_ARRAY_KINDS = frozenset("biufcmM")
_MASKED = frozenset(["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
                     "Float32", "Float64", "boolean"])
_EPOCH = _dt.datetime(1970, 1, 1)
_MICRO = _dt.timedelta(microseconds=1)

# type tags of an ``objects`` column; a value's slot is in ``ints``, ``floats`` or ``strings``
T_STR, T_NONE, T_FLOAT, T_INT, T_BOOL, T_NA, T_NAT = 0, 1, 2, 3, 4, 5, 6
T_DATE, T_DATETIME, T_DECIMAL, T_BYTES, T_BIGINT, T_NPSTR, T_TIME = 7, 8, 9, 10, 11, 12, 13
T_TIMESTAMP = 16  # + index of the unit in _UNITS
T_SCALAR = 32     # + index of the NumPy dtype in the column's "scalars" list
_UNITS = ("s", "ms", "us", "ns")
_TEXT_STORAGE = ("python", "pyarrow", "pyarrow_numpy")  # the last: pandas 2.2's str with NaN


class _Unsendable(Exception):
    """A value the format cannot carry (worded per column by :func:`encode_rows`)."""


# ---------------------------------------------------------------------------------- encoding

class _Buffers:
    def __init__(self) -> None:
        self.parts: list[memoryview] = []
        self.spans: list[list[int]] = []
        self.size = 0

    def add(self, arr: np.ndarray) -> int:
        raw = memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))
        self.spans.append([self.size, len(raw)])
        self.parts.append(raw)
        self.size += len(raw)
        pad = -self.size % _ALIGN
        if pad:
            self.parts.append(memoryview(bytes(pad)))
            self.size += pad
        return len(self.spans) - 1

    def strings(self, values: list) -> dict:
        data = [s.encode("utf-8", "surrogatepass") for s in values]
        offsets = np.zeros(len(data) + 1, dtype="<i8")
        np.cumsum([len(b) for b in data], out=offsets[1:])
        return {"n": len(data), "offsets": self.add(offsets),
                "data": self.add(np.frombuffer(b"".join(data), dtype=np.uint8))}


def encode_rows(X: Any) -> list[memoryview]:
    """``X`` (a DataFrame, or a 2-D NumPy array of numbers) as the parts of one body for
    :func:`decode_rows`; their concatenation is the body. Raises FaircardError, naming the
    column, when a column holds something the format cannot carry."""
    out = _Buffers()
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in _ARRAY_KINDS:
        layout = {"type": "ndarray", "shape": list(X.shape), "dtype": X.dtype.str,
                  "buf": out.add(X)}
    elif isinstance(X, pd.DataFrame):
        if isinstance(X.columns, pd.MultiIndex):
            raise FaircardError("The model's input has several levels of column names; "
                                "faircard sends it one level of names. Flatten the column "
                                "names and try again.")
        try:
            labels = _encode_index(X.columns, out)
            name = _label(X.columns.name)
        except _Unsendable as exc:
            raise FaircardError(f"The model's column names cannot be sent to the model's "
                                f"process: {exc}. Use text or numbers as column names.") from None
        cols = []
        for j in range(X.shape[1]):
            col = X.iloc[:, j]
            try:
                cols.append(_encode_values(col, out))
            except _Unsendable as exc:
                raise FaircardError(
                    f"Column {X.columns[j]!r} cannot be sent to the model's process: it holds "
                    f"{exc}. faircard sends numbers, text, true/false, categories, dates and "
                    "missing values; convert the column to one of these and try again."
                ) from None
        layout = {"type": "frame", "rows": len(X), "labels": labels, "labels_name": name,
                  "columns": cols}
    else:
        raise FaircardError(f"The model's input must be a table (a DataFrame), not "
                            f"{type(X).__name__}.")
    layout["buffers"] = out.spans
    head = json.dumps(layout, allow_nan=True).encode("utf-8")
    pad = -(len(MAGIC) + _LEN.size + len(head)) % _ALIGN
    start = MAGIC + _LEN.pack(len(head) + pad) + head + b" " * pad
    return [memoryview(start), *out.parts]


def _label(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise _Unsendable(f"a name of type {type(value).__name__}")


def _encode_index(index: pd.Index, out: _Buffers) -> dict:
    if type(index) is pd.RangeIndex:
        return {"kind": "range", "n": len(index),
                "range": [int(index.start), int(index.stop), int(index.step)]}
    return _encode_values(index, out)


def _encode_values(col: pd.Series | pd.Index, out: _Buffers) -> dict:
    dtype = col.dtype
    n = len(col)
    if isinstance(dtype, np.dtype):
        if dtype.kind in _ARRAY_KINDS:
            return {"kind": "array", "n": n, "dtype": dtype.str, "buf": out.add(col.to_numpy())}
        if dtype.kind == "O":
            return _encode_objects(col.to_numpy(), out)
        raise _Unsendable(f"values of NumPy type {dtype}")
    if isinstance(dtype, pd.CategoricalDtype):
        codes = col.array.codes
        return {"kind": "category", "n": n, "ordered": bool(dtype.ordered),
                "codes_dtype": codes.dtype.str, "codes": out.add(codes),
                "categories": _encode_index(dtype.categories, out)}
    if isinstance(dtype, pd.StringDtype):
        na = "nan" if dtype.na_value is np.nan else "NA" if dtype.na_value is pd.NA else None
        if na is None or dtype.storage not in _TEXT_STORAGE:
            raise _Unsendable(f"text of type {dtype!r}")
        desc = {"kind": "string", "n": n, "storage": dtype.storage, "na": na}
        if dtype.storage != "python":
            return desc | _arrow_text(col, out)
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        return desc | {"codes": out.add(codes.astype("<i8")),
                       "strings": out.strings([str(s) for s in uniques])}
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.name in _MASKED:
        array = col.array
        values, mask = array._data, array._mask  # the two arrays a masked column is made of
        return {"kind": "masked", "n": n, "dtype": dtype.name, "values_dtype": values.dtype.str,
                "values": out.add(values), "mask": out.add(mask)}
    if isinstance(dtype, pd.DatetimeTZDtype):
        tz = str(dtype.tz)
        if pd.DatetimeTZDtype(dtype.unit, tz) != dtype:
            raise _Unsendable(f"times in a time zone without a portable name ({tz})")
        ticks = col.array._ndarray.view("<i8")
        return {"kind": "datetimetz", "n": n, "unit": dtype.unit, "tz": tz,
                "buf": out.add(ticks)}
    raise _Unsendable(f"values of type {dtype}")


def _arrow_text(col: pd.Series | pd.Index, out: _Buffers) -> dict:
    """Arrow's own layout of a text column (offsets, UTF-8 bytes, validity), trimmed to
    ``col``: no per-value work on either side."""
    import pyarrow as pa

    arr = col.array.__arrow_array__()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    wide = pa.types.is_large_string(arr.type)
    if not (wide or pa.types.is_string(arr.type)):
        raise _Unsendable(f"text stored as Arrow {arr.type}")
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype="<i8" if wide else "<i4", count=len(arr) + 1,
                            offset=arr.offset * (8 if wide else 4))
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]] \
        if data_buf is not None else np.zeros(0, dtype=np.uint8)
    valid = None
    if arr.null_count:
        valid = out.add(np.packbits(arr.is_valid().to_numpy(zero_copy_only=False),
                                    bitorder="little"))
    return {"offsets_dtype": offsets.dtype.str, "offsets": out.add(offsets - offsets[0]),
            "data": out.add(data), "data_n": len(data), "valid": valid}


def _encode_objects(values: np.ndarray, out: _Buffers) -> dict:
    n = len(values)
    null = None
    if pd.api.types.infer_dtype(values, skipna=False) == "string":  # no missing values
        text = set(map(type, values)) == {str}
    else:
        null = pd.isna(values)
        present = values[~null]
        text = (len(present) < n and pd.api.types.infer_dtype(present, skipna=False) == "string"
                and set(map(type, present)) == {str})
    if text:
        # text with or without missing values: codes into the distinct strings, so the
        # per-value work below is done for the missing values only (np.str_ is not str here)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if null is None:
            return {"kind": "text", "n": n, "codes": out.add(codes.astype("<i4")),
                    "strings": out.strings(list(uniques))}
        enc = _ObjectEncoder(n)
        enc.strings = {s: k for k, s in enumerate(uniques)}
        enc.ints[:] = codes
        for i in np.flatnonzero(null).tolist():
            enc.put(i, values[i])
        return enc.layout(out)
    enc = _ObjectEncoder(n)
    for i, v in enumerate(values):
        enc.put(i, v)
    return enc.layout(out)


class _ObjectEncoder:
    """One type tag and one slot (int64, float64 or text) per value of an object column."""

    def __init__(self, n: int):
        self.tags = np.zeros(n, dtype=np.uint8)  # T_STR
        self.ints = np.zeros(n, dtype="<i8")
        self.floats = np.zeros(n, dtype="<f8")
        self.strings: dict[str, int] = {}
        self.scalars: dict[str, int] = {}

    def layout(self, out: _Buffers) -> dict:
        return {"kind": "objects", "n": len(self.tags), "tags": out.add(self.tags),
                "ints": out.add(self.ints), "floats": out.add(self.floats),
                "strings": out.strings(list(self.strings)), "scalars": list(self.scalars)}

    def _text(self, i: int, tag: int, s: str) -> None:
        self.tags[i] = tag
        self.ints[i] = self.strings.setdefault(s, len(self.strings))

    def put(self, i: int, v: Any) -> None:
        t = type(v)
        if t is str:
            self._text(i, T_STR, v)
        elif v is None:
            self.tags[i] = T_NONE
        elif t is float:
            self.tags[i], self.floats[i] = T_FLOAT, v
        elif t is bool:
            self.tags[i], self.ints[i] = T_BOOL, v
        elif t is int:
            if -(1 << 63) <= v < (1 << 63):
                self.tags[i], self.ints[i] = T_INT, v
            else:
                self._text(i, T_BIGINT, str(v))
        elif v is pd.NA:
            self.tags[i] = T_NA
        elif v is pd.NaT:
            self.tags[i] = T_NAT
        elif isinstance(v, np.generic) and v.dtype.kind in "biuf":
            self.tags[i] = T_SCALAR + self.scalars.setdefault(v.dtype.str, len(self.scalars))
            if v.dtype.kind == "f":
                self.floats[i] = v
            elif v.dtype.kind == "u":
                self.ints[i] = np.array(v, dtype="<u8").view("<i8")
            else:
                self.ints[i] = int(v)
        elif t is pd.Timestamp:
            if v.tz is not None:
                raise _Unsendable("times with a time zone mixed with other values")
            self.tags[i], self.ints[i] = T_TIMESTAMP + _UNITS.index(v.unit), v.asm8.view("<i8")
        elif t is _dt.datetime:
            if v.tzinfo is not None:
                raise _Unsendable("times with a time zone mixed with other values")
            self.tags[i], self.ints[i] = T_DATETIME, (v - _EPOCH) // _MICRO
        elif t is _dt.date:
            self.tags[i], self.ints[i] = T_DATE, v.toordinal()
        elif t is _dt.time:
            if v.tzinfo is not None:
                raise _Unsendable("times of day with a time zone")
            self.tags[i] = T_TIME
            self.ints[i] = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
        elif t is decimal.Decimal:
            self._text(i, T_DECIMAL, str(v))
        elif t is bytes:
            self._text(i, T_BYTES, v.decode("latin-1"))
        elif t is np.str_:
            self._text(i, T_NPSTR, str(v))
        else:
            raise _Unsendable(f"a value of type {t.__name__} ({_gist(v)})")


def _gist(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------------- decoding

class _Body:
    """Checked views into one body."""

    def __init__(self, body: bytes | bytearray | memoryview):
        view = memoryview(body).cast("B")
        if len(view) < len(MAGIC) + _LEN.size or bytes(view[:len(MAGIC)]) != MAGIC:
            raise ValueError("rows: not a row body")
        (hlen,) = _LEN.unpack(view[len(MAGIC):len(MAGIC) + _LEN.size])
        start = len(MAGIC) + _LEN.size
        if start + hlen > len(view):
            raise ValueError("rows: truncated layout")
        self.layout = json.loads(bytes(view[start:start + hlen]))
        if not isinstance(self.layout, dict):
            raise ValueError("rows: bad layout")
        self.data = view[start + hlen:]
        self.spans = self.layout.get("buffers")
        if not isinstance(self.spans, list):
            raise ValueError("rows: bad buffer list")

    def array(self, index: Any, dtype: str, n: int) -> np.ndarray:
        dt = np.dtype(dtype) if isinstance(dtype, str) else None
        if dt is None or dt.kind not in _ARRAY_KINDS or dt.hasobject:
            raise ValueError(f"rows: dtype {dtype!r} refused")
        if type(index) is not int or not 0 <= index < len(self.spans):
            raise ValueError("rows: bad buffer index")
        offset, length = self.spans[index]
        if (type(offset) is not int or type(length) is not int or offset < 0
                or offset + length > len(self.data) or length != n * dt.itemsize):
            raise ValueError("rows: buffer out of bounds")
        return np.frombuffer(self.data[offset:offset + length], dtype=dt)

    def strings(self, desc: Any) -> list[str]:
        k = _count(desc.get("n"))
        offsets = self.array(desc.get("offsets"), "<i8", k + 1)
        span = self.spans[desc.get("data")] if type(desc.get("data")) is int else None
        raw = self.array(desc.get("data"), "|u1", span[1] if isinstance(span, list) else -1)
        if k and (offsets[0] != 0 or offsets[-1] != len(raw) or (np.diff(offsets) < 0).any()):
            raise ValueError("rows: bad text offsets")
        data = raw.tobytes()
        bounds = offsets.tolist()
        return [data[bounds[i]:bounds[i + 1]].decode("utf-8", "surrogatepass") for i in range(k)]


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("rows: bad count")
    return value


def decode_rows(body: bytes | bytearray | memoryview) -> pd.DataFrame | np.ndarray:
    """The frame (or array) whose :func:`encode_rows` parts make up ``body``. Raises
    ValueError on a body that is not well formed; runs no code named by the body."""
    b = _Body(body)
    layout = b.layout
    if layout.get("type") == "ndarray":
        shape = layout.get("shape")
        if not (isinstance(shape, list) and len(shape) == 2):
            raise ValueError("rows: bad shape")
        rows, width = _count(shape[0]), _count(shape[1])
        return b.array(layout.get("buf"), layout.get("dtype"), rows * width).reshape(rows, width)
    if layout.get("type") != "frame":
        raise ValueError("rows: unknown body type")
    n = _count(layout.get("rows"))
    cols = layout.get("columns")
    if not isinstance(cols, list):
        raise ValueError("rows: bad columns")
    labels = _decode_index(b, layout.get("labels"))
    if len(labels) != len(cols):
        raise ValueError("rows: labels and columns differ in number")
    name = layout.get("labels_name")
    if not (name is None or type(name) in (str, int, float, bool)):
        raise ValueError("rows: bad name")
    data = {}
    for j, desc in enumerate(cols):
        values = _decode_values(b, desc)
        if len(values) != n:
            raise ValueError("rows: column length differs from the row count")
        data[j] = pd.Series(values, dtype=values.dtype, copy=False)
    frame = pd.DataFrame(data, index=pd.RangeIndex(n)) if data else \
        pd.DataFrame(index=pd.RangeIndex(n))
    frame.columns = labels
    frame.columns.name = name
    return frame


def _decode_index(b: _Body, desc: Any) -> pd.Index:
    if isinstance(desc, dict) and desc.get("kind") == "range":
        r = desc.get("range")
        if not (isinstance(r, list) and len(r) == 3 and all(type(v) is int for v in r) and r[2]):
            raise ValueError("rows: bad range")
        return pd.RangeIndex(*r)
    values = _decode_values(b, desc)
    return pd.Index(values, dtype=values.dtype, copy=False)


def _decode_values(b: _Body, desc: Any) -> Any:
    if not isinstance(desc, dict):
        raise ValueError("rows: bad column")
    kind = desc.get("kind")
    n = _count(desc.get("n"))
    if kind == "array":
        return b.array(desc.get("buf"), desc.get("dtype"), n)
    if kind == "text":
        codes = b.array(desc.get("codes"), "<i4", n)
        uniques = np.asarray(b.strings(desc.get("strings")) + [""], dtype=object)[:-1]
        if n and (codes.min() < 0 or codes.max() >= len(uniques)):
            raise ValueError("rows: bad codes")
        return uniques.take(codes)
    if kind == "string":
        na = {"nan": np.nan, "NA": pd.NA}.get(desc.get("na"))
        if desc.get("storage") not in _TEXT_STORAGE or na is None:
            raise ValueError("rows: bad text type")
        dtype = _string_dtype(desc["storage"], na)
        if desc["storage"] != "python":
            return pd.array(_arrow_text_from(b, desc, n), dtype=dtype)
        codes = b.array(desc.get("codes"), "<i8", n)
        uniques = np.asarray(b.strings(desc.get("strings")) + [None], dtype=object)
        if n and (codes.min() < -1 or codes.max() >= len(uniques) - 1):
            raise ValueError("rows: bad codes")
        return pd.array(uniques.take(codes), dtype=dtype)  # code -1 takes the last: None
    if kind == "masked":
        name = desc.get("dtype")
        if name not in _MASKED:
            raise ValueError("rows: bad nullable type")
        dtype = pd.api.types.pandas_dtype(name)
        values = b.array(desc.get("values"), desc.get("values_dtype"), n)
        if values.dtype != dtype.numpy_dtype:
            raise ValueError("rows: nullable values of the wrong type")
        mask = b.array(desc.get("mask"), "|b1", n)
        return dtype.construct_array_type()(values.copy(), mask.copy())
    if kind == "category":
        codes = b.array(desc.get("codes"), desc.get("codes_dtype"), n)
        categories = _decode_index(b, desc.get("categories"))
        if codes.dtype.kind != "i" or (n and (codes.min() < -1 or codes.max() >= len(categories))):
            raise ValueError("rows: bad category codes")
        dtype = pd.CategoricalDtype(categories, ordered=desc.get("ordered") is True)
        return pd.Categorical.from_codes(codes, dtype=dtype)
    if kind == "datetimetz":
        unit, tz = desc.get("unit"), desc.get("tz")
        if unit not in _UNITS or not isinstance(tz, str):
            raise ValueError("rows: bad time zone column")
        ticks = b.array(desc.get("buf"), "<i8", n).view(f"M8[{unit}]")
        return pd.array(ticks, dtype=f"M8[{unit}]").tz_localize("UTC").tz_convert(tz)
    if kind == "objects":
        return _decode_objects(b, desc, n)
    raise ValueError(f"rows: unknown column kind {kind!r}")


def _string_dtype(storage: str, na: Any) -> pd.StringDtype:
    if na is pd.NA or storage == "pyarrow_numpy":
        return pd.StringDtype(storage)  # NA is the default; pandas 2.2 names NaN's by storage
    return pd.StringDtype(storage, na_value=na)


def _arrow_text_from(b: _Body, desc: dict, n: int) -> Any:
    import pyarrow as pa

    wide = desc.get("offsets_dtype") == "<i8"
    if not wide and desc.get("offsets_dtype") != "<i4":
        raise ValueError("rows: bad text offsets")
    offsets = b.array(desc.get("offsets"), desc["offsets_dtype"], n + 1)
    data = b.array(desc.get("data"), "|u1", _count(desc.get("data_n")))
    valid = None if desc.get("valid") is None else b.array(desc.get("valid"), "|u1", (n + 7) // 8)
    arr = (pa.LargeStringArray if wide else pa.StringArray).from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data),
        None if valid is None else pa.py_buffer(valid))
    try:
        arr.validate(full=True)  # offsets in bounds and increasing, UTF-8 text
    except pa.ArrowInvalid as exc:
        raise ValueError(f"rows: bad text ({exc})") from None
    return arr


def _decode_objects(b: _Body, desc: dict, n: int) -> np.ndarray:
    tags = b.array(desc.get("tags"), "|u1", n)
    ints = b.array(desc.get("ints"), "<i8", n)
    floats = b.array(desc.get("floats"), "<f8", n)
    strings = np.asarray(b.strings(desc.get("strings")) + [""], dtype=object)[:-1]
    scalars = desc.get("scalars")
    if not isinstance(scalars, list):
        raise ValueError("rows: bad scalar types")
    out = np.empty(n, dtype=object)
    for tag in np.unique(tags).tolist():
        at = np.flatnonzero(tags == tag)
        if tag in (T_STR, T_DECIMAL, T_BYTES, T_BIGINT, T_NPSTR):
            codes = ints[at]
            if codes.min() < 0 or codes.max() >= len(strings):
                raise ValueError("rows: bad codes")
            text = strings.take(codes)
            make = {T_STR: None, T_DECIMAL: decimal.Decimal, T_BIGINT: int, T_NPSTR: np.str_,
                    T_BYTES: lambda s: s.encode("latin-1")}[tag]
            values = text if make is None else [make(s) for s in text]
        elif tag == T_NONE:
            values = [None] * len(at)
        elif tag == T_NA:
            values = [pd.NA] * len(at)
        elif tag == T_NAT:
            values = [pd.NaT] * len(at)
        elif tag == T_FLOAT:
            values = floats[at].tolist()
        elif tag == T_INT:
            values = ints[at].tolist()
        elif tag == T_BOOL:
            values = (ints[at] != 0).tolist()
        elif tag == T_DATE:
            values = [_dt.date.fromordinal(v) for v in ints[at].tolist()]
        elif tag == T_DATETIME:
            values = [_EPOCH + v * _MICRO for v in ints[at].tolist()]
        elif tag == T_TIME:
            values = [(_EPOCH + v * _MICRO).time() for v in ints[at].tolist()]
        elif T_TIMESTAMP <= tag < T_TIMESTAMP + len(_UNITS):
            unit = _UNITS[tag - T_TIMESTAMP]
            values = [pd.Timestamp(v) for v in ints[at].view(f"M8[{unit}]")]
        elif T_SCALAR <= tag < T_SCALAR + len(scalars):
            dt = np.dtype(scalars[tag - T_SCALAR]) if isinstance(scalars[tag - T_SCALAR],
                                                                   str) else None
            if dt is None or dt.kind not in "biuf":
                raise ValueError("rows: bad scalar type")
            source = floats[at] if dt.kind == "f" else ints[at]
            values = list(source.astype(dt) if dt.kind != "u" else source.view("<u8").astype(dt))
        else:
            raise ValueError(f"rows: unknown value tag {tag}")
        out[at] = values
    return out
