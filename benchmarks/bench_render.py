"""Cost of drawing charts and the PDF in a child process instead of in the faircard process.

Same card (sex, race and their intersection: 3 chart images), same run: vl-convert and
WeasyPrint called directly in-process against faircard's child-process path. Prints the times
and their ratios.

Then a card with 1,000 groups (a feature of 1,000 groups, sex and their intersection: 3,002
rows): the CPU time WeasyPrint takes to print it with every group in HTML tables (as cards did
before) against the card as it is now (features of more than ``PLAIN_TABLE_GROUPS`` groups
listed in a plain-text appendix), same HTML otherwise, same run.

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


def many_groups(n_groups: int = 1_000) -> None:
    import time

    import numpy as np
    import pandas as pd
    from weasyprint import HTML

    rng = np.random.default_rng(0)
    n = 60_000
    names = np.array([f"group {i:04d}" for i in range(n_groups)], dtype=object)
    data = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                         "g": names[rng.integers(0, n_groups, n)],
                         "sex": rng.choice(np.array(["F", "M"], dtype=object), n)})
    card = build_card(faircard.assess(data, target="y", score="score", sensitive=["g", "sex"],
                                      n_boot=0))
    rows = len(card.quantitative["by_group"])

    def cpu_of(html: str) -> float:
        t0 = time.process_time()
        HTML(string=html, url_fetcher=render.data_only_fetcher()).write_pdf()
        return time.process_time() - t0

    now = render.render_html(card, charts={})
    tables = render.render_html(card, charts={}, table_groups=10**9)  # every group a row
    t_tables, t_now = cpu_of(tables), cpu_of(now)
    print(f"PDF of {rows:,} group rows (charts left out): HTML tables {t_tables:.1f} s CPU, "
          f"plain-text appendix {t_now:.1f} s CPU (x{t_tables / t_now:.1f} faster)")


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
    many_groups()
