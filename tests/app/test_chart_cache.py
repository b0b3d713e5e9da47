"""The pages draw charts from a cached Vega-Lite spec (components.chart) instead of
st.altair_chart, which rebuilds and revalidates the Altair chart on every rerun. What reaches
the browser must be the same: the same spec and the same data, every
row of it (Altair alone stops at 5,000 rows), for charts of the core drawn by both routes."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_exception


def _draw_both():
    import numpy as np
    import pandas as pd
    import streamlit as st

    from faircard import charts
    from faircard.ui import components

    rng = np.random.default_rng(3)
    n = 6000  # more rows than Altair embeds by default
    curves = pd.DataFrame({"group": rng.choice(["a", "b|c", "d"], n),
                           "false_positive_rate": np.sort(rng.random(n)),
                           "true_positive_rate": np.sort(rng.random(n)),
                           "recall": rng.random(n), "precision": rng.random(n),
                           "threshold": rng.random(n)})
    by_group = pd.DataFrame({"feature": "sex", "group": ["F", "M"], "metric": "accuracy",
                             "value": [0.7, 0.8], "ci_low": [0.6, 0.75],
                             "ci_high": [0.8, 0.85], "n": [10, 2000],
                             "is_small_group": [True, False]})
    for build, args in ((charts.roc_curves, (curves,)),
                        (charts.metric_bars, (by_group, "accuracy", "sex", 0.75))):
        st.altair_chart(build(*args))
        components.chart(build, *args)
        components.chart(build, *args)  # the second time from the cache
        components.chart(build, *args, key=f"{build.__name__} of these rows")  # by its key


def _as_sent(element) -> tuple[dict, list[pd.DataFrame]]:
    """The spec with data set names replaced by their order, and the data sets' rows."""
    spec = json.loads(element.proto.spec)
    names = [d.name for d in element.proto.datasets]
    text = json.dumps(spec, sort_keys=True)
    for i, name in enumerate(names):
        text = text.replace(json.dumps(name), json.dumps(f"data-{i}"))
    frames = [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas()
              for d in element.proto.datasets]
    return json.loads(text), frames


def test_cached_charts_send_what_altair_charts_send():
    at = AppTest.from_function(_draw_both, default_timeout=60).run()
    no_exception(at)
    drawn = at.get("vega_lite_chart")
    assert len(drawn) == 8
    for first in (0, 4):
        spec, frames = _as_sent(drawn[first])
        assert frames and sum(len(f) for f in frames) > 0
        for again in drawn[first + 1:first + 4]:
            spec2, frames2 = _as_sent(again)
            assert spec2 == spec
            assert len(frames2) == len(frames)
            for f, f2 in zip(frames, frames2, strict=True):
                pd.testing.assert_frame_equal(f2.reset_index(drop=True),
                                              f.reset_index(drop=True), check_dtype=False)
    assert len(_as_sent(drawn[0])[1][0]) == 6000
