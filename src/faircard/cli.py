"""The ``faircard`` command: the same core as the app, no browser.

Exit status: 0 on success, 2 with a one-line message for any problem with the input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import FaircardError

COMMAND_MODULES = (
    "faircard.commands.assess_cmd",
    "faircard.commands.demo_cmd",
    "faircard.commands.thresholds_cmd",
    "faircard.commands.card_cmd",
    "faircard.commands.store_cmd",
    "faircard.commands.gate_cmd",
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


def main(argv: list[str] | None = None) -> int:
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
        message = " ".join(str(exc).split())
        print(f"faircard: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("faircard: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
