"""Whether a model card is covered by a review: the card's status from the audit store.

A card is "approved" only when its fingerprint (data, models, choices, favourable setting,
decision policy, authors' text and results) is the fingerprint of an approved record. When the
same data and models have an approved record but the card says something else, the card is
"changed since approval", with what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .records import CARD_TEXT_KEY

CHANGED = "changed since approval"
UNVERIFIED = "not verified"
"""The status of a card whose record does not verify (edited in the database): no status it
claims can be trusted."""
_WHAT = (
    ((CARD_TEXT_KEY,), "the authors' text of the card"),
    (("policy", "threshold", "prediction", "score"), "the decision rule"),
    (("favorable_outcome",), "whether a positive decision is favourable or adverse"),
    (("target", "pos_label"), "the outcome"),
    (("sensitive_features", "features", "bins", "reference_groups"), "the groups"),
    (("min_group_size", "include_small_groups"), "the small-group settings"),
)


def what_changed(old_spec: Mapping[str, Any], new_spec: Mapping[str, Any],
                 old_summary: Mapping[str, Any] | None = None,
                 new_summary: Mapping[str, Any] | None = None) -> list[str]:
    """What differs between two recorded choices (and results), in words."""
    out = [words for keys, words in _WHAT
           if any(old_spec.get(k) != new_spec.get(k) for k in keys)]
    known = {k for keys, _ in _WHAT for k in keys}
    if any(old_spec.get(k) != new_spec.get(k) for k in set(old_spec) | set(new_spec)
           if k not in known):
        out.append("other choices")
    if old_summary is not None and new_summary is not None and old_summary != new_summary:
        out.append("the results")
    return out


_SHOWN = (("metrics", "the metrics shown"),
          ("suppress_small_groups", "whether small groups are left out"),
          ("personal_data", "the personal-data columns left out"))


def display_changes(stored: Mapping[str, Any] | None, current: Mapping[str, Any] | None,
                    available: Iterable[str]) -> list[str]:
    """How the card ``current`` is shown differently from the card document a record keeps
    (``stored``; see :mod:`faircard.governance.recorded_card`), in words: the metrics it shows
    (None meaning the default metrics, among the ``available`` ones), whether small groups
    are left out and which personal-data columns are left out. Empty when either is None."""
    from ..metrics import DEFAULT_METRICS

    if stored is None or current is None:
        return []
    have = set(available)

    def norm(card: Mapping[str, Any], key: str) -> Any:
        value = card.get(key)
        if key == "metrics":
            return [m for m in (value or DEFAULT_METRICS) if m in have]
        if key == "personal_data":
            return sorted(str(c) for c in value or ())
        return bool(value)

    return [words for key, words in _SHOWN if norm(stored, key) != norm(current, key)]


def card_review(store, *, fingerprint: str, dataset_sha256: str,
                model_sha256s: Iterable[str], spec: Mapping[str, Any],
                summary: Mapping[str, Any], card: Mapping[str, Any] | None = None,
                available: Iterable[str] = ()) -> dict[str, str] | None:
    """The ``review`` section of a card with this ``fingerprint``, or None (a draft).

    The latest decision on a record with the same fingerprint (else the newest such record)
    gives the status, reviewer and comment, as for the gate. Without
    one, the newest approved record of the same dataset and models makes the card
    ``"changed since approval"`` and the notes say what changed. ``card`` (the card document
    as it is shown now, with the ``available`` metrics) is compared with the card the record
    keeps: shown with other metrics or other groups left out, an approved record's card is
    ``"changed since approval"`` too, and another record's status does not apply (None).
    """
    found = store.find_by_fingerprint(fingerprint)
    if found:
        # as the gate does: the latest decision on this content, whichever record of it it is
        # on (an approval is withdrawn by recording the content again and rejecting it);
        # without any decision, the newest record
        decided = [(h.at, r.id, h, r) for r in found for h in store.history(r.id)
                   if h.decision in ("approve", "request_changes", "reject")]
        if decided:
            *_, last, rec = max(decided, key=lambda d: d[:2])
        else:
            last, rec = None, max(found, key=lambda r: r.id)
        problems = store.problems(rec.id)
        if problems:
            return {"status": UNVERIFIED, "reviewer": "",
                    "notes": f"Audit record {rec.id} does not verify ({problems[0]}), so its "
                             "status cannot be trusted. Run 'faircard verify'."}
        shown = display_changes(store.card(rec.id), card, available)
        if shown:
            if rec.status != "approved":
                return None
            return {"status": CHANGED, "reviewer": "",
                    "notes": f"Audit record {rec.id} was approved for this card shown "
                             f"differently; since then {_join(shown)} changed. Record this "
                             "card and have it reviewed again."}
        reviewer = ""
        if last:
            # a typed name proves nothing: the card says so wherever it is read
            notes_on = [n for n in (last.role, None if last.authenticated else
                                    "name typed, not signed in") if n]
            reviewer = f"{last.reviewer} ({'; '.join(notes_on)})" if notes_on else last.reviewer
        notes = f"Audit record {rec.id} (fingerprint {rec.fingerprint[:16]})"
        if last and last.comment:
            notes += f": {last.comment}"
        return {"status": rec.status.replace("_", " "), "reviewer": reviewer, "notes": notes}
    models = list(model_sha256s)
    approved = [r for r in store.list(status="approved")
                if r.dataset_sha256 == dataset_sha256
                and [m["sha256"] for m in r.models] == models]
    if not approved:
        return None
    rec = max(approved, key=lambda r: r.id)
    changed = what_changed(rec.spec, spec, rec.summary, summary) or ["the card"]
    return {"status": CHANGED, "reviewer": "",
            "notes": f"Audit record {rec.id} was approved for other content; since then "
                     f"{_join(changed)} changed. Record this card and have it reviewed again."}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
