"""Cost of drawing charts and the PDF in a child process instead of in the faircard process.

Same card (sex, race and their intersection: 3 chart images), same run: vl-convert and
WeasyPrint called directly in-process against faircard's child-process path. Prints the times
and their ratios.

    PYTHONPATH=src python benchmarks/bench_render.py
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import best_of, make_rows  # noqa: E402

import faircard  # noqa: E402
from faircard import render  # noqa: E402
from faircard.card import build_card  # noqa: E402


def main() -> None:
    data = make_rows(20_000)
    card = build_card(faircard.assess(data, target="y", score="score",
                                      sensitive=["sex", "race"], n_boot=0))
    import vl_convert as vlc
    from weasyprint import HTML

    charts = render.chart_images(card)  # warm both paths once
    html = render.render_html(card, charts=charts)

    def charts_inline():
        # the same specs the child draws, drawn here
        out = []
        for spec in _specs(card):
            out.append(base64.b64encode(vlc.vegalite_to_png(spec, scale=2)).decode())
        return out

    def pdf_inline():
        return HTML(string=html, url_fetcher=render.data_only_fetcher()).write_pdf()

    specs = _specs(card)
    charts_inline()
    pdf_inline()
    t_ci = best_of(charts_inline)
    t_cc = best_of(lambda: render.chart_images(card))
    t_pi = best_of(pdf_inline)
    t_pc = best_of(lambda: render.render_pdf(card, html=html))
    print(f"{len(specs)} charts: in-process {t_ci:.2f} s, child {t_cc:.2f} s "
          f"(x{t_cc / t_ci:.2f})")
    print(f"PDF: in-process {t_pi:.2f} s, child {t_pc:.2f} s (x{t_pc / t_pi:.2f})")
    print(f"charts + PDF: in-process {t_ci + t_pi:.2f} s, child {t_cc + t_pc:.2f} s "
          f"(x{(t_cc + t_pc) / (t_ci + t_pi):.2f})")


def _specs(card) -> list[str]:
    """The Vega-Lite specs chart_images sends to the child."""
    captured: list[str] = []
    real = render.run_job

    def capture(kind, payload, **kw):
        captured.extend(payload["specs"])
        return {"png": [""] * len(payload["specs"])}

    render.run_job = capture
    try:
        render.chart_images(card)
    finally:
        render.run_job = real
    return captured


if __name__ == "__main__":
    main()
