"""``faircard.governance.gate``: pass/fail checks of an assessment for continuous integration.

Rules come from a small TOML file (or the same keys as a mapping)::

    max_demographic_parity_difference = 0.1
    min_disparate_impact_ratio = 0.8          # the four-fifths rule, on favourable decisions
    max_equalized_odds_difference = 0.15
    min_accuracy = 0.75                       # any overall metric: min_<metric> / max_<metric>
    require_approved = true                   # fingerprint must match an approved record
    require_authenticated = true              # ... approved by someone who signed in
    max_regression = 0.02                     # vs a baseline record: no criterion worse by more
    allow_empty = false                       # default; true: a gate with no checks passes
    allow_trivial = false                     # default; true: a rule selecting nobody or
                                              # everybody (or each group all-or-nothing) passes
    ignore_small_groups = true                # default; false: groups left out fail the gate
    fail_on_undefined = true                  # default; false: undefined values do not fail

    [features."sex & race"]                   # per-feature overrides of the criteria limits
    max_demographic_parity_difference = 0.2
    min_demographic_parity_ratio = false      # not checked for this feature
    [features.age_band]
    skip = true

Criteria limits apply to every assessed feature (each sensitive feature and their
intersection) unless overridden; metric limits apply to the overall metrics.
:func:`evaluate_gate` returns one :class:`GateCheck` per rule and feature.
A rule giving some compared groups of a feature (not all: that is trivial) one decision
whatever their score passes, with a note naming them (:func:`all_or_nothing_groups`).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FaircardError
from ..favorable import favorable_rate, wording
from ..formatting import counted, fmt_against
from ..metrics import ALL_METRICS, SCORE_METRICS, UNDEFINED_REASONS
from ..trivial import _kind, _rate, decided_alone, trivial_decision
from .records import as_document

TOLERANCE = 1e-9
"""Slack in comparisons so that 0.8 computed as 0.7999999999999999 meets a limit of 0.8."""

CRITERION_LIMITS = {
    "max_demographic_parity_difference": "demographic_parity_difference",
    "min_demographic_parity_ratio": "demographic_parity_ratio",
    "min_disparate_impact_ratio": "disparate_impact_ratio",
    "max_equalized_odds_difference": "equalized_odds_difference",
    "min_equalized_odds_ratio": "equalized_odds_ratio",
    "max_equal_opportunity_difference": "equal_opportunity_difference",
    "min_equal_opportunity_ratio": "equal_opportunity_ratio",
}
METRIC_LIMITS = {f"{side}_{m}": m for m in ALL_METRICS if m != "count" for side in ("min", "max")}
FLAGS = {"require_approved": False, "require_authenticated": False,
         "ignore_small_groups": True, "fail_on_undefined": True, "allow_empty": False,
         "allow_trivial": False}
MAX_RULES_BYTES = 1_000_000
"""Largest rules file read (bytes); real rules files are a few hundred bytes."""
UNBOUNDED_METRICS = {"log_loss"}
"""Overall metrics that are not in [0, 1] (their limits only need to be >= 0)."""
_BASE_METRICS = {
    "demographic_parity": ("selection_rate",),
    "disparate_impact": ("selection_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "equal_opportunity": ("true_positive_rate",),
}
_LABELS = {"selection_rate": "selection rates", "true_positive_rate": "true positive rates",
           "false_positive_rate": "false positive rates"}


@dataclass(frozen=True)
class GateRules:
    """Validated gate rules. ``limits`` maps limit keys (``max_demographic_parity_difference``,
    ``min_accuracy``, ...) to numbers; ``feature_limits`` overrides criteria limits per feature
    (``None``: not checked); ``skip_features`` are not checked at all."""

    limits: dict[str, float] = field(default_factory=dict)
    feature_limits: dict[str, dict[str, float | None]] = field(default_factory=dict)
    skip_features: frozenset[str] = frozenset()
    require_approved: bool = False
    require_authenticated: bool = False
    max_regression: float | None = None
    ignore_small_groups: bool = True
    fail_on_undefined: bool = True
    allow_empty: bool = False
    allow_trivial: bool = False

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to check."""
        return not (self.limits or self.require_approved or self.require_authenticated
                    or self.max_regression is not None
                    or not self.ignore_small_groups
                    or any(v is not None for f in self.feature_limits.values()
                           for v in f.values()))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "the gate rules") -> GateRules:
        """Rules from a mapping with the TOML file's keys; unknown keys are an error."""
        limits: dict[str, float] = {}
        flags = dict(FLAGS)
        feature_limits: dict[str, dict[str, float | None]] = {}
        skip: set[str] = set()
        max_regression = None
        for key, value in data.items():
            if key in FLAGS:
                flags[key] = _flag(value, key, source)
            elif key == "max_regression":
                max_regression = _limit(value, key, source)
                if max_regression < 0:
                    raise FaircardError(f"In {source}, 'max_regression' cannot be negative; 0 "
                                        "allows no regression at all.")
            elif key in CRITERION_LIMITS or key in METRIC_LIMITS:
                limits[key] = _limit(value, key, source)
            elif key == "features":
                if not isinstance(value, Mapping):
                    raise FaircardError(f"In {source}, 'features' must be a table of features.")
                for feature, table in value.items():
                    where = f"{source} [features.{feature}]"
                    if not isinstance(table, Mapping):
                        raise FaircardError(f"In {where}: expected a table of limits.")
                    own: dict[str, float | None] = {}
                    for k, v in table.items():
                        if k == "skip":
                            if _flag(v, k, where):
                                skip.add(str(feature))
                        elif k in CRITERION_LIMITS:
                            own[k] = None if v is False else _limit(v, k, where)
                        elif k in METRIC_LIMITS:
                            raise FaircardError(
                                f"In {where}: '{k}' limits an overall metric and cannot be set "
                                "per feature; move it to the top of the file."
                            )
                        else:
                            raise _unknown(k, where, [*CRITERION_LIMITS, "skip"])
                    feature_limits[str(feature)] = own
            else:
                raise _unknown(key, source, [*FLAGS, *CRITERION_LIMITS, *METRIC_LIMITS,
                                             "features", "max_regression"])
        return cls(limits=limits, feature_limits=feature_limits, skip_features=frozenset(skip),
                   max_regression=max_regression, **flags)


def load_rules(path: str | Path | None = None,
               overrides: Mapping[str, Any] | None = None) -> GateRules:
    """Rules from a TOML file (optional) with top-level keys replaced by ``overrides``
    (for example from command-line flags; ``None`` values are ignored)."""
    data: dict[str, Any] = {}
    source = "the gate rules"
    if path is not None:
        p = Path(path)
        source = f"'{p.name}'"
        if p.is_file() and p.stat().st_size > MAX_RULES_BYTES:
            raise FaircardError(f"The rules file '{p}' is {p.stat().st_size:,} bytes; gate "
                                f"rules are at most {MAX_RULES_BYTES:,}. Is it the right file?")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FaircardError(f"The rules file '{p}' does not exist.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise FaircardError(f"Cannot read the rules file '{p}': {exc}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise FaircardError(f"The rules file '{p}' is not valid TOML: {exc}.") from None
        except RecursionError:
            raise FaircardError(f"The rules file '{p}' nests too deeply to be gate "
                                "rules.") from None
        except ValueError:  # an integer longer than Python converts (4,300 digits)
            raise FaircardError(f"The rules file '{p}' holds a number too long to read (more "
                                "than 4,300 digits).") from None
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return GateRules.from_mapping(data, source)


def _unknown(key: str, where: str, known: list[str]) -> FaircardError:
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else (
        f" Known keys: {', '.join(known[:12])}, ...")
    return FaircardError(f"Unknown key '{key}' in {where}.{hint}")


def _flag(value: Any, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise FaircardError(f"In {where}, '{key}' must be true or false; got {value!r}.")
    return value


def _limit(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaircardError(f"In {where}, '{key}' must be a number; got {value!r}.")
    value = float(value)
    if key.endswith("_difference") and value < 0:
        raise FaircardError(f"In {where}, '{key}' is a difference and cannot be negative.")
    if key.endswith("_ratio") and not 0 <= value <= 1:
        raise FaircardError(f"In {where}, '{key}' is a ratio between 0 and 1; got {value:g}.")
    metric = METRIC_LIMITS.get(key)
    if metric in UNBOUNDED_METRICS and value < 0:
        raise FaircardError(f"In {where}, '{key}' limits {metric.replace('_', ' ')}, which "
                            f"cannot be negative; got {value:g}.")
    if metric and metric not in UNBOUNDED_METRICS and not 0 <= value <= 1:
        raise FaircardError(f"In {where}, '{key}' limits {metric.replace('_', ' ')}, which is "
                            f"between 0 and 1; got {value:g}.")
    return value


@dataclass(frozen=True)
class GateCheck:
    """One check: ``name`` (a criterion, a metric, "small_groups" or "approved"), the
    ``feature`` it concerns (``None`` for overall checks), the ``value`` found (``None`` when
    undefined), the ``limit`` and its ``comparison`` ("<=" or ">="), and why it passed or not."""

    name: str
    feature: str | None
    value: float | None
    limit: float | None
    comparison: str
    passed: bool
    explanation: str

    def line(self) -> str:
        """One line for a terminal or a CI log."""
        where = f"[{self.feature}] " if self.feature is not None else ""
        head = f"{'PASS' if self.passed else 'FAIL'} {where}{self.name}"
        if self.limit is not None:
            shown = "n/a" if self.value is None else f"{self.value:.4g}"
            head += f" = {shown} (limit {self.comparison} {self.limit:g})"
        return f"{head}: {self.explanation}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateResult:
    """All checks of one assessment; ``passed`` when every check passed."""

    checks: list[GateCheck]
    fingerprint: str | None = None
    allow_empty: bool = False
    allow_trivial: bool = False
    all_or_nothing: list[dict[str, Any]] = field(default_factory=list)
    """Per feature, the compared groups that get one decision whatever their score while
    others get a real one (see :func:`all_or_nothing_groups`); a note, not a check."""

    @property
    def notes(self) -> list[str]:
        """One line per feature in ``all_or_nothing``; they do not fail the gate."""
        return [_note_line(n) for n in self.all_or_nothing]

    @property
    def passed(self) -> bool:
        """Every check passed, and at least one ran (unless ``allow_empty``)."""
        return (bool(self.checks) or self.allow_empty) and all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed]

    @property
    def summary(self) -> str:
        n = len(self.checks)
        if not n:
            return ("gate passed: no checks ran (allowed by allow_empty)" if self.allow_empty
                    else "gate FAILED: no checks ran (every feature was skipped or had nothing "
                    "to check); give limits that apply, or allow_empty = true (--allow-empty)")
        if self.passed:
            return f"gate passed: {counted(n, 'check', 'checks')} passed"
        return f"gate FAILED: {len(self.failures)} of {counted(n, 'check', 'checks')} failed"

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "summary": self.summary, "fingerprint": self.fingerprint,
                "checks": [c.to_dict() for c in self.checks],
                "all_or_nothing_groups": [
                    {**n, "note": _note_line(n).removeprefix("NOTE ")}
                    for n in self.all_or_nothing]}


def evaluate_gate(assessment: Any, rules: GateRules, store: Any = None, *,
                  fingerprint: str | None = None, expect_head: str | None = None,
                  baseline: Any = None) -> GateResult:
    """Check ``assessment`` (an :class:`~faircard.assess.Assessment` or its ``to_dict()``)
    against ``rules``.

    ``require_approved`` needs ``store`` (an :class:`~faircard.governance.store.AuditStore`)
    and the assessment's ``fingerprint``
    (:func:`faircard.governance.records.assessment_fingerprint`). Raises
    :class:`FaircardError` for empty rules or rules naming a feature the assessment lacks.
    ``require_authenticated``: the approval must come from someone who signed in.
    ``expect_head``: a head published earlier ('faircard head'); the store's chain must still
    contain it (checked with the store's verification, signatures included).
    ``max_regression`` needs ``baseline`` (an assessment document, e.g. a record's
    :meth:`~faircard.governance.store.AuditStore.assessment`): per feature, no fairness
    criterion may be less fair than the baseline's by more than the limit.
    """
    doc = as_document(assessment)
    if rules.is_empty:
        raise FaircardError(
            "There are no gate rules; give limits such as max_demographic_parity_difference = "
            "0.1 (or --max-dpd 0.1)."
        )
    features = list(doc.get("features") or doc["criteria"])
    named = (set(rules.feature_limits) | rules.skip_features) - set(features)
    if named:
        raise FaircardError(
            f"The rules name feature(s) {', '.join(sorted(named))} that the assessment does not "
            f"have. Its features are: {', '.join(features)}."
        )
    checks: list[GateCheck] = []
    notes: list[dict[str, Any]] = []
    if trivial := trivial_decision(doc):  # its perfect gaps are no evidence of fairness
        checks.append(GateCheck("decision_rule", None, None, None, "", rules.allow_trivial,
                                trivial + (" Allowed by allow_trivial." if rules.allow_trivial
                                           else " To accept it: allow_trivial = true "
                                           "(--allow-trivial).")))
    else:  # the decision_rule check says it when every group of a feature gets all or nothing
        notes = [n for n in all_or_nothing_groups(doc) if n["feature"] not in rules.skip_features]
    for feature in features:
        if feature in rules.skip_features:
            continue
        limits = {k: v for k, v in rules.limits.items() if k in CRITERION_LIMITS}
        limits.update(rules.feature_limits.get(feature, {}))
        for key in CRITERION_LIMITS:
            if limits.get(key) is not None:
                checks.append(_criterion_check(doc, feature, key, limits[key], rules))
        if not rules.ignore_small_groups:
            checks.append(_small_groups_check(doc, feature))
    for key, limit in rules.limits.items():
        if key in METRIC_LIMITS:
            checks.append(_metric_check(doc, key, limit, rules))
    if rules.max_regression is not None:
        checks.extend(_regression_checks(doc, baseline, rules))
    if rules.require_approved or rules.require_authenticated:
        checks.append(_approved_check(store, fingerprint, expect_head,
                                      rules.require_authenticated))
    elif expect_head is not None:
        verified = _verified(store, expect_head)
        checks.append(GateCheck("audit_store", None, None, None, "", verified.ok,
                                verified.message if verified.ok else
                                f"the audit store failed verification ({verified.problems[0]})"))
    return GateResult(checks=checks, fingerprint=fingerprint, allow_empty=rules.allow_empty,
                      all_or_nothing=notes)


def all_or_nothing_groups(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per feature of the assessment document ``doc``, the compared groups whose decision is
    all-or-nothing (nobody or everybody selected) when some other compared group gets a real
    one: ``[{"feature", "verb", "groups": [{"group", "decision", "n"}], "people"}]``.

    Such a rule (a per-group policy that meets its constraint by selecting nobody in some
    groups, say) is not trivial, so no check fails it, but its gaps there say nothing about the
    scores: each of those groups gets the same decision, so the scores tell none of them apart.
    """
    verb = wording(doc.get("favorable_outcome") or "positive").positive_decision
    compared: dict[str, list[Mapping[str, Any]]] = {}
    for row in doc.get("by_group") or ():
        if doc.get("include_small_groups") or not row.get("is_small_group"):
            compared.setdefault(str(row.get("feature")), []).append(row)
    out = []
    for feature, rows in compared.items():
        kinds = [(r, _kind(_rate(r.get("selection_rate")))) for r in rows]
        hit = [(r, k) for r, k in kinds if k is not None]
        if not hit or len(hit) == len(kinds):
            continue
        groups = [{"group": str(r.get("group")), "decision": k, "n": _count(r.get("n"))}
                  for r, k in hit]
        out.append({"feature": feature, "verb": verb, "groups": groups,
                    "people": sum(g["n"] for g in groups)})
    return out


def _count(n: Any) -> float:
    try:
        v = float(n)
    except (TypeError, ValueError):
        return 0
    return int(v) if math.isfinite(v) and v.is_integer() else v


def _note_line(note: Mapping[str, Any]) -> str:
    """'NOTE [race] nobody is flagged in 'A' and 'B' (6,787 people): ...'."""
    groups = note["groups"]
    clause = decided_alone({g["group"]: g["decision"] for g in groups},
                           {g["group"]: g["n"] for g in groups}, note["verb"])
    return f"NOTE [{note['feature']}] {clause}; this does not fail the gate"


def _compare(value: float, key: str, limit: float) -> bool:
    return value <= limit + TOLERANCE if key.startswith("max_") else value >= limit - TOLERANCE


def _undefined(name: str, feature: str | None, limit: float, comparison: str, reason: str,
               rules: GateRules) -> GateCheck:
    if rules.fail_on_undefined:
        text = f"undefined: {reason}"
    else:
        text = f"undefined ({reason}); not counted because fail_on_undefined = false"
    return GateCheck(name, feature, None, limit, comparison, not rules.fail_on_undefined, text)


def _criterion_check(doc: Mapping[str, Any], feature: str, key: str, limit: float,
                     rules: GateRules) -> GateCheck:
    criterion = CRITERION_LIMITS[key]
    comparison = "<=" if key.startswith("max_") else ">="
    value = (doc["criteria"].get(feature) or {}).get(criterion)
    if value is None:
        return _undefined(criterion, feature, limit, comparison,
                          _criterion_reason(doc, feature, criterion), rules)
    value = float(value)
    passed = _compare(value, key, limit)
    shown = fmt_against(value, limit, passed, upper=key.startswith("max_"))
    text = _describe(doc, feature, criterion, value, shown)
    verdict = "within the limit" if passed else "outside the limit"
    return GateCheck(criterion, feature, value, limit, comparison, passed, f"{verdict}; {text}")


def _disparity(doc: Mapping[str, Any], feature: str, metric: str) -> Mapping[str, Any] | None:
    for row in doc.get("disparities") or ():
        if row.get("feature") == feature and row.get("metric") == metric:
            return row
    return None


def _describe(doc: Mapping[str, Any], feature: str, criterion: str, value: float,
              shown: str) -> str:
    """Which groups are furthest apart on the metric behind ``criterion`` (``value``, written
    as ``shown``)."""
    base, _, kind = criterion.rpartition("_")
    rows = [(m, _disparity(doc, feature, m)) for m in _BASE_METRICS[base]]
    rows = [(m, r) for m, r in rows if r is not None and r.get(kind) is not None]
    if not rows:
        return f"{criterion.replace('_', ' ')} is {value:.4g}"
    pick = max if kind == "difference" else min
    metric, row = pick(rows, key=lambda mr: mr[1][kind])
    groups = sorted([(row.get("worst_value"), row.get("worst_group")),
                     (row.get("best_value"), row.get("best_group"))],
                    key=lambda vg: (vg[0] is None, vg[0] or 0.0))
    (lo, lo_g), (hi, hi_g) = groups
    if lo is None or hi is None:
        return f"{criterion.replace('_', ' ')} is {value:.4g}"
    label = _LABELS[metric]
    if base == "disparate_impact":  # the rates of favourable decisions, whichever they are
        fav = doc.get("favorable_outcome") or "positive"
        (lo, lo_g), (hi, hi_g) = sorted([(favorable_rate(lo, fav), lo_g),
                                         (favorable_rate(hi, fav), hi_g)])
        label = f"shares of people {wording(fav).favorable_decision}"
    if lo_g == hi_g:  # every compared group has the same value: no pair to name
        return f"the {label} of every compared group are {lo:.3f}"
    if kind == "difference":
        return (f"the {label} of '{lo_g}' ({lo:.3f}) and '{hi_g}' ({hi:.3f}) differ by "
                f"{shown if math.isclose(hi - lo, value) else f'{hi - lo:.3f}'}")
    return (f"the lowest of the {label}, '{lo_g}' ({lo:.3f}), is {shown} times the highest, "
            f"'{hi_g}' ({hi:.3f})")


def _criterion_reason(doc: Mapping[str, Any], feature: str, criterion: str) -> str:
    named = f"'{feature}': "
    for note in doc.get("notes") or ():
        if note.startswith(f"{named}fewer than two groups"):
            # the feature's name may itself hold ": "
            return note[len(named):].removesuffix(".")
    if feature not in doc["criteria"]:
        return f"the assessment has no criteria for '{feature}'"
    base = criterion.rpartition("_")[0]
    compared = [g for g in doc.get("by_group") or ()
                if g.get("feature") == feature
                and (doc.get("include_small_groups") or not g.get("is_small_group"))]
    reasons = []
    for metric in _BASE_METRICS[base]:
        why = {g.get("undefined", {}).get(metric) for g in compared}
        if compared and None not in why:
            reasons.append(f"{metric} is undefined in every compared group "
                           f"({'; '.join(sorted(why))})")
            continue
        alone = [f"'{g.get('group')}': {g['undefined'][metric]}" for g in compared
                 if metric in (g.get("undefined") or {})]
        if alone and len(compared) - len(alone) == 1:
            # one group alone has a value: nothing to compare it with (not a gap of 0)
            reasons.append(f"{metric} is defined in only one compared group (undefined in "
                           f"{'; '.join(alone[:5])}{'; ...' if len(alone) > 5 else ''})")
    return "; ".join(reasons) or "the assessment could not compute it"


def _small_groups_check(doc: Mapping[str, Any], feature: str) -> GateCheck:
    small = [g for g in doc.get("by_group") or ()
             if g.get("feature") == feature and g.get("is_small_group")]
    left_out = [] if doc.get("include_small_groups") else small
    if not left_out:
        text = ("no group was left out of the comparison" if not small else
                "small groups were included in the comparison")
        return GateCheck("small_groups", feature, 0.0, 0.0, "<=", True, text)
    shown = ", ".join(f"'{g['group']}' (n={g['n']})" for g in left_out[:5])
    more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
    were = "was" if len(left_out) == 1 else "were"
    text = (f"{counted(len(left_out), 'group', 'groups')} with fewer than "
            f"{doc.get('min_group_size')} rows {were} left out of the comparison: {shown}{more}; assess with --include-small-groups or "
            "a lower --min-group-size, or set ignore_small_groups = true")
    return GateCheck("small_groups", feature, float(len(left_out)), 0.0, "<=", False, text)


def _metric_check(doc: Mapping[str, Any], key: str, limit: float, rules: GateRules) -> GateCheck:
    metric = METRIC_LIMITS[key]
    comparison = "<=" if key.startswith("max_") else ">="
    overall = doc["overall"]
    if metric not in overall:
        reason = ("it needs scores; this assessment used predicted labels"
                  if metric in SCORE_METRICS else "the assessment does not report it")
        return _undefined(metric, None, limit, comparison, reason, rules)
    value = overall[metric]
    if value is None:
        reason = UNDEFINED_REASONS.get(metric, "undefined").replace(" in this group", "")
        return _undefined(metric, None, limit, comparison, reason, rules)
    value = float(value)
    passed = _compare(value, key, limit)
    verdict = "within the limit" if passed else "outside the limit"
    return GateCheck(metric, None, value, limit, comparison, passed,
                     f"{verdict}; overall {metric.replace('_', ' ')} is {value:.4f}")


def _regression_checks(doc: Mapping[str, Any], baseline: Any,
                       rules: GateRules) -> list[GateCheck]:
    from .diff import diff_assessments

    if baseline is None:
        raise FaircardError("max_regression compares with a baseline record; give it "
                            "(--baseline ID).")
    limit = float(rules.max_regression or 0.0)
    table = diff_assessments(baseline, doc).criteria
    checks = []
    for feature, rows in table.groupby("feature", sort=False):
        if feature in rules.skip_features:
            continue
        defined = rows.dropna(subset=["regression"])
        if defined.empty:
            checks.append(_undefined("regression", str(feature), limit, "<=",
                                     "no criterion is defined in both assessments", rules))
            continue
        worst = defined.loc[defined["regression"].idxmax()]
        value = float(worst["regression"])
        passed = value <= limit + TOLERANCE
        name = str(worst["criterion"]).replace("_", " ")
        if value <= 0:
            text = "no criterion is less fair than in the baseline"
        else:
            text = (f"{name} went from {worst['base']:.4f} to {worst['new']:.4f} "
                    f"({'+' if worst['change'] > 0 else ''}{worst['change']:.4f}), "
                    f"{value:.4f} less fair than the baseline")
        verdict = "within the limit" if passed else "outside the limit"
        checks.append(GateCheck("regression", str(feature), value, limit, "<=", passed,
                                f"{verdict}; {text}"))
    return checks


def _verified(store: Any, expect_head: str | None) -> Any:
    if store is None:
        raise FaircardError("require_approved (and expect_head) needs the audit store with the "
                            "approvals; give it (--store PATH or FAIRCARD_STORE).")
    return store.verify(expect_head=expect_head)


def _approved_check(store: Any, fingerprint: str | None, expect_head: str | None,
                    require_authenticated: bool) -> GateCheck:
    verified = _verified(store, expect_head)
    if not fingerprint:
        raise FaircardError("require_approved needs the assessment's fingerprint (its dataset "
                            "and model sha256s).")

    def check(passed: bool, text: str) -> GateCheck:
        return GateCheck("approved", None, None, None, "", passed, text)

    if not verified.ok:
        return check(False, f"the audit store failed verification ({verified.problems[0]}), so "
                            "its approvals cannot be trusted; run 'faircard verify'")
    short = fingerprint[:12]
    approved = store.find_by_fingerprint(fingerprint, status="approved")
    # the latest decision on this content wins: an approval is withdrawn by recording the same
    # assessment again and rejecting it or asking for changes
    decisions = [(e.at, r.id, e) for r in store.find_by_fingerprint(fingerprint)
                 for e in store.history(r.id)
                 if e.decision in ("approve", "request_changes", "reject")]
    if approved and decisions:
        _, rid, last = max(decisions, key=lambda d: d[:2])
        if last.decision != "approve":
            verb = "rejected" if last.decision == "reject" else "sent back for changes"
            return check(False, f"fingerprint {short} was approved, but record {rid} of the "
                                f"same assessment was {verb} later by {last.reviewer} on "
                                f"{last.at[:10]}: the latest decision on it is not an approval")
    if approved:
        rec = approved[-1]
        event = next((e for e in reversed(store.history(rec.id)) if e.decision == "approve"),
                     None)
        who = f" by {event.reviewer} on {event.at[:10]}" if event else ""
        if require_authenticated and not (event and event.authenticated):
            return check(False, f"fingerprint {short} matches record {rec.id}, approved{who} "
                                "without signing in (a typed name); require_authenticated "
                                "needs an approval by someone signed in")
        later = (f"; note: superseded by {_records(rec.superseded_by)}"
                 if rec.superseded_by else "")
        return check(True, f"fingerprint {short} matches record {rec.id}, approved{who}{later}")
    others = store.find_by_fingerprint(fingerprint)
    if others:
        shown = _records([f"{r.id} ({r.status})" for r in others])
        return check(False, f"fingerprint {short} matches {shown}, none approved")
    return check(False, f"no record in the audit store has fingerprint {short}; record this "
                        "assessment and have it approved")


def _records(ids) -> str:
    """"record 4" or "records 4, 5" (``ids``: what names each record)."""
    ids = [str(i) for i in ids]
    return ("record " if len(ids) == 1 else "records ") + ", ".join(ids)
