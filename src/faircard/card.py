"""The model card as data (Mitchell et al., "Model Cards for Model Reporting"), built from an
assessment plus the text its authors write. Values stay numbers; templates format them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Set
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from .favorable import wording
from .formatting import counted, fmt_disparate_impact, groups_with_sizes
from .group_notes import ALIKE_NAMES, EMPTY_LEAD, EMPTY_NAMES

CARD_VERSION = 1
TEXT_SECTIONS = {
    "model_details": ["name", "version", "type", "owners", "date", "license", "contact",
                      "description"],
    "intended_use": ["primary_uses", "primary_users", "out_of_scope"],
    "factors": ["why_these_factors"],
    "metrics": ["why_these_metrics"],
    "evaluation_data": ["description"],
    "training_data": ["description"],
    "ethical_considerations": ["text"],
    "caveats": ["text"],
}
QUESTIONS = {
    "model_details.description": "What does the model do, in one or two sentences?",
    "intended_use.primary_uses": "What decisions is the model meant to support?",
    "intended_use.primary_users": "Who will use the model's output?",
    "intended_use.out_of_scope": "Where must the model not be used?",
    "factors.why_these_factors": "Why were these groups chosen, and which were left out?",
    "metrics.why_these_metrics": "Which mistakes matter most here, and to whom?",
    "evaluation_data.description": "Where does the evaluation data come from? Is it "
                                   "representative of the people the model will affect?",
    "training_data.description": "What data was the model trained on?",
    "ethical_considerations.text": "Who could be harmed by this model, and how?",
    "caveats.text": "What should a reader know before relying on these results?",
}
CHECKLIST_SECTION = "bias_sources"
"""Key of the checklist in :meth:`ModelCard.authors_text` (not one of the text sections)."""
CHECKLIST_FIELDS = ("source", "question", "evidence", "suggested_status", "status", "note")
PROXY_FIELDS = ("sensitive_feature", "feature", "group", "value")
PROXY_INTERVAL = ("ci_low", "ci_high", "confidence")
"""The proxy AUC's interval and its level, kept when given (a proxy recorded without them is
stated, and fingerprinted, as before)."""


MAX_CARD_JSON = 5_000_000
"""Longest card JSON accepted on import (characters); real cards are a few kilobytes."""

@dataclass
class GroupRow:
    feature: str
    group: str
    n: int
    is_small_group: bool
    values: dict[str, float | None]
    intervals: dict[str, list[float | None]] = field(default_factory=dict)


@dataclass
class ModelCard:
    """Every section of the card; text fields are the authors', the rest comes from faircard."""

    model_details: dict[str, str] = field(default_factory=dict)
    intended_use: dict[str, str] = field(default_factory=dict)
    factors: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    evaluation_data: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, str] = field(default_factory=dict)
    quantitative: dict[str, Any] = field(default_factory=dict)
    ethical_considerations: dict[str, str] = field(default_factory=dict)
    caveats: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    review: dict[str, str] = field(default_factory=dict)
    card_version: int = CARD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, sort_keys=True)

    def content_sha256(self) -> str:
        """sha256 of what the card says: everything but the time it was generated, so two
        renderings of the same card (HTML now, PDF a minute later) have the same content."""
        import hashlib

        d = self.to_dict()
        d["provenance"] = {k: v for k, v in d["provenance"].items() if k != "generated_at"}
        text = json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelCard:
        from .errors import FaircardError

        if not isinstance(d, dict) or "model_details" not in d:
            raise FaircardError("This JSON file is not a faircard model card.")
        known = {f.name for f in fields(cls)}
        sections = {f.name for f in fields(cls) if f.default_factory is dict}
        wrong = sorted(k for k in sections if k in d and not isinstance(d[k], dict))
        if wrong:
            raise FaircardError(
                "This JSON file is not a faircard model card: the section(s) "
                f"{', '.join(wrong)} must be objects ({{...}})."
            )
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        """A card from its JSON text; any problem is a FaircardError with the reason."""
        from .errors import FaircardError

        if len(text) > MAX_CARD_JSON:
            raise FaircardError(f"The card file is {len(text):,} characters long; a model card "
                                f"is at most {MAX_CARD_JSON:,}. Is it the right file?")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FaircardError(f"The card file is not valid JSON ({exc.msg}, line "
                                f"{exc.lineno}).") from None
        except RecursionError:
            raise FaircardError("The card file nests too deeply to be a model card.") from None
        except ValueError:  # an integer longer than Python converts (4,300 digits)
            raise FaircardError("The card file holds a number too long to read (more than "
                                "4,300 digits). Is it the right file?") from None
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise FaircardError("The card file holds text that is not valid Unicode (an "
                                "unpaired surrogate such as \\ud800). Is it the right "
                                "file?") from None
        return cls.from_dict(doc)

    @classmethod
    def from_bytes(cls, raw: bytes) -> ModelCard:
        """A card from the bytes of a JSON file (UTF-8, as faircard writes it)."""
        from .errors import FaircardError

        if len(raw) > 4 * MAX_CARD_JSON:
            raise FaircardError(f"The card file is {len(raw):,} bytes; a model card is at most "
                                f"{MAX_CARD_JSON:,} characters. Is it the right file?")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FaircardError(f"The card file is not UTF-8 text (byte 0x{raw[exc.start]:02x} "
                                f"at position {exc.start:,}); faircard writes cards as UTF-8 "
                                "JSON. Is it the right file?") from None
        return cls.from_json(text)

    def authors_text(self) -> dict[str, dict[str, str]]:
        """The text its authors wrote: {section: {field: text}} over :data:`TEXT_SECTIONS`,
        plus :data:`CHECKLIST_SECTION` (the experts' bias-sources checklist with its evidence
        and the proxies named in the caveats) when the card has them, so that whatever
        fingerprints the authors' text covers the checklist too."""
        out = {}
        for section, keys in TEXT_SECTIONS.items():
            part = getattr(self, section)
            out[section] = {k: part[k] for k in keys if isinstance(part.get(k), str)}
        checked = self.checked_text()
        if checked:
            out[CHECKLIST_SECTION] = checked
        return out

    def checked_text(self) -> dict[str, str]:
        """The bias-sources checklist and the proxies in the caveats, as {field: text}: what an
        approval must cover besides the authors' text (see :func:`bias_sources_text`)."""
        return bias_sources_text(self.ethical_considerations.get("bias_sources"),
                                 self.caveats.get("proxies"))

    def completeness(self) -> dict[str, float]:
        """Share of the authors' text fields filled in, per section (0..1)."""
        out = {}
        for section, keys in TEXT_SECTIONS.items():
            part = getattr(self, section)
            filled = sum(1 for k in keys if str(part.get(k) or "").strip())
            out[section] = filled / len(keys)
        return out


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        return _clean(v.item())
    return v


def bias_sources_text(items: Any, proxies: Any) -> dict[str, str]:
    """{field: text} of a checklist and proxies as the card holds them: per source its
    status, note, suggestion and evidence (one sentence a line), and the proxies as canonical
    JSON. Empty when there is neither."""
    out: dict[str, str] = {}
    for item in items or []:
        if not isinstance(item, dict):
            continue
        source = str(item.get("source", ""))
        evidence = item.get("evidence") or []
        out[f"{source}.status"] = str(item.get("status") or "")
        out[f"{source}.note"] = str(item.get("note") or "")
        out[f"{source}.suggested_status"] = str(item.get("suggested_status") or "")
        out[f"{source}.evidence"] = "\n".join(map(str, evidence if isinstance(evidence, list)
                                                  else [evidence]))
    if proxies:
        out["proxies"] = json.dumps(_clean(proxies), sort_keys=True, ensure_ascii=False)
    return {k: v for k, v in out.items() if v}


def checklist_text(bias_sources: list[dict[str, Any]] | None,
                   proxies: list[dict[str, Any]] | None,
                   hidden: Set[tuple[str, str]] = frozenset()) -> dict[str, str]:
    """:func:`bias_sources_text` of a checklist and proxies as :func:`build_card` would put
    them into a card (the card's :meth:`ModelCard.checked_text`, without building it);
    ``hidden``: the groups the card leaves out (:func:`hidden_groups`)."""
    return bias_sources_text(_checklist(bias_sources, hidden), _proxies(proxies, hidden))


def hidden_groups(assessment: Any, suppress_small_groups: bool) -> set[tuple[str, str]]:
    """(feature, group) of each group below the minimum size, which a card that leaves them
    out (``suppress_small_groups``) names nowhere; empty when it does not."""
    if not suppress_small_groups:
        return set()
    bg = assessment.by_group
    return {(f, str(g)) for f, g, small in zip(bg["feature"], bg["group"],
                                               bg["is_small_group"], strict=True) if small}


def card_checklist(bias_sources: list[dict[str, Any]] | None,
                   proxies: list[dict[str, Any]] | None,
                   hidden: Set[tuple[str, str]]) -> dict[str, Any]:
    """The checklist and proxies as a card leaving out the ``hidden`` groups states them (the
    keyword arguments of :func:`build_card` and of a record's card document; None stays None,
    so a record made without them is fingerprinted as before)."""
    return {"bias_sources": None if bias_sources is None else _checklist(bias_sources, hidden),
            "proxies": None if proxies is None else _proxies(proxies, hidden)}


def _proxies(rows: list[dict[str, Any]] | None,
             hidden: Set[tuple[str, str]] = frozenset()) -> list[dict[str, Any]]:
    out = [{**{k: _clean(p.get(k)) for k in PROXY_FIELDS},
            **{k: _clean(p[k]) for k in PROXY_INTERVAL if k in p}} for p in rows or []]
    for p in out:  # the group a proxy tells apart, when the card leaves it out
        if (str(p.get("sensitive_feature")), str(p.get("group"))) in hidden:
            p["group"] = LEFT_OUT_GROUP
    return out


def _checklist(items: list[dict[str, Any]] | None,
               hidden: Set[tuple[str, str]] = frozenset()) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        row = {k: item.get(k, [] if k == "evidence" else "") for k in CHECKLIST_FIELDS}
        row["evidence"] = [_unnamed_sentence(str(e), hidden) for e in row["evidence"] or []]
        out.append({k: v if k == "evidence" else str(v or "") for k, v in row.items()})
    return out


def _unnamed_sentence(sentence: str, hidden: Set[tuple[str, str]]) -> str:
    """A sentence about one feature ("race: ...") with the groups of it the card leaves out
    named "a group left out of this card" (as the findings do)."""
    for f, g in hidden:
        if sentence.startswith(f"{f}:"):
            sentence = sentence.replace(f"'{g}'", LEFT_OUT_GROUP.strip("()"))
    return sentence


def build_card(assessment, *, text: dict[str, dict[str, str]] | None = None,
               model: dict[str, Any] | None = None,
               dataset: dict[str, Any] | None = None, personal_data: list[str] | None = None,
               metrics: list[str] | None = None, suppress_small_groups: bool = False,
               generated_at: str | None = None, versions: dict[str, str] | None = None,
               bias_sources: list[dict[str, Any]] | None = None,
               proxies: list[dict[str, Any]] | None = None) -> ModelCard:
    """A card pre-filled from ``assessment``, with the authors' ``text`` ({section: {field:
    text}}). The decision policy it states is the one the assessment was computed under
    (``assessment.spec.policy``), so its figures and its policy cannot disagree.
    Personal-data columns never appear.

    ``bias_sources`` is the bias-sources checklist (``source``, ``question``, ``evidence``
    sentences, ``suggested_status``, the experts' ``status`` and ``note``; see
    :meth:`faircard.diagnostics.Diagnostics.for_card`); it goes into the ethical considerations.
    ``proxies`` (``sensitive_feature``, ``feature``, ``group``, ``value``: the cross-validated
    AUC, with ``ci_low``, ``ci_high`` and ``confidence`` when given) are named in the caveats."""
    from . import __version__
    from .findings import SMALL_GROUPS_LEAD, findings
    from .metrics import DEFAULT_METRICS, extreme_names
    from .trivial import all_or_nothing, trivial_decision

    text = text or {}
    spec = assessment.spec
    words = wording(spec.favorable_outcome)
    personal = set(personal_data or [])
    shown = [m for m in (metrics or list(DEFAULT_METRICS)) if m in assessment.metrics]
    bg = assessment.by_group
    crosses = assessment.partition_features

    def is_personal(partition: str) -> bool:
        return any(f in personal for f in crosses.get(partition, (partition,)))

    rows = []
    for (feature, group), part in bg.groupby(["feature", "group"], sort=False):
        if is_personal(feature):
            continue
        small = bool(part["is_small_group"].iloc[0])
        if small and suppress_small_groups:
            continue
        vals = {m: _num(v) for m, v in zip(part["metric"], part["value"], strict=True)
                if m in shown}
        ints = {m: [_num(lo), _num(hi)] for m, lo, hi in
                zip(part["metric"], part["ci_low"], part["ci_high"], strict=True) if m in shown}
        rows.append(asdict(GroupRow(feature, str(group), int(part["n"].iloc[0]), small, vals,
                                    ints)))
    # groups below the minimum size that this card leaves out: named only where the decision
    # rule states their thresholds (marked as left out), never with a size or a figure
    hidden = hidden_groups(assessment, suppress_small_groups)
    disparities = []
    for r in assessment.disparities.to_dict(orient="records"):
        if r["metric"] in shown and not is_personal(r["feature"]):
            row = {k: r.get(k) for k in (
                "feature", "metric", "difference", "ratio", "worst_group", "best_group",
                "difference_ci_low", "difference_ci_high", "p_adjusted", "is_distinguishable")}
            for k in ("worst_group", "best_group"):  # compared as asked, but not named
                if (r["feature"], str(row[k])) in hidden:
                    row[k] = LEFT_OUT_GROUP
            if r.get("worst_value") == r.get("best_value"):  # all equal: no worst or best
                row["worst_group"] = row["best_group"] = None
            elif row["worst_group"] is not None:  # a base rate's lowest group is not "worst"
                row["worst_group"], row["best_group"] = extreme_names(
                    r["metric"], row["worst_group"], row["best_group"])
            disparities.append(row)
    # a rule that gives every group all or nothing passes the four-fifths rule by construction:
    # never reported as passed
    criteria = {f: {**c, "passes_four_fifths": None}
                if c.get("passes_four_fifths") and all_or_nothing(assessment, f) else c
                for f, c in assessment.criteria.items() if not is_personal(f)}
    undefined = sum(v is None for r in rows for v in r["values"].values())
    auto = _auto_caveats(assessment, criteria, personal, suppress_small_groups, words,
                         undefined, {g for _, g in hidden})
    stated = [s for s in findings(assessment, shown)
              if not any(s.startswith(f"{p}:") for p in personal)
              # groups left out of the card are not named in it (the caveats count them)
              and not (suppress_small_groups and s.startswith(SMALL_GROUPS_LEAD))]
    for f, g in hidden:  # compared as asked (--include-small-groups) but not named
        stated = [s.replace(f"'{g}'", LEFT_OUT_GROUP.strip("()")) if s.startswith(f"{f}:")
                  else s for s in stated]
    sections = {s: dict(text.get(s, {})) for s in TEXT_SECTIONS}
    details = {k: "" for k in TEXT_SECTIONS["model_details"]}
    if model:
        details.update({"name": model.get("name", ""), "type": model.get("type", "")})
    details.update({k: v for k, v in sections["model_details"].items() if v})
    decision = decision_section(spec, assessment, hidden)
    trivial = trivial_decision(assessment)
    if trivial and not any(f"'{p}'" in trivial for p in personal):
        decision["trivial"] = trivial
    card = ModelCard(
        model_details=details,
        intended_use={k: sections["intended_use"].get(k, "") for k in TEXT_SECTIONS["intended_use"]},
        factors={"sensitive_features": [s for s in spec.sensitive if s not in personal],
                 "bins": {k: b.to_dict() for k, b in spec.bins.items()},
                 "groups": {gc.feature: [g for g, n in zip(gc.groups, gc.n, strict=True)
                                         if not (suppress_small_groups
                                                 and n < spec.min_group_size)]
                            for gc in assessment.counts
                            if not any(f in personal for f in gc.features)},
                 "reference_groups": dict(assessment.reference_groups),
                 "why_these_factors": sections["factors"].get("why_these_factors", "")},
        metrics={"shown": shown,
                 "labels": {m: words.label(m) for m in shown},
                 "decision": decision,
                 "favorable_outcome": spec.favorable_outcome,
                 "decision_meaning": words.describe(),
                 "why_these_metrics": sections["metrics"].get("why_these_metrics", "")},
        evaluation_data={"rows": assessment.n_rows, "rows_dropped": assessment.n_dropped,
                         "target": spec.target,
                         "positive_label": _clean(assessment.cube.pos_label),
                         "description": sections["evaluation_data"].get("description", ""),
                         **{k: v for k, v in (dataset or {}).items() if k in ("name", "sha256")}},
        training_data={"description": sections["training_data"].get("description", "")},
        quantitative={"overall": {m: _num(assessment.overall.get(m)) for m in shown},
                      "by_group": rows, "disparities": _clean(disparities),
                      "criteria": _clean(criteria),
                      "findings": stated,
                      "min_group_size": spec.min_group_size,
                      "uncertainty": _clean(assessment.uncertainty)},
        ethical_considerations={"text": sections["ethical_considerations"].get("text", ""),
                                **({"bias_sources": _checklist(bias_sources, hidden)}
                                   if bias_sources else {})},
        caveats={"text": sections["caveats"].get("text", ""), "automatic": auto,
                 **({"proxies": _proxies(proxies, hidden)} if proxies else {})},
        provenance={"dataset_sha256": (dataset or {}).get("sha256", ""),
                    "model_sha256": (model or {}).get("sha256", ""),
                    "generated_at": generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
                    "generated_by": f"faircard {__version__}",
                    "versions": versions if versions is not None else _versions()},
        review={"status": "draft", "reviewer": "", "notes": ""},
    )
    return card


def decision_section(spec, assessment=None,
                     hidden: Set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """The card's statement of the decision rule, from the assessment's own spec: a single
    threshold, a per-group (possibly randomised) policy, or a column of predicted labels.
    A policy chosen for a constraint says whether it meets it on ``assessment`` (it may have
    been chosen on another model's scores or on other data), and names the groups held to it
    by neither its choice nor this check, as smaller than the minimum group size
    (``left_out_of_constraint``). Every group's threshold is stated, so the rule can be
    applied as written; those of groups below the minimum size that are not compared are
    marked so, and the ``hidden`` groups, which the card leaves out, as left out of it (named
    there, with no size or figure)."""
    policy = spec.policy
    if policy is None:
        return {"predictions": spec.prediction}
    if policy.is_single:
        return {"threshold": policy.threshold}
    summary = policy.describe(notes=small_group_notes(policy.feature, assessment, hidden),
                              positive=wording(spec.favorable_outcome).positive_decision)
    chosen = policy.chosen_for
    left: dict[str, Any] = {}
    if chosen.get("constraint") and chosen["constraint"] != "none":
        summary += (f" It was chosen for {str(chosen['constraint']).replace('_', ' ')}"
                    + (f" within {chosen['tolerance']:g}" if "tolerance" in chosen else "")
                    + "; the figures below are computed under this policy on the evaluation "
                    "data.")
        gap = _constraint_gap(assessment, policy.feature, chosen["constraint"])
        if gap is not None and "tolerance" in chosen and gap > float(chosen["tolerance"]) + 1e-9:
            summary += (f" On these data and this model's scores it does not meet it: the "
                        f"largest gap is {gap:.3f}.")
        left = left_out_of_constraint(policy, assessment, hidden)
        summary += left_out_text(left)
    summary += _scores_unused(assessment, policy.feature, spec.favorable_outcome)
    out = {**policy.to_dict(), "summary": summary}
    recorded = out.get("chosen_for", {}).get("left_out")
    if recorded and hidden:  # sizes of groups this card leaves out: named above, not given
        out["chosen_for"]["left_out"] = {g: None if (policy.feature, g) in hidden else n
                                         for g, n in recorded.items()}
    if left:
        out["left_out_of_constraint"] = left
    return {"policy": out}


def small_group_notes(feature: str, assessment,
                      hidden: Set[tuple[str, str]] = frozenset()) -> dict[str, str]:
    """{group: note} for the groups of ``feature`` below the minimum size that the card does
    not compare: their thresholds are stated (else the rule could not be applied as written),
    marked as left out of the card (``hidden``) or as not compared."""
    if assessment is None or assessment.spec.include_small_groups and not hidden:
        return {}
    m = assessment.spec.min_group_size
    bg = assessment.by_group
    small = bg[(bg["feature"] == feature) & (bg["metric"] == "count") & bg["is_small_group"]]
    notes = {}
    for g in map(str, small["group"]):
        if (feature, g) in hidden:
            notes[g] = f"fewer than {m:,} people: left out of this card"
        elif not assessment.spec.include_small_groups:
            notes[g] = f"fewer than {m:,} people: not compared"
    return notes


def left_out_of_constraint(policy, assessment,
                           hidden: Set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """The groups of a per-group ``policy`` chosen for a constraint that were not held to
    it as smaller than the minimum group size: ``when_chosen`` (as its choice recorded them)
    and ``on_these_data`` (left out of the assessment's comparisons, so of the card's check
    of the constraint), each ``{"min_group_size": m, "groups": {group: people}}`` and, when
    the card leaves some of them out (``hidden``), ``"size_not_given": [group, ...]`` (named,
    as the rule states their thresholds, without their sizes). Empty parts are omitted."""
    out: dict[str, Any] = {}
    chosen = policy.chosen_for
    if chosen.get("left_out"):
        out["when_chosen"] = (chosen.get("min_group_size"), dict(chosen["left_out"]))
    if assessment is not None and not assessment.spec.include_small_groups:
        m = assessment.spec.min_group_size
        gc = next((c for c in assessment.counts if c.feature == policy.feature), None)
        small = {} if gc is None else {str(g): int(n) for g, n in zip(gc.groups, gc.n,
                                                                      strict=True) if n < m}
        if small:
            out["on_these_data"] = (m, small)
    for key, (m, groups) in list(out.items()):
        named = {g: n for g, n in groups.items() if (policy.feature, g) not in hidden}
        out[key] = {"min_group_size": m, "groups": named}
        if len(named) < len(groups):
            out[key]["size_not_given"] = [g for g in groups if g not in named]
    return out


def left_out_text(left: dict[str, Any]) -> str:
    """The sentences of :func:`left_out_of_constraint` (empty when it is empty), each with a
    leading space."""
    def names(part: dict[str, Any]) -> str:
        named = groups_with_sizes(part["groups"])
        unsized = part.get("size_not_given") or []
        hidden = (", ".join(unsized) + (" (left out of this card, so no size is given)"
                                        if len(unsized) == 1 else
                                        " (left out of this card, so no sizes are given)")
                  ) if unsized else ""
        return ", ".join(x for x in (named, hidden) if x)

    chosen, here = left.get("when_chosen"), left.get("on_these_data")
    if chosen and chosen == here:
        return (f" Left out of the constraint as smaller than {chosen['min_group_size']:,} "
                f"people, so never held to it: {names(chosen)}.")
    text = ""
    if chosen:
        text += (" When the policy was chosen, left out of the constraint as smaller than "
                 f"{chosen['min_group_size']:,} people: {names(chosen)}.")
    if here:
        text += (f" On these data, left out of the check of the constraint as smaller than "
                 f"{here['min_group_size']:,} people: {names(here)}.")
    return text


def _scores_unused(assessment, feature: str, favorable_outcome: str) -> str:
    """A sentence naming the compared groups of ``feature`` that the assessment's per-group
    rule gives an all-or-nothing decision, when others get a real one (when every group does,
    the card's trivial-decision statement says so); empty otherwise."""
    from .trivial import _parts, decided_alone, trivial_decision

    if assessment is None or trivial_decision(assessment) is not None:
        return ""
    rows = [r for r in _parts(assessment)[1]
            if str(r.get("feature")) == feature and not r.get("is_small_group")]
    kinds = {}
    for r in rows:
        rate = _num(r.get("selection_rate"))
        if rate is not None and min(rate, 1 - rate) <= 1e-12:
            kinds[str(r.get("group"))] = ("nobody" if rate <= 1e-12 else "everybody",
                                          int(r.get("n") or 0))
    if not kinds:
        return ""
    clause = decided_alone({g: k for g, (k, _) in kinds.items()},
                           {g: n for g, (_, n) in kinds.items()},
                           wording(favorable_outcome).positive_decision)
    return f" Under it {clause}."


def _constraint_gap(assessment, feature: str, constraint: str) -> float | None:
    """The largest gap of ``constraint`` between the compared groups of ``feature`` under the
    assessment's decisions (None when unknown)."""
    import numpy as np

    from .policy import CONSTRAINTS, disparity_of

    if assessment is None or constraint not in CONSTRAINTS:
        return None
    gc = next((c for c in assessment.counts if c.feature == feature), None)
    if gc is None:
        return None
    spec = assessment.spec
    included = np.ones(len(gc.n), bool) if spec.include_small_groups else \
        np.asarray(gc.n) >= spec.min_group_size
    if included.sum() < 2:
        return None
    gap = disparity_of(np.asarray(gc.counts, dtype=np.float64)[included], constraint)
    return None if math.isnan(gap) else gap


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn

    return {"numpy": numpy.__version__, "pandas": pandas.__version__,
            "scikit-learn": sklearn.__version__}


LEFT_OUT_GROUP = "(a group left out of this card)"


def _unnamed(note: str, hidden: set[str]) -> str:
    """A note about groups, without naming any of the groups the card leaves out. Empty
    combinations are groups of nobody, below any minimum size: they are then only counted, and
    a note naming a left-out group keeps its first sentence's subject only."""
    if not hidden:
        return note
    if note.startswith(EMPTY_LEAD):
        head = note.split(EMPTY_NAMES, 1)[0]
        return head + ", so they are not shown." if head != note else note
    if ALIKE_NAMES in note:
        if any(repr(g) in note for g in hidden):
            return note.split(ALIKE_NAMES, 1)[0] + " are counted as separate groups."
        return note
    if any(f"'{g}'" in note for g in hidden):
        return (note.split(":", 1)[0] + ": they form groups of their own, not missing; those "
                "below the minimum size are left out of this card.")
    return note


def _auto_caveats(assessment, criteria, personal, suppressed, words,
                  undefined: int, hidden: set[str]) -> list[str]:
    """``undefined``: how many cells of the card's per-group tables are n/a; ``hidden``: the
    names of the groups the card leaves out, which its notes about groups may not name."""
    out = []
    bg = assessment.by_group
    small = bg[(bg["metric"] == "count") & bg["is_small_group"]]
    if not small.empty:
        fewer = f"fewer than {assessment.spec.min_group_size:,} people and"
        compared = assessment.spec.include_small_groups  # as asked, with the others
        verb = (("is left out of this card's tables but compared",
                 "are left out of this card's tables but compared") if compared else
                ("is left out of this card", "are left out of this card")) if suppressed else \
            (("is shown and compared", "are shown and compared") if compared else
             ("is shown but not compared", "are shown but not compared"))
        out.append(counted(len(small), f"group has {fewer} {verb[0]}",
                           f"groups have {fewer} {verb[1]}") + ".")
    if undefined:
        out.append(counted(undefined, "per-group value is", "per-group values are")
                   + " undefined (for example a rate with no positives) and shown as n/a.")
    for f, c in criteria.items():
        if c.get("passes_four_fifths") is False:
            out.append(f"The shares of people {words.favorable_decision} across '{f}' fail the "
                       f"four-fifths rule (disparate impact ratio "
                       f"{fmt_disparate_impact(c, 2)}).")
    out.extend(_unnamed(note, hidden) for note in assessment.group_notes)
    policy = assessment.spec.policy
    if policy is not None and policy.is_randomized:  # what its adjusted p-values test
        from .assess import RANDOMIZED_P_NOTE

        out.append(RANDOMIZED_P_NOTE)
    if assessment.n_dropped:
        out.append(counted(assessment.n_dropped, "row without an outcome or decision was",
                           "rows without an outcome or decision were") + " left out.")
    if personal:
        out.append("Columns holding personal data were found and kept out of this card: "
                   + counted(len(personal), "column", "columns") + ".")
    return out
