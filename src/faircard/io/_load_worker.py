"""The sandboxed child that opens, checks and runs an untrusted model.

Started by :mod:`faircard.io.sandbox` as ``python -I -c ...`` (the working directory is not on
``sys.path``, ``PYTHON*`` variables are ignored) with a minimal environment and only its three
standard streams. It imports the libraries it needs, then limits its own address space, CPU
seconds, file size and open files before it reads a single byte of the model, and serves
requests on stdin until it is told to quit, its input closes, or it has been idle too long.

Messages in both directions are frames: kind (1 byte), header length (uint32), body length
(uint64), a JSON header, then the body. Requests: ``L`` (header ``{"fmt", "unsafe"}``, body the
model file), ``P`` (header ``{"what", "positive_index"}``, body a DataFrame chunk in the format
of :mod:`faircard.io.rows`, which carries data only), ``Q`` (quit). Replies: ``O`` (header:
facts as plain data; body: raw float64 scores or int8 class indices) or ``E`` (header
``{"kind", "message"}``). Nothing the child sends is ever unpickled by the parent, and the
child unpickles nothing it is sent except the model file itself (through the restricted
unpickler, or with the full one only when an operator opted in for a trusted file).
"""

from __future__ import annotations

import json
import os
import struct
import sys

FRAME = struct.Struct("<cIQ")
MAX_HEADER = 4 * 1024 * 1024


def _read_exact(fd: int, n: int) -> bytearray | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if k == 0:
            return None
        got += k
    return buf  # writable: arrays rebuilt from a row body stay writable, as the model expects


def _send(fd: int, kind: bytes, header: dict, body: bytes | memoryview = b"") -> None:
    head = json.dumps(header, allow_nan=False).encode("utf-8")
    data = memoryview(FRAME.pack(kind, len(head), len(body)) + head)
    for part in (data, memoryview(body)):
        while len(part):
            part = part[os.write(fd, part):]


def _limit(memory_mb: int, cpu_s: int, fsize_mb: int, nofile: int) -> None:
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + 1 + cpu_s
    for which, value in ((resource.RLIMIT_AS, memory_mb * 1024 * 1024),
                         (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, fsize_mb * 1024 * 1024),
                         (resource.RLIMIT_NOFILE, nofile),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


def _load(fmt: str, unsafe: bool, data: bytes):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if fmt == "skops":
            import skops.io as sio

            from faircard.io.allowlist import SKOPS_TRUSTED

            est = sio.loads(data, trusted=list(SKOPS_TRUSTED))
            # skops trusts some callables by default (numpy ufuncs, ...): hold its objects to
            # the same exact allowlist as pickles by passing them through the restricted
            # unpickler once
            import pickle

            from faircard.io.safe_pickle import restricted_loads

            restricted_loads(pickle.dumps(est, protocol=5))
        elif unsafe:
            import io

            import joblib

            est = joblib.load(io.BytesIO(data))  # the operator opted in for a trusted file
        else:
            from faircard.io.safe_pickle import restricted_joblib_loads

            est = restricted_joblib_loads(data)
    saved = None
    notes = []
    for w in caught:
        version = getattr(w.message, "original_sklearn_version", None)
        if version:
            saved = str(version)
        notes.append(" ".join(str(w.message).split())[:300])
    if not unsafe:
        from faircard.io.validate import validate_estimator

        validate_estimator(est)
    return est, saved, notes


def _failure(exc: BaseException) -> dict:
    from faircard.io.safe_pickle import RefusedGlobal, refused_message

    if isinstance(exc, MemoryError):
        return {"kind": "memory", "message": ""}
    if isinstance(exc, RecursionError):
        return {"kind": "recursion", "message": "it nests objects too deeply"}
    if isinstance(exc, RefusedGlobal):
        return {"kind": "refused", "message": refused_message(exc)}
    from faircard.errors import FaircardError

    if isinstance(exc, FaircardError):
        return {"kind": "invalid", "message": " ".join(str(exc).split())[:1000]}
    return {"kind": "error", "message": " ".join(f"{type(exc).__name__}: {exc}".split())[:1000]}


def serve(memory_mb: int, cpu_s: int, idle_s: float, fsize_mb: int = 1, nofile: int = 64) -> int:
    import select
    import warnings

    # import what a model needs before the limits, so only the model's own demands count
    import numpy
    import pandas  # noqa: F401
    import sklearn  # noqa: F401

    from faircard.io import _estimator, allowlist, safe_pickle, validate  # noqa: F401
    from faircard.io.rows import decode_rows

    # the protocol gets its own descriptor; anything the model prints goes to stderr
    out = os.dup(1)
    os.dup2(2, 1)
    _limit(memory_mb, cpu_s, fsize_mb, nofile)
    warnings.simplefilter("ignore")
    est = None
    while True:
        ready, _, _ = select.select([0], [], [], idle_s)
        if not ready:
            return 0
        head = _read_exact(0, FRAME.size)
        if head is None:
            return 0
        kind, hlen, blen = FRAME.unpack(head)
        header = json.loads(_read_exact(0, hlen) or b"{}") if hlen else {}
        body = _read_exact(0, blen) if blen else b""
        if kind == b"Q" or body is None:
            return 0
        try:
            if kind == b"L":
                body = bytes(body)
                est, saved, notes = _load(header["fmt"], bool(header.get("unsafe")), body)
                del body
                facts = _estimator.describe(est)
                facts.update(sklearn_version_saved=saved, warnings=notes)
                _send(out, b"O", facts)
            elif kind == b"P":
                if est is None:
                    raise RuntimeError("no model is loaded")
                X = decode_rows(body)  # data only: no format here can name code to run
                del body
                result = _estimator.outputs(est, X, header["what"], int(header["positive_index"]))
                _send(out, b"O", {"n": len(result), "dtype": result.dtype.str},
                      memoryview(numpy.ascontiguousarray(result)).cast("B"))
            else:
                raise RuntimeError(f"unknown request {kind!r}")
        except BaseException as exc:  # every failure becomes a reply; the parent words it
            est = None if kind == b"L" else est
            _send(out, b"E", _failure(exc))


def main() -> int:
    memory_mb, cpu_s, idle_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    return serve(memory_mb, cpu_s, idle_s)
