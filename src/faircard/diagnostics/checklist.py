"""The bias-sources checklist: seven ways harm enters a model, each with the evidence faircard
found and a status the experts set (checked, concern, not applicable) with a note.

The seven sources follow Suresh and Guttag's framework of harms across the machine-learning life
cycle: historical, representation, measurement, aggregation, learning, evaluation and deployment
bias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import FaircardError

SOURCES: dict[str, str] = {
    "historical": "Do the recorded outcomes reflect past unequal treatment (different base "
                  "rates between groups)?",
    "representation": "Are some groups missing, small or under-represented in the data compared "
                      "with the people the model will affect?",
    "measurement": "Do features or the label measure different things for different groups, or "
                   "stand in for a protected attribute (proxies)?",
    "aggregation": "Does one model fit groups that behave differently (the same score meaning "
                   "different risks)?",
    "learning": "Did training choices make some subgroups fare worse than others?",
    "evaluation": "Is the evaluation data and its metrics adequate for every group "
                  "(calibration, small groups, missing values)?",
    "deployment": "Will the model be used on people or conditions unlike its data (drift)?",
}
STATUSES = ("", "checked", "concern", "not applicable")


@dataclass
class ChecklistItem:
    """One source: the question, the evidence found, faircard's suggestion and the experts'
    status and note."""

    source: str
    question: str
    evidence: list[str] = field(default_factory=list)
    suggested_status: str = ""
    status: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def blank_checklist() -> list[ChecklistItem]:
    return [ChecklistItem(s, q) for s, q in SOURCES.items()]


def apply_answers(items: list[ChecklistItem], answers: dict[str, dict[str, str]]) -> None:
    """Set the experts' ``status`` and ``note`` per source from ``{source: {status, note}}``."""
    by_source = {i.source: i for i in items}
    for source, answer in (answers or {}).items():
        if source not in by_source:
            raise FaircardError(f"Unknown bias source '{source}'. Choose one of: "
                                f"{', '.join(SOURCES)}.")
        status = str(answer.get("status", "") or "")
        if status not in STATUSES:
            raise FaircardError(f"Status '{status}' of '{source}' is not one of: checked, "
                                "concern, not applicable.")
        by_source[source].status = status
        by_source[source].note = str(answer.get("note", "") or "")
