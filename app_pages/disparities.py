"""Disparities: per-group metrics with intervals, differences and ratios, criteria, findings."""

import functools
import json

import pandas as pd
import streamlit as st

from faircard import charts
from faircard.favorable import wording
from faircard.findings import GAP_METRICS, findings
from faircard.metrics import DEFAULT_METRICS, LABELS
from faircard.trivial import trivial_decision, trivial_label
from faircard.ui import cache, components, state, tables

st.title("Disparities")
st.caption("Where does the model treat groups differently? Bars show each group's value with "
           "its 95% interval; the dashed line is the overall value.")
components.need(state.has_sensitive(), "Choose the sensitive features first.",
                components.PAGE_SENSITIVE, "Go to Sensitive features")

with st.spinner("Computing metrics, intervals and criteria..."):
    results = components.current_assessments()
components.without_bootstrap(results)
names = [n for n, _ in results]
digest = state.get(state.DATA_DIGEST)

first = results[0][1]
available = [m for m in first.metrics if m != "count"]
if not state.get(state.METRICS):
    state.put(state.METRICS, list(DEFAULT_METRICS))
state.put(state.METRICS, [m for m in state.get(state.METRICS) if m in available])


@components.fragment("disparities")
def view() -> None:
    """Everything that depends on the metrics, the model in focus and the groups shown:
    choosing them reruns only this part (nothing above it or in the sidebar shows them; the
    other pages read the metrics from the session)."""
    state.restore("w_metrics", state.METRICS)
    metrics = st.multiselect("Metrics", available, key="w_metrics", format_func=LABELS.get)
    state.keep("w_metrics", state.METRICS)
    if not metrics:
        st.info("Choose at least one metric.")
        return

    words = wording(first.spec.favorable_outcome)
    if len(results) > 1:
        st.subheader("Models side by side")
        feature0 = first.features[0]
        rows = []
        for name, a in results:
            row = {"model": name}
            row.update({m: a.overall.get(m) for m in metrics})
            for c in ("demographic_parity_difference", "equalized_odds_difference"):
                row[c] = a.criteria[feature0][c]
            # a rule that tells nobody apart has gaps of zero: never the fairest model
            row["decision rule"] = cache.of_assessment(trivial_label, digest, a)
            rows.append(row)
        table = pd.DataFrame(rows)
        st.dataframe(table, hide_index=True, key="models_table", column_config={
            c: st.column_config.NumberColumn(
                words.label(c) if c in metrics else c.replace("_", " "), format="%.3f")
            for c in table.columns if c not in ("model", "decision rule")})
        st.caption(components.escape(models_rules(results)))
        if state.get(state.FOCUS_MODEL) not in names:
            state.put(state.FOCUS_MODEL, names[0])
        state.restore("w_focus", state.FOCUS_MODEL)
        focus = st.selectbox("Focus on model", names, key="w_focus")
        state.keep("w_focus", state.FOCUS_MODEL)
        perf = "accuracy" if "accuracy" in table.columns else metrics[0]
        told = table["decision rule"] == ""  # a trivial rule's point would look the fairest
        if told.any():
            components.chart(charts.models_scatter, table[told].drop(columns="decision rule"),
                             perf, "demographic_parity_difference", focus)
        st.caption("Disparity: demographic parity difference for "
                   f"'{components.escape(feature0)}'." + "".join(
                       f" Not drawn: {components.escape(m)} ({components.escape(w)})."
                       for m, w in zip(table.loc[~told, "model"],
                                       table.loc[~told, "decision rule"], strict=True)))
    else:
        focus = names[0]
    a = dict(results)[focus]

    st.subheader("Findings")
    st.caption(words.describe() + " Change this on the Data & model page.")
    trivial = cache.of_assessment(trivial_decision, digest, a)
    if trivial:  # the gaps below are zero or undefined by construction
        st.error(components.escape(trivial))
    # only the chosen metrics with a gap sentence change the findings: adding another one
    # reads them from the cache
    for sentence in cache.of_assessment(findings, digest, a,
                                        [m for m in metrics if m in GAP_METRICS]):
        if sentence != trivial:
            st.markdown(f"- {components.escape(sentence)}")

    feature = st.selectbox("Groups of", a.features, key="w_feature")
    shown = _groups_view(a, feature, metrics, words)
    st.dataframe(shown["groups"], key="group_table")

    cols = st.columns(2)
    for i, spec in enumerate(shown["bars"]):
        cols[i % 2].vega_lite_chart(spec)

    reference = a.reference_groups.get(feature)
    if reference is not None:
        st.subheader("Compared with the reference group")
        st.caption(f"Each group's difference from, and ratio to, the reference group "
                   f"'{components.escape(str(reference))}' (change it on Sensitive features).")
        st.dataframe(shown["reference"], key="reference_table")

    st.subheader("Differences and ratios between groups")
    st.dataframe(shown["disparities"], hide_index=True,
                 key="disparity_table", column_config={
                     c: st.column_config.TextColumn(c, help=h)
                     for c, h in tables.DISPARITY_COLUMNS_HELP.items()})

    st.subheader("Fairness criteria")
    components.criteria_tiles(a, feature, digest)
    for note in a.notes:
        components.caption(note)
    for sentence in components.vanished(a):  # groups the notes' left-out rows emptied
        components.caption(sentence)

    # written when asked for (callables), not on every change of the metrics shown
    st.download_button("Download assessment (JSON)", functools.partial(tables.assessment_json, a),
                       file_name="assessment.json", mime="application/json",
                       key="dl_json", on_click="ignore")
    st.download_button("Download per-group metrics (CSV)",
                       functools.partial(tables.by_group_csv, a),
                       file_name="by_group.csv", mime="text/csv", key="dl_csv",
                       on_click="ignore")
    # the other features' tables and charts depend on nothing else on this page: made now
    # (kept per assessment and feature), so that showing another feature's groups draws them
    for other in a.features:
        if other != feature:
            _groups_view(a, other, metrics, words)


def models_rules(results) -> str:
    """Which rule decides for each model of the table: one rule for the scores of every model
    (the Thresholds page's, chosen however it was), or a model's own predicted labels."""
    rules: dict[str, list[str]] = {}
    for name, a in results:
        rule = a.spec.policy.describe(
            positive=wording(a.spec.favorable_outcome).positive_decision) \
            if a.spec.policy is not None else \
            "its own predicted labels decide."
        rules.setdefault(rule, []).append(f"'{name}'")
    if len(rules) == 1:
        return f"Every model is decided by the same rule. {next(iter(rules))}"
    return " ".join(f"{', '.join(names)}: {rule}" for rule, names in rules.items())


def _groups_view(a, feature: str, metrics: list[str], words) -> dict:
    """The tables and the metrics' charts (Vega-Lite specs) of the groups of ``feature``, from
    the cache: the tables are made once per assessment and feature with every metric (choosing
    metrics picks their columns or rows), and each chart is known by the rows it draws (another
    reference group draws the charts made before)."""
    every = tables.every_metric(a)
    drawn = cache.of_assessment(tables.bar_keys, digest, a, feature)
    bars = []
    for m in metrics:
        overall = a.overall.get(m)
        bars.append(components.prepare_chart(
            charts.metric_bars, a.by_group, m, feature, overall, label=words.label(m),
            key=json.dumps(["metric_bars", drawn[m], m, feature, overall, words.label(m)])))
    reference = None
    if a.reference_groups.get(feature) is not None:
        reference = tables.metric_columns(
            cache.of_assessment(tables.reference_table, digest, a, feature, every), a, metrics)
    return {"groups": tables.metric_columns(
                cache.of_assessment(tables.group_table, digest, a, feature, every), a, metrics,
                keep=("people", "note")),
            "bars": bars, "reference": reference,
            "disparities": tables.metric_rows(
                cache.of_assessment(tables.disparity_table, digest, a, feature, every), a,
                metrics)}


view()
components.link(components.PAGE_THRESHOLDS, label="Next: thresholds",
             icon=":material/arrow_forward:")
components.page_done("disparities")
