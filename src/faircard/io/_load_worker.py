"""Child process that opens an untrusted model file under a memory limit.

Reads the file bytes from stdin; argv: format, memory limit (MB). Writes ``OK`` followed by a
pickle of ``{"estimator", "warnings", "sklearn_version_saved"}``, or ``ER`` followed by a
one-line message. The parent reads the pickle back through the same restricted unpickler.
"""

from __future__ import annotations

import pickle
import resource
import sys
import warnings


def _limit_memory(mb: int) -> None:
    limit = mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _load(fmt: str, data: bytes):
    if fmt == "skops":
        import skops.io as sio

        from faircard.io.allowlist import SKOPS_TRUSTED

        return sio.loads(data, trusted=list(SKOPS_TRUSTED))
    from faircard.io.safe_pickle import restricted_joblib_loads

    return restricted_joblib_loads(data)


def main() -> int:
    fmt, mb = sys.argv[1], int(sys.argv[2])
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    # import the heavy libraries before the limit so only the file's own demands count
    import numpy  # noqa: F401
    import sklearn  # noqa: F401

    _limit_memory(mb)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            obj = _load(fmt, data)
        saved = None
        notes = []
        for w in caught:
            version = getattr(w.message, "original_sklearn_version", None)
            if version:
                saved = str(version)
            notes.append(str(w.message).splitlines()[0][:300])
        payload = pickle.dumps({"estimator": obj, "warnings": notes,
                                "sklearn_version_saved": saved}, protocol=5)
    except MemoryError:
        out.write(b"ERmemory")
        return 0
    except Exception as exc:  # report every failure as a message; the parent decides
        from faircard.io.safe_pickle import RefusedGlobal, refused_message

        if isinstance(exc, RefusedGlobal):
            msg = refused_message(exc)
        else:
            msg = f"{type(exc).__name__}: {exc}"
        out.write(b"ER" + " ".join(msg.split())[:1000].encode("utf-8", "replace"))
        return 0
    out.write(b"OK" + payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
