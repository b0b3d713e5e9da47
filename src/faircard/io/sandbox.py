"""Untrusted models live in a sandboxed child process; this process only receives numbers.

A :class:`SandboxedModel` keeps the model file's bytes (data, never unpickled here) and a child
process (:mod:`faircard.io._load_worker`) that has opened, checked and now runs the model. The
child starts with ``python -I``, a minimal environment and no inherited descriptors besides its
pipes, and limits its own address space, CPU seconds, file size and open files; every request
has a wall-clock deadline. Rows go to the child in chunks and scores come back per chunk, so
memory stays bounded on both sides. Whatever the child does (crash on a signal, exceed a limit,
hang, send garbage), this process raises one :class:`~faircard.errors.FaircardError` line and
carries on. An idle child exits by itself; the next request starts a new one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FaircardError
from . import _estimator
from ._load_worker import FRAME, MAX_HEADER
from .rows import encode_rows

_PKG_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = ("import sys; sys.path.insert(0, {root!r}); "
         "from faircard.io._load_worker import main; sys.exit(main())")
CHUNK_CELLS = 4_000_000
"""Rows per chunk are chosen so that a chunk holds about this many cells."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of a model's child process."""

    memory_mb: int = 2048
    cpu_s: int = 600
    load_timeout_s: float = 60.0
    predict_timeout_s: float = 300.0
    idle_s: float = 300.0


@dataclass
class ModelFacts:
    """What the child reported about the model, checked and as plain data."""

    model_type: str
    classes: list | None
    feature_names: list[str] | None
    n_features_in: int | None
    has_predict: bool
    has_proba: bool
    has_decision: bool
    sklearn_version_saved: str | None = None
    warnings: list[str] = field(default_factory=list)


def _text(value: Any, limit: int = 300) -> str:
    if not isinstance(value, str):
        raise ValueError("text expected")
    return value[:limit]


def facts_from(doc: Any) -> ModelFacts:
    """Check the child's description (untrusted JSON) and turn it into :class:`ModelFacts`."""
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    classes = doc.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or len(classes) > 10_000 or not all(
                isinstance(c, bool | int | float | str) or c is None for c in classes):
            raise ValueError("bad classes")
        classes = [c[:300] if isinstance(c, str) else c for c in classes]
    names = doc.get("feature_names")
    if names is not None:
        if not isinstance(names, list) or len(names) > 1_000_000:
            raise ValueError("bad feature names")
        names = [_text(n, 10_000) for n in names]
    n_in = doc.get("n_features_in")
    if n_in is not None and (not isinstance(n_in, int) or isinstance(n_in, bool) or n_in < 0):
        raise ValueError("bad n_features_in")
    saved = doc.get("sklearn_version_saved")
    notes = doc.get("warnings") or []
    if not isinstance(notes, list):
        raise ValueError("bad warnings")
    return ModelFacts(
        model_type=_text(doc.get("type")),
        classes=classes,
        feature_names=names,
        n_features_in=n_in,
        has_predict=doc.get("has_predict") is True,
        has_proba=doc.get("has_proba") is True,
        has_decision=doc.get("has_decision") is True,
        sklearn_version_saved=None if saved is None else _text(saved, 40),
        warnings=[_text(n) for n in notes[:50]],
    )


def _child_env() -> dict[str, str]:
    # nothing of the server's environment: no credentials, no PYTHON* variables
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}
    # one thread per BLAS pool keeps the child's address space small and predictable
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


_SIGNAL_WHAT = {signal.SIGXCPU: "used up its CPU time", signal.SIGKILL: "was killed",
                signal.SIGXFSZ: "tried to write a file"}


class _ChildGone(Exception):
    """The child closed its pipe or died."""


class _Child:
    """One running child process and its two pipes."""

    def __init__(self, limits: Limits):
        cmd = [sys.executable, "-I", "-c", _BOOT.format(root=_PKG_ROOT),
               str(int(limits.memory_mb)), str(int(limits.cpu_s)), str(float(limits.idle_s))]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=_child_env(),
                                     close_fds=True, cwd="/", start_new_session=True)
        self.fin = self.proc.stdin.fileno()
        self.fout = self.proc.stdout.fileno()
        for fd in (self.fin, self.fout):
            try:  # a larger pipe moves chunks in fewer round trips (Linux only)
                fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
            except OSError:
                pass
            os.set_blocking(fd, False)
        self._finalizer = weakref.finalize(self, _stop, self.proc)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        self._finalizer()

    def _wait(self, fd: int, event: int, deadline: float) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, event)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                if sel.select(left):
                    return

    def send(self, kind: bytes, header: dict, body: bytes | list[memoryview],
             deadline: float) -> None:
        """One frame; ``body`` may come in parts (written one after the other, not joined)."""
        head = json.dumps(header).encode("utf-8")
        parts = [memoryview(p).cast("B") for p in ([body] if isinstance(body, bytes) else body)]
        size = sum(len(p) for p in parts)
        for part in (memoryview(FRAME.pack(kind, len(head), size) + head), *parts):
            while len(part):
                self._wait(self.fin, selectors.EVENT_WRITE, deadline)
                try:
                    part = part[os.write(self.fin, part):]
                except BlockingIOError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    raise _ChildGone from None

    def _read(self, n: int, deadline: float) -> bytearray:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            self._wait(self.fout, selectors.EVENT_READ, deadline)
            try:
                k = os.readv(self.fout, [view[got:]])
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.ECONNRESET):
                    raise _ChildGone from None
                raise
            if k == 0:
                raise _ChildGone
            got += k
        return buf

    def receive(self, deadline: float, max_body: int) -> tuple[bytes, dict, bytearray]:
        kind, hlen, blen = FRAME.unpack(bytes(self._read(FRAME.size, deadline)))
        if hlen > MAX_HEADER or blen > max_body:
            raise ValueError("oversized reply")
        header = json.loads(bytes(self._read(hlen, deadline))) if hlen else {}
        body = self._read(blen, deadline) if blen else bytearray()
        return kind, header, body


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for pipe in (proc.stdin, proc.stdout):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:
            pass


class ModelHandle:
    """A loaded binary classifier seen from faircard: plain facts plus two ways to predict.

    ``predict_scores`` and ``predict_labels`` return numeric arrays checked for length, dtype
    and range. Subclasses say where the model runs.
    """

    name: str
    filename: str
    sha256: str
    format: str
    facts: ModelFacts
    warnings: list[str]

    @property
    def model_type(self) -> str:
        return self.facts.model_type

    @property
    def sklearn_version_saved(self) -> str | None:
        return self.facts.sklearn_version_saved

    @property
    def classes(self) -> list | None:
        return self.facts.classes

    @property
    def has_scores(self) -> bool:
        return self.facts.has_proba or self.facts.has_decision

    def info(self) -> dict[str, Any]:
        """Name, file fingerprint, format, type and classes, for reports and the app."""
        return {"name": self.name, "file": self.filename, "sha256": self.sha256,
                "format": self.format, "type": self.model_type,
                "classes": list(self.classes or []),
                "feature_names": list(self.facts.feature_names or []),
                "sklearn_version_saved": self.sklearn_version_saved}

    def predict_scores(self, X: pd.DataFrame, positive_index: int = 1) -> np.ndarray:
        """float64 per row of ``X``: the probability of class ``classes[positive_index]``, or
        the decision function signed towards it. Raises FaircardError when the model has no
        scores or returns values that are not finite (or probabilities outside [0, 1])."""
        if not self.has_scores:
            raise FaircardError(f"The model '{self.name}' gives labels only, not scores.")
        out = self._outputs(X, _estimator.SCORES, int(positive_index))
        bad = ~np.isfinite(out)
        if self.facts.has_proba:
            bad |= (out < -1e-9) | (out > 1 + 1e-9)
        if bad.any():
            raise FaircardError(
                f"The model '{self.name}' returned {int(bad.sum()):,} scores that are not "
                f"{'probabilities' if self.facts.has_proba else 'finite numbers'}; the file "
                "may be corrupted or crafted."
            )
        return out

    def predict_labels(self, X: pd.DataFrame) -> np.ndarray:
        """The predicted class of each row of ``X``, as values of ``classes`` (object array)."""
        index = self._outputs(X, _estimator.LABELS, 0)
        classes = list(self.classes or [])
        if len(classes) < 2 or ((index < 0) | (index >= len(classes))).any():
            raise FaircardError(f"The model '{self.name}' returned predictions outside its "
                                "classes; the file may be corrupted or crafted.")
        return np.asarray(classes, dtype=object)[index]

    def renamed(self, name: str) -> ModelHandle:
        """The same model (same process) shown under another name."""
        return _Renamed(self, name) if name != self.name else self

    def _outputs(self, X: pd.DataFrame, what: str, positive_index: int) -> np.ndarray:
        raise NotImplementedError


class _Renamed(ModelHandle):
    def __init__(self, base: ModelHandle, name: str):
        self._base = base
        self.name = name
        self.filename, self.sha256, self.format = base.filename, base.sha256, base.format
        self.facts, self.warnings = base.facts, base.warnings

    def _outputs(self, X: pd.DataFrame, what: str, positive_index: int) -> np.ndarray:
        return self._base._outputs(X, what, positive_index)


class InProcessModel(ModelHandle):
    """A model faircard built itself (the demo): trusted, so it runs in this process."""

    def __init__(self, estimator: Any, *, name: str, filename: str, sha256: str,
                 format: str = "built-in"):
        self._estimator = estimator
        self.name, self.filename, self.sha256, self.format = name, filename, sha256, format
        self.facts = facts_from(_estimator.describe(estimator))
        self.warnings = []

    def _outputs(self, X: pd.DataFrame, what: str, positive_index: int) -> np.ndarray:
        try:
            return _estimator.outputs(self._estimator, X, what, positive_index)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise FaircardError(f"The model could not score the dataset: {_gist(exc)}") from None


def _gist(exc: BaseException | str) -> str:
    return " ".join(str(exc).split())[:300]


class SandboxedModel(ModelHandle):
    """An uploaded model that only ever runs in a sandboxed child process.

    Built by :func:`faircard.io.models.load_model`. Thread-safe: requests are serialised.
    The child is started on demand and restarted (from the kept file bytes) after it exits.
    """

    def __init__(self, raw: bytes, *, fmt: str, filename: str, sha256: str,
                 unsafe: bool = False, limits: Limits | None = None):
        self.filename = filename
        self.name = filename
        self.sha256 = sha256
        self.format = fmt
        self.unsafe = unsafe
        self.limits = limits or Limits()
        self._raw = raw
        self._lock = threading.Lock()
        self._child: _Child | None = None
        try:
            facts = self._request_load()
        except FaircardError:
            self.close()  # a file that could not be opened leaves no process behind
            raise
        self.facts = facts
        self.warnings = list(facts.warnings)

    # ------------------------------------------------------------------ lifecycle

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_child"] = None
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the child process (a later request starts a new one)."""
        with self._lock:
            if self._child is not None:
                self._child.stop()
                self._child = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (for tests and diagnostics)."""
        child = self._child
        return child.proc.pid if child is not None and child.alive() else None

    # ------------------------------------------------------------------ requests

    def _request_load(self) -> ModelFacts:
        with self._lock:
            return self._start()

    def _start(self) -> ModelFacts:
        if self._child is not None:
            self._child.stop()
        deadline = time.monotonic() + self.limits.load_timeout_s
        self._child = _Child(self.limits)
        header = {"fmt": self.format, "unsafe": self.unsafe}
        doc, _ = self._exchange(b"L", header, self._raw, deadline, "opening the file", 0)
        try:
            return facts_from(doc)
        except (ValueError, TypeError, AttributeError) as exc:
            self._fail()
            raise FaircardError(f"The model file '{self.filename}' could not be opened: its "
                                f"process sent an invalid description ({exc}).") from None

    def _outputs(self, X: pd.DataFrame, what: str, positive_index: int) -> np.ndarray:
        n = len(X)
        dtype = np.dtype("<f8") if what == _estimator.SCORES else np.dtype("i1")
        result = np.empty(n, dtype=dtype)
        width = X.shape[1] if getattr(X, "ndim", 1) == 2 else 1
        step = max(1_000, CHUNK_CELLS // max(1, width))
        with self._lock:
            if self._child is None or not self._child.alive():
                self._start()
            for lo in range(0, n, step):
                chunk = X.iloc[lo:lo + step] if hasattr(X, "iloc") else X[lo:lo + step]
                body = encode_rows(chunk)
                deadline = time.monotonic() + self.limits.predict_timeout_s
                doc, data = self._exchange(b"P", {"what": what, "positive_index": positive_index},
                                           body, deadline, "predicting", len(chunk) * 8)
                k = len(chunk)
                if (doc.get("n") != k or doc.get("dtype") != dtype.str
                        or len(data) != k * dtype.itemsize):
                    self._fail()
                    raise FaircardError(f"The model '{self.name}' returned the wrong number or "
                                        "type of values; the file may be corrupted or crafted.")
                result[lo:lo + k] = np.frombuffer(data, dtype=dtype)
        return result.astype(np.float64 if what == _estimator.SCORES else np.int8, copy=False)

    def _fail(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None

    def _exchange(self, kind: bytes, header: dict, body: bytes | list[memoryview],
                  deadline: float, doing: str,
                  max_body: int) -> tuple[dict, bytearray]:
        """Send one request and return the reply's (header, body), or raise FaircardError."""
        child = self._child
        assert child is not None
        try:
            child.send(kind, header, body, deadline)
            rkind, rheader, rbody = child.receive(deadline, max_body)
        except TimeoutError:
            self._fail()
            limit = self.limits.load_timeout_s if kind == b"L" else self.limits.predict_timeout_s
            raise FaircardError(f"The model '{self.name}' took longer than {limit:g} s "
                                f"{doing} and was stopped.") from None
        except _ChildGone:
            raise self._death(doing) from None
        except (ValueError, UnicodeDecodeError) as exc:
            self._fail()
            raise FaircardError(f"The model '{self.name}' sent a malformed reply while {doing} "
                                f"({_gist(exc)}); the file may be corrupted or crafted.") from None
        if rkind == b"O" and isinstance(rheader, dict):
            return rheader, rbody
        if rkind == b"E" and isinstance(rheader, dict):
            raise self._refusal(rheader, doing)
        self._fail()
        raise FaircardError(f"The model '{self.name}' sent a malformed reply while {doing}; the "
                            "file may be corrupted or crafted.")

    def _refusal(self, reply: dict, doing: str) -> FaircardError:
        kind = reply.get("kind")
        message = _gist(reply.get("message") or "")[:1000]
        if kind == "memory":
            self._fail()
            return FaircardError(f"The model '{self.name}' needed more than "
                                 f"{self.limits.memory_mb:,} MB of memory while {doing} and was "
                                 "stopped.")
        if kind == "refused":
            return FaircardError(message)
        if kind == "recursion":
            return FaircardError(f"The model file '{self.filename}' could not be read: "
                                 f"{message}.")
        if kind == "invalid":
            return FaircardError(message)
        if doing == "predicting":
            return FaircardError(f"The model could not score the dataset: {message}")
        return FaircardError(f"The model file '{self.filename}' could not be read "
                             f"({_explain(message)}).")

    def _death(self, doing: str) -> FaircardError:
        child = self._child
        self._child = None
        code = None
        if child is not None:
            try:
                code = child.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            child.stop()
        if code is not None and code < 0:
            sig = -code
            try:
                signame = signal.Signals(sig).name
            except ValueError:
                signame = "unknown signal"
            if sig == signal.SIGXCPU:
                return FaircardError(
                    f"The model '{self.name}' used more than {self.limits.cpu_s:,} CPU seconds "
                    f"while {doing} and was stopped."
                )
            if sig == signal.SIGKILL:
                return FaircardError(
                    f"The model '{self.name}' was stopped while {doing} (signal 9, SIGKILL), "
                    f"probably for using more than {self.limits.memory_mb:,} MB of memory."
                )
            return FaircardError(
                f"The model '{self.name}' crashed while {doing} (signal {sig}, {signame}): the "
                "file may be corrupted or crafted; faircard did not use it."
            )
        return FaircardError(
            f"The model '{self.name}' stopped unexpectedly while {doing} (exit status {code}); "
            "the file may be corrupted or crafted."
        )


def _explain(msg: str) -> str:
    if "UntrustedTypesFoundException" in msg or "Untrusted types found" in msg:
        return "it contains types faircard does not trust: " + msg.split(":", 2)[-1].strip()[:300]
    return msg[:300]
