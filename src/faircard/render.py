"""Render a ModelCard to Markdown, HTML, PDF and JSON from Jinja templates.

One Jinja environment: autoescape for ``.html.j2`` only, ``StrictUndefined``, formatting
filters. Markdown cells escape ``|``, newlines and HTML. The PDF is WeasyPrint from the same
HTML with a URL fetcher that serves only ``data:`` URIs, so rendering never touches the network.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml

from .card import QUESTIONS, ModelCard
from .errors import FaircardError
from .formatting import fmt_num, fmt_pct

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell or paragraph: no HTML, no pipes, no newlines."""
    s = "" if value is None else str(value)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = s.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return s


def md_text(value: Any) -> str:
    """Author text for a Markdown paragraph: HTML neutralised, line breaks kept."""
    s = "" if value is None else str(value)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def environment(template_dir: str | Path | None = None) -> jinja2.Environment:
    """The Jinja environment: a user's folder first (if given), then faircard's templates."""
    paths = [str(template_dir)] if template_dir else []
    if template_dir and not Path(template_dir).is_dir():
        raise FaircardError(f"The template folder '{template_dir}' does not exist.")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths + [str(PACKAGE_TEMPLATES)]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=fmt_num, pct=fmt_pct, md=md_cell, mdtext=md_text,
                       label=lambda f: f.replace("_", " ").capitalize())
    env.globals["questions"] = QUESTIONS
    return env


def _context(card: ModelCard, charts: dict[str, str] | None = None) -> dict[str, Any]:
    d = card.to_dict()
    features = []
    for row in d["quantitative"]["by_group"]:
        if row["feature"] not in features:
            features.append(row["feature"])
    return {"card": d, "features": features, "charts": charts or {},
            "name": d["model_details"].get("name") or "Unnamed model"}


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
    """SafeDumper that double-quotes strings containing HTML-significant characters."""


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = '"' if any(c in value for c in "<>&") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SafeHtmlDumper.add_representer(str, _represent_str)


def render_markdown(card: ModelCard, template_dir: str | Path | None = None) -> str:
    env = environment(template_dir)
    ctx = _context(card)
    ctx["front_matter"] = front_matter(card)
    return env.get_template("model_card.md.j2").render(**ctx)


def chart_images(card: ModelCard, metrics: list[str] | None = None) -> dict[str, str]:
    """PNG data URIs of per-group bar charts (one per feature x metric), drawn offline."""
    import vl_convert as vlc

    from .charts import metric_bars

    d = card.to_dict()
    rows = []
    for r in d["quantitative"]["by_group"]:
        for m, v in r["values"].items():
            lo, hi = (r.get("intervals") or {}).get(m, [None, None])
            rows.append({"feature": r["feature"], "group": r["group"], "metric": m, "value": v,
                         "n": r["n"], "is_small_group": r["is_small_group"],
                         "ci_low": lo, "ci_high": hi})
    frame = pd.DataFrame(rows)
    out = {}
    if frame.empty:
        return out
    for feature in frame["feature"].unique():
        for m in (metrics or ["selection_rate"]):
            if m not in set(frame["metric"]):
                continue
            chart = metric_bars(frame, m, feature, d["quantitative"]["overall"].get(m))
            png = vlc.vegalite_to_png(chart.to_json(), scale=2)
            out[f"{feature}|{m}"] = "data:image/png;base64," + base64.b64encode(png).decode()
    return out


def render_html(card: ModelCard, template_dir: str | Path | None = None,
                charts: dict[str, str] | None = None) -> str:
    env = environment(template_dir)
    if charts is None:
        charts = chart_images(card)
    return env.get_template("model_card.html.j2").render(**_context(card, charts))


def data_only_fetcher():
    """A WeasyPrint URL fetcher that allows only ``data:`` URIs (no network, no files)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=["data"])


def render_pdf(card: ModelCard, template_dir: str | Path | None = None,
               html: str | None = None) -> bytes:
    """PDF bytes: WeasyPrint from the HTML card; only ``data:`` URLs are fetched."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise FaircardError("PDF export needs WeasyPrint: pip install 'faircard[pdf]'.") from None
    html = html if html is not None else render_html(card, template_dir)
    return HTML(string=html, url_fetcher=data_only_fetcher()).write_pdf()


def render_json(card: ModelCard) -> str:
    return card.to_json() + "\n"
