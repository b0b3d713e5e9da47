"""The charts the pages send, drawn by a real Vega-Lite renderer (vl-convert): what a reader
sees, not only the rows behind it."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pyarrow as pa
import vl_convert as vlc

from tests.app.conftest import new, no_exception, seed_state, small_frame


def _drawn_lines(chart) -> list[np.ndarray]:
    """The pixel vertices of each line the renderer draws for a chart the page sent (its
    Arrow data set put inline)."""
    spec = json.loads(chart.proto.spec)
    (data,) = chart.proto.datasets
    rows = pa.ipc.open_stream(io.BytesIO(data.data.data)).read_pandas()
    spec["data"] = {"values": json.loads(rows.to_json(orient="records"))}
    svg = vlc.vegalite_to_svg(spec)
    paths = re.findall(r'<path[^>]*aria-roledescription="line mark"[^>]*\sd="([^"]+)"', svg)
    return [np.array(re.findall(r"(-?[\d.]+),(-?[\d.]+)", d), dtype=float) for d in paths]


def test_roc_curves_are_drawn_along_the_curve_without_zigzags():
    """Both rates only grow as the threshold falls, so a ROC curve drawn point to point never
    goes left or down. Drawn in the order of the false positive rate alone, every rise at a
    fixed false positive rate (a run of scores held only by positives) went to its top first
    and back down: 118 of the 321 segments of one group here."""
    df = small_frame(n=1200, seed=0)
    at = seed_state(new("app_pages/thresholds.py"), df=df, sensitive=("sex",))
    at.session_state["fc_data_digest"] = "audit-roc-drawn"
    at.run()
    no_exception(at)
    roc = next(c for c in at.get("vega_lite_chart") if "ROC curve" in c.proto.spec)
    lines = _drawn_lines(roc)
    assert len(lines) == df["sex"].nunique()
    for xy in lines:
        assert len(xy) > 100
        step = np.diff(xy, axis=0)
        assert (step[:, 0] >= -1e-6).all()  # never left
        assert (step[:, 1] <= 1e-6).all()   # never down (SVG's y grows downwards)
