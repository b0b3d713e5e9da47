"""Governance: what was assessed, who reviewed and signed it off, and the checks CI runs.

- :mod:`~faircard.governance.records`: fingerprints of assessments (canonical JSON, sha256).
- :mod:`~faircard.governance.chain`: the hash chain of the audit store, checked without a
  database.
- :mod:`~faircard.governance.store`: the audit store (SQLAlchemy; SQLite by default).
- :mod:`~faircard.governance.gate`: pass/fail rules for continuous integration.
- :mod:`~faircard.governance.signing`: Ed25519/HMAC keys that sign the chain's entries.
- :mod:`~faircard.governance.identity`: who acts (signed in or a typed name) and their roles.
- :mod:`~faircard.governance.diff`: changes between a record and its baseline.
- :mod:`~faircard.governance.migrate`: schema upgrades (Alembic).

The app's Governance page and the CLI reach the database only through this package.
"""

from .diff import AssessmentDiff, diff_assessments, diff_records
from .records import assessment_fingerprint
from .signing import Keys
from .store import AuditStore, Comment, Record, Review, VerifyResult, default_location
from .store import exists as store_exists

__all__ = [
    "AssessmentDiff", "AuditStore", "Comment", "Keys", "Record", "Review", "VerifyResult",
    "assessment_fingerprint", "default_location", "diff_assessments", "diff_records",
    "store_exists",
]
