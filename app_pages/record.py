"""Shared record: the read-only view of one audit record (``?record=ID``) for domain experts.

Everything shown is drawn from what the record stores (per-cell counts and score histograms,
its counts cube, the choices, the review trail), never from the dataset, which need not be
present. The "What if" tab moves a threshold over the stored cube; it never changes the record,
whose card and approval state the recorded decision rule, and it writes nothing.
"""

import math

import numpy as np
import pandas as pd
import streamlit as st

from faircard import charts
from faircard.card import build_card, small_group_notes
from faircard.decision import DecisionPolicy
from faircard.errors import FaircardError
from faircard.favorable import wording
from faircard.findings import findings
from faircard.formatting import fmt_num, fmt_threshold, groups_with_sizes
from faircard.governance import default_location, store_exists
from faircard.governance.approval import CHANGED, UNVERIFIED, card_review
from faircard.governance.diff import diff_records
from faircard.governance.recorded_card import recorded_card, text_problem
from faircard.governance.share import assessment_from_cells, score_histograms
from faircard.governance.store import PENDING
from faircard.governance.stored_cube import stored_cube
from faircard.governance.what_if import COUNT_COLUMNS, WHAT_IF_METRICS, what_if
from faircard.metrics import DEFAULT_METRICS, LABELS
from faircard.render import markdown_body, render_markdown
from faircard.ui import auth, components, tables

STATUS_LABELS = {"draft": "draft", "in_review": "in review", "approved": "approved",
                 "changes_requested": "changes requested", "rejected": "rejected"}
WHAT = {"submit": "submitted", "approve": "approved (signed off)",
        "request_changes": "requested changes", "reject": "rejected", "comment": "commented"}

st.title("Shared record")
raw = st.query_params.get("record")
if not raw:
    st.info("Open a record from its share link (it ends in ?record= and the record's number); "
            "the Governance page lists the records and their links.")
    components.link(components.PAGE_GOVERNANCE, "Go to Governance")
    components.stop("record")

who = auth.require("view", "record")
if who is None:
    st.caption(auth.LOCAL_MODE_NOTE)

location = default_location()
if not store_exists(location):
    components.error(f"There is no audit store at '{location}', so record {raw} cannot be "
                     "opened.")
    components.stop("record")
try:
    with auth.open_store(location) as store:
        rec = store.get(raw)
        cells = store.cells(rec.id)
        history = store.history(rec.id)
        comments = store.comments(rec.id)
        changes = diff_records(store, rec.baseline, rec.id) if rec.baseline else None
        stored_card = store.card(rec.id)
        problems = store.problems(rec.id)
        signed = store.is_signed()
        review = card_review(store, fingerprint=rec.fingerprint,
                             dataset_sha256=rec.dataset_sha256,
                             model_sha256s=[m["sha256"] for m in rec.models], spec=rec.spec,
                             summary=rec.summary)
    a = assessment_from_cells(cells)
except FaircardError as exc:
    components.error(exc)
    components.stop("record")


def _who(name: str, authenticated: bool) -> str:
    return name if authenticated else f"{name} (unauthenticated)"


st.subheader(components.escape(rec.title))
if problems:
    components.error(f"Record {rec.id} does not verify: {problems[0]}. Its status, figures and "
                     "reviews may have been changed in the database, so none of them can be "
                     "trusted; run 'faircard verify'.")
status_shown = "not verified" if problems else \
    components.escape(STATUS_LABELS.get(rec.status, rec.status))
st.markdown(
    f"**Record {rec.id}** · status **{status_shown}** · recorded "
    f"{rec.created_at[:19].replace('T', ' ')} UTC by "
    f"{components.escape(_who(rec.created_by, rec.authenticated))}  \n"
    f"Dataset '{components.escape(rec.dataset_name)}' ({rec.n_rows:,} rows, sha256 "
    f"`{rec.dataset_sha256[:16]}`)"
    + "".join(f" · model '{components.escape(m['name'])}' (`{m['sha256'][:16]}`)"
              for m in rec.models)
    + f"  \nFingerprint `{rec.fingerprint}`")
if not signed:
    st.caption("The audit store's entries are not signed, so someone who can write to its "
               "database could rewrite this record's trail or remove its newest reviews "
               "without it showing here; check the store's published head on the Governance "
               "page.")
if rec.superseded_by:
    st.warning("A newer version of this record exists: "
               + ", ".join(f"record {i}" for i in rec.superseded_by) + ".")
st.caption("Read-only: the figures below are recomputed from the group counts the record keeps "
           "(each group's counts and, for a score, each group's distinct scores with their "
           "outcomes and how many people had them; no other column, no row order and no row "
           "of the data).")

tab_disp, tab_policy, tab_what_if, tab_card, tab_review = st.tabs(
    ["Disparities", "Decision policy", "What if: another rule", "Model card",
     "Review and comments"])

# -- changes since the baseline --------------------------------------------------------------------
if changes is not None:
    with st.expander(f"Changes since the baseline, record {rec.baseline}", expanded=True):
        st.caption(f"New minus baseline, with {changes.intervals_named()} of the change. A "
                   "positive 'less fair by' means the criterion got worse.")
        st.dataframe(changes.criteria[["feature", "criterion", "base", "new", "change",
                                       "change_ci_low", "change_ci_high", "regression"]],
                     hide_index=True, key="share_baseline_criteria")
        st.dataframe(changes.groups[["feature", "group", "metric", "n_base", "n_new", "base",
                                     "new", "change", "change_ci_low", "change_ci_high"]],
                     hide_index=True, key="share_baseline_groups")
        if changes.only_base or changes.only_new:
            st.caption("Only in one of the two: " + components.escape(
                ", ".join([*changes.only_base, *changes.only_new])))

# -- disparities ---------------------------------------------------------------------------------
with tab_disp:
    available = [m for m in a.metrics if m != "count"]
    metrics = st.multiselect("Metrics", available,
                             default=[m for m in DEFAULT_METRICS if m in available],
                             key="w_share_metrics", format_func=LABELS.get)
    if not metrics:
        st.info("Choose at least one metric.")
    else:
        st.markdown("**Findings**")
        found = findings(a, metrics)
        for i, sentence in enumerate(found, start=1):
            st.markdown(f"{i}. {components.escape(sentence)}")
        feature = st.selectbox("Groups of", a.features, key="w_share_feature")
        st.caption(tables.intervals_caption(a))
        st.dataframe(tables.group_table(a, feature, metrics), key="share_group_table")
        cols = st.columns(2)
        for i, m in enumerate(metrics):
            components.chart(charts.metric_bars, a.by_group, m, feature, a.overall.get(m),
                             where=cols[i % 2])
        st.markdown("**Differences and ratios between groups**")
        st.dataframe(tables.disparity_table(a, feature, metrics), hide_index=True,
                     key="share_disparity_table")
        components.criteria_tiles(a, feature)
        hist = score_histograms(cells, feature)
        if not hist.empty:
            components.chart(charts.score_histograms, hist, feature)
        for note in a.notes:
            components.caption(note)

# -- policy ---------------------------------------------------------------------------------------
with tab_policy:
    spec = a.spec
    lines = [f"- Outcome: '{components.escape(spec.target)}', positive label "
             f"'{components.escape(a.cube.pos_label)}'"]
    if not spec.uses_score:
        lines.append(f"- Decision: the predictions in '{components.escape(spec.prediction)}'")
    elif spec.policy.is_single:
        lines.append(f"- Decision: '{components.escape(spec.score)}' at or above the threshold "
                     f"{fmt_threshold(spec.threshold)}")
    else:  # one rule per group: there is no single threshold to state
        lines.append(f"- Decision: '{components.escape(spec.score)}' with the recorded "
                     "decision policy. " + components.escape(spec.policy.describe(
                         notes=small_group_notes(spec.policy.feature, a),
                         positive=wording(spec.favorable_outcome).positive_decision)))
    if spec.uses_score and spec.policy.chosen_for:
        lines.append("- How the policy was chosen: " + ", ".join(
            f"{components.escape(k)} {components.escape(v)}"
            for k, v in spec.policy.chosen_for.items()
            if k not in ("left_out", "min_group_size")))  # stated on the next line
        left = spec.policy.chosen_for.get("left_out")
        if left:
            lines.append("- Left out of its constraint as smaller than "
                         f"{spec.policy.chosen_for['min_group_size']:,} people: "
                         + components.escape(groups_with_sizes(left)))
    lines.append("- Sensitive features: " + ", ".join(components.escape(s)
                                                      for s in spec.sensitive))
    lines.append("- Reference groups: " + ", ".join(
        f"{components.escape(f)}: {components.escape(g)}"
        for f, g in a.reference_groups.items()))
    lines.append(f"- Groups smaller than {spec.min_group_size} people are "
                 + ("compared anyway" if spec.include_small_groups else
                    "left out of comparisons"))
    st.markdown("\n".join(lines))


def _recorded_rule() -> str:
    """The record's decision rule in words (what its card and approval state)."""
    spec = a.spec
    if not spec.uses_score:
        return f"the predictions in '{spec.prediction}'."
    return spec.policy.describe(positive=wording(spec.favorable_outcome).positive_decision)


def _slider_range(cube) -> tuple[float, float, float]:
    """(low, high, step) of the what-if threshold: [0, 1] by 0.01 for probabilities, else
    the scores' range on a round step, one step beyond the highest score (nobody selected)."""
    sc = cube.scores
    if sc.is_probability:
        return 0.0, 1.0, 0.01
    span = max(sc.maximum - sc.minimum, 1e-9)
    step = 10.0 ** math.floor(math.log10(span / 100))
    low = math.floor(sc.minimum / step) * step
    high = (math.floor(sc.maximum / step) + 1) * step
    return float(low), float(high), float(step)


def _count(v) -> str:
    """A count as shown: whole rows, or an expected count under a randomised rule."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"


def _what_if_table(w, feature: str, words) -> pd.DataFrame:
    rows = w.by_group[w.by_group["feature"] == feature]
    names = {"tn": f"not {words.positive_decision}, outcome negative",
             "fp": words.false_positive,
             "fn": words.false_negative,
             "tp": f"{words.positive_decision}, outcome positive"}
    out = pd.DataFrame({"group": [g + (" (small group)" if small else "")
                                  for g, small in zip(rows["group"], rows["is_small_group"],
                                                      strict=True)],
                        "group size": [f"{n:,}" for n in rows["n"]],
                        words.positive_decision: [_count(fp + tp) for fp, tp in
                                                  zip(rows["fp"], rows["tp"], strict=True)]})
    if not w.policy.is_single:
        rules = w.policy.rules if w.policy.feature == feature else {}
        out.insert(1, "rule", [_group_rule(rules.get(g), words) for g in rows["group"]])
    for c in COUNT_COLUMNS:
        out[names[c]] = [_count(v) for v in rows[c]]
    for m in WHAT_IF_METRICS:
        out[words.label(m)] = [fmt_num(v) for v in rows[m]]
    return out


def _group_rule(rule, words) -> str:
    """One group's rule in a few words ("" for the groups of another grouping)."""
    if rule is None:
        return ""
    if rule.is_randomized:
        return rule.describe_mix(words.positive_decision).removeprefix("threshold ")
    return fmt_threshold(rule.threshold)


WHAT_IF_RULES = {"recorded": "The recorded rule", "single": "One threshold for everyone",
                 "per_group": "A threshold per group"}
MAX_GROUP_SLIDERS = 40
"""Groups of a per-group what-if (one slider each); a grouping with more is not offered."""


def _on_step(value: float, low: float, high: float, step: float) -> float:
    return float(np.clip(round(value / step) * step, low, high))


def _per_group_rule(cube, spec, low: float, high: float, step: float):
    """The per-group what-if rule the sliders give (None, with the reason shown, when the
    grouping has too many groups). Each group starts at its recorded threshold (the recorded
    threshold for everyone, or the middle of the scores when the record's groups are others)."""
    recorded = spec.policy
    parts = cube.partitions(True)
    names = [p.name for p in parts]
    start_at = recorded.feature if not recorded.is_single and recorded.feature in names \
        else names[0]
    feature = st.selectbox("Thresholds per group of", names, index=names.index(start_at),
                           key="w_share_what_if_by")
    at = names.index(feature)
    part = parts[at]
    if len(part.groups) > MAX_GROUP_SLIDERS:
        st.info(f"'{components.escape(feature)}' has {len(part.groups):,} groups; a per-group "
                f"what-if takes at most {MAX_GROUP_SLIDERS} (one slider each). Choose a "
                "grouping with fewer groups.")
        return None
    own = recorded.rules if recorded.feature == feature else {}
    if any(r.is_randomized for r in own.values()):
        st.caption("Each group starts at its recorded (first) threshold; the recorded "
                   "randomisation is not applied here (choose 'The recorded rule' to see it).")
    cols = st.columns(2)
    thresholds = {}
    for i, group in enumerate(part.groups):
        begin = own[group].threshold if group in own else \
            recorded.threshold if recorded.is_single else (low + high) / 2
        thresholds[group] = cols[i % 2].slider(
            components.escape(group), min_value=low, max_value=high,
            value=_on_step(begin, low, high, step), step=step,
            key=f"w_share_what_if_{at}_{i}")
    return DecisionPolicy.per_group(feature, thresholds)


@components.fragment("record")
def _what_if_part(cube, spec) -> None:
    """The what-if rule and its figures: reruns alone when the rule or the groups change (the
    record is read and verified, and its cube decoded, once per page run). It starts at the
    recorded rule: one threshold for everyone, or the recorded per-group policy."""
    words = wording(spec.favorable_outcome)
    low, high, step = _slider_range(cube)
    recorded = spec.policy
    modes = [m for m in WHAT_IF_RULES if m != "recorded" or not recorded.is_single]
    mode = st.radio("Decision rule", modes, format_func=WHAT_IF_RULES.get,
                    key="w_share_what_if_rule", horizontal=True)
    if mode == "recorded":
        rule = recorded
    elif mode == "single":
        if not recorded.is_single:
            st.warning(f"The recorded policy sets a threshold per group of "
                       f"'{components.escape(recorded.feature)}'. One threshold for everyone "
                       "is not the recorded policy: its figures compare the recorded rule "
                       "with a single threshold, nothing more.")
        begin = recorded.threshold if recorded.is_single else (low + high) / 2
        rule = st.slider("What-if threshold (one for everyone)", min_value=low,
                         max_value=high, value=_on_step(begin, low, high, step), step=step,
                         key="w_share_what_if_threshold")
    else:
        rule = _per_group_rule(cube, spec, low, high, step)
        if rule is None:
            return
    w = what_if(cube, rule, intersection=spec.intersection,
                min_group_size=spec.min_group_size,
                favorable_outcome=spec.favorable_outcome)
    chosen = (f"**What if: threshold {fmt_threshold(w.threshold)} for everyone.** A score at "
              "or above it would be" if w.threshold is not None else
              f"**{'The recorded rule' if mode == 'recorded' else 'What if'}: "
              f"{components.escape(w.policy.describe(positive=words.positive_decision))}** "
              "Under it,"
              f"{' in expectation,' if w.is_randomized else ''}")
    st.markdown(f"{chosen} {words.positive_decision}: "
                f"{_count(w.overall['fp'] + w.overall['tp'])} of "
                f"{int(round(w.overall['count'])):,} people "
                f"(selection rate {fmt_num(w.overall['selection_rate'])}).")
    if w.is_randomized:
        st.caption("Randomised: the counts are expected values over the randomisation, so "
                   "they need not be whole numbers.")
    if w.trivial:
        components.warning(f"What if: {w.trivial}")
    if w.grid_step:
        st.caption(f"The scores were put on a grid of step {w.grid_step:g} when they were "
                   "counted, so people whose scores lie within one step of a threshold "
                   "may be counted on the wrong side of it.")
    what_feature = st.selectbox("Groups of", list(dict.fromkeys(w.by_group["feature"])),
                                key="w_share_what_if_feature")
    st.dataframe(_what_if_table(w, what_feature, words), hide_index=True,
                 key="share_what_if_table")


# -- what if: another rule -------------------------------------------------------------------------
with tab_what_if:
    st.markdown("**What if the decision rule were another?** An exploration from the counts "
                "the record keeps, not part of the record: the recorded rule, another "
                "threshold for everyone, or other thresholds per group.")
    st.caption(f"The record, its model card and its approval state the recorded decision "
               f"rule: {components.escape(_recorded_rule())} Changing the rule here changes "
               "none of them and saves nothing.")
    try:
        cube = None if problems else stored_cube(cells)
    except FaircardError as exc:
        cube = None
        components.error(exc)
    if problems:
        st.info("This record does not verify, so its counts cube is not used.")
    elif cube is None:
        components.info((cells or {}).get("cube_note") or
                "This record keeps no counts cube (it was recorded before records kept one), "
                "so it cannot show another threshold; the recorded figures are complete.")
    elif cube.scores is None or not len(cube.scores.y_score):
        st.info("This record's decisions are predicted labels, not scores, so there is no "
                "threshold to move.")
    else:
        _what_if_part(cube, a.spec)

# -- card ------------------------------------------------------------------------------------------
with tab_card:
    try:
        if stored_card is None:
            st.info("This record does not keep the model card's text (it was made before "
                    "records kept it, or without a card), so the card shows the figures "
                    "without its authors' text.")
            card = build_card(a, model={"name": rec.title},
                              dataset={"name": rec.dataset_name, "sha256": rec.dataset_sha256})
        else:
            card = recorded_card(a, stored_card, dataset_name=rec.dataset_name,
                                 dataset_sha256=rec.dataset_sha256, created_at=rec.created_at)
        if review:
            card.review.update(review)
        problem = text_problem(stored_card, rec.spec) if stored_card is not None else ""
        if problem:
            components.error(f"Record {rec.id}: {problem}. Its approval does not cover this text; "
                             "run 'faircard verify'.")
            if card.review["status"] in ("approved", UNVERIFIED) and rec.status == "approved":
                card.review.update(status=CHANGED, notes=f"Audit record {rec.id}: {problem}.")
        st.caption("The card as its author saw it when recording: the authors' text as "
                   "recorded, the figures recomputed from the record's counts, under the "
                   f"recorded decision rule ({components.escape(_recorded_rule())})")
        with st.container(border=True):
            st.markdown(markdown_body(card))
        st.download_button("Download the card (Markdown)", render_markdown(card),
                           file_name=f"model_card_record_{rec.id}.md", mime="text/markdown",
                           key="dl_share_card_md")
    except FaircardError as exc:
        components.error(exc)

# -- review and comments --------------------------------------------------------------------------
with tab_review:
    if history:
        st.dataframe(pd.DataFrame([{
            "when (UTC)": h.at[:19].replace("T", " "),
            "who": _who(h.reviewer, h.authenticated), "role": h.role or "",
            "what": WHAT.get(h.decision, h.decision), "comment": h.comment,
        } for h in history]), hide_index=True, width="stretch", key="share_history")
    else:
        st.caption("No submission or review yet.")

    by_id = {c.id: c for c in comments}
    for c in comments:
        if c.reply_to is not None:
            continue
        about = f" on {components.escape(c.section)}" if c.section else ""
        st.markdown(f"**{components.escape(_who(c.author, c.authenticated))}**{about} "
                    f"({c.at[:16].replace('T', ' ')} UTC): {components.escape(c.body)}")
        for r in comments:
            if r.reply_to == c.id:
                st.markdown(f"> **{components.escape(_who(r.author, r.authenticated))}** "
                            f"answered: {components.escape(r.body)}")

    def _actor(name_key: str):
        """The signed-in identity, or (local mode) the name typed in ``name_key``."""
        return who if who is not None else st.session_state.get(name_key, "")

    sections = ["the record as a whole"] + [f"finding {i}" for i in range(1, len(found) + 1)] \
        if metrics else ["the record as a whole"]
    sections += ["disparities", "decision policy", "model card"]
    can_comment = who is None or who.can("comment")
    if can_comment:
        with st.form("share_comment_form", clear_on_submit=True):
            st.markdown("**Comment**")
            if who is None:
                st.text_input("Your name", key="w_share_name", max_chars=200)
            section = st.selectbox("About", sections, key="w_share_section")
            can_answer = who is None or who.can("answer")
            reply = None
            if can_answer and comments:
                reply = st.selectbox("Answer a comment (authors)", [None, *by_id],
                                     key="w_share_reply",
                                     format_func=lambda i: "no: a new comment" if i is None else
                                     f"{i}: {by_id[i].body[:60]}")
            body = st.text_area("Comment", key="w_share_body", max_chars=10_000)
            sent = st.form_submit_button("Add comment")
        if sent:
            try:
                with auth.open_store(location) as store:
                    store.comment(rec.id, _actor("w_share_name"), body,
                                  section="" if section == sections[0] else section,
                                  reply_to=reply)
            except FaircardError as exc:
                components.error(exc)
            else:
                st.rerun()

    if rec.status == "in_review" and (who is None or who.can("decide") or who.can("approve")):
        options = [d for d, allowed in (
            ("approve", who is None or who.can("approve")),
            ("request_changes", who is None or who.can("decide")),
            ("reject", who is None or who.can("decide"))) if allowed]
        labels = {"approve": "Approve (sign off)", "request_changes": "Request changes",
                  "reject": "Reject"}
        with st.form("share_review_form"):
            st.markdown("**Decide**")
            if who is None:
                st.text_input("Your name", key="w_share_reviewer", max_chars=200)
            decision = st.radio("Decision", options, format_func=labels.get,
                                key="w_share_decision", horizontal=True)
            note = st.text_area("Why", key="w_share_note", max_chars=10_000,
                                help="Required except for an approval.")
            decided = st.form_submit_button("Record the decision", type="primary")
        if decided:
            try:
                with auth.open_store(location) as store:
                    after = store.review(rec.id, _actor("w_share_reviewer"), decision, note)
            except FaircardError as exc:
                components.error(exc)
            else:
                st.success(f"Record {rec.id} is now "
                           f"{STATUS_LABELS.get(after.status, after.status)}.")
    if rec.status in ("changes_requested", "rejected", "draft") and \
            (who is None or who.can("record")):
        st.caption("Authors: record the corrected assessment as a new version (it replaces "
                   "this one) on the Governance page, with the dataset loaded."
                   + (f" While this record is a draft, only "
                      f"{components.escape(rec.created_by)}, who recorded it, can replace it."
                      if rec.status in PENDING else ""))
        components.link(components.PAGE_GOVERNANCE, "Go to Governance")
components.page_done("record")
