"""Data & model: upload a dataset and models (or choose score/prediction columns), or the demo."""

import os

import streamlit as st

from faircard.engine.paths import allowed_data_dirs
from faircard.errors import FaircardError
from faircard.favorable import FAVORABLE_CHOICES, wording
from faircard.formatting import threshold_format
from faircard.io import DETECT, ENCODING_CHOICES, fingerprint
from faircard.prepare import resolve_pos_label
from faircard.roles import guess_prediction, guess_target, score_candidates
from faircard.safe_text import clip_cells
from faircard.ui import cache, components, state
from faircard.ui.loaders import (
    add_models,
    load_demo_into_state,
    open_server_dataset,
    rescore_models,
    set_dataset,
    take_upload,
)

st.title("Data & model")
st.caption("Load the data the model decides on, then tell faircard which column is the true "
           "outcome and where the model's decisions come from.")

left, right = st.columns([3, 1])
with right:
    if st.button("Load demo", type="primary", key="load_demo",
                 help="A synthetic loan book (20,000 applicants) and a logistic regression"):
        with st.spinner("Building the demo data and model..."):
            load_demo_into_state()
        state.put(state.UPLOAD_REFUSED, None)
        st.rerun()
with left:
    upload = st.file_uploader("Dataset (CSV, Parquet or Excel)",
                              type=["csv", "tsv", "txt", "parquet", "xlsx"],
                              key=state.upload_widget())
fresh = take_upload(upload) if upload is not None else None
# a new file, a file that could not be read (its encoding may still be changed), or the
# uploaded file in use
refused = (state.get(state.UPLOAD_REFUSED) or {}) if fresh is None else {}
pending = fresh or refused.get("file") or state.get(state.UPLOAD)
if pending is not None:
    held, digest, name = pending["held"], pending["digest"], pending["name"]
    encoding = DETECT
    if name.lower().endswith((".csv", ".tsv", ".txt")):
        read = state.get(state.DATA_READ)
        with left:
            encoding = st.selectbox(
                "Encoding", ENCODING_CHOICES, key=state.encoding_widget(digest),
                help="How the file's characters are stored. 'detect' measures it; choose "
                     "another if names look wrong (e.g. 'Ã¤' instead of 'ä').")
            if read.get("encoding"):
                st.caption(f"Read as {read['encoding']}"
                           + (" (detected)." if read.get("detected") else " (chosen)."))
    read_key = digest if encoding == DETECT else f"{digest}@{encoding}"
    current = state.get(state.DATA_DIGEST)
    if refused.get("key") == read_key:  # refused before: not read again on every run
        components.error(refused["error"])
    elif current is None or current.split("+")[0] != read_key:
        try:
            with st.spinner(f"Reading {components.escape(name)}..."):
                table = cache.read_upload(digest, held, name, encoding)
        except FaircardError as exc:
            state.put(state.UPLOAD_REFUSED, {"file": pending, "key": read_key,
                                             "error": str(exc)})
            if fresh is not None:
                # this run drew the uploader holding the refused file; the next run draws it
                # empty, so that the next file the user drops is taken (it was ignored)
                st.rerun()
            components.error(exc)
        else:
            state.put(state.UPLOAD_REFUSED, None)
            state.put(state.UPLOAD, pending)
            set_dataset(table.frame, name, read_key)
            state.put(state.DATA_READ, {"encoding": table.encoding,
                                        "detected": table.encoding_detected,
                                        "warnings": list(table.warnings)})
            st.rerun()  # show what was detected next to the Encoding choice
    elif fresh is not None:  # the file in use, uploaded again
        state.put(state.UPLOAD, pending)
    del held, pending, fresh

if allowed_data_dirs():  # the operator lets datasets too large to upload be opened in place
    with left.expander("Open a large dataset on the server", expanded=bool(state.get(
            state.SOURCE))):
        st.caption("A Parquet or CSV file, a folder of Parquet files or a glob such as "
                   "'logs/*.parquet', inside: "
                   + ", ".join(f"'{components.escape(d)}'" for d in allowed_data_dirs())
                   + ". DuckDB counts the rows where they are; only counts come back. An "
                   "Excel workbook (.xlsx) is read as its upload is, with the same limits.")
        server_path = st.text_input("Path on the server", key="w_server_path")
        if st.button("Open", key="open_server_path", disabled=not server_path.strip()):
            try:
                with st.status("Opening the dataset...") as status:
                    open_server_dataset(server_path, lambda label: status.update(
                        label=components.escape(label)))
                    status.update(label="Dataset opened", state="complete")
            except FaircardError as exc:
                components.error(exc)
            else:
                state.put(state.UPLOAD_REFUSED, None)
                st.rerun()

components.need(state.has_data(), "Upload a dataset, or press **Load demo** to try faircard "
                "with synthetic loan decisions.")
data = state.get(state.DATA)
source = state.get(state.SOURCE)

st.subheader(components.escape(state.get(state.DATA_NAME)))
if source:
    st.caption(f"{source['rows']:,} rows x {data.shape[1]} columns, counted by DuckDB where "
               f"they are. Columns and values are offered from the first {len(data):,} rows; "
               "every figure is counted over all rows. First 200 rows:")
else:
    st.caption(f"{len(data):,} rows x {data.shape[1]} columns. First 200 rows:")
for note in state.get(state.DATA_READ).get("warnings", []):
    st.warning(components.escape(note))
pii = state.get(state.PII)
pii_cols = {f.column for f in pii}
st.dataframe(clip_cells(data.drop(columns=list(pii_cols)).head(200)), height=240)
if pii:
    st.warning("Personal data found and kept out of every table, chart and export: "
               + "; ".join(f"**{components.escape(f.column)}** ({f.reason})" for f in pii))

st.subheader("Column roles")
# the columns of the file; models' columns are added by faircard (a file's own column may be
# named "score: ..." too)
model_cols = set(state.get(state.MODEL_COLUMNS).values())
columns = [c for c in data.columns if c not in pii_cols and c not in model_cols]
c1, c2 = st.columns(2)
with c1:
    if state.get(state.TARGET) not in columns:
        state.put(state.TARGET, guess_target(data[columns]))
    state.restore("w_target", state.TARGET)
    target = st.selectbox("True outcome (two values)", columns, key="w_target",
                          help="What actually happened, e.g. repaid / reoffended / hired.")
    state.keep("w_target", state.TARGET)
with c2:
    values = []
    if target is not None:
        values = [v.item() if hasattr(v, "item") else v
                  for v in data[target].dropna().unique()[:3]]
    if len(values) > 2:
        st.error(f"'{components.escape(target)}' has more than two values; choose a yes/no "
                 "outcome column.")
        components.stop("data")
    default_pos, guessed = None, False
    try:
        default_pos = resolve_pos_label(data[target].dropna(), target, None) if target else None
    except FaircardError:
        default_pos, guessed = (values[0] if values else None), bool(values)
    if state.get(state.POS_LABEL) not in values:
        state.put(state.POS_LABEL, default_pos)
    current = state.get(state.POS_LABEL)
    # one widget per target column, so a new target starts from its own detected label
    pos = st.selectbox("Positive outcome", values, key=f"w_pos_{target}",
                       index=values.index(current) if current in values else 0, format_func=str,
                       help="The value that counts as 'yes' (e.g. 1, True, '>50K').")
    state.put(state.POS_LABEL, pos)
    if guessed:  # the first value found is only a default: every figure depends on this choice
        components.warning(
            f"faircard cannot tell which value of '{target}' is the positive outcome, so every "
            f"figure counts '{pos}' as the positive one: check 'Positive outcome'.")
    state.restore("w_favorable", state.FAVORABLE)
    st.radio("For the person, a positive prediction is", list(FAVORABLE_CHOICES),
             format_func=FAVORABLE_CHOICES.get, key="w_favorable", horizontal=True,
             help="Favourable when a positive prediction is good for the person (a loan is "
                  "granted, a candidate is hired); adverse when it is bad for them (flagged as "
                  "high risk, as in COMPAS). Words, the favourable rate and the four-fifths "
                  "rule follow this choice.")
    state.keep("w_favorable", state.FAVORABLE)

kinds = {"model": "A model file", "score": "A score column", "prediction": "A prediction column"}
if source:  # models score rows in faircard's sandbox; a server dataset stays where it is
    kinds.pop("model")
    if state.get(state.DECISION) == "model":
        state.put(state.DECISION, "score")
state.restore("w_decision", state.DECISION)
kind = st.radio("Where do the decisions come from?", list(kinds), format_func=kinds.get,
                horizontal=True, key="w_decision")
state.keep("w_decision", state.DECISION)

if kind == "score":
    candidates = [c for c in score_candidates(data[columns]) if c != target]
    if not candidates:
        st.warning("No numeric column with more than two values: choose 'A prediction column'.")
    else:
        if state.get(state.SCORE_COL) not in candidates:
            state.put(state.SCORE_COL, candidates[0])
        state.restore("w_score", state.SCORE_COL)
        st.selectbox("Score column", candidates, key="w_score")
        state.keep("w_score", state.SCORE_COL)
elif kind == "prediction":
    candidates = [c for c in columns if c != target]
    guess = guess_prediction(data[columns], target)
    if state.get(state.PRED_COL) not in candidates:
        state.put(state.PRED_COL, guess or candidates[0])
    state.restore("w_pred", state.PRED_COL)
    st.selectbox("Prediction column (the model's label)", candidates, key="w_pred")
    state.keep("w_pred", state.PRED_COL)
else:
    files = st.file_uploader("Model files (.skops recommended; .joblib/.pkl are opened safely)",
                             type=["skops", "joblib", "pkl", "pickle"], accept_multiple_files=True,
                             key="upload_models")
    if os.environ.get("FAIRCARD_ALLOW_UNSAFE_PICKLE"):
        # An uploaded file comes from whoever can reach the server: it is never unpickled
        # freely, whatever the environment says (the command line keeps its opt-in for files
        # its own user trusts).
        st.info("FAIRCARD_ALLOW_UNSAFE_PICKLE is set, but uploaded model files are always opened "
                "safely. To use a trusted pickle that is refused, save the model with skops or "
                "run `faircard assess --allow-unsafe-pickle` on your own machine.")
    new = [f for f in files or [] if fingerprint(f.getvalue()) not in
           {m.sha256 for m in state.get(state.MODELS)}]
    if new:
        loaded, errors = [], []
        with st.status(f"Opening {len(new)} model file(s) safely...", expanded=False) as status:
            for i, f in enumerate(new, 1):
                status.update(label=f"Opening {components.escape(f.name)} ({i}/{len(new)})...")
                raw = f.getvalue()
                try:
                    loaded.append(cache.read_model(fingerprint(raw), raw, f.name))
                except FaircardError as exc:
                    errors.append(f"{f.name}: {exc}")
            status.update(label="Scoring the dataset...")
            errors += add_models(loaded)
            status.update(label="Models ready" if not errors else "Some models were refused",
                          state="complete" if not errors else "error")
        state.put(state.MODEL_ERRORS, errors)
    for msg in state.get(state.MODEL_ERRORS):
        components.error(msg)
    models = state.get(state.MODELS)
    if models:
        chosen = dict(state.get(state.MODEL_CLASSES))
        for m in models:
            classes = list(m.classes or [])
            scored = state.get(state.MODEL_SCORED).get(m.name) or {}
            current = chosen.get(m.name, scored.get("positive_class"))
            widget = f"w_model_class_{m.sha256[:16]}"
            # one widget per model: which of its classes means the positive outcome
            picked = st.selectbox(
                components.escape(f"{m.name}: the model class that means {pos!r}"), classes,
                key=widget,
                index=classes.index(current) if current in classes else len(classes) - 1,
                format_func=repr,
                help="faircard uses the class equal to the positive outcome, or class 1 of a "
                "0/1 (False/True) model; change it if the model labels outcomes differently.")
            if picked != scored.get("positive_class") or m.name in chosen:
                chosen[m.name] = picked
        state.put(state.MODEL_CLASSES, chosen)
        for msg in rescore_models():
            components.error(msg)
        st.dataframe(
            [{"model": m.name, "type": m.model_type, "format": m.format,
              "classes": ", ".join(repr(c) for c in (m.classes or [])),
              "scikit-learn": m.sklearn_version_saved or "", "sha256": m.sha256[:16],
              "notes": " ".join(m.warnings)} for m in models],
            hide_index=True,
        )
        for m in models:
            note = (state.get(state.MODEL_SCORED).get(m.name) or {}).get("note")
            if note:
                components.info(note)
if kind in ("score", "model"):
    policy = state.policy()
    if policy.is_single:
        # the widget shows the policy; only an edit by the user writes it back
        if st.session_state.get(state.THRESHOLD_INPUT) != policy.threshold:
            state.put(state.THRESHOLD_INPUT, policy.threshold)
        st.number_input("Decision threshold: a score at or above it means a positive decision",
                        key=state.THRESHOLD_INPUT, step=0.05,
                        format=threshold_format(policy.threshold),
                        on_change=state.set_single_threshold, args=(state.THRESHOLD_INPUT,))
    else:
        positive = wording(state.get(state.FAVORABLE)).positive_decision
        st.info("Decision policy: " + components.escape(policy.describe(positive=positive))
                + " Change it on the Thresholds page.")
        components.link(components.PAGE_THRESHOLDS, label="Go to Thresholds")

if state.has_roles():
    st.success("Data and decisions are ready.")
    components.link(components.PAGE_SENSITIVE, label="Next: choose sensitive features",
                 icon=":material/arrow_forward:")
components.page_done("data")
