"""Diagnostics: where the disparities come from, and the bias-sources checklist."""

import json

import pandas as pd
import streamlit as st

from faircard.diagnostics import SOURCES, STATUSES
from faircard.diagnostics.charts import importance_bars, proxy_bars, reliability_curves
from faircard.diagnostics.core import IMPORTANCE_FAILED, importance_note
from faircard.errors import FaircardError
from faircard.formatting import counted, fmt_num
from faircard.io import fingerprint
from faircard.ui import cache, components, state

st.title("Diagnostics")
st.caption("Why do groups fare differently, and where else? Representation, columns that stand "
           "in for a sensitive feature, calibration by group, drift from the training data and "
           "the subgroups that fare worst, gathered into the bias-sources checklist.")
components.need(state.has_sensitive(), "Choose the sensitive features first.",
                components.PAGE_SENSITIVE, "Go to Sensitive features")
components.need(not state.get(state.SOURCE), "Diagnostics look at the rows themselves, and "
                "this dataset is counted where it lives on the server. Upload the dataset, or "
                "a sample of it, to run them.", components.PAGE_DATA, "Go to Data & model")

data = state.get(state.DATA)
choices = components.decisions()
if len(choices) > 1:
    picked = st.selectbox("Model", [n for n, _ in choices], key="w_diag_model")
else:
    picked = choices[0][0]
decision = dict(choices)[picked]
try:  # the choices, checked on the rows once (the groups' labels below read the same cache)
    spec = components.spec_for(decision)
    components.assessment_of(spec)
except FaircardError as exc:
    components.error(exc)
    components.stop()

with st.expander("Reference data and population", expanded=False):
    upload = st.file_uploader("Training (reference) data, for drift and population shares",
                              type=["csv", "tsv", "txt", "parquet", "xlsx"], key="upload_ref")
    if upload is not None:
        raw = upload.getvalue()
        digest = fingerprint(raw)
        try:
            cache.read_table(digest, raw, upload.name)
        except FaircardError as exc:
            components.error(exc)
        else:
            state.put(state.DIAG_REFERENCE, {"digest": digest, "name": upload.name, "raw": raw})
    ref = state.get(state.DIAG_REFERENCE)
    if ref:
        st.caption(f"Reference data: {components.escape(ref['name'])}")
    st.markdown("Population shares (optional, e.g. census figures; between 0 and 1):")
    shares = dict(state.get(state.DIAG_SHARES))
    for feature in spec.sensitive:
        groups = components.group_labels(spec, feature)
        current = shares.get(feature, {})
        frame = pd.DataFrame({"group": list(groups),
                              "population share": [current.get(g) for g in groups]})
        edited = st.data_editor(frame, key=f"w_shares_{feature}", hide_index=True,
                                disabled=["group"], column_config={
                                    "population share": st.column_config.NumberColumn(
                                        min_value=0.0, max_value=1.0, format="%.3f")})
        entered = {g: float(v) for g, v in zip(edited["group"], edited["population share"],
                                                strict=True) if pd.notna(v)}
        if entered:
            shares[feature] = entered
        else:
            shares.pop(feature, None)
    state.put(state.DIAG_SHARES, shares)
    others = [c for c in data.columns if c not in (spec.target, spec.score, spec.prediction)
              and c not in spec.sensitive]
    state.restore("w_diag_exclude", state.DIAG_EXCLUDE)
    st.multiselect("Leave these columns out (e.g. other models' outputs)", others,
                   key="w_diag_exclude")
    state.keep("w_diag_exclude", state.DIAG_EXCLUDE)

ref = state.get(state.DIAG_REFERENCE)
reference = cache.read_table(ref["digest"], ref["raw"], ref["name"]) if ref else None
model = next(iter(components.models_of(picked)), None)
try:
    with st.status("Running diagnostics...", expanded=False) as status:
        bar = st.progress(0.0)

        def progress(stage: str, fraction: float) -> None:
            status.update(label=stage + "...")
            bar.progress(min(max(fraction, 0.0), 1.0))

        result = cache.diagnostics(state.get(state.DATA_DIGEST), data, spec,
                                   ref["digest"] if ref else None, reference,
                                   state.get(state.DIAG_SHARES),
                                   tuple(state.get(state.DIAG_EXCLUDE) or ()), progress,
                                   model=model,
                                   model_positive_class=state.get(state.MODEL_CLASSES).get(picked),
                                   model_exclude=tuple(state.get(state.MODEL_COLUMNS).values()))
        status.update(label="Diagnostics ready", state="complete")
except FaircardError as exc:
    components.error(exc)
    components.stop("diagnostics")

if result.trivial_rule:  # every rate on the tabs is then about the outcomes, not the model
    st.error(components.escape(result.trivial_rule))
tabs = st.tabs(["Checklist", "Representation", "Proxies", "Calibration", "Importance", "Drift",
                "Subgroups"])
with tabs[0]:
    st.caption("Seven ways harm enters a model. faircard fills in the evidence it found; you "
               "mark each source and add a note. The checklist, with your answers, goes into "
               "the model card's ethical considerations, and the columns that stand in for a "
               "sensitive feature into its caveats.")
    answers = dict(state.get(state.DIAG_CHECKLIST))
    for item in result.checklist:
        st.markdown(f"**{item.source.capitalize()} bias.** {components.escape(item.question)}")
        for sentence in item.evidence:
            st.markdown(f"- {components.escape(sentence)}")
        if item.suggested_status:
            st.caption(f"faircard suggests: {item.suggested_status}")
        c1, c2 = st.columns([1, 3])
        saved = answers.get(item.source, {})
        key = f"w_check_{item.source}"
        state.seed(key, saved.get("status", ""))
        status_value = c1.selectbox("Status", STATUSES, key=key,
                                    format_func=lambda s: s or "to review")
        note_key = f"w_note_{item.source}"
        state.seed(note_key, saved.get("note", ""))
        note = c2.text_area("Note", key=note_key, height=68)
        answers[item.source] = {"status": status_value, "note": note}
    state.put(state.DIAG_CHECKLIST, answers)
    done = sum(1 for a in answers.values() if a["status"])
    st.progress(done / len(SOURCES), text=f"{done} of {len(SOURCES)} sources marked")
    for_card = result.for_card(answers)  # on a copy: the cached result is shared
    state.put(state.DIAG_CARD, {"for": components.diagnostics_key(picked, spec), **for_card})
    doc = {**result.to_dict(), "checklist": for_card["bias_sources"]}
    st.download_button("Download the checklist and diagnostics (JSON)",
                       json.dumps(doc, indent=2, ensure_ascii=False),
                       file_name="diagnostics.json", mime="application/json",
                       key="dl_diagnostics")

with tabs[1]:
    rep = result.representation
    st.dataframe(rep.assign(**{
        "share": rep["share"].map(fmt_num),
        "95% interval": [f"{fmt_num(lo)}-{fmt_num(hi)}" for lo, hi in
                         zip(rep["share_ci_low"], rep["share_ci_high"], strict=True)],
        "population share": rep["reference_share"].map(fmt_num),
    })[["feature", "group", "n", "share", "95% interval", "population share"]],
        hide_index=True, key="diag_representation")
    br = result.base_rates
    st.markdown("Base rates (share with the positive outcome):")
    st.dataframe(br.assign(base_rate=br["base_rate"].map(fmt_num)), hide_index=True,
                 key="diag_base_rates")
    if len(result.missing):
        st.markdown("Missing values by group:")
        st.dataframe(result.missing, hide_index=True, key="diag_missing")

with tabs[2]:
    for feature in spec.sensitive:
        st.markdown(f"**{components.escape(feature)}**")
        components.chart(proxy_bars, result.proxies, feature)
    st.dataframe(result.proxies, hide_index=True, key="diag_proxies")
    st.caption(f"ci_low and ci_high: the AUC's {result.confidence:.0%} interval (DeLong's "
               "variance of the held-out scores' AUC; the variation of encoding them from the "
               "other folds is not in it). Cramér's V and the correlation ratio have none.")

with tabs[3]:
    if len(result.calibration):
        st.dataframe(result.calibration, hide_index=True, key="diag_calibration")
        for feature in spec.sensitive:
            components.chart(reliability_curves, result.calibration_bins, feature)
        gaps = result.calibration_gaps
        if len(gaps) and gaps["significant"].any():
            st.warning("The same score means different risks for different groups in "
                       + counted(int(gaps["significant"].sum()), "score band", "score bands")
                       + "; see the checklist.")
    for note in result.notes:
        components.caption(note)

with tabs[4]:
    imp = result.importance
    failed = [n for n in result.notes if n.startswith(IMPORTANCE_FAILED)]
    if failed:
        st.warning(components.escape(failed[0]))
    elif imp is None:
        st.info("Permutation importance needs the model itself: these decisions come from a "
                "column of scores or predictions. Load the model file on the Data & model page "
                "to see which columns it relies on, overall and in each group.")
    else:
        st.caption(importance_note(imp))
        components.chart(importance_bars, imp)
        by_group = imp[imp["group"] != "(all)"]
        if len(by_group):
            st.markdown("Per group (mean drop; the spread over shuffles is in the table below):")
            wide = by_group.assign(scope=by_group["feature"] + ": " + by_group["group"]) \
                .pivot(index="column", columns="scope", values="importance")
            overall = imp[imp["group"] == "(all)"].set_index("column")["importance"]
            st.dataframe(wide.loc[overall.sort_values(ascending=False).index], key="diag_importance_wide")
        st.dataframe(imp, hide_index=True, key="diag_importance")

with tabs[5]:
    if len(result.drift):
        st.dataframe(result.drift, hide_index=True, key="diag_drift")
    else:
        st.info("Upload the training data under 'Reference data and population' to compare.")

with tabs[6]:
    sub = result.subgroups
    significant = int(sub["significant"].sum()) if len(sub) else 0
    st.caption(counted(int(sub.attrs.get("n_tested", len(sub))), "subgroup", "subgroups")
               + " tried (up to three conditions, at least 30 rows); "
               + counted(significant, "differs", "differ")
               + " from the rest after Holm's correction for all of them.")
    st.dataframe(sub.head(50).drop(columns=["conditions"]), hide_index=True,
                 key="diag_subgroups")

components.link(components.PAGE_THRESHOLDS, label="Next: thresholds",
                icon=":material/arrow_forward:")
components.page_done("diagnostics")
