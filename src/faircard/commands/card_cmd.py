"""``faircard card``: write the model card (Markdown, HTML, PDF, JSON) for an assessment."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..card import build_card, left_out_text
from ..errors import FaircardError
from ..render import (
    PLAIN_TABLE_GROUPS,
    render_html,
    render_json,
    render_markdown,
    render_pdf,
    table_groups_of,
)
from . import common

FORMATS = ("md", "html", "pdf", "json")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("card", help="write the model card (md, html, pdf, json)",
                       description="Assess DATA and write model_card.{md,html,pdf,json}.")
    common.add_data_options(p)
    common.add_engine_options(p)
    p.add_argument("--out", required=True, help="folder to write the card files to")
    common.add_card_text_option(p, "reuse the text sections of a card JSON")
    p.add_argument("--diagnostics", metavar="DIAG.json",
                   help="the file written by 'faircard diagnose --json' (with --checklist "
                   "answers): its bias-sources checklist goes into the ethical considerations "
                   "and its top proxies into the caveats")
    p.add_argument("--formats", default="md,html,pdf,json", help="comma-separated formats")
    p.add_argument("--templates", metavar="DIR", help="folder with your own templates")
    p.add_argument("--suppress-small-groups", action="store_true",
                   help="leave groups below the minimum size out of the card")
    p.add_argument("--table-groups", type=int, default=PLAIN_TABLE_GROUPS, metavar="N",
                   help="in the HTML and PDF card, a feature with more than N groups lists "
                   "them in an appendix as plain text, not as a table (default "
                   f"{PLAIN_TABLE_GROUPS}; laying out thousands of table rows takes the PDF "
                   "renderer minutes)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table_groups_of(args.table_groups)  # refused before anything is counted
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise FaircardError(f"Unknown format(s) {', '.join(bad)}; choose from md, html, pdf, json.")
    text = common.read_card_text(args.card_json)
    checklist = read_diagnostics(args.diagnostics) if args.diagnostics else {}
    diagnosed_for = checklist.pop("made_for", None)
    flags, data = common.personal_data_of(args, "The model card")
    from ..models_assess import check_sensitive_not_personal

    check_sensitive_not_personal(args.sensitive, flags)
    # counted by the chosen engine, as assess does
    result = common.assess_data(args, data, flags=flags)
    name, sha256 = common.dataset_identity(args)
    if args.diagnostics:  # evidence about other decisions than the card's is not evidence
        from ..diagnostics.made_for import check_made_for

        check_made_for(diagnosed_for, result, sha256, f"The diagnostics '{args.diagnostics}'")
    card = build_card(result, text=text, personal_data=[f.column for f in flags],
                      dataset={"name": name, "sha256": sha256},
                      suppress_small_groups=args.suppress_small_groups, **checklist)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FaircardError(f"Cannot create folder '{out}': {exc.strerror or exc}.") from None
    written = []
    html = None
    pdf_error: FaircardError | None = None
    for fmt in formats:
        target = out / f"model_card.{fmt}"
        if fmt == "md":
            content: str | bytes = render_markdown(card, args.templates)
        elif fmt == "json":
            content = render_json(card)
        elif fmt == "html":
            content = html = render_html(card, args.templates,
                                         table_groups=args.table_groups)
        else:
            try:
                content = render_pdf(card, args.templates, html=html,
                                     table_groups=args.table_groups)
            except FaircardError as exc:  # e.g. Pango missing: write the other formats first
                pdf_error = exc
                continue
        try:
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise FaircardError(f"Cannot write '{target}': {exc.strerror or exc}.") from None
        written.append(target)
    for t in written:
        print(t)
    left = card.metrics["decision"].get("policy", {}).get("left_out_of_constraint")
    if left:  # what the card says about them, said here too
        print("Note:" + left_out_text(left))
    if pdf_error is not None:
        raise pdf_error
    return 0


def read_diagnostics(path: str) -> dict:
    """``bias_sources`` and ``proxies`` for :func:`build_card` from a ``faircard diagnose
    --json`` file, and ``made_for``: what the diagnostics were made for (None when the file
    does not say)."""
    import json

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FaircardError(f"Cannot read the diagnostics '{path}': {exc}.") from None
    items = doc.get("checklist") if isinstance(doc, dict) else None
    proxies = doc.get("top_proxies", []) if isinstance(doc, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items) \
            or not isinstance(proxies, list) or not all(isinstance(p, dict) for p in proxies):
        raise FaircardError(f"'{path}' is not a file written by 'faircard diagnose --json': it "
                            "needs a 'checklist' list (and a 'top_proxies' list).")
    return {"bias_sources": items, "proxies": proxies, "made_for": doc.get("made_for")}
