"""Sensitive features: choose them, band numeric ones, see group sizes and base rates."""

import math

import pandas as pd
import streamlit as st

from faircard import charts
from faircard.errors import FaircardError
from faircard.onehot import sensitive_column
from faircard.prepare import partition_name
from faircard.roles import (
    MANY_GROUPS,
    default_bands,
    guess_sensitive,
    many_groups,
    needs_bins,
    sensitive_options,
)
from faircard.spec import Binning, fmt_edge
from faircard.ui import cache, components, state, tables

st.title("Sensitive features")
st.caption("Which groups of people should the model treat alike? Choose the attributes; "
           "faircard compares the groups they form.")
components.need(state.has_roles(), "First load a dataset and say where the decisions come "
                "from.", components.PAGE_DATA, "Go to Data & model")

data = state.get(state.DATA)
pii_cols = {f.column for f in state.get(state.PII)}
taken = {state.get(state.TARGET), state.get(state.SCORE_COL), state.get(state.PRED_COL)}
excluded = pii_cols | taken | set(state.get(state.MODEL_COLUMNS).values())
# one-hot columns (race_White, race_Black, ...) are offered as one feature (race)
options = sensitive_options(data, exclude=excluded)
if not state.get(state.SENSITIVE):
    state.put(state.SENSITIVE, guess_sensitive(data, exclude=tuple(excluded)))
state.put(state.SENSITIVE, [s for s in state.get(state.SENSITIVE) if s in options])
state.restore("w_sensitive", state.SENSITIVE)
chosen = st.multiselect("Sensitive features", options, key="w_sensitive",
                        help="For example sex, race, age. Personal identifiers are not offered.")
state.keep("w_sensitive", state.SENSITIVE)
components.need(bool(chosen), "Choose at least one sensitive feature.")

bins = {k: v for k, v in state.get(state.BINS).items() if k in chosen}
for feature in chosen:
    col = sensitive_column(data, feature)
    if not needs_bins(col):
        bins.pop(feature, None)
        continue
    with st.expander(f"Bands for '{components.escape(feature)}' (numeric, "
                     f"{col.nunique():,} values)",
                     expanded=feature not in bins):
        edges, labels = default_bands(col, feature)
        if feature in bins:
            edges, labels = list(bins[feature].edges), list(bins[feature].labels)
        e_txt = st.text_input("Band edges (lowest first; 'inf' for open-ended)",
                              # every digit of an edge (":g" turned 123456.7 into 123457
                              # when the page was shown again)
                              ", ".join("inf" if math.isinf(e) and e > 0 else
                                        "-inf" if math.isinf(e) else fmt_edge(e) for e in edges),
                              key=f"w_edges_{feature}")
        l_txt = st.text_input("Band names", ", ".join(labels), key=f"w_labels_{feature}")
        try:
            new_edges = tuple(float(x) for x in e_txt.split(",") if x.strip())
        except ValueError:
            st.error("Band edges must be numbers separated by commas, e.g. 18, 25, 40, 65, inf.")
            continue
        try:
            banding = Binning(new_edges, tuple(x.strip() for x in l_txt.split(",")))
        except FaircardError as exc:
            components.error(exc)
            continue
        if bins.get(feature) != banding:
            # groups changed: reference groups chosen for the old bands no longer exist
            reference = state.get(state.REFERENCE)
            stale = {feature, partition_name(chosen)}
            state.put(state.REFERENCE, {k: v for k, v in reference.items() if k not in stale})
        bins[feature] = banding
        st.caption(components.escape(f"{banding.describe_edges()} "
                                     f"{banding.describe_outside()}"))
state.put(state.BINS, bins)

accepted = dict(state.get(state.MANY_GROUPS_OK))
for feature, n in many_groups(data, chosen, bins).items():
    shown = components.escape(feature)
    st.warning(f"'{shown}' forms {n:,} groups (more than {MANY_GROUPS}): most of them will be "
               "too small to compare. Bands or a coarser column usually tell more.")
    ok = st.checkbox(f"Compare all {n:,} groups of '{shown}' anyway", key=f"w_many_{feature}",
                     value=accepted.get(feature) == n)
    accepted = {**accepted, feature: n} if ok else {k: v for k, v in accepted.items()
                                                   if k != feature}
    state.put(state.MANY_GROUPS_OK, accepted)
    components.need(ok, f"Confirm the {n:,} groups of '{shown}', bin it, or choose another "
                    "feature.")

c1, c2 = st.columns(2)
with c1:
    state.restore("w_intersection", state.INTERSECTION)
    st.checkbox("Also compare intersections (e.g. race & sex)", key="w_intersection",
                disabled=len(chosen) < 2)
    state.keep("w_intersection", state.INTERSECTION)
with c2:
    state.restore("w_min_size", state.MIN_GROUP_SIZE)
    st.number_input("Minimum group size to trust", min_value=0, step=5, key="w_min_size",
                    help="Smaller groups are shown but flagged, and left out of comparisons.")
    state.keep("w_min_size", state.MIN_GROUP_SIZE)

(name, result), *_ = components.current_assessments(n_boot=0)
summary = cache.of_assessment(tables.group_summary, state.get(state.DATA_DIGEST), result)

st.subheader("Groups")
st.dataframe(
    summary.assign(
        prevalence=summary["prevalence"].map("{:.1%}".format),
        selection_rate=summary["selection_rate"].map("{:.1%}".format),
        is_small_group=summary["is_small_group"].map({True: "too small", False: ""}),
    ).rename(columns={"n": "people", "prevalence": "base rate (actual positives)",
                      "selection_rate": "predicted positive rate",
                      "is_small_group": "note"}),
    hide_index=True, key="groups_table",
    column_config={"people": st.column_config.NumberColumn("people", format="localized")},
)


if result.n_dropped:  # the groups' people then add up to fewer than the dataset's rows
    detail = ", ".join(f"{v:,} with {k}" for k, v in result.cube.dropped_reasons.items() if v)
    st.info(f"The groups hold the {result.n_rows - result.n_dropped:,} of {result.n_rows:,} "
            f"rows that have an outcome and a decision; the other {result.n_dropped:,} are "
            f"left out ({components.escape(detail)})."
            + "".join(f" {components.escape(s)}" for s in components.vanished(result)))
for note in result.group_notes:
    st.info(components.escape(note))
feature = st.selectbox("Chart", result.features, key="w_chart_feature")
g1, g2 = st.columns(2)
# the charts get the rows of their feature only: when another feature is dropped or added,
# they are the charts made (and drawn) before
shown = summary[summary["feature"] == feature].reset_index(drop=True)
components.chart(charts.group_sizes, shown, feature, where=g1)
components.chart(charts.rates_by_group, shown, feature, where=g2)

st.subheader("Reference groups")
st.caption("Other groups are compared with the reference group (the largest by default).")


@components.fragment("sensitive")
def reference_groups() -> None:
    """The reference group of each feature: a choice reruns only this part, since nothing
    else on this page or in the sidebar depends on it (the next pages read it)."""
    reference = dict(state.get(state.REFERENCE))
    cols = st.columns(min(len(result.features), 3))
    for i, f in enumerate(result.features):
        groups = list(summary[summary["feature"] == f]["group"])
        current = reference.get(f, result.reference_groups[f])
        if current not in groups:
            current = result.reference_groups[f]
        choice = cols[i % len(cols)].selectbox(f"Reference for {components.escape(f)}",
                                               groups, index=groups.index(current),
                                               key=f"w_ref_{f}")
        reference[f] = choice
    state.put(state.REFERENCE, {k: v for k, v in reference.items() if k in result.features})


reference_groups()
if isinstance(summary, pd.DataFrame) and summary["is_small_group"].any():
    st.info(f"Groups with fewer than {state.get(state.MIN_GROUP_SIZE):,} people are greyed out "
            "and not compared.")
components.link(components.PAGE_DISPARITIES, label="Next: see the disparities",
             icon=":material/arrow_forward:")
components.page_done("sensitive")
