"""What the group tables cannot show by themselves: combinations with nobody in them, known
values that fall outside every band or are not numbers (their own groups, never
"(missing)"), and groups whose names read alike ("Male", "male", "Male ") but are counted
apart."""

from __future__ import annotations

import itertools
import math

from .prepare import GroupIndex, partition_name
from .safe_text import reads_as
from .spec import MISSING_GROUP, AssessmentSpec

MAX_LISTED = 10
"""Empty combinations named in a note; the rest are counted."""
EMPTY_LEAD = "No one in "
"""How the note on empty combinations begins."""
EMPTY_NAMES = ", so they are not shown: "
"""What comes before the names in that note (a card that names no small group cuts there)."""
ALIKE_NAMES = " are counted as separate groups: "
"""What comes before the names in the note on names that read alike (cut there likewise)."""


def alike_groups(labels: list[str]) -> list[list[str]]:
    """The sets of two or more ``labels`` that differ only by spaces, letter case or Unicode
    form (:func:`~faircard.safe_text.reads_as`, case folded), in the labels' order."""
    sets: dict[str, list[str]] = {}
    for name in labels:
        if not name.startswith(MISSING_GROUP):
            sets.setdefault(reads_as(name).casefold(), []).append(name)
    return [names for names in sets.values() if len(names) > 1]


def empty_combinations(index: GroupIndex, limit: int = MAX_LISTED) -> tuple[int, list[str]]:
    """How many combinations of the features' groups hold nobody, and the first ``limit`` of
    them named as the intersection's groups are (``"Female & Other"``), in display order."""
    sizes = [len(index.labels[f]) for f in index.features]
    total = math.prod(sizes)
    present = {tuple(int(c) for c in row) for row in index.cell_codes}
    n_empty = total - len(present)
    names: list[str] = []
    if n_empty:
        # at most len(present) + limit combinations are visited before the list is full
        for combo in itertools.product(*(range(s) for s in sizes)):
            if combo not in present:
                names.append(" & ".join(index.labels[f][c]
                                        for f, c in zip(index.features, combo, strict=True)))
                if len(names) >= limit:
                    break
    return n_empty, names


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def group_notes(index: GroupIndex, spec: AssessmentSpec) -> list[str]:
    """Sentences for the pages, the CLI and the card about the groups shown."""
    notes = []
    for f in index.features:
        alike = alike_groups(list(index.labels[f]))
        if alike:
            n = sum(len(names) for names in alike)
            shown = "; ".join(_listed([repr(name) for name in names])
                              for names in alike[:MAX_LISTED])
            more = f" (and {len(alike) - MAX_LISTED:,} more sets)" if len(alike) > MAX_LISTED \
                else ""
            notes.append(f"In '{f}', {n:,} groups whose names differ only by spaces, letter case "
                         f"or Unicode form{ALIKE_NAMES}{shown}{more}. If they are the same "
                         "people, correct the data.")
        binning = spec.bins.get(f)
        if binning is None:
            continue
        outside = [name for name in binning.outside_labels if name in index.labels[f]]
        if outside:
            shown = " and ".join(f"'{name}'" for name in outside)
            notes.append(f"Some values of '{f}' lie outside its bands: they are shown as "
                         f"{shown}, not as missing.")
        named = {*binning.labels, *binning.outside_labels}
        texts = [name for name in index.labels[f]
                 if name not in named and not name.startswith(MISSING_GROUP)]
        if texts:
            shown = ", ".join(f"'{name}'" for name in texts[:MAX_LISTED])
            more = f" (and {len(texts) - MAX_LISTED:,} more)" if len(texts) > MAX_LISTED else ""
            notes.append(f"Some values of '{f}' are not numbers, so no band holds them: they "
                         f"are shown as they are written, {shown}{more}, not as missing.")
    if spec.intersection and len(index.features) > 1:
        n_empty, names = empty_combinations(index)
        if n_empty:
            total = math.prod(len(index.labels[f]) for f in index.features)
            more = f" (and {n_empty - len(names):,} more)" if n_empty > len(names) else ""
            notes.append(f"{EMPTY_LEAD}{n_empty:,} of the {total:,} combinations of "
                         f"{partition_name(index.features)}{EMPTY_NAMES}"
                         f"{', '.join(names)}{more}.")
    return notes
