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


THRESHOLD_DIGITS = 3
THRESHOLD_FORMAT = f"%.{THRESHOLD_DIGITS}f"
"""Every threshold faircard shows has this many decimals (printf style for widgets)."""
P_FLOOR = 1e-4


def fmt_threshold(value: Any, digits: int = THRESHOLD_DIGITS) -> str:
    """A decision threshold with ``digits`` decimals ("0.500", "5.000"), or with as many as it
    takes to state it exactly ("0.57153"): a reader who applies the written number gets the
    same decisions. "n/a" when undefined."""
    if is_missing(value):
        return "n/a"
    x = float(value)
    text = f"{x:.{digits}f}"
    if float(text) == x or not math.isfinite(x):
        return text
    return repr(x) if "e" in repr(x) else repr(x).rstrip("0")


def fmt_p(value: Any) -> str:
    """A p-value with 4 decimals, and "< 0.0001" for smaller ones rather than "0.0000"."""
    if is_missing(value):
        return "n/a"
    p = float(value)
    return f"< {P_FLOOR:.4f}" if p < P_FLOOR else f"{p:.4f}"
