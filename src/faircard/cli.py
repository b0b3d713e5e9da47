"""The ``faircard`` command: the same core as the app, no browser.

Exit status: 0 on success, 2 with a one-line message for any problem with the input.
"""

from __future__ import annotations

import argparse
import importlib
import io
import re
import sys

from . import __version__
from .errors import FaircardError
from .safe_text import for_terminal

COMMAND_MODULES = (
    "faircard.commands.assess_cmd",
    "faircard.commands.demo_cmd",
    "faircard.commands.thresholds_cmd",
    "faircard.commands.card_cmd",
    "faircard.commands.store_cmd",
    "faircard.commands.gate_cmd",
    "faircard.commands.diff_cmd",
    "faircard.commands.diagnose_cmd",
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"faircard: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="faircard",
        description="Check a binary classifier for fairness across groups and document it.",
    )
    parser.add_argument("--version", action="version", version=f"faircard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


class _TerminalSafe(io.TextIOBase):
    """A text stream that shows control characters as escapes (line breaks and tabs kept):
    group names, column names and messages cannot send escape sequences to the terminal."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(for_terminal(text, keep_newlines=True))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self):  # type: ignore[override]
        return self._stream.encoding


def main(argv: list[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and argument errors
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FaircardError as exc:
        message = re.sub(r"[ \t\r\n]+", " ", str(exc)).strip()
        print(f"faircard: error: {for_terminal(message)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the system refuses (a name too long, no permission, ...)
        name = str(exc.filename or "")
        shown = f" '{name if len(name) <= 80 else name[:80] + '...'}'" if name else ""
        print(f"faircard: error: cannot use{for_terminal(shown)}: "
              f"{for_terminal(exc.strerror or exc)}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("faircard: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
