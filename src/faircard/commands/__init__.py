"""Subcommands of the ``faircard`` CLI: each module has ``register(subparsers)``."""
