"""A large dataset opened by its path on the server (inside the folders the operator allows) is
counted by DuckDB where it lives, and every page shows the figures of the same data uploaded."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest

from faircard.engine.paths import DATA_DIRS_ENV
from tests.app.conftest import new, no_exception, seed_state, small_frame

N = 12_000  # more rows than the sample the Data page reads to offer columns


@pytest.fixture
def allowed(tmp_path, monkeypatch):
    folder = tmp_path / "datasets"
    folder.mkdir()
    small_frame(N, seed=4).to_parquet(folder / "decisions.parquet")
    monkeypatch.setenv(DATA_DIRS_ENV, str(folder))
    return folder


def _open(path: str):
    at = new("app_pages/data.py")
    at.run()
    at.text_input(key="w_server_path").input(path)
    at.run()
    at.button(key="open_server_path").click()
    at.run()
    return at


def test_nothing_to_open_unless_the_operator_allows_a_folder(monkeypatch):
    monkeypatch.delenv(DATA_DIRS_ENV, raising=False)
    at = new("app_pages/data.py")
    at.run()
    no_exception(at)
    assert not [t for t in at.text_input if t.key == "w_server_path"]


def test_paths_outside_the_allowed_folders_are_refused(allowed, tmp_path):
    (tmp_path / "private.csv").write_text("outcome,risk_score\n1,0.5\n")
    at = _open("../private.csv")
    no_exception(at)
    assert any("outside the folders" in e.value for e in at.error)
    assert at.session_state["fc_source"] is None


def test_opened_by_path_every_page_shows_the_figures_of_the_upload(allowed):
    at = _open("decisions.parquet")
    no_exception(at)
    source = at.session_state["fc_source"]
    assert source["rows"] == N
    assert len(at.session_state["fc_data"]) == 10_000  # the sample behind the column choices
    digest = at.session_state["fc_data_digest"]
    sample = at.session_state["fc_data"]
    assert any(f"{N:,} rows" in c.value for c in at.caption)

    full = small_frame(N, seed=4)
    for page in ("app_pages/sensitive.py", "app_pages/disparities.py",
                 "app_pages/thresholds.py"):
        uploaded = seed_state(new(page), df=full)
        uploaded.run()
        no_exception(uploaded)
        counted = seed_state(new(page), df=sample)
        counted.session_state["fc_source"] = source
        counted.session_state["fc_data_digest"] = digest
        counted.run()
        no_exception(counted)
        assert len(counted.dataframe) == len(uploaded.dataframe) > 0, page
        for mine, theirs in zip(counted.dataframe, uploaded.dataframe, strict=True):
            pd.testing.assert_frame_equal(mine.value, theirs.value, check_exact=False,
                                          rtol=1e-12, atol=1e-12)
        assert [m.value for m in counted.metric] == [m.value for m in uploaded.metric], page

    # the model card: the same text, but for the dataset's sha256 (of the file here, of the
    # table written as CSV for the seeded upload) and the second it was written
    table_sha = hashlib.sha256(full.to_csv(index=False).encode()).hexdigest()
    texts = []
    for df, extra in ((full, {}), (sample, {"fc_source": source, "fc_data_digest": digest})):
        card = seed_state(new("app_pages/model_card.py"), df=df)
        for k, v in extra.items():
            card.session_state[k] = v
        card.run()
        no_exception(card)
        texts.append([re.sub(r"Generated at \S+", "Generated at (time)",
                             m.value.replace(table_sha, "SHA").replace(digest, "SHA"))
                      for m in card.markdown])
    assert texts[0] == texts[1]
    assert any("Female" in t for t in texts[1])


def test_diagnostics_say_they_need_the_rows(allowed):
    at = _open("decisions.parquet")
    diag = seed_state(new("app_pages/diagnostics.py"), df=at.session_state["fc_data"])
    diag.session_state["fc_source"] = at.session_state["fc_source"]
    diag.session_state["fc_data_digest"] = at.session_state["fc_data_digest"]
    diag.run()
    no_exception(diag)
    assert any("Upload the dataset, or a sample of it" in i.value for i in diag.info)


def _counted_page(monkeypatch, path: str, name: str):
    """``path`` opened on the server, then page ``name`` run on it, and the list that grows by
    one for each count DuckDB makes."""
    from faircard.engine import sources

    at = _open("decisions.parquet")
    calls = []
    real = sources.count_duckdb
    monkeypatch.setattr(sources, "count_duckdb", lambda *a, **k: calls.append(1) or real(*a, **k))
    page = seed_state(new(path), df=at.session_state["fc_data"])
    page.session_state["fc_source"] = at.session_state["fc_source"]
    page.session_state["fc_data_digest"] = at.session_state["fc_data_digest"] + "-" + name
    page.run()
    no_exception(page)
    return page, calls


def test_a_new_reference_group_re_renders_from_the_counts(allowed, monkeypatch):
    page, calls = _counted_page(monkeypatch, "app_pages/disparities.py", "reference")
    page.session_state["fc_reference"] = {"sex": "Female"}
    page.run()
    no_exception(page)
    assert any("reference group 'Female'" in c.value for c in page.caption)
    assert len(calls) == 1


def test_removing_a_feature_re_renders_from_the_grouped_counts(allowed, monkeypatch):
    page, calls = _counted_page(monkeypatch, "app_pages/sensitive.py", "subset")
    page.multiselect(key="w_sensitive").set_value(["race"]).run()
    no_exception(page)
    assert len(calls) == 1
    full = small_frame(N, seed=4)
    groups = page.dataframe[0].value
    counts = full.dropna(subset=["outcome", "risk_score"])["race"].value_counts()
    assert list(groups["group"]) == sorted(counts.index)
    assert list(groups["people"]) == [int(counts[g]) for g in sorted(counts.index)]


def test_a_new_threshold_re_renders_from_the_grouped_counts(allowed, monkeypatch):
    """The grouped table keeps every exact score, so the decisions under another threshold
    come from it: no second count, and the selection rates of the rows at that threshold."""
    from faircard.decision import DecisionPolicy

    page, calls = _counted_page(monkeypatch, "app_pages/disparities.py", "threshold")
    page.session_state["fc_reference"] = {"sex": "Female"}
    page.session_state["fc_policy"] = DecisionPolicy.single(0.3)
    page.run()
    no_exception(page)
    assert len(calls) == 1
    full = small_frame(N, seed=4).dropna(subset=["outcome", "risk_score"])
    rate = {g: (full.risk_score[full.sex == g] >= 0.3).mean() for g in ["Female", "Male"]}
    table = page.dataframe[-2].value  # group table, reference table, disparities
    shown = table.loc["Male", "Selection rate (share approved)"]
    assert f"({rate['Male'] / rate['Female']:.3f}x)" in shown, shown


def test_new_band_edges_re_render_from_the_same_grouped_table(allowed, monkeypatch):
    """New edges of a numeric feature only merge its values: no second count, the table the
    first bands were made from (with the combinations of values and score ranks it keeps) makes
    the new bands' cube, and the groups are those of the rows banded by pandas."""
    from faircard.engine import grouped

    page, calls = _counted_page(monkeypatch, "app_pages/sensitive.py", "bands")
    page.multiselect(key="w_sensitive").set_value(["sex", "age"]).run()
    no_exception(page)
    assert len(calls) == 2
    tables = []
    real = grouped.cube_from_grouped
    monkeypatch.setattr(grouped, "cube_from_grouped",
                        lambda counted, spec: tables.append(counted) or real(counted, spec))
    page.text_input(key="w_edges_age").set_value("10, 30, 50, 65, 200").run()
    page.text_input(key="w_labels_age").set_value("a, b, c, d").run()
    no_exception(page)
    assert len(calls) == 2 and tables
    assert all(("values", ("sex", "age")) in t.memo for t in tables)  # kept from the first
    full = small_frame(N, seed=4).dropna(subset=["outcome", "risk_score"])
    band = pd.cut(full["age"], [10, 30, 50, 65, 200], right=False, labels=list("abcd"))
    counts = band.value_counts()
    groups = page.dataframe[0].value
    rows = groups[groups["feature"] == "age"] if "feature" in groups else groups
    shown = {g: int(n) for g, n in zip(rows["group"], rows["people"], strict=True)
             if g in counts.index}
    assert shown == {g: int(counts[g]) for g in "abcd"}


def test_an_excel_workbook_opened_by_path_is_read_as_its_upload(allowed):
    """DuckDB refused it ('not a Parquet or CSV file'); now the sandboxed reader reads it with
    an upload's limits, and the pages show the figures of the workbook uploaded."""
    from faircard.engine.paths import sha256_of_files
    from faircard.io.tables import read_table

    full = small_frame(300, seed=5)
    full.to_excel(allowed / "decisions.xlsx", index=False)
    at = _open("decisions.xlsx")
    no_exception(at)
    assert not at.error
    assert at.session_state["fc_source"] is None  # assessed in memory, as an upload
    read = read_table(allowed / "decisions.xlsx").frame
    pd.testing.assert_frame_equal(at.session_state["fc_data"], read)
    assert at.session_state["fc_data_digest"] == sha256_of_files(str(allowed / "decisions.xlsx"))
    # the upload of the same workbook holds the same frame (read by the same reader)
    upload = read_table((allowed / "decisions.xlsx").read_bytes(), filename="decisions.xlsx")
    pd.testing.assert_frame_equal(upload.frame, read)
