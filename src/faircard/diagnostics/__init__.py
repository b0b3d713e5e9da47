"""Diagnostics: where a disparity comes from (representation, proxies, calibration by group,
drift, worst subgroups) and the bias-sources checklist."""

from .checklist import SOURCES, STATUSES, ChecklistItem, apply_answers
from .core import Diagnostics, diagnose, diagnose_spec

__all__ = ["SOURCES", "STATUSES", "ChecklistItem", "Diagnostics", "apply_answers", "diagnose", "diagnose_spec"]
