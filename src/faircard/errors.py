"""The one error type faircard raises for problems a user can fix.

Every message is a sentence a domain expert understands: what was expected, what was found,
and what to do. Pages and the CLI catch only :class:`FaircardError`; anything else is a bug.
"""

from __future__ import annotations


class FaircardError(ValueError):
    """A problem with the user's input (file, column, option), explained in plain words."""


def column_choices(columns) -> str:
    """Format a list of column names for an error message, sorted and comma-separated."""
    names = sorted(str(c) for c in columns)
    if len(names) > 20:
        return ", ".join(names[:20]) + f", ... ({len(names) - 20} more)"
    return ", ".join(names)


def missing_column(name: str, columns, role: str = "Column") -> FaircardError:
    """Error for a column name that is not in the dataset."""
    return FaircardError(
        f"{role} '{name}' is not in the dataset. Choose one of: {column_choices(columns)}."
    )
