"""Governance: what was assessed, who reviewed and signed it off, and the checks CI runs.

- :mod:`~faircard.governance.records`: fingerprints of assessments (canonical JSON, sha256).
- :mod:`~faircard.governance.chain`: the hash chain of the audit store, checked without a
  database.
- :mod:`~faircard.governance.store`: the audit store (SQLAlchemy; SQLite by default).
- :mod:`~faircard.governance.gate`: pass/fail rules for continuous integration.

The app's Governance page and the CLI reach the database only through this package.
"""

from .records import assessment_fingerprint
from .store import AuditStore, Record, Review, VerifyResult, default_location
from .store import exists as store_exists

__all__ = [
    "AuditStore", "Record", "Review", "VerifyResult", "assessment_fingerprint",
    "default_location", "store_exists",
]
