"""Thresholds: the decision policy: one threshold, costs, ROC, per-group thresholds."""

import functools
import json

import numpy as np
import pandas as pd
import streamlit as st

from faircard import charts
from faircard.decision import DecisionPolicy, short_threshold
from faircard.errors import FaircardError
from faircard.favorable import wording
from faircard.formatting import (
    THRESHOLD_FORMAT,
    fmt_threshold,
    groups_with_sizes,
    threshold_format,
)
from faircard.io.export import csv_text
from faircard.policy import (
    CONSTRAINTS,
    LEGAL_NOTE,
    OBJECTIVES,
    policy_from_counts,
    unchecked,
)
from faircard.ui import cache, components, state, tables

# The columns of the confusion matrices, in the order of the counts (tn, fp, fn, tp). (A
# comment, not a string: Streamlit's magic would show a bare string on the page.)
CONFUSION_CELLS = ["actual no, predicted no", "actual no, predicted yes",
                   "actual yes, predicted no", "actual yes, predicted yes"]

def _unusable(policy: DecisionPolicy, a) -> str:
    """Why the other pages cannot apply ``policy`` to the current choices (its feature is not
    assessed, or it has no threshold for some of its groups), or "" when they can."""
    if policy.is_single:
        return ""
    groups = next((gc.groups for gc in a.counts if gc.feature == policy.feature), None)
    try:
        if groups is None:
            components.spec_for({"score": a.spec.score, "policy": policy})
        else:
            policy.check_groups(groups)
    except FaircardError as exc:
        return str(exc)
    return ""


st.title("Thresholds")
st.caption("A model gives scores; people act on a threshold. See what each group pays at a "
           "threshold, weigh the costs of mistakes, and choose a policy for the model card.")
components.need(state.has_sensitive(), "Choose the sensitive features first.",
                components.PAGE_SENSITIVE, "Go to Sensitive features")
components.need(state.get(state.DECISION) != "prediction", "Thresholds need scores: choose a "
                "score column or a model with scores on the Data & model page.",
                components.PAGE_DATA, "Go to Data & model")

# scores, outcomes and groups do not depend on the policy: assess at one threshold so that a
# policy for groups that are no longer chosen can still be replaced here
results = [(n, a) for n, a in components.current_assessments(n_boot=0, policy=None)
           if a.cube.scores is not None]
components.need(bool(results), "None of the models gives scores.", components.PAGE_DATA,
                "Go to Data & model")
names = [n for n, _ in results]
name = st.selectbox("Model", names, key="w_thr_model") if len(names) > 1 else names[0]
a = dict(results)[name]
digest = state.get(state.DATA_DIGEST)
favorable = a.spec.favorable_outcome
cols = ["count", "selection_rate", "accuracy", "true_positive_rate", "false_positive_rate",
        "false_negative_rate", "precision"]
readable = {"count": st.column_config.NumberColumn("people", format="localized"),
            "threshold": st.column_config.NumberColumn("threshold", format=THRESHOLD_FORMAT),
            **{c: st.column_config.NumberColumn(wording(favorable).label(c), format="%.3f")
               for c in cols[1:]}}

# every partition holds the same scores, grouped differently: the slider's range and the
# threshold in force are read from the first one, so the groups shown can change without
# the slider (and the policy it sets) running again
everyone_scores = cache.sorted_scores_for(digest, a, a.features[0])
in_force = state.policy()
if in_force.is_single:  # a slider position between two scores: written in a few digits
    short = short_threshold(in_force.threshold,
                            everyone_scores.largest_below(in_force.threshold))
    if short != in_force.threshold:
        state.set_policy(DecisionPolicy.single(short),
                         chosen=bool(state.get(state.POLICY_CHOSEN)))
        in_force = state.policy()
in_force_said = in_force.describe(positive=wording(favorable).positive_decision)
unusable = _unusable(in_force, a)
if unusable:  # the other pages stop on it: say so instead of claiming they use it
    components.warning(f"Decision policy in force: {in_force_said} The other pages and "
                       f"the model card cannot apply it to these choices: {unusable} Choose a "
                       "policy here to replace it.")
else:
    st.info("Decision policy in force (every page and the model card use it): "
            + components.escape(in_force_said))

st.subheader("One threshold for everyone")
thresholds = cache.sweep_for(digest, a, a.features[0]).thresholds
finite = thresholds[np.isfinite(thresholds)]  # from the lowest to the highest score
lo, hi = float(finite[0]), float(finite[-1])
if in_force.is_single:  # the slider always shows the threshold in force
    lo, hi = min(lo, in_force.threshold), max(hi, in_force.threshold)
    state.put(state.THRESHOLD_SLIDER, in_force.threshold)
    shown = in_force.threshold
else:
    shown = state.seed(state.THRESHOLD_SLIDER,
                       float(np.median(list(in_force.thresholds.values()))))
step = (hi - lo) / 200 if hi > lo else 0.01
t = st.slider("Threshold (score at or above it = positive decision)", lo, hi,
              step=step, key=state.THRESHOLD_SLIDER,
              format=threshold_format(shown),
              on_change=state.set_single_threshold, args=(state.THRESHOLD_SLIDER,),
              help="Moving it makes this one threshold the decision policy.")


@components.fragment("thresholds")
def by_group(t: float) -> None:
    """What each group gets at the slider's threshold, the costs of mistakes, the ROC curves
    and the per-group search, for the groups chosen here: choosing other groups or costs
    reruns only this part, since nothing above it or in the sidebar depends on them (the
    slider reruns the page: it sets the policy that the sidebar shows)."""
    feature = st.selectbox("Groups of", a.features, key="w_thr_feature")
    # everything below comes from the partition's cached sweep and sorted scores, and the
    # searches (which do not depend on the slider) are cached per choices
    sw = cache.sweep_for(digest, a, feature)
    scores = cache.sorted_scores_for(digest, a, feature)
    groups = list(sw.groups)
    everyone = np.ones(len(groups), bool)
    at_t = scores.counts_at([t] * len(groups))
    single = policy_from_counts(at_t, groups, {g: t for g in groups}, included=everyone,
                                feature=feature, favorable_outcome=favorable)
    table = pd.DataFrame(single.by_group).set_index("group")
    st.dataframe(table[cols], key="thr_table", column_config=readable,
                 placeholder=tables.UNDEFINED_CELL)
    if undefined := tables.undefined_note(table, cols[1:], favorable):
        components.caption(undefined)
    if single.degenerate or single.group_only:  # perfect gaps that mean nothing
        verb = wording(favorable).positive_decision
        rates = list(single.selection_rates.values())
        if max(rates) == 0 or min(rates) == 1:
            what = (f"{'nobody' if max(rates) == 0 else 'everybody'} is {verb}: every gap in "
                    "selection and error rates between groups is zero or undefined by "
                    "construction, which says nothing about fairness")
        else:
            what = (f"in each group either everybody or nobody is {verb}: who is {verb} "
                    "depends on the group alone, not on the scores")
        st.warning(f"At this threshold {what}.")
    # drawn only while open (opening it reruns this part): one grid fewer on every change
    matrices = st.expander("Confusion matrices", key="w_cm_open", on_change="rerun")
    if matrices.open:
        # one table, a row per group (one grid to draw, not one per group)
        matrices.dataframe(pd.DataFrame(np.asarray(at_t, dtype=np.int64),
                                        columns=CONFUSION_CELLS,
                                        index=pd.Index([str(g) for g in groups], name="group")),
                           key="cm_table", column_config={
                               c: st.column_config.NumberColumn(c, format="localized")
                               for c in CONFUSION_CELLS})

    st.subheader("Costs of mistakes")
    c1, c2, c3 = st.columns(3)
    words = wording(favorable)  # what each mistake is for the person
    fp_cost = c1.number_input(f"Cost of a false positive ({words.false_positive})",
                              min_value=0.0, value=1.0, key="w_fp_cost")
    fn_cost = c2.number_input(f"Cost of a false negative ({words.false_negative})",
                              min_value=0.0, value=1.0, key="w_fn_cost")
    volume = c3.number_input("Decisions expected", min_value=0, value=1000, step=100,
                             key="w_volume")
    costed = policy_from_counts(at_t, groups, {g: t for g in groups}, included=everyone,
                                feature=feature, objective="cost", fp_cost=fp_cost,
                                fn_cost=fn_cost, volume=int(volume) or None,
                                favorable_outcome=favorable)
    st.markdown(components.escape(costed.summary))
    if fp_cost + fn_cost > 0:
        best = cache.lowest_cost_for(digest, a, fp_cost, fn_cost)
        text = (f"The single threshold with the lowest expected cost is "
                f"{fmt_threshold(best.threshold)} ({best.cost_per_decision:.3f} per decision), "
                "among every distinct score.")
        if best.degenerate:
            text += (" It " + ("flags " if wording(favorable).is_adverse else "selects ")
                     + ("nobody" if best.selected_share == 0 else "everybody")
                     + ": at these costs no threshold that tells people apart costs less, which "
                     "says more about the costs than about the model.")
            st.warning(text)
        else:
            st.info(text)

    components.chart(charts.roc_curves, cache.roc_drawn(digest, a, feature))
    r1, r2 = st.columns([3, 1], vertical_alignment="center")
    r1.caption(f"The curve is drawn through the points that shape it: every threshold's "
               f"point lies within {tables.ROC_TOLERANCE:g} of the line. The CSV holds every "
               "threshold's point, with precision and recall.")
    # made when asked for (a callable): every threshold's point, written only on a click
    r2.download_button("ROC points (CSV)", functools.partial(tables.roc_points_csv, sw, feature),
                       file_name="roc_points.csv", mime="text/csv", key="dl_roc_csv",
                       on_click="ignore")
    per_group_thresholds(feature, t, fp_cost, fn_cost, int(volume) or None)


@components.fragment("thresholds")
def per_group_thresholds(feature: str, t: float, fp_cost: float, fn_cost: float,
                         volume: int | None) -> None:
    """The per-group search under a constraint: its choices rerun only this part, since
    nothing else on the page or in the sidebar depends on them ("Use this policy" reruns the
    app, which then shows the new policy everywhere)."""
    st.subheader("Thresholds per group under a fairness constraint")
    st.warning(LEGAL_NOTE)
    d1, d2, d3 = st.columns(3)
    constraint = d1.selectbox("Constraint", list(CONSTRAINTS), index=1, key="w_constraint",
                              format_func=lambda c: c.replace("_", " "))
    objective = d2.selectbox("Objective", list(OBJECTIVES), key="w_objective",
                             format_func=lambda o: o.replace("_", " "))
    tolerance = d3.number_input("Tolerance (largest gap allowed)", min_value=0.0, max_value=1.0,
                                value=0.01, step=0.005, format="%.3f", key="w_tolerance")
    e1, e2 = st.columns(2)
    randomized = e1.toggle("Randomised thresholds", key="w_randomized",
                           help="Each group may mix thresholds (and everybody or nobody) "
                           "with stated probabilities. "
                           "People with the same score in the same group may then get "
                           "different decisions; the figures are expected values.")
    allow_degenerate = e2.toggle("Allow all-or-nothing policies", key="w_allow_degenerate",
                                 help="Policies in which every group gets the same decision "
                                 f"(everybody or nobody {wording(favorable).positive_decision})"
                                 " are hidden unless allowed.")
    try:
        policy = cache.policy_search(
            digest, a, feature, computing=lambda: st.spinner("Searching thresholds..."),
            constraint=constraint, objective=objective, tolerance=tolerance, fp_cost=fp_cost,
            fn_cost=fn_cost, volume=volume, min_group_size=a.spec.min_group_size,
            include_small_groups=a.spec.include_small_groups,
            allow_degenerate=allow_degenerate, randomized=randomized,
            favorable_outcome=favorable)
    except FaircardError as exc:
        components.error(exc)
        return
    if policy.degenerate or policy.group_only:
        st.error(components.escape(policy.summary))
    elif policy.constraint != "none" and np.isnan(policy.disparity):  # neither met nor missed
        st.warning(components.escape(policy.summary))
    elif policy.feasible and policy.all_or_nothing_groups:  # met, but not by the scores there
        st.warning(components.escape(policy.summary))
    elif policy.feasible:
        st.success(components.escape(policy.summary))
    else:
        st.error("No policy found meets the constraint. The closest one found: "
                 + components.escape(policy.summary))
    if policy.left_out():
        st.warning(components.escape(
            f"Not held to the constraint, as smaller than {policy.min_group_size:,} people: "
            f"{groups_with_sizes(policy.left_out())}. The policy's gap and whether it meets "
            "the constraint are measured without them."))
    if policy.randomized:
        st.warning("Randomised policy: people with the same score in the same group may get "
                   "different decisions. The figures below are expected values over the "
                   "randomisation.")
    ptable = pd.DataFrame(policy.by_group).set_index("group")
    # the same mark as the summary's: a small group keeps its threshold (the rule applies it)
    ptable.insert(0, "note", [f"fewer than {policy.min_group_size:,} people: not compared"
                              if g in policy.excluded_groups else "" for g in ptable.index])
    shown = ["threshold", "note"] + cols
    if policy.randomized:  # each group's rule, every part of it, in words
        rules = policy.decision_policy().rules
        words = wording(favorable).positive_decision
        ptable["rule"] = [rules[g].describe_mix(words) if rules[g].is_randomized else
                          fmt_threshold(rules[g].threshold) for g in ptable.index]
        shown = ["threshold", "rule", "note"] + cols
    st.dataframe(ptable[shown], key="policy_table", column_config=readable,
                 placeholder=tables.UNDEFINED_CELL)
    if undefined := tables.undefined_note(ptable, cols[1:], favorable):
        components.caption(undefined)
    # traced and drawn only while open (opening it reruns this part): its seven searches take
    # longer than the policy's own, seconds for equalized odds, on every new choice or groups
    front_open = st.expander("Trade-off: objective vs disparity", key="w_tradeoff_open",
                             on_change="rerun")
    if front_open.open:
        with front_open:
            front = cache.tradeoff_front(
                digest, a, feature, chosen=policy,
                computing=lambda: st.spinner("Tracing the trade-off..."), constraint=constraint,
                objective=objective, fp_cost=fp_cost, fn_cost=fn_cost,
                min_group_size=a.spec.min_group_size,
                include_small_groups=a.spec.include_small_groups,
                allow_degenerate=allow_degenerate, randomized=randomized)
            if front["disparity"].isna().all():  # no point has a place on the gap's axis
                st.info("No trade-off to draw: every policy's largest gap is n/a. "
                        + unchecked(constraint))
            else:
                components.chart(charts.tradeoff, front, objective)

    b1, b2, b3, b4 = st.columns(4)
    if b1.button("Use this policy", type="primary", key="use_policy",
                 help="Every page, the model card and the records then use these thresholds."):
        state.set_policy(policy.decision_policy())
        st.rerun()
    if b2.button("Use the single threshold instead", key="use_single"):
        state.set_policy(DecisionPolicy.single(float(t)))
        st.rerun()
    # written when asked for (callables), not on every change of a choice
    b3.download_button("Policy (JSON)", lambda: json.dumps(policy.to_dict(), indent=2),
                       file_name="policy.json", mime="application/json",
                       key="dl_policy_json", on_click="ignore")
    b4.download_button("Policy (CSV)", lambda: csv_text(pd.DataFrame(policy.by_group)),
                       file_name="policy.csv", mime="text/csv", key="dl_policy_csv",
                       on_click="ignore")


by_group(t)
# every feature's sweep, sorted scores, curves and ROC chart depend on nothing on this page:
# made with the page, so that showing the thresholds of other groups only searches
for other in a.features:
    cache.sorted_scores_for(digest, a, other)
    components.prepare_chart(charts.roc_curves, cache.roc_drawn(digest, a, other))
components.link(components.PAGE_CARD, label="Next: the model card")
components.page_done("thresholds")
