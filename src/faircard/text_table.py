"""Tables as fixed-width plain text, for the card's appendix of features with many groups.

WeasyPrint lays out a table cell by cell: a card listing 3,000 groups in HTML tables took
43 s of CPU to print, most of it table and line layout of ~100,000 boxes. The same rows as
lines of one preformatted block take a few seconds. Columns that do not fit in ``width``
characters continue in further blocks, each repeating the first ``keep`` columns, so no
figure is cut off; a cell wider than its column wraps onto continuation lines.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence


def text_width(s: str) -> int:
    """Columns ``s`` takes in a monospaced font: East Asian wide and full-width characters
    take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in s)


def _cut(s: str, width: int) -> list[str]:
    """``s`` in pieces of at most ``width`` columns (at least one piece)."""
    out, cur, w = [], "", 0
    for c in s:
        cw = text_width(c)
        if cur and w + cw > width:
            out.append(cur)
            cur, w = "", 0
        cur += c
        w += cw
    return out + [cur] if cur or not out else out


def _pad(s: str, width: int, right: bool) -> str:
    gap = " " * max(width - text_width(s), 0)
    return gap + s if right else s + gap


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, width: int = 112,
                keep: int = 2, first_width: int = 30, right: Sequence[bool] = ()) -> list[str]:
    """The table as blocks of text lines (one string per block). ``keep``: leading columns
    repeated in every block; the first column is at most ``first_width`` wide; ``right``:
    per column, whether it is right-aligned (numbers)."""
    n = len(headers)
    right = list(right) + [False] * (n - len(right))
    cells = [[str(c).replace("\n", "\\n").replace("\t", "\\t") for c in r] for r in rows]
    widths = []
    for j in range(n):
        longest_word = max((text_width(w) for w in str(headers[j]).split()), default=1)
        w = max([longest_word] + [text_width(r[j]) for r in cells])
        widths.append(min(w, first_width) if j == 0 else w)
    head_width = sum(widths[:keep]) + 2 * keep
    blocks, j = [], keep
    while j < n or not blocks:
        cols = list(range(keep))
        used = head_width
        while j < n and (used + widths[j] <= width or len(cols) == keep):
            cols.append(j)
            used += widths[j] + 2
            j += 1
        blocks.append(_block(headers, cells, cols, widths, right))
    return blocks


def _block(headers, cells, cols, widths, right) -> str:
    def lines_of(values: list[str], is_header: bool) -> list[str]:
        parts = [(textwrap.wrap(str(v), widths[c]) or [""]) if is_header
                 else _cut(v, widths[c]) for v, c in zip(values, cols, strict=True)]
        height = max(len(p) for p in parts)
        out = []
        for i in range(height):
            out.append("  ".join(_pad(p[i] if i < len(p) else "", widths[c],
                                      right[c] and not is_header)
                                 for p, c in zip(parts, cols, strict=True)).rstrip())
        return out

    head = lines_of([headers[c] for c in cols], True)
    rule = "  ".join("-" * widths[c] for c in cols)
    body = [line for r in cells for line in lines_of([r[c] for c in cols], False)]
    return "\n".join(head + [rule] + body)
