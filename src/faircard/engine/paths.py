"""Datasets opened by a path on the server: only inside the folders an operator allows.

The operator lists the folders in the environment variable ``FAIRCARD_DATA_DIRS`` (separated
by ``os.pathsep``, ':' on Linux); nothing is allowed when it is unset. A path, a folder or a
glob is accepted only when it, and every file it reaches, resolves (symbolic links followed)
inside one of those folders, so ``..`` and links that lead out are refused.
"""

from __future__ import annotations

import glob as globlib
import os
from pathlib import Path

from ..errors import FaircardError

DATA_DIRS_ENV = "FAIRCARD_DATA_DIRS"
GLOB_CHARS = "*?["


def allowed_data_dirs(environ: dict[str, str] | None = None) -> list[Path]:
    """The folders datasets may be opened from (resolved; folders that do not exist are
    left out). Empty when the operator allowed none."""
    text = (os.environ if environ is None else environ).get(DATA_DIRS_ENV, "")
    out = []
    for part in text.split(os.pathsep):
        if part.strip():
            folder = Path(part.strip()).resolve()
            if folder.is_dir() and folder not in out:
                out.append(folder)
    return out


def resolve_data_path(text: str, allowed: list[Path] | None = None) -> str:
    """``text`` (a file, a folder or a glob; relative to the first allowed folder unless
    absolute) checked to lie inside the allowed folders, as the path to read. Raises
    :class:`FaircardError` with the reason otherwise."""
    allowed = allowed_data_dirs() if allowed is None else [Path(a).resolve() for a in allowed]
    if not allowed:
        raise FaircardError("Opening a dataset by its path on the server is not enabled: the "
                            f"operator lists the allowed folders in {DATA_DIRS_ENV}. Upload "
                            "the file instead.")
    text = str(text).strip()
    if "\x00" in text:
        raise FaircardError("The path contains a NUL character; no file is named so. Give the "
                            "path of a Parquet or CSV file, a folder or a glob.")
    if not text:
        raise FaircardError("Give the path of a Parquet or CSV file, a folder or a glob such "
                            "as 'logs/*.parquet'.")
    try:
        return _resolve(text, allowed)
    except OSError as exc:  # e.g. a name longer than the file system allows
        shown = text if len(text) <= 80 else text[:80] + "..."
        raise FaircardError(f"The path '{shown}' cannot be opened "
                            f"({(exc.strerror or str(exc)).lower()}). Give the path of a "
                            "Parquet or CSV file, a folder or a glob.") from None


def _resolve(text: str, allowed: list[Path]) -> str:
    path = Path(text)
    if not path.is_absolute():
        path = allowed[0] / path
    parts = path.parts
    first_glob = next((i for i, p in enumerate(parts) if any(c in p for c in GLOB_CHARS)),
                      len(parts))
    base = Path(*parts[:first_glob])
    pattern = Path(*parts[first_glob:]) if first_glob < len(parts) else None
    real_base = base.resolve()
    _check_inside(real_base, allowed, text)
    # a folder is read as 'folder/**/*.parquet', and a glob through folders ('**', '*/*')
    # follows links, loops too: their tree is checked before it is listed
    recursive = pattern is None or len(pattern.parts) > 1 or "**" in pattern.parts
    if real_base.is_dir() and recursive:
        _check_tree(real_base, allowed, text, recursive=True)
    if pattern is None:
        if not real_base.exists():
            raise FaircardError(f"There is no file or folder '{text}'.")
        files = [] if real_base.is_dir() else [real_base]
        resolved = str(real_base)
    else:
        resolved = str(real_base / pattern)
        files = [Path(f) for f in globlib.glob(resolved, recursive=True)]
        if not files:
            raise FaircardError(f"No file matches '{text}'.")
    for f in files:
        _check_inside(f.resolve(), allowed, text, reached=f)
        _check_readable(f, text)
    if real_base.is_dir() and not recursive:  # every entry below, and the links to follow
        _check_tree(real_base, allowed, text, recursive=False)
    return resolved


def _check_tree(root: Path, allowed: list[Path], text: str, recursive: bool) -> None:
    """Every entry below the folder ``root``, through the links to folders too (each folder
    once): a link must lead inside the allowed folders and, when the reader goes down every
    folder (``recursive``), not back to a folder that holds it; only files and folders may be
    reached. One directory listing per folder (a folder
    of 10,000 files took 1.7 s when each file was looked up on its own). A link back up made
    '**' endless: two links to their own folder ('a -> .', 'b -> .') gave a glob 2**40 paths
    to list, and 'd/**/*.parquet' ran until it was stopped."""
    done: set[str] = set()
    todo = [str(root)]
    while todo:
        folder = todo.pop()
        real = os.path.realpath(folder)
        if real in done:
            continue
        done.add(real)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_symlink():
                    target = Path(os.path.realpath(entry.path))
                    _check_inside(target, allowed, text, reached=Path(entry.path))
                    if recursive and entry.is_dir() and Path(real).is_relative_to(target):
                        raise FaircardError(
                            f"'{text}' reaches '{entry.name}', a link back to a folder that "
                            "holds it, so the folders below it never end. Remove the link or "
                            "choose a path that does not go through it.")
                if entry.is_dir():
                    todo.append(entry.path)
                elif not entry.is_file() and os.path.exists(entry.path):
                    _refuse_unreadable(text, entry.name)


def _check_readable(entry: Path, text: str) -> None:
    """Refuses what a reader would wait on forever or read without end: a named pipe, a
    device, a socket (only files and folders are read)."""
    if entry.is_file() or entry.is_dir() or not entry.exists():
        return
    _refuse_unreadable(text, entry.name)


def _refuse_unreadable(text: str, name: str) -> None:
    raise FaircardError(f"'{text}' reaches '{name}', which is not a file but a pipe, a "
                        "device or a socket; datasets are read from files. Remove it or choose "
                        "another path.")


def _check_inside(real: Path, allowed: list[Path], text: str, reached: Path | None = None):
    if any(real == root or real.is_relative_to(root) for root in allowed):
        return
    where = f" ('{reached.name}' leads to a place outside them)" if reached is not None else ""
    raise FaircardError(f"'{text}' is outside the folders this server allows datasets to be "
                        f"opened from{where}. Choose a path inside: "
                        + ", ".join(str(a) for a in allowed) + ".")


def sha256_of_files(path: str) -> str:
    """sha256 of a dataset: of the file's bytes; for a folder or a glob, of the sorted list of
    the matching files' relative paths with each file's sha256."""
    import hashlib

    from ..io import fingerprint

    p = Path(path)
    if p.is_file():
        return fingerprint(p)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
        names = [str(f.relative_to(p)) for f in files]
    else:
        files = sorted(Path(f) for f in globlib.glob(path, recursive=True) if Path(f).is_file())
        names = [str(f) for f in files]
    if not files:
        raise FaircardError(f"No file matches '{path}'.")
    h = hashlib.sha256()
    for name, f in zip(names, files, strict=True):
        h.update(f"{name}\t{fingerprint(f)}\n".encode())
    return h.hexdigest()
