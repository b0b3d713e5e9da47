"""Fingerprints of assessments: canonical JSON, the recorded spec and summary, sha256.

An assessment's *fingerprint* identifies what was assessed and what came out: the dataset's
bytes (its sha256), the model files' bytes (their sha256s), the choices (the spec) and the
results (the overall metrics and fairness criteria). Two runs on the same inputs give the same
fingerprint; changing the data, a model, a choice or a result changes it. The audit store
(:mod:`faircard.governance.store`) and the CI gate (:mod:`faircard.governance.gate`) both use these functions, so a
gate run can find the record a reviewer approved.

Pure Python: no database, no UI.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import FaircardError

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
FLOAT_DIGITS = 12
"""Floats are rounded to this many significant digits before hashing, so differences in the
last bits between platforms (summation order, BLAS) do not change a fingerprint."""

SPEC_KEYS = (
    "target", "prediction", "score", "threshold", "pos_label", "favorable_outcome",
    "sensitive_features", "features", "bins", "reference_groups", "min_group_size",
    "include_small_groups", "policy",
)
CARD_TEXT_KEY = "card_text_sha256"
"""Key of the recorded choices that holds the sha256 of the model card's authors' text."""
SUMMARY_KEYS = ("n_rows", "n_dropped", "overall", "criteria")


def canonical_value(value: Any, digits: int | None = FLOAT_DIGITS) -> Any:
    """``value`` made JSON-ready and stable: NaN/inf -> None, numpy scalars -> Python, floats
    rounded to ``digits`` significant digits (``None``: kept exact), tuples -> lists, keys ->
    str."""
    if isinstance(value, Mapping):
        return {str(k): canonical_value(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical_value(v, digits) for v in value]
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return int(value)
    if getattr(value, "ndim", 0) and hasattr(value, "tolist"):  # numpy array
        return canonical_value(value.tolist(), digits)
    if hasattr(value, "item") and not isinstance(value, float):  # numpy scalar
        return canonical_value(value.item(), digits)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(value) if digits is None else float(f"{value:.{digits}g}")
    raise FaircardError(
        f"A value of type {type(value).__name__} cannot be recorded; only numbers, text, "
        "true/false, lists and mappings can."
    )


def canonical_json(value: Any) -> str:
    """Canonical JSON text of ``value``: sorted keys, compact separators, NaN -> null."""
    return json.dumps(canonical_value(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def bounded_json(value: Any, limit: int, what: str, advice: str) -> str:
    """Exact JSON of ``value`` (floats kept) for a stored column: sorted keys, compact, at most
    ``limit`` characters, else a :class:`FaircardError` ("``what`` N characters of JSON; the
    limit is L. ``advice``")."""
    text = json.dumps(canonical_value(value, None), ensure_ascii=False, allow_nan=False,
                      sort_keys=True, separators=(",", ":"))
    if len(text) > limit:
        raise FaircardError(f"{what} {len(text):,} characters of JSON; the limit is "
                            f"{limit:,}. {advice}")
    return text


def sha256_text(text: str) -> str:
    """sha256 hex digest of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def as_document(assessment: Any) -> dict[str, Any]:
    """The JSON document of an :class:`~faircard.assess.Assessment` (or such a document).

    Accepts an ``Assessment`` (its ``to_dict()``) or the dict written by ``faircard assess
    --json`` for one model. Raises :class:`FaircardError` for anything else.
    """
    doc = assessment.to_dict() if hasattr(assessment, "to_dict") else assessment
    if not isinstance(doc, Mapping):
        raise FaircardError("Expected an assessment (faircard.assess(...) or its to_dict()).")
    if "models" in doc and "overall" not in doc:
        raise FaircardError(
            "This assessment compares several models; record one model at a time."
        )
    missing = [k for k in ("target", "sensitive_features", "overall", "criteria", "n_rows")
               if k not in doc]
    if missing:
        raise FaircardError(
            "This is not a faircard assessment document: it has no "
            + ", ".join(f"'{k}'" for k in missing) + ". Use faircard.assess(...).to_dict() or "
            "the file written by 'faircard assess --json'."
        )
    return dict(doc)


def spec_of(assessment: Any, policy: Mapping[str, Any] | None = None,
            card_text: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The recorded choices of an assessment: target, prediction or score and threshold,
    positive label, whether a positive decision is favourable or adverse, sensitive features
    (and the assessed partitions), bins, reference groups, small-group settings, the decision
    policy the figures were computed under (``policy`` overrides it, for documents written
    before policies were recorded) and the sha256 of the model card's authors' ``card_text``
    ({section: {field: text}}) when there is any, so that an approval covers what the card
    says.

    Bootstrap settings are left out: they change intervals, not the results that are
    fingerprinted, so a quick check (no bootstrap) finds the record of a full run.
    """
    doc = as_document(assessment)
    spec = {k: doc.get(k) for k in SPEC_KEYS}
    if policy is not None:
        spec["policy"] = dict(policy)
    text_sha = card_text_sha256(card_text)
    if text_sha is not None:
        spec[CARD_TEXT_KEY] = text_sha
    return canonical_value(spec)


def card_text_sha256(card_text: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """sha256 of the authors' text of a model card, or None when no field has text.

    Empty fields are dropped first, so a card nobody wrote in and no card give the same
    fingerprint (the command line without ``--card-json`` finds such a record)."""
    kept = filled_card_text(card_text)
    return sha256_text(canonical_json(kept)) if kept else None


def filled_card_text(card_text: Mapping[str, Mapping[str, Any]] | None
                     ) -> dict[str, dict[str, str]]:
    """The authors' text {section: {field: text}} without its empty fields and sections."""
    if card_text is not None and not isinstance(card_text, Mapping):
        raise FaircardError("The card text must be a mapping of sections to fields.")
    kept = {}
    for section, fields in (card_text or {}).items():
        if not isinstance(fields, Mapping):
            raise FaircardError(f"The card text of section '{section}' must be a mapping of "
                                "fields to text.")
        filled = {str(k): str(v) for k, v in fields.items() if v is not None and str(v).strip()}
        if filled:
            kept[str(section)] = filled
    return kept


def summary_of(assessment: Any) -> dict[str, Any]:
    """The recorded results: rows assessed and dropped, overall metrics, fairness criteria.

    Group-level aggregates only; no row of the data and no personal-data column.
    """
    doc = as_document(assessment)
    return canonical_value({k: doc.get(k) for k in SUMMARY_KEYS})


def normalize_models(models: Iterable[Any] | None) -> list[dict[str, str]]:
    """``[{"name": ..., "sha256": ...}]`` from mappings or loaded models (``.name``/``.sha256``)."""
    out = []
    for m in models or ():
        if isinstance(m, Mapping):
            name, sha = m.get("name"), m.get("sha256")
        else:
            name, sha = getattr(m, "name", None), getattr(m, "sha256", None)
        if not isinstance(name, str) or not name.strip():
            raise FaircardError("Each model needs a name (for example its file name).")
        out.append({"name": name, "sha256": check_sha256(sha, f"model '{name}'")})
    return out


def check_sha256(value: Any, what: str) -> str:
    """``value`` as a lowercase sha256 hex digest, or a :class:`FaircardError`."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not SHA256_RE.match(text):
        raise FaircardError(
            f"The sha256 of the {what} must be 64 hexadecimal characters; got {value!r}."
        )
    return text


def fingerprint_of(*, dataset_sha256: str, model_sha256s: Iterable[str], spec: Mapping[str, Any],
                   summary: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``{dataset_sha256, model_sha256s, spec, results}``."""
    return sha256_text(canonical_json({
        "dataset_sha256": dataset_sha256,
        "model_sha256s": list(model_sha256s),
        "spec": spec,
        "results": summary,
    }))


def assessment_fingerprint(assessment: Any, *, dataset_sha256: str,
                           models: Iterable[Any] | None = None,
                           spec: Mapping[str, Any] | None = None) -> str:
    """The fingerprint the audit store gives ``assessment`` (see :func:`fingerprint_of`).

    ``models`` as for :func:`normalize_models`; ``spec`` defaults to :func:`spec_of`.
    """
    return fingerprint_of(
        dataset_sha256=check_sha256(dataset_sha256, "dataset"),
        model_sha256s=[m["sha256"] for m in normalize_models(models)],
        spec=canonical_value(spec) if spec is not None else spec_of(assessment),
        summary=summary_of(assessment),
    )
