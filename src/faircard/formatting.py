"""Number formatting shared by the CLI, the findings text and the card templates."""

from __future__ import annotations

import math
from typing import Any


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_num(value: Any, digits: int = 3) -> str:
    """A metric value with ``digits`` decimals; "n/a" when undefined."""
    if is_missing(value):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A rate as a percentage ("23.4%"); "n/a" when undefined."""
    if is_missing(value):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def fmt_int(value: Any) -> str:
    if is_missing(value):
        return "n/a"
    return f"{int(value):,}"
