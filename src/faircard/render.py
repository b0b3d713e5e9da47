"""Render a ModelCard to Markdown, HTML, PDF and JSON from Jinja templates.

One Jinja environment, sandboxed (a template cannot reach Python internals, loops are bounded):
autoescape for ``.html.j2`` only, ``StrictUndefined``, formatting filters. Every value a
template prints passes through :func:`faircard.safe_text.visible`, so control characters
reach no renderer; Markdown cells and text also lose any markup (:mod:`faircard.safe_text`).
A user's template folder (``--templates``) renders in a child process with time and memory
limits. Chart images (vl-convert) and the PDF (WeasyPrint, ``data:`` URLs only, so rendering
never touches the network) are drawn in a child process too (:mod:`faircard.render_worker`).
"""

from __future__ import annotations

import base64
import functools
import numbers
import operator
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from .card import QUESTIONS, ModelCard
from .errors import FaircardError
from .formatting import (
    fmt_disparate_impact,
    fmt_int,
    fmt_level,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_threshold,
)
from .render_worker import data_only_fetcher, run_job
from .safe_text import LABEL_CHARS, has_unsafe, md_cell, md_text, short_labels, visible
from .text_table import plain_table

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
MAX_TEMPLATE_VALUE = 10_000_000
"""Largest string or list a template may build with ``*`` (items), and largest ``**`` result
(bits): a template that needs more is broken or hostile."""

__all__ = ["data_only_fetcher", "environment", "front_matter", "markdown_body", "md_cell",
           "md_text", "render_html", "render_json", "render_markdown", "render_pdf",
           "render_template", "table_groups_of"]


class _CardSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no ``__class__``/``__globals__``, no mutation of the card, ``range``
    capped) plus limits on ``*`` and ``**``, with which one expression can exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator_name, left, right):
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int) \
                        and len(seq) * times > MAX_TEMPLATE_VALUE:
                    raise jinja2.sandbox.SecurityError(
                        f"repeating a sequence {times:,} times is over the limit")
            return operator.mul(left, right)
        if isinstance(left, int) and isinstance(right, int) and right > 0 \
                and max(abs(left).bit_length(), 1) * right > MAX_TEMPLATE_VALUE:
            raise jinja2.sandbox.SecurityError(f"the power {left}**{right} is over the limit")
        return operator.pow(left, right)


def _finalize(value: Any) -> Any:
    """Every printed value: control characters as visible escapes, markup kept as markup."""
    if isinstance(value, Markup):
        return Markup(visible(str(value))) if has_unsafe(value) else value
    if isinstance(value, str):
        return visible(value)
    return value


def environment(template_dir: str | Path | None = None) -> jinja2.Environment:
    """The sandboxed Jinja environment: a user's folder first (if given), then faircard's."""
    paths = [str(template_dir)] if template_dir else []
    if template_dir and not Path(template_dir).is_dir():
        raise FaircardError(f"The template folder '{template_dir}' does not exist.")
    env = _CardSandbox(
        loader=jinja2.FileSystemLoader(paths + [str(PACKAGE_TEMPLATES)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=fmt_num, count=fmt_int, threshold=fmt_threshold, pct=fmt_pct,
                       pvalue=fmt_p, level=fmt_level,
                       md=md_cell, mdtext=md_text, label=_label,
                       disparate_impact=fmt_disparate_impact, bands=_bands)
    env.globals["questions"] = QUESTIONS
    return env


def _bands(binning: Any) -> str:
    """A feature's bands as the card states them: which values each holds, edges included or
    not, as they were applied (``{"edges", "labels"}``); only their names when the edges
    cannot be read."""
    from .spec import Binning

    try:
        return Binning.from_dict(binning).describe_edges()
    except (FaircardError, KeyError, TypeError, ValueError, AttributeError):
        labels = binning.get("labels") if isinstance(binning, dict) else None
        return ", ".join(map(str, labels or ())) + "."


@jinja2.pass_context
def _label(context, key: str) -> str:
    """A metric's name as the card states it (the selection rate says what a selection is:
    "share approved" or "share flagged"); any other key turned into words."""
    card = context.get("card")
    labels = card.get("metrics", {}).get("labels", {}) if isinstance(card, dict) else {}
    return labels.get(key) or key.replace("_", " ").capitalize()


@functools.cache
def _package_environment() -> jinja2.Environment:
    """The environment of faircard's own templates, made once per process: Jinja compiles a
    template on its first use in an environment and keeps it (the Model card page renders
    the card on every edit of its text; compiling its template took about 0.1 s each time)."""
    return environment(None)


def render_template(template_dir: str | Path | None, name: str, context: dict[str, Any]) -> str:
    """Render template ``name`` with ``context``; any template problem is a FaircardError
    naming the file and line."""
    where = f"'{template_dir}' or faircard's own templates" if template_dir else \
        "faircard's own templates"
    env = environment(template_dir) if template_dir else _package_environment()
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise FaircardError(f"The template '{exc.name}' was not found in {where}.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise FaircardError(f"The template '{exc.filename or exc.name or name}' has a syntax "
                            f"error on line {exc.lineno}: {exc.message}.") from None
    except jinja2.sandbox.SecurityError as exc:
        raise FaircardError(f"The template '{name}' tried something templates may not do "
                            f"({exc}); templates run in a sandbox.") from None
    except jinja2.UndefinedError as exc:
        raise FaircardError(f"The template '{name}' uses a value the card does not have "
                            f"({exc.message}).") from None
    except jinja2.TemplateError as exc:
        raise FaircardError(f"The template '{name}' failed: {exc}.") from None


def _render(name: str, template_dir: str | Path | None, context: dict[str, Any]) -> str:
    """faircard's templates render here; a user's folder renders in a bounded child."""
    if not template_dir:
        return render_template(None, name, context)
    if not Path(template_dir).is_dir():
        raise FaircardError(f"The template folder '{template_dir}' does not exist.")
    job = {"dir": str(Path(template_dir).resolve()), "name": name, "context": context}
    return run_job("template", job)["text"]


def _context(card: ModelCard, charts: dict[str, str] | None = None,
             table_groups: int | None = None) -> dict[str, Any]:
    table_groups = table_groups_of(table_groups)
    d = card.to_dict()
    features = []
    for row in d["quantitative"]["by_group"]:
        if row["feature"] not in features:
            features.append(row["feature"])
    names = features + [row["group"] for row in d["quantitative"]["by_group"]]
    labels = {full: short for full, short in short_labels(names).items()
              if len(full) > LABEL_CHARS}
    charts = charts or {}
    if labels:  # drawn short wherever the card names them, listed whole once at its end
        d = _shorten(d, labels)
        features = [labels.get(f, f) for f in features]
        charts = {_shorten(k, labels): uri for k, uri in charts.items()}
    return {"card": d, "features": features, "charts": charts, "appendix": _appendix(d, table_groups),
            "shortened": [{"label": short, "name": full,
                           "start": full if len(full) <= NAME_SHOWN else full[:NAME_SHOWN] + "…"}
                          for full, short in labels.items()],
            "name": d["model_details"].get("name") or "Unnamed model"}


PLAIN_TABLE_GROUPS = 100
"""The default of ``table_groups``: a feature with more groups than this is listed in the HTML
and PDF card's appendix as a plain-text table (:mod:`faircard.text_table`), which the card
says where its table would be: WeasyPrint took 50 s of CPU to lay out the 3,002 table rows of
a card of 1,000 groups, 7.4 s with the appendix (``benchmarks/bench_render.py``). Set by
``faircard card --table-groups`` and on the Model card page."""


def table_groups_of(value: Any) -> int:
    """``value`` as the largest number of groups a feature may have to be laid out as a table
    in the HTML and PDF card (None: :data:`PLAIN_TABLE_GROUPS`); a :class:`FaircardError` for
    anything but a whole number of at least 0."""
    if value is None:
        return PLAIN_TABLE_GROUPS
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise FaircardError(f"The number of groups laid out as a table must be a whole number "
                            f"of at least 0 (got {value!r}); features with more groups are "
                            "listed in the card's appendix as plain text.")
    return int(value)


def _appendix(d: dict[str, Any], table_groups: int) -> dict[str, dict[str, Any]]:
    """{feature: {"n_groups", "intervals", "blocks"}} of the card's features with more than
    ``table_groups`` groups: every figure of their per-group tables, as text."""
    rows_of: dict[str, list[dict[str, Any]]] = {}
    for r in d["quantitative"]["by_group"]:
        rows_of.setdefault(r["feature"], []).append(r)
    shown = d["metrics"]["shown"]
    labels = d["metrics"].get("labels", {})
    headers = ["Group", "People"] + [labels.get(m) or m.replace("_", " ").capitalize()
                                     for m in shown]
    out = {}
    for feature, rows in rows_of.items():
        if len(rows) <= table_groups:
            continue
        cells, intervals = [], False
        for r in rows:
            row = [visible(r["group"]), fmt_int(r["n"]) + (" (small)" if r["is_small_group"]
                                                           else "")]
            for m in shown:
                iv = (r.get("intervals") or {}).get(m)
                text = fmt_num(r["values"].get(m))
                if iv and iv[0] is not None:
                    text += f" [{fmt_num(iv[0])}-{fmt_num(iv[1])}]"
                    intervals = True
                row.append(text)
            cells.append(row)
        out[feature] = {"n_groups": len(rows), "intervals": intervals,
                        "blocks": plain_table(headers, cells,
                                              right=[False] + [True] * (len(headers) - 1))}
    return out


NAME_SHOWN = 200
"""Characters of a shortened name that the card's list of them prints (the HTML card has
the whole name as the cell's tooltip, the JSON card everywhere): the PDF renderer takes
minutes to wrap a word of thousands of characters."""


def _shorten(value: Any, labels: dict[str, str]) -> Any:
    """``value`` with every long name in ``labels`` (full name -> label) replaced by its label,
    in every string it holds (the longest names first, so that no name is cut inside
    another's label). A 50,000-character group name printed in each table and finding made
    the PDF take three times as long; the card then lists it whole once."""
    if isinstance(value, str):
        for full in sorted(labels, key=len, reverse=True):
            if full in value:
                value = value.replace(full, labels[full])
        return value
    if isinstance(value, dict):
        return {_shorten(k, labels): _shorten(v, labels) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_shorten(v, labels) for v in value)
    return value


def front_matter(card: ModelCard) -> str:
    """YAML front matter for Hugging Face: license, library_name, tags, model-index, fairness."""
    d = card.to_dict()
    q = d["quantitative"]
    name = d["model_details"].get("name") or "model"
    metrics = [{"type": m, "name": d["metrics"]["labels"].get(m, m), "value": v}
               for m, v in q["overall"].items() if v is not None]
    meta = {
        "license": d["model_details"].get("license") or "other",
        "library_name": "sklearn",
        "tags": ["fairness", "model-card", "faircard", "tabular-classification"],
        "model-index": [{
            "name": name,
            "results": [{
                "task": {"type": "tabular-classification", "name": "Binary classification"},
                "dataset": {"type": "tabular",
                            "name": d["evaluation_data"].get("name") or "evaluation data"},
                "metrics": metrics,
            }],
        }],
        "fairness": [{"feature": r["feature"], "group": r["group"], "n": r["n"],
                      "small_group": r["is_small_group"], "metrics": r["values"]}
                     for r in q["by_group"]],
    }
    text = yaml.dump(meta, Dumper=_SafeHtmlDumper, sort_keys=False, allow_unicode=True)
    # strings holding <, > or & were forced into double quotes, where \x escapes are valid:
    # YAML readers get the exact value back and the raw text carries no HTML
    return text.replace("<", "\\x3c").replace(">", "\\x3e").replace("&", "\\x26")


class _SafeHtmlDumper(yaml.SafeDumper):
    """SafeDumper that double-quotes strings containing HTML-significant or control
    characters (double quotes are the YAML style where both are written as escapes)."""


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = '"' if any(c in value for c in "<>&") or has_unsafe(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SafeHtmlDumper.add_representer(str, _represent_str)


def _markdown(card: ModelCard, template_dir: str | Path | None) -> tuple[str, str]:
    ctx = _context(card)
    ctx["front_matter"] = front_matter(card)
    return _render("model_card.md.j2", template_dir, ctx), ctx["front_matter"]


def render_markdown(card: ModelCard, template_dir: str | Path | None = None) -> str:
    """The card as Markdown with YAML front matter (Hugging Face model card layout)."""
    return _markdown(card, template_dir)[0]


def markdown_body(card: ModelCard) -> str:
    """The Markdown card without its front matter, e.g. for a live preview."""
    md, meta = _markdown(card, None)
    head = f"---\n{meta}---\n"
    return md[len(head):] if md.startswith(head) else md


def chart_images(card: ModelCard, metrics: list[str] | None = None) -> dict[str, str]:
    """PNG data URIs of per-group bar charts (one per feature x metric), drawn offline in a
    child process. Keys are ``"feature|metric"`` with the card's own feature names."""
    import pandas as pd

    from .charts import metric_bars

    d = card.to_dict()
    rows = []
    for r in d["quantitative"]["by_group"]:
        for m, v in r["values"].items():
            lo, hi = (r.get("intervals") or {}).get(m, [None, None])
            rows.append({"feature": r["feature"], "group": visible(r["group"]), "metric": m, "value": v,
                         "n": r["n"], "is_small_group": r["is_small_group"],
                         "ci_low": lo, "ci_high": hi})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return {}
    keys, specs = [], []
    for feature in frame["feature"].unique():
        part = frame[frame["feature"] == feature].assign(feature=visible(feature))
        for m in (metrics or ["selection_rate"]):
            if m not in set(part["metric"]):
                continue
            label = d["metrics"].get("labels", {}).get(m)
            bars, title = _bars_to_draw(part[part["metric"] == m], m, visible(feature), label)
            chart = metric_bars(bars, m, visible(feature), d["quantitative"]["overall"].get(m),
                                label=label)
            if title is not None:
                chart = chart.properties(title=title)
            keys.append(f"{feature}|{m}")
            specs.append(chart.to_json())
    if not specs:
        return {}
    pngs = run_job("charts", {"specs": specs, "scale": 2})["png"]
    return {k: "data:image/png;base64," + png for k, png in zip(keys, pngs, strict=True)}


MAX_BARS = 40
"""Most bars a card's chart draws for one feature. A feature with more groups is drawn as its
:data:`MAX_BARS` // 2 lowest and highest groups, and says so; its table lists every group (a
chart of 1,000 bars was a 52,000-pixel image that took minutes to draw and to lay out)."""


def _bars_to_draw(rows, metric: str, feature: str, label: str | None):
    """(the rows of one feature and metric to draw, the chart's title when only some are
    drawn, else None)."""
    import altair as alt

    from .metrics import LABELS

    if len(rows) <= MAX_BARS:
        return rows, None
    defined = rows[rows["value"].notna()].sort_values("value", kind="stable")
    k = MAX_BARS // 2
    drawn = defined if len(defined) <= MAX_BARS else \
        defined.iloc[list(range(k)) + list(range(len(defined) - k, len(defined)))]
    label = label or LABELS.get(metric, metric)
    head = (f"the {k} lowest and {k} highest of {len(rows):,} groups"
            if len(drawn) < len(defined) else f"the {len(drawn):,} of {len(rows):,} groups "
            "with a value")
    undefined = len(rows) - len(defined)
    tail = f"; {undefined:,} have no value" if undefined and len(drawn) < len(defined) else ""
    return drawn, alt.TitleParams([f"{label} by {short_labels([feature])[feature]}",
                                   f"{head}{tail}; the table lists every group"])


def render_html(card: ModelCard, template_dir: str | Path | None = None,
                charts: dict[str, str] | None = None,
                table_groups: int | None = None) -> str:
    """The card as one self-contained HTML page (charts embedded as data: URIs). A feature
    with more than ``table_groups`` groups (default :data:`PLAIN_TABLE_GROUPS`) lists them in
    an appendix as plain text instead of a table."""
    table_groups = table_groups_of(table_groups)  # refused before any chart is drawn
    if charts is None:
        charts = chart_images(card)
    return _render("model_card.html.j2", template_dir, _context(card, charts, table_groups))


def render_pdf(card: ModelCard, template_dir: str | Path | None = None,
               html: str | None = None, table_groups: int | None = None) -> bytes:
    """PDF bytes: WeasyPrint from the HTML card (``html``, else :func:`render_html` with
    ``table_groups``), in a child process; only ``data:`` URLs are fetched."""
    html = html if html is not None else render_html(card, template_dir,
                                                     table_groups=table_groups)
    return base64.b64decode(run_job("pdf", {"html": html})["pdf"])


def render_json(card: ModelCard) -> str:
    return card.to_json() + "\n"
