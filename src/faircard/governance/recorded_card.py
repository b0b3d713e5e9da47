"""The model card a record keeps: its authors' text and how the card was shown.

The authors' text ({section: {field: text}}) is what experts wrote about the model: intended
use, caveats, ethical considerations. It is not personal data. A record keeps it, with the few
choices that shape the card's tables (the model's name and type, the metrics shown, the
personal-data columns left out, whether small groups were left out), so a share link shows the
card its author saw, with the figures recomputed from the record's per-cell counts.

The record's fingerprint covers the sha256 of this text (``card_text_sha256`` in its choices,
see :func:`faircard.governance.records.spec_of`), and the whole document is part of the record's
chain entry; :func:`text_problem` says when the stored text no longer matches the fingerprint.

Pure Python: no streamlit, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..errors import FaircardError
from .records import CARD_TEXT_KEY, bounded_json, card_text_sha256, filled_card_text

CARD_FORMAT = "faircard-card"
CARD_VERSION = 1
MAX_CARD_TEXT = 100_000
"""Characters of authors' text (all fields together) a record keeps."""
MAX_CARD_JSON = 200_000
"""Characters of a record's whole card document (text and choices) as JSON."""


def card_document(text: Mapping[str, Mapping[str, Any]] | None, *,
                  model: Mapping[str, Any] | None = None,
                  metrics: Iterable[str] | None = None,
                  personal_data: Iterable[str] = (),
                  suppress_small_groups: bool = False,
                  bias_sources: list[Mapping[str, Any]] | None = None,
                  proxies: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The card document a record keeps (JSON-ready).

    ``text``: the authors' text as given to :func:`~faircard.governance.records.spec_of`
    (empty fields are dropped; a field of only spaces is kept, since the card shows it, but
    the fingerprint ignores it); ``model``: the card's model
    name, type and sha256; ``metrics``: the metrics the card shows (None: the defaults);
    ``personal_data``: columns the card leaves out; ``suppress_small_groups``: whether groups
    below the minimum size are left out; ``bias_sources`` and ``proxies``: the bias-sources
    checklist and the proxies the card states (as given to :func:`~faircard.card.build_card`;
    the fingerprint covers them as the card's :data:`~faircard.card.CHECKLIST_SECTION`). Raises :class:`FaircardError` when the text is not
    {section: {field: text}} or is longer than :data:`MAX_CARD_TEXT` characters.
    """
    info = {k: str((model or {}).get(k) or "") for k in ("name", "type", "sha256")}
    return check_card({
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "text": _written(text),
        "model": info,
        "metrics": None if metrics is None else [str(m) for m in metrics],
        "personal_data": sorted({str(c) for c in personal_data}),
        "suppress_small_groups": bool(suppress_small_groups),
        "bias_sources": None if bias_sources is None else [dict(b) for b in bias_sources],
        "proxies": None if proxies is None else [dict(p) for p in proxies],
    })


def _written(text: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, str]]:
    filled_card_text(text)  # the same refusals as the fingerprint
    kept = {}
    for section, fields in (text or {}).items():
        written = {str(k): str(v) for k, v in fields.items() if v is not None and str(v) != ""}
        if written:
            kept[str(section)] = written
    return kept


def card_json(card: Mapping[str, Any]) -> str:
    """The stored text of a card document: canonical JSON, checked and bounded."""
    return bounded_json(check_card(card), MAX_CARD_JSON, "The model card to record is",
                        "Shorten its text or leave fewer columns out by name.")


def check_card(card: Any) -> dict[str, Any]:
    """``card`` if it is a card document this faircard reads, with at most
    :data:`MAX_CARD_TEXT` characters of text; a :class:`FaircardError` otherwise."""
    if not isinstance(card, Mapping) or card.get("format") != CARD_FORMAT:
        raise FaircardError("This is not a faircard card document (make it with "
                            "faircard.governance.recorded_card.card_document).")
    if card.get("version") != CARD_VERSION:
        raise FaircardError(
            f"This record's model card is in version {card.get('version')}; this faircard "
            f"reads version {CARD_VERSION}. Upgrade faircard to open it."
        )
    text = card.get("text")
    if not isinstance(text, Mapping) or not all(
            isinstance(f, Mapping) and all(isinstance(v, str) for v in f.values())
            for f in text.values()):
        raise FaircardError("The model card's text must be {section: {field: text}}.")
    size = sum(len(v) for fields in text.values() for v in fields.values())
    if size > MAX_CARD_TEXT:
        raise FaircardError(
            f"The model card's text is {size:,} characters long; a record keeps at most "
            f"{MAX_CARD_TEXT:,}. Shorten the card's sections, then record again."
        )
    return dict(card)


def fingerprinted_text(card: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The text a record's fingerprint covers: the authors' text and, when the card states
    them, the checklist and proxies as :data:`~faircard.card.CHECKLIST_SECTION` (as
    :meth:`~faircard.card.ModelCard.authors_text` gives them)."""
    from ..card import CHECKLIST_SECTION, checklist_text

    text = {s: dict(f) for s, f in card["text"].items()}
    if card.get("bias_sources") is not None or card.get("proxies") is not None:
        text[CHECKLIST_SECTION] = checklist_text(card.get("bias_sources"), card.get("proxies"))
    return text


def text_problem(card: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """Why the card text stored with a record does not match the card text its fingerprint
    covers ("" when it matches)."""
    try:
        stored = card_text_sha256(fingerprinted_text(check_card(card)))
    except FaircardError as exc:
        return str(exc)
    if stored != spec.get(CARD_TEXT_KEY):
        return ("its model card text is not the text its fingerprint covers: the text was "
                "changed after it was recorded")
    return ""


def recorded_card(assessment: Any, card: Mapping[str, Any], *, dataset_name: str,
                  dataset_sha256: str, created_at: str):
    """The :class:`~faircard.card.ModelCard` a record's author saw, built from the assessment
    (recomputed from the record's cells) and the stored card document; it is dated when the
    record was made (``created_at``, ISO 8601)."""
    from ..card import build_card

    card = check_card(card)
    when = datetime.fromisoformat(created_at).isoformat(timespec="seconds")
    return build_card(assessment, text={s: dict(f) for s, f in card["text"].items()},
                      model=dict(card.get("model") or {}),
                      dataset={"name": dataset_name, "sha256": dataset_sha256},
                      personal_data=list(card.get("personal_data") or []),
                      metrics=card.get("metrics"),
                      suppress_small_groups=bool(card.get("suppress_small_groups")),
                      generated_at=when, bias_sources=card.get("bias_sources"),
                      proxies=card.get("proxies"))
