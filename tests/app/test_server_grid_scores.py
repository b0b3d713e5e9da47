"""A dataset opened by path whose scores are on a grid (more than 100,000 distinct): after the
first count, a new threshold or per-group policy reads only the rows of the grid cells next to
its thresholds, never the whole file again, and the pages show the figures of those rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faircard.engine.paths import DATA_DIRS_ENV
from tests.app.conftest import new, no_exception, seed_state

N = 120_000


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    sex = rng.choice(["Female", "Male"], N)
    y = (rng.random(N) < 0.35 + 0.15 * (sex == "Male")).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, N), 0, 1)  # every score distinct
    return pd.DataFrame({"outcome": y, "risk_score": score, "sex": sex,
                         "race": rng.choice(["A", "B", "C"], N, p=[0.5, 0.3, 0.2])})


@pytest.fixture
def opened(tmp_path, monkeypatch):
    """The file opened on the Data page, and the session state a page needs to count it."""
    folder = tmp_path / "datasets"
    folder.mkdir()
    _rows().to_parquet(folder / "scores.parquet")
    monkeypatch.setenv(DATA_DIRS_ENV, str(folder))
    at = new("app_pages/data.py")
    at.run()
    at.text_input(key="w_server_path").input("scores.parquet")
    at.run()
    at.button(key="open_server_path").click()
    at.run()
    no_exception(at)
    return at.session_state


@pytest.fixture
def reads(monkeypatch):
    """The counts DuckDB makes: ``full`` (the whole file) and ``near`` (the grid cells next to
    a new threshold), one entry each."""
    from faircard.engine import recount, sources

    calls = {"full": [], "near": []}
    full, near = sources.count_duckdb, recount.recount_duckdb
    monkeypatch.setattr(sources, "count_duckdb",
                        lambda *a, **k: calls["full"].append(a[1]) or full(*a, **k))
    monkeypatch.setattr(recount, "recount_duckdb",
                        lambda *a, **k: calls["near"].append(a[2]) or near(*a, **k))
    return calls


def _page(opened, name: str):
    page = seed_state(new("app_pages/disparities.py"), df=opened["fc_data"])
    page.session_state["fc_source"] = opened["fc_source"]
    page.session_state["fc_data_digest"] = opened["fc_data_digest"] + "-" + name
    page.session_state["fc_reference"] = {"sex": "Female"}
    return page


def _ratio_shown(page) -> str:
    table = page.dataframe[-2].value  # group table, reference table, disparities
    return table.loc["Male", "Selection rate (share approved)"]


def _ratio(decided: pd.Series, rows: pd.DataFrame) -> float:
    rate = {g: decided[rows.sex == g].mean() for g in ["Female", "Male"]}
    return rate["Male"] / rate["Female"]


def test_a_new_threshold_reads_only_the_cells_next_to_it(opened, reads):
    from faircard.decision import DecisionPolicy

    page = _page(opened, "grid-threshold")
    page.run()
    no_exception(page)
    assert len(reads["full"]) == 1 and not reads["near"]
    counted = reads["full"][0]
    rows = _rows()
    assert rows.risk_score.nunique() > 100_000
    for t in (0.3, 0.5123456789, 0.3):
        page.session_state["fc_policy"] = DecisionPolicy.single(t)
        page.run()
        no_exception(page)
        assert f"({_ratio(rows.risk_score >= t, rows):.3f}x)" in _ratio_shown(page), t
    assert len(reads["full"]) == 1  # the file was counted once
    assert [s.policy.threshold for s in reads["near"]] == [0.3, 0.5123456789]  # then kept
    assert counted.policy.threshold != 0.3


def test_a_per_group_policy_reads_only_the_cells_next_to_its_thresholds(opened, reads):
    from faircard.decision import DecisionPolicy

    page = _page(opened, "grid-policy")
    page.run()
    policy = DecisionPolicy.per_group("sex", {"Female": 0.42, "Male": 0.61})
    page.session_state["fc_policy"] = policy
    page.run()
    no_exception(page)
    assert len(reads["full"]) == 1 and len(reads["near"]) == 1
    rows = _rows()
    decided = rows.risk_score >= rows.sex.map({"Female": 0.42, "Male": 0.61})
    assert f"({_ratio(decided, rows):.3f}x)" in _ratio_shown(page)


def test_a_recount_shows_progress_while_it_reads_the_file(opened, monkeypatch):
    """The recount after a new threshold reads the file again: it runs inside a spinner (which
    Streamlit shows once it lasts more than half a second) that says what is happening; the
    first count has its own."""
    import contextlib

    import streamlit

    from faircard.decision import DecisionPolicy
    from faircard.engine import recount

    shown, during = [], []
    real_spinner, near = streamlit.spinner, recount.recount_duckdb

    @contextlib.contextmanager
    def spinner(text="", **kwargs):
        shown.append(text)
        with real_spinner(text, **kwargs):
            yield
        shown.append(None)

    monkeypatch.setattr(streamlit, "spinner", spinner)
    monkeypatch.setattr(recount, "recount_duckdb",
                        lambda *a, **k: during.append(list(shown)) or near(*a, **k))
    page = _page(opened, "grid-spinner")
    page.run()
    no_exception(page)
    assert any(text and text.startswith(f"Counting {N:,} rows") for text in shown)
    assert not during
    shown.clear()
    page.session_state["fc_policy"] = DecisionPolicy.single(0.4321)
    page.run()
    no_exception(page)
    assert len(during) == 1
    assert during[0][-1].startswith(f"Recounting, among {N:,} rows, those whose scores lie "
                                    "next to the new thresholds")
    assert shown.count(None) == len(shown) / 2  # every spinner closed
