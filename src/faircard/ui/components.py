"""Widgets and blocks shared by pages."""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from typing import NoReturn

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ..card import (
    CHECKLIST_SECTION,
    card_checklist,
    checklist_text,
    hidden_groups,
    small_group_notes,
)
from ..errors import FaircardError
from ..favorable import wording
from ..governance.records import SHA256_RE
from ..safe_text import visible
from ..spec import AssessmentSpec
from ..trivial import all_or_nothing
from . import cache, state

PAGE_DATA = "app_pages/data.py"
PAGE_SENSITIVE = "app_pages/sensitive.py"
PAGE_DISPARITIES = "app_pages/disparities.py"
PAGE_DIAGNOSTICS = "app_pages/diagnostics.py"
PAGE_THRESHOLDS = "app_pages/thresholds.py"
PAGE_CARD = "app_pages/model_card.py"
PAGE_GOVERNANCE = "app_pages/governance.py"
PAGE_RECORD = "app_pages/record.py"


_FROZEN = threading.Lock()
ASSESSED_KEPT = 4
"""Assessments the session keeps a reference to for the sidebar (see :func:`assessed`)."""
_frozen = False


def freeze_libraries() -> None:
    """Once per server process, at its first run: import the libraries the pages use, then
    move every object alive into Python's permanent generation (``gc.freeze``). The garbage
    collector's full passes then skip the libraries' few hundred thousand objects, which
    otherwise stopped the server for 0.05-0.6 s at random moments (one in a widget change now
    and then). Nothing of a dataset is frozen: none is loaded yet."""
    global _frozen
    with _FROZEN:
        if _frozen:
            return
        _frozen = True
        import gc

        import altair  # noqa: F401  (the charts' library, the largest)

        from .. import charts, findings, policy, thresholds  # noqa: F401
        from ..engine import grouped  # noqa: F401
        gc.collect()
        gc.freeze()


def link(page: str, label: str, icon: str = ":material/arrow_forward:",
         query_params: dict[str, str] | None = None) -> None:
    """A link to another page; a plain hint when the page runs outside the app's navigation."""
    try:
        st.page_link(page, label=label, icon=icon, query_params=query_params)
    except StreamlitPageNotFoundError:
        st.caption(f"Open '{label}' from the app's sidebar.")


def page_done(page: str = "") -> None:
    """Write the end-of-run marker, last on every page: an invisible element carrying the page's
    name and the number of the run that wrote it. Browser tests wait for the marker of a run
    that began after their action, instead of guessing from spinners."""
    draw_sidebar_status()  # the page has run: the sidebar can show this run's choices
    state.put(state.PAGE_RUNNING, False)
    _marker(page, int(st.session_state.get(state.RUN, 0)))


def fragment(page: str):
    """Decorator: ``st.fragment`` for a part of ``page`` that reruns alone when one of its
    widgets changes. Such a rerun gets the next run number and ends with the end-of-run marker
    of :func:`page_done`; in a run of the whole page, or when the part runs inside another
    part that reruns, the outer run writes the marker instead (once, at its end). Nothing
    outside the part (the sidebar included) may depend on its widgets: a change that other
    parts show reruns the whole app (``st.rerun()``)."""
    def decorate(fn):
        @st.fragment
        @functools.wraps(fn)
        def part(*args, **kwargs):
            inside = bool(state.get(state.FRAGMENT_RUNNING))
            outer = inside or bool(state.get(state.PAGE_RUNNING))
            state.put(state.FRAGMENT_RUNNING, True)
            try:
                fn(*args, **kwargs)
            finally:
                state.put(state.FRAGMENT_RUNNING, inside)
            if not outer:
                _marker(page, state.next_run())
        return part
    return decorate


def _marker(page: str, run: int) -> None:
    st.html(f'<span data-testid="fc-page-done" data-page="{page}" data-run="{run}" hidden>'
            "</span>")


def chart(build, *args, where=None, key: str | None = None, **kwargs) -> None:
    """Draw the Altair chart ``build(*args, **kwargs)`` (a chart builder of the core) in
    ``where`` (default: the page): its Vega-Lite spec comes from the cache, so a rerun with the
    same inputs neither builds nor validates the chart again. With ``key`` (a string that
    identifies every argument, e.g. built from ``cache.assessment_key``), the cache looks the
    chart up by it instead of hashing the arguments' data."""
    (where or st).vega_lite_chart(prepare_chart(build, *args, key=key, **kwargs))


def prepare_chart(build, *args, key: str | None = None, **kwargs) -> dict:
    """The cached Vega-Lite spec that :func:`chart` draws for the same arguments, made now (for
    a chart that a later rerun may draw) without drawing it."""
    if key is None:
        return cache.chart_spec(build.__module__, build.__name__, args, kwargs)
    return cache.keyed_chart_spec(build.__module__, build.__name__, key, args, kwargs)


def stop(page: str = "") -> NoReturn:
    """``st.stop()`` after writing the end-of-run marker (see :func:`page_done`)."""
    page_done(page)
    st.stop()


def criteria_tiles(a, feature: str, digest: str | None = None) -> None:
    """The fairness criteria of one partition as tiles (the Disparities page and share links
    show the same ones). With the data's ``digest``, what is read from the groups' rates is
    kept per assessment (the page reruns for every choice of metrics)."""
    from ..formatting import fmt_disparate_impact, fmt_num

    words = wording(a.spec.favorable_outcome)
    crit = a.criteria[feature]
    c = st.columns(5)
    # short labels so that five tiles fit side by side; the full names are in the help
    c[0].metric("Parity difference", fmt_num(crit["demographic_parity_difference"]),
                help="Demographic parity difference: the highest selection rate minus the "
                     "lowest.")
    c[1].metric("Parity ratio", fmt_num(crit["demographic_parity_ratio"]),
                help="Demographic parity ratio: the lowest selection rate divided by the "
                     "highest.")
    c[2].metric("Equalized odds", fmt_num(crit["equalized_odds_difference"]),
                help="Equalized odds difference: the larger of the gaps in true positive rates "
                     "and in false positive rates.")
    c[3].metric("Disparate impact ratio", fmt_disparate_impact(crit),
                help=f"The share of people {words.favorable_decision} in the group with the "
                     "fewest favourable decisions divided by that of the group with the most.")
    four_fifths = crit["passes_four_fifths"]
    help_text = "Passes when the disparate impact ratio is at least 0.8."
    if four_fifths and (all_or_nothing(a, feature) if digest is None else
                        cache.of_assessment(all_or_nothing, digest, a, feature)):
        # passed by construction: no success
        four_fifths = None
        help_text = (f"Every group is {words.positive_decision} all or nothing, so the ratio is "
                     "1 by construction: it says nothing about the model.")
    c[4].metric("Four-fifths rule", {True: "passes", False: "fails", None: "n/a"}[four_fifths],
                help=help_text)


def share_link(record_id: int) -> str:
    """The address of a record's read-only view: the app's root with ``?record=ID``."""
    from urllib.parse import urlsplit

    url = urlsplit(st.context.url or "")
    base = "/" + str(st.get_option("server.baseUrlPath") or "").strip("/")
    root = f"{url.scheme}://{url.netloc}" if url.netloc else ""
    return f"{root}{base.rstrip('/')}/?record={int(record_id)}"


def need(condition: bool, message: str, page: str | None = None, label: str = "") -> None:
    """Stop the page with a friendly message (and a link) when an input is missing."""
    if not condition:
        st.info(message)
        if page:
            link(page, label)
        stop()


def decisions() -> list[tuple[str, dict]]:
    """(name, decision kwargs) for each thing to assess: every model, or the chosen column."""
    kind = state.get(state.DECISION)
    if kind == "model":
        cols = state.get(state.MODEL_COLUMNS)
        return [(name, {"prediction": col} if col.startswith("prediction: ")
                 else {"score": col, "policy": state.policy()})
                for name, col in cols.items()]
    if kind == "score":
        col = state.get(state.SCORE_COL)
        return [(col, {"score": col, "policy": state.policy()})]
    col = state.get(state.PRED_COL)
    return [(col, {"prediction": col})]


def spec_for(decision: dict, **overrides) -> AssessmentSpec:
    """The AssessmentSpec of the current choices for one decision column."""
    kwargs = dict(
        target=state.get(state.TARGET),
        sensitive=tuple(state.get(state.SENSITIVE)),
        pos_label=state.get(state.POS_LABEL),
        reference=dict(state.get(state.REFERENCE)),
        bins=dict(state.get(state.BINS)),
        intersection=bool(state.get(state.INTERSECTION)),
        min_group_size=int(state.get(state.MIN_GROUP_SIZE)),
        favorable_outcome=state.get(state.FAVORABLE),
        **decision,
    )
    kwargs.update(overrides)
    return AssessmentSpec(**kwargs)


def group_labels(spec: AssessmentSpec, feature: str) -> tuple[str, ...]:
    """The groups of one sensitive feature under ``spec`` (from the cached assessment)."""
    a = assessment_of(spec)
    return tuple(next(gc.groups for gc in a.counts if gc.feature == feature))


def assessment_of(spec: AssessmentSpec):
    """The cached assessment of ``spec`` on the dataset: of the rows in memory, or counted by
    DuckDB where a server dataset lives (with a spinner while it counts)."""
    digest = state.get(state.DATA_DIGEST)
    source = state.get(state.SOURCE)
    if source is None:
        data = state.get(state.DATA)
        a = cache.assessment(digest, data, spec, counting=lambda: st.spinner(
            f"Counting {len(data):,} rows by {', '.join(spec.sensitive)}..."))
    else:
        a = _counted(digest, source, spec)
    _keep_assessed(digest, spec, a)
    return a


def _keep_assessed(digest, spec: AssessmentSpec, a) -> None:
    """Keep a reference to the last few assessments drawn (no copy): the sidebar reads the
    policy's group sizes from them instead of counting again (see :func:`_sized`)."""
    kept = [k for k in state.get(state.ASSESSED) if k[2] is not a][-(ASSESSED_KEPT - 1):]
    state.put(state.ASSESSED, [*kept, (digest, spec, a)])


def vanished(a) -> list[str]:
    """The groups of ``a`` whose every row was left out for a missing outcome or decision
    (``prepare.vanished_groups``): named by the engine that counted a dataset where it lives,
    or from the rows in memory (an upload), found once per cube."""
    from ..prepare import vanished_of

    if not a.n_dropped:
        return []
    rows = state.get(state.DATA) if state.get(state.SOURCE) is None else None
    return vanished_of(a.cube, a.spec, rows)


def _counted(digest, source, spec: AssessmentSpec):
    return cache.counted_assessment(
        digest, source["path"], spec,
        counting=lambda: st.spinner(
            f"Counting {source['rows']:,} rows with DuckDB where they are...", show_time=True),
        recounting=lambda: st.spinner(
            f"Recounting, among {source['rows']:,} rows, those whose scores lie next to the "
            "new thresholds...", show_time=True))


def current_assessments(**overrides):
    """[(name, Assessment)] for the current choices; shows st.error and stops on bad input."""
    out = []
    try:
        for name, decision in decisions():
            spec = spec_for(decision, **overrides)
            out.append((name, assessment_of(spec)))
    except FaircardError as exc:
        error(exc)
        stop()
    return out


def without_bootstrap(results: list) -> None:
    """Say, once, why the assessments have no bootstrap intervals when their combinations of
    groups were too many to resample (see :func:`faircard.ui.cache.resampled_if_possible`)."""
    said = next((a.extras[cache.NO_BOOTSTRAP] for _, a in results
                 if cache.NO_BOOTSTRAP in a.extras), None)
    if said:
        info(said)


def focus(results: list) -> tuple[str, object]:
    """(name, Assessment) of the model in focus (the first when none is chosen)."""
    names = [n for n, _ in results]
    chosen = state.get(state.FOCUS_MODEL)
    name = chosen if chosen in names else names[0]
    return name, dict(results)[name]


def dataset_sha256() -> str:
    """sha256 of the dataset: of the uploaded file's bytes, or, for data that came without a
    file (the built-in demo), of the table written as CSV."""
    digest = str(state.get(state.DATA_DIGEST) or "")
    head = digest.split("+")[0].split("@")[0]
    if SHA256_RE.match(head):
        return head
    cached = state.get(state.TABLE_SHA256)
    if cached and cached[0] == digest:
        return cached[1]
    data = state.get(state.DATA)
    sha = hashlib.sha256(data.to_csv(index=False).encode("utf-8")).hexdigest()
    state.put(state.TABLE_SHA256, (digest, sha))
    return sha


def models_of(name: str) -> list:
    """The loaded model called ``name`` as a one-item list (empty for a score or prediction
    column), for fingerprints and records."""
    return [m for m in state.get(state.MODELS) if m.name == name]


def model_info(name: str) -> dict[str, str]:
    """Name, type and sha256 of the model called ``name`` (type and sha256 empty for a score
    or prediction column), for the card."""
    return next(({"name": m.name, "type": m.model_type, "sha256": m.sha256}
                 for m in state.get(state.MODELS) if m.name == name),
                {"name": name, "type": "", "sha256": ""})


def card_text(name: str) -> dict[str, dict[str, str]]:
    """The card's authors' text as the card page shows it: what was written, with the model's
    name and type filled in where nobody has been asked yet."""
    text = {s: dict(v) for s, v in state.get(state.CARD_TEXT).items()}
    details = text.setdefault("model_details", {})
    info = model_info(name)
    for f in ("name", "type"):
        if f not in details:
            details[f] = info[f]
    return text


def diagnostics_key(name: str, spec: AssessmentSpec) -> str:
    """What the diagnostics of the model or column ``name`` depend on among the session's
    choices: the data, the outcome, the groups, which of them are compared (the minimum group
    size) and the decision rule."""
    import json

    return json.dumps([state.get(state.DATA_DIGEST), name, spec.target, repr(spec.pos_label),
                       list(spec.sensitive), {k: b.to_dict() for k, b in spec.bins.items()},
                       spec.policy.to_dict() if spec.policy is not None else None,
                       spec.favorable_outcome, spec.min_group_size, spec.include_small_groups],
                      sort_keys=True, default=str)


def card_diagnostics(name: str, spec: AssessmentSpec) -> dict | None:
    """The bias-sources checklist (with the experts' answers) and the top proxies that the
    Diagnostics page last showed for ``name`` under the same choices as ``spec``, as keyword
    arguments of ``build_card``; None when it showed them for other choices or not at all."""
    saved = state.get(state.DIAG_CARD)
    if not saved or saved.get("for") != diagnostics_key(name, spec):
        return None
    return {"bias_sources": saved["bias_sources"], "proxies": saved["proxies"]}


def _authors_text(name: str) -> dict[str, dict[str, str]]:
    """The card's authors' text as it is fingerprinted and recorded: the model's own name and
    type come from the model, which the fingerprint covers already; left as filled in, they
    are not authors' text (so the command line finds the record)."""
    text = card_text(name)
    info = model_info(name)
    text["model_details"] = {k: v for k, v in text["model_details"].items()
                             if not (k in ("name", "type") and v == info[k])}
    return text


def record_spec(assessment, name: str) -> dict:
    """The recorded choices of ``assessment`` (of the model or column ``name``) for the audit
    store: its spec, the favourable setting and the model card's authors' text (see
    ``governance.records.spec_of``). The Governance page records with it and the card page
    looks its record up with it."""
    from ..governance.records import spec_of

    text = _authors_text(name)
    extra = card_diagnostics(name, assessment.spec)
    if extra:  # the card states the checklist, so its approval covers it (as card JSON does)
        text[CHECKLIST_SECTION] = checklist_text(**extra, hidden=_hidden(assessment))
    return spec_of(assessment, card_text=text)


def _hidden(assessment) -> set[tuple[str, str]]:
    """The groups the Model card page leaves out of the card (none unless asked)."""
    return hidden_groups(assessment, bool(state.get(state.CARD_SUPPRESS)))


def record_card(name: str, assessment) -> dict:
    """The model card of ``name`` as the Model card page shows it, for a record: the authors'
    text, the bias-sources checklist and proxies (which :func:`record_spec` fingerprints with
    it), the model, the metrics shown, the personal-data columns left out and whether small
    groups are left out."""
    from ..governance.recorded_card import card_document

    return card_document(_authors_text(name), model=model_info(name),
                         metrics=state.get(state.METRICS),
                         personal_data=[f.column for f in state.get(state.PII)],
                         suppress_small_groups=bool(state.get(state.CARD_SUPPRESS)),
                         # as the card states them: without the groups it leaves out
                         **card_checklist(**(card_diagnostics(name, assessment.spec)
                                             or {"bias_sources": None, "proxies": None}),
                                          hidden=_hidden(assessment)))


def review_of(assessment, name: str) -> dict[str, str] | None:
    """The card's ``review`` section from the audit store: the status of the record whose
    fingerprint matches what the card says, "changed since approval" when only an older
    content of the card was approved, or None when there is no store or no such record."""
    from ..governance import assessment_fingerprint, store_exists
    from ..governance.approval import card_review
    from ..governance.records import summary_of
    from .auth import open_store

    if not store_exists():
        return None
    try:
        models = models_of(name)
        spec = record_spec(assessment, name)
        fp = assessment_fingerprint(assessment, dataset_sha256=dataset_sha256(),
                                    models=models, spec=spec)
        with open_store() as store:
            return card_review(store, fingerprint=fp, dataset_sha256=dataset_sha256(),
                               model_sha256s=[m.sha256 for m in models], spec=spec,
                               summary=summary_of(assessment),
                               card=record_card(name, assessment),
                               available=list(assessment.metrics))
    except FaircardError:
        return None


def next_step() -> tuple[str, str] | None:
    """(page, label) of the first step still missing, or None when everything is set."""
    if not state.has_roles():
        return PAGE_DATA, "Load data and decisions"
    if not state.has_sensitive():
        return PAGE_SENSITIVE, "Choose sensitive features"
    if not state.get(state.POLICY_CHOSEN) and state.get(state.DECISION) != "prediction":
        return PAGE_THRESHOLDS, "Choose the decision policy"
    return PAGE_CARD, "Write the model card"


def open_sidebar_status() -> None:
    """Ask for the sidebar status once the page has run (see :func:`draw_sidebar_status`), so
    it shows what this run chose rather than what the previous run had."""
    state.put(state.SIDEBAR_PENDING, True)


def draw_sidebar_status() -> None:
    """Draw the sidebar status asked for by :func:`open_sidebar_status`, once per run (nothing
    when the page runs outside the app). Until then the previous run's status stays shown."""
    if not state.get(state.SIDEBAR_PENDING):
        return
    state.put(state.SIDEBAR_PENDING, False)
    with st.sidebar:
        _status()


def _status() -> None:
    """What is loaded, and the next step, in the current container (the loaded facts in one
    block of text: each element is drawn again on every run of the app)."""
    step = next_step()
    if step:
        st.markdown("### Next step")
        link(*step)
    data = state.get(state.DATA)
    if data is None:
        st.markdown("### Loaded")
        st.caption("No dataset yet.")
        return
    source = state.get(state.SOURCE)
    rows = source["rows"] if source else len(data)
    lines = [f"**Dataset:** {escape(state.get(state.DATA_NAME))}  \n"
             f"{rows:,} rows x {data.shape[1]} columns"
             + ("  \ncounted where it lives (DuckDB)" if source else "")]
    models = state.get(state.MODELS)
    if models:
        lines.append("**Models:** " + ", ".join(escape(m.name) for m in models))
    elif state.get(state.DECISION) == "score" and state.get(state.SCORE_COL):
        lines.append(f"**Score:** {escape(state.get(state.SCORE_COL))}")
    if state.get(state.DECISION) != "prediction":
        lines.append(f"**Decision policy:** {escape(_policy_said())}")
    elif state.get(state.PRED_COL):
        lines.append(f"**Predictions:** {escape(state.get(state.PRED_COL))}")
    if state.get(state.TARGET):
        lines.append(f"**Outcome:** {escape(state.get(state.TARGET))}  \n"
                     f"a positive decision is {wording(state.get(state.FAVORABLE)).kind}")
    sens = state.get(state.SENSITIVE)
    if sens:
        lines.append("**Sensitive features:** " + ", ".join(escape(s) for s in sens))
    st.markdown("\n\n".join(["### Loaded", *lines]))


def _policy_said() -> str:
    """The decision policy in words, its groups too small to compare marked as the card marks
    them, from the first draw: the group sizes come from an assessment a page drew lately for
    the same rows and features (whatever its rule, intervals or reference), else from the
    assessment of the current choices without intervals (counted once, as every page that
    compares groups needs the same counts). A group small for some of the models the policy
    decides (those with scores) says which."""
    policy = state.policy()
    positive = wording(state.get(state.FAVORABLE)).positive_decision
    if policy.is_single:
        return policy.describe(positive=positive)
    small: dict[str, list[str]] = {}
    try:
        named = [(n, d) for n, d in decisions() if "policy" in d]  # scores, not labels
        for name, decision in named:
            spec = spec_for(decision)
            for g in small_group_notes(policy.feature, _sized(spec)):
                small.setdefault(g, []).append(name)
    except FaircardError:  # choices not complete or not valid: no sizes to mark
        return policy.describe(positive=positive)
    m = int(state.get(state.MIN_GROUP_SIZE))
    notes = {g: f"fewer than {m:,} people"
                + ("" if len(names) == len(named) else " for " + ", ".join(names))
                + ": not compared"
             for g, names in small.items()}
    return policy.describe(notes=notes, positive=positive)


def _sized(spec: AssessmentSpec):
    """An assessment with the group sizes and minimum group size of ``spec``: one a page drew
    lately (the same rows and groups, whatever its rule, intervals or reference), or one
    made from its counts with ``spec``'s minimum; else that of ``spec`` without intervals."""
    import dataclasses

    digest = state.get(state.DATA_DIGEST)
    rest = _size_choices(spec)
    limits = {"min_group_size": spec.min_group_size,
              "include_small_groups": spec.include_small_groups}
    for d, s, a in reversed(state.get(state.ASSESSED) or []):
        if d == digest and _size_choices(s) == rest:
            if all(getattr(s, k) == v for k, v in limits.items()):
                return a
            return assessment_of(dataclasses.replace(s, n_boot=0, **limits))
    return assessment_of(dataclasses.replace(spec, n_boot=0))


_SIZE_FREE = ("reference", "min_group_size", "include_small_groups", "n_boot", "confidence",
              "random_state", "threshold", "policy")
"""Choices that leave every group's size unchanged (which rows are kept, and their groups)."""


def _size_choices(spec: AssessmentSpec) -> dict:
    return {k: v for k, v in spec.to_dict().items() if k not in _SIZE_FREE}


# Every character that can start Markdown in Streamlit: CommonMark and GFM (emphasis, code,
# links, images, headings, lists, tables, HTML, entities, autolinks, strikethrough, setext
# underlines) plus Streamlit's LaTeX ($) and directives (:red[...], :material/...:).
# CommonMark lets any ASCII punctuation be escaped with a backslash, which is then dropped.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:&=@/])")


def escape(text) -> str:
    """``text`` (user data, or a message that may contain it) made inert for everything that
    Streamlit renders as Markdown (st.markdown, st.error/warning/info/success, captions,
    headers, widget labels): each Markdown character escaped, each line's leading whitespace
    removed (so it cannot become a code block), and control characters, bidirectional ones
    included, shown as escapes as in the card (so a name cannot reorder the sentence it is in).
    It reads the same on screen."""
    s = "" if text is None else str(text)
    lines = s.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _MARKDOWN.sub(r"\\\1", visible("\n".join(line.lstrip(" \t") for line in lines)))


def error(message) -> None:
    """``st.error`` of a message (often a FaircardError naming a user's column, group or file)
    shown as literal text."""
    st.error(escape(message))


def warning(message) -> None:
    """``st.warning`` of a message that may contain user data, as literal text."""
    st.warning(escape(message))


def info(message) -> None:
    """``st.info`` of a message that may contain user data, as literal text."""
    st.info(escape(message))


def caption(message) -> None:
    """``st.caption`` of a message that may contain user data, as literal text."""
    st.caption(escape(message))
