"""Unpicklers that resolve only the globals in :data:`~faircard.io.allowlist.SAFE_GLOBALS`."""

from __future__ import annotations

import io
import pickle

from ..errors import FaircardError
from .allowlist import SAFE_GLOBALS


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle asked for a global that is not allowed."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name
        super().__init__(f"{module}.{name}")


def check_global(module: str, name: str) -> None:
    """Raise :class:`RefusedGlobal` unless (module, name) is allowed exactly."""
    if not isinstance(module, str) or not isinstance(name, str):
        raise RefusedGlobal(str(module), str(name))
    if "." in name or (module, name) not in SAFE_GLOBALS:
        raise RefusedGlobal(module, name)


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` resolving only allowed (module, name) pairs."""

    def find_class(self, module: str, name: str):
        check_global(module, name)
        return super().find_class(module, name)


def _joblib_unpickler_class():
    from joblib.numpy_pickle import NumpyUnpickler

    class RestrictedNumpyUnpickler(NumpyUnpickler):
        """joblib's unpickler resolving only allowed pairs; joblib >= 1.6 passes this
        ``find_class`` to the inner unpickler of object arrays too."""

        def find_class(self, module: str, name: str):
            check_global(module, name)
            return super().find_class(module, name)

    return RestrictedNumpyUnpickler


def restricted_loads(data: bytes):
    """Unpickle plain pickle bytes with the allowlist."""
    return RestrictedUnpickler(io.BytesIO(data)).load()


def restricted_joblib_loads(data: bytes):
    """Load joblib (optionally compressed) or plain pickle bytes with the allowlist."""
    from joblib.numpy_pickle import _validate_fileobject_and_memmap

    cls = _joblib_unpickler_class()
    with _validate_fileobject_and_memmap(io.BytesIO(data), "", None) as (fobj, _):
        unpickler = cls("", fobj, ensure_native_byte_order=True, mmap_mode=None)
        return unpickler.load()


def refused_message(exc: RefusedGlobal) -> str:
    return (
        f"The model file asks to load '{exc.module}.{exc.name}', which faircard does not allow "
        "in uploaded models (it could run code on this computer). Save the model with skops, "
        "or ask the model's author which objects it contains."
    )


def as_faircard_error(exc: BaseException) -> FaircardError:
    if isinstance(exc, RefusedGlobal):
        return FaircardError(refused_message(exc))
    return FaircardError(f"The model file could not be read: {exc}")
