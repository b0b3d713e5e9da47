"""Helpers for AppTest: a small dataset and seeded session state."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

PAGES = ["app_pages/data.py", "app_pages/sensitive.py", "app_pages/disparities.py",
         "app_pages/diagnostics.py", "app_pages/thresholds.py",
         "app_pages/model_card.py", "app_pages/governance.py", "app_pages/record.py"]
TIMEOUT = 120


def small_frame(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n)
    race = rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2])
    age = rng.integers(18, 80, n)
    y = (rng.random(n) < 0.35 + 0.15 * (sex == "Male")).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(4)
    return pd.DataFrame({"outcome": y, "risk_score": score, "sex": sex, "race": race, "age": age,
                         "decision": (score >= 0.5).astype(int)})


def coarse_two_groups(male_per_score: list[int]) -> pd.DataFrame:
    """Scores 1 to 10 only: 60 'Female' rows at each score and ``male_per_score[k]`` 'Male'
    rows at score k + 1; the outcome is 1 in about (score - 1) of every 10 rows."""
    female = np.repeat(np.arange(1, 11), 60)
    male = np.repeat(np.arange(1, 11), male_per_score)
    s = np.concatenate([female, male]).astype(float)
    return pd.DataFrame({"outcome": (np.arange(len(s)) % 10 < s - 1).astype(int),
                         "risk_score": s, "sex": ["Female"] * len(female) + ["Male"] * len(male)})


def seed_state(at: AppTest, df: pd.DataFrame | None = None, sensitive=("sex", "race")) -> AppTest:
    df = small_frame() if df is None else df
    at.session_state["fc_data"] = df
    at.session_state["fc_data_name"] = "small.csv"
    # the cache key follows the data, so one test's cached assessment never answers another's
    content = pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
    at.session_state["fc_data_digest"] = "seeded-" + hashlib.sha256(content).hexdigest()[:16]
    at.session_state["fc_target"] = "outcome"
    at.session_state["fc_pos_label"] = 1
    at.session_state["fc_decision"] = "score"
    at.session_state["fc_score_col"] = "risk_score"
    at.session_state["fc_sensitive"] = list(sensitive)
    return at


@pytest.fixture
def csv_bytes() -> bytes:
    return small_frame().to_csv(index=False).encode()


ROOT = Path(__file__).resolve().parents[2]


def new(path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)


def text_of(element) -> str:
    """The text a message element shows: its Markdown body without the backslash escapes that
    keep user data literal (ui/components.escape)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def sent_charts(at: AppTest) -> list[tuple[list[str], dict, dict[str, pd.DataFrame]]]:
    """Each Vega-Lite chart the page sent: (the titles a browser draws: the chart's, then
    those of its facets; its spec; its data sets by name). The titles are read from the chart
    drawn by vl-convert with those data sets (a chart may read its title from its data)."""
    import html
    import io
    import json

    import pyarrow as pa
    import vl_convert

    out = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        frames = {d.name: pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas()
                  for d in chart.proto.datasets}
        svg = vl_convert.vegalite_to_svg({**spec, "datasets": {
            name: json.loads(f.to_json(orient="records")) for name, f in frames.items()}})
        titles = re.findall(r"aria-label=\"Title text '(.*?)'\"", svg)
        out.append(([html.unescape(t) for t in titles], spec, frames))
    return out


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(autouse=True)
def _private_audit_store(tmp_path, monkeypatch):
    """Each test gets its own audit store, never the working directory's."""
    monkeypatch.setenv("FAIRCARD_STORE", str(tmp_path / "audit.db"))
    return tmp_path / "audit.db"


def record_and_approve(gov: AppTest, store_path) -> int:
    """Record what the (not yet run) Governance page ``gov`` shows as Ana Kim's draft, submit
    it and have Ben Lee approve it in the audit store at ``store_path``; the record's id."""
    from faircard.governance.store import AuditStore

    gov.run()
    gov.text_input(key="w_gov_author").input("Ana Kim")
    [button] = [b for b in gov.button if b.label == "Record as a draft"]
    button.click().run()
    no_exception(gov)
    with AuditStore(store_path, create=False) as store:
        rid = store.list()[-1].id
        store.submit(rid, "Ana Kim")
        store.review(rid, "Ben Lee", "approve", "Looks right")
    return rid
