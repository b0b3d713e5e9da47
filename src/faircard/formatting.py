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


def fmt_interval(low: Any, high: Any, digits: int = 3) -> str:
    """An interval as "[low, high]": a comma, since a bound can be negative ("[-0.004, 0.103]"
    written with a hyphen would read as a range between two negative numbers)."""
    return f"[{fmt_num(low, digits)}, {fmt_num(high, digits)}]"


def fmt_probability(p: float, digits: int = 3) -> str:
    """A randomised rule's probability (strictly between 0 and 1) with ``digits`` decimals,
    or with as many more as keep it off 0 and 1: "0.0002", never "0.000"."""
    p = float(p)
    for d in range(digits, 17):
        text = f"{p:.{d}f}"
        if 0 < float(text) < 1:
            return text
    return repr(p)


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A rate as a percentage ("23.4%"); "n/a" when undefined."""
    if is_missing(value):
        return "n/a"
    return f"{100 * float(value):.{digits}f}%"


def fmt_level(confidence: Any) -> str:
    """A confidence level as a percentage to its last digit: 0.9 -> "90%", 0.975 -> "97.5%"
    (``fmt_pct(x, 0)`` wrote 0.975 as "98%", a level nobody chose)."""
    return f"{100 * float(confidence):.10g}%"


def fmt_int(value: Any) -> str:
    if is_missing(value):
        return "n/a"
    return f"{int(value):,}"


THRESHOLD_DIGITS = 3
THRESHOLD_FORMAT = f"%.{THRESHOLD_DIGITS}f"
"""Every threshold faircard shows has this many decimals (printf style for widgets)."""
P_FLOOR = 1e-4


def counted(n: int, singular: str, plural: str) -> str:
    """``n`` with the word that agrees with it: "1 row was", "2 rows were" (``singular`` and
    ``plural`` are the words after the number)."""
    return f"{n:,} {singular if n == 1 else plural}"


def mid_sentence(label: str) -> str:
    """A metric's label as it reads inside a sentence: "True positive rate" becomes "true
    positive rate"; a label starting with letters in capitals ("ROC AUC", "F1 score") keeps
    them."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def groups_with_sizes(sizes: dict[str, int]) -> str:
    """Groups named with their sizes: "c (4 people), d (1 person)"."""
    return ", ".join(f"{g} ({counted(int(n), 'person', 'people')})" for g, n in sizes.items())


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


def threshold_format(value: Any) -> str:
    """The printf format of a widget showing the threshold ``value`` as :func:`fmt_threshold`
    states it: three decimals, or as many as it takes ("%.5f" for 0.57153, which "%.3f"
    showed as 0.572, a threshold that decides otherwise)."""
    text = fmt_threshold(value)
    if "e" in text or "." not in text:
        return THRESHOLD_FORMAT
    return f"%.{max(THRESHOLD_DIGITS, len(text.split('.')[1]))}f"


def fmt_p(value: Any) -> str:
    """A p-value with 4 decimals, and "< 0.0001" for smaller ones rather than "0.0000"."""
    if is_missing(value):
        return "n/a"
    p = float(value)
    return f"< {P_FLOOR:.4f}" if p < P_FLOOR else f"{p:.4f}"


def fmt_against(value: Any, limit: float, passes: bool | None, digits: int = 3, *,
                upper: bool = False) -> str:
    """A value judged against ``limit`` (a minimum, or a maximum when ``upper``), with
    ``digits`` decimals or with as many more as it takes for the written number to fall on the
    side of the limit the verdict states: a ratio of 0.7998 that fails a minimum of 0.8 is
    "0.7998", never "0.800" or "0.80"; a gap of 0.1001 over a maximum of 0.1 is "0.1001"."""
    text = fmt_num(value, digits)
    if passes is not False or is_missing(value):
        return text
    x = float(value)
    for more in range(digits, 13):
        text = f"{x:.{more}f}"
        if (float(text) > limit) if upper else (float(text) < limit):
            return text
    return repr(x)


def fmt_disparate_impact(criteria: dict[str, Any], digits: int = 3) -> str:
    """A feature's disparate impact ratio as its four-fifths verdict reads it (see
    :func:`fmt_against`)."""
    from .assess import FOUR_FIFTHS

    return fmt_against(criteria.get("disparate_impact_ratio"), FOUR_FIFTHS,
                       criteria.get("passes_four_fifths"), digits)
