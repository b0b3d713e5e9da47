"""faircard thresholds, card and gate count with DuckDB as assess does, and write the same
outputs as with pandas; sweeps of DuckDB's grouped counts equal sweeps of the rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.cli import main
from faircard.engine import assess_source
from faircard.spec import AssessmentSpec
from faircard.thresholds import _row_quantiles, grid_thresholds, sweep, sweep_assessment
from tests.unit.test_engines import _rows


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("engine_commands") / "rows.parquet"
    _rows(20_000, seed=11).to_parquet(path)
    return path


def test_row_quantiles_of_counted_scores_equal_numpy_on_the_rows():
    rng = np.random.default_rng(0)
    q = np.linspace(0, 1, 1001)
    for _ in range(200):
        rows = rng.integers(0, 50, int(rng.integers(1, 300))) / rng.choice([7.0, 3.0, 1000.0])
        values, counts = np.unique(rows, return_counts=True)
        assert np.array_equal(_row_quantiles(values, counts, q), np.quantile(rows, q))


def test_duckdb_sweeps_equal_the_rows(parquet):
    frame = pd.read_parquet(parquet).dropna(subset=["y", "score"])
    spec = AssessmentSpec(target="y", score="score", sensitive=("sex", "race"), n_boot=0)
    counted = assess_source(str(parquet), spec, engine="duckdb")
    group = frame["sex"].map({"Female": 0, "Male": 1}).to_numpy()
    y, score = frame["y"].to_numpy() == 1, frame["score"].to_numpy()
    expected = sweep(y, score, group, ["Female", "Male"], grid_thresholds(score))
    got = sweep_assessment(counted, "sex")
    assert got.groups == expected.groups
    assert np.array_equal(got.thresholds, expected.thresholds)
    assert np.array_equal(got.counts, expected.counts)


@pytest.mark.parametrize("extra", [
    ["--constraint", "equal_opportunity", "--objective", "balanced_accuracy"],
    ["--constraint", "equalized_odds", "--tolerance", "0.05", "--randomized"],
    ["--constraint", "demographic_parity", "--objective", "cost", "--fn-cost", "3",
     "--no-intersection"],
])
def test_thresholds_duckdb_writes_what_pandas_writes(parquet, tmp_path, capsys, extra):
    docs, printed = {}, {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / f"{engine}.json"
        assert main(["thresholds", str(parquet), "--target", "y", "--score", "score",
                     "--sensitive", "sex", "--sensitive", "race", "--engine", engine,
                     "--json", str(out), *extra]) == 0
        docs[engine] = json.loads(out.read_text())
        printed[engine] = capsys.readouterr().out
    assert docs["duckdb"] == docs["pandas"]
    assert printed["duckdb"] == printed["pandas"]
    assert docs["duckdb"]["n_rows"] == 20_000


def test_card_duckdb_writes_what_pandas_writes(parquet, tmp_path):
    cards = {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / engine
        assert main(["card", str(parquet), "--target", "y", "--score", "score", "--sensitive",
                     "sex", "--sensitive", "race", "--threshold", "0.45", "--bootstrap", "50",
                     "--engine", engine, "--out", str(out), "--formats", "md,json"]) == 0
        card = json.loads((out / "model_card.json").read_text())
        stamp = card["provenance"].pop("generated_at")  # the second it was written
        cards[engine] = ((out / "model_card.md").read_text().replace(stamp, "(time)"), card)
    assert cards["duckdb"][0] == cards["pandas"][0]
    assert cards["duckdb"][1] == cards["pandas"][1]


def test_gate_duckdb_decides_as_pandas(parquet, tmp_path, capsys):
    results = {}
    for engine in ("pandas", "duckdb"):
        out = tmp_path / f"gate-{engine}.json"
        code = main(["gate", str(parquet), "--target", "y", "--score", "score", "--sensitive",
                     "sex", "--engine", engine, "--max-dpd", "0.05", "--json", str(out)])
        results[engine] = (code, json.loads(out.read_text()))
        capsys.readouterr()
    assert results["duckdb"] == results["pandas"]
    assert results["duckdb"][0] == 1  # the demographic parity gap is above 0.05


def test_folder_gets_one_fingerprint_of_its_files(tmp_path):
    from faircard.commands.common import dataset_sha256

    folder = tmp_path / "parts"
    (folder / "year=2024").mkdir(parents=True)
    (folder / "year=2024" / "a.parquet").write_bytes(b"one")
    first = dataset_sha256(str(folder))
    assert dataset_sha256(str(folder / "**" / "*.parquet")) != ""
    (folder / "year=2024" / "a.parquet").write_bytes(b"two")
    assert dataset_sha256(str(folder)) != first


def test_record_duckdb_keeps_the_cells_pandas_keeps(parquet, tmp_path, capsys):
    """A record counted by DuckDB keeps per-cell counts, score histograms and sums equal to those
    of the same data read by pandas, so its share view draws the same tables."""
    from faircard.governance.share import assessment_from_cells
    from faircard.governance.signing import Keys
    from faircard.governance.store import AuditStore

    kept = {}
    for engine in ("pandas", "duckdb"):
        store = tmp_path / f"{engine}.db"
        assert main(["record", str(parquet), "--target", "y", "--score", "score", "--sensitive",
                     "sex", "--sensitive", "race", "--bootstrap", "0", "--engine", engine,
                     "--author", "ana", "--store", str(store)]) == 0
        with AuditStore(store, keys=Keys()) as s:
            assert s.get(1).has_cells
            kept[engine] = s.cells(1)
    capsys.readouterr()
    rows, counted = kept["pandas"], kept["duckdb"]
    assert counted["labels"] == rows["labels"]
    by_codes = {tuple(c): k for k, c in enumerate(rows["cell_codes"])}
    order = [by_codes[tuple(c)] for c in counted["cell_codes"]]
    assert counted["counts"] == [rows["counts"][k] for k in order]
    assert counted["scores"]["histograms"] == [rows["scores"]["histograms"][k] for k in order]
    for key in ("brier_sum", "log_loss_sum"):
        np.testing.assert_allclose(counted["scores"][key],
                                   [rows["scores"][key][k] for k in order], rtol=1e-12)
    a, b = (assessment_from_cells(kept[e]).by_group for e in ("pandas", "duckdb"))
    pd.testing.assert_frame_equal(a[["feature", "group", "metric"]],
                                  b[["feature", "group", "metric"]])
    np.testing.assert_allclose(a["value"].to_numpy(float), b["value"].to_numpy(float),
                               rtol=1e-12, atol=1e-15)
