"""Two sensitive features, each within the limit on groups, whose intersection is not: two
features of 1,000 groups each (500,000 combinations in the data) took 20 GB and seven minutes
before the system killed the process. Now the intersection meets the same limit as one
feature, in one sentence, on every engine; without the intersection the features are assessed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faircard.assess import assess, assess_spec
from faircard.cli import main
from faircard.errors import FaircardError
from faircard.prepare import MAX_GROUPS_PER_FEATURE
from faircard.spec import AssessmentSpec


def _frame(rows_of_a: int, rows_of_b: int, copies: int = 2) -> pd.DataFrame:
    """Every combination of ``a`` (rows_of_a values) and ``b`` (rows_of_b values), ``copies``
    times, with outcomes and scores drawn at random."""
    rng = np.random.default_rng(7)
    a, b = np.meshgrid(np.arange(rows_of_a), np.arange(rows_of_b))
    a, b = np.tile(a.ravel(), copies), np.tile(b.ravel(), copies)
    return pd.DataFrame({"outcome": rng.integers(0, 2, len(a)), "score": rng.random(len(a)),
                         "a": [f"a{v}" for v in a], "b": [f"b{v}" for v in b]})


def test_an_intersection_of_more_groups_than_one_feature_may_have_is_refused():
    frame = _frame(40, 26)  # 1,040 combinations of two features of 40 and 26 groups
    with pytest.raises(FaircardError) as err:
        assess(frame, target="outcome", score="score", sensitive=["a", "b"], n_boot=0)
    message = str(err.value)
    assert message.startswith("The intersection of 'a' and 'b' has 1,040 groups")
    assert f"(limit {MAX_GROUPS_PER_FEATURE}, as for one feature)" in message
    assert "--no-intersection" in message and "\n" not in message


def test_an_intersection_at_the_limit_is_assessed():
    frame = _frame(40, 25)  # exactly 1,000 combinations
    result = assess(frame, target="outcome", score="score", sensitive=["a", "b"], n_boot=0)
    assert result.features == ["a", "b", "a & b"]
    counts = result.counts_frame()
    assert (counts["feature"] == "a & b").sum() == 1000


def test_without_the_intersection_each_feature_is_assessed_as_pandas_counts_it():
    frame = _frame(40, 26)
    result = assess(frame, target="outcome", score="score", sensitive=["a", "b"], n_boot=0,
                    intersection=False)
    assert result.features == ["a", "b"]
    values = result.by_group_wide()
    for feature in ("a", "b"):
        # oracle: each group's selection rate from its rows
        expected = (frame["score"] >= 0.5).groupby(frame[feature]).mean()
        got = values[values["feature"] == feature].set_index("group")["selection_rate"]
        assert len(got) == len(expected)
        assert got.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())


def test_the_duckdb_engine_refuses_the_same_intersection(tmp_path):
    from faircard.engine.grouped import assess_grouped
    from faircard.engine.sources import count_duckdb

    path = tmp_path / "d.parquet"
    _frame(40, 26).to_parquet(path)
    spec = AssessmentSpec(target="outcome", score="score", sensitive=("a", "b"), n_boot=0)
    counted = count_duckdb(str(path), spec)
    with pytest.raises(FaircardError, match="intersection of 'a' and 'b' has 1,040 groups"):
        assess_grouped(counted, spec)
    with pytest.raises(FaircardError, match="intersection of 'a' and 'b' has 1,040 groups"):
        assess_spec(_frame(40, 26), spec)


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    path = tmp_path / "d.csv"
    _frame(40, 26).to_csv(path, index=False)
    code = main(["assess", str(path), "--target", "outcome", "--score", "score",
                 "--sensitive", "a", "--sensitive", "b", "--allow-many-groups"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("faircard: error: The intersection of 'a' and 'b' has 1,040 groups")


def test_more_cells_than_the_intervals_can_resample_are_refused_without_the_intersection(
        tmp_path):
    """10,100 combinations: counted without the bootstrap (as pandas counts each group), and
    refused with 1,000 replicates, whose resampled counts the sentence names as the reason;
    DuckDB says the same."""
    from faircard.engine.grouped import assess_grouped
    from faircard.engine.sources import count_duckdb
    from faircard.prepare import BOOTSTRAP_CELLS, max_cells

    frame = _frame(101, 100, copies=1)  # 10,100 combinations, each feature within its limit
    assert frame.groupby(["a", "b"]).ngroups == 10_100 > max_cells(1000) == 10_000
    result = assess(frame, target="outcome", score="score", sensitive=["a", "b"], n_boot=0,
                    intersection=False)
    sizes = result.counts_frame().set_index(["feature", "group"])["n"]
    for feature in ("a", "b"):
        assert sizes[feature].sort_index().to_dict() == \
            frame[feature].value_counts().sort_index().to_dict()
    said = ("The groups of 'a' and 'b' occur in 10,100 combinations in the data, and the "
            "intervals' 1,000 bootstrap replicates resample each one, which faircard does for "
            "at most 10,000 combinations at 1,000 replicates (10,000,000 combinations x "
            "replicates, 320 MB). Ask for fewer replicates (CLI: --bootstrap; 0 counts up to "
            "100,000 combinations), bin a feature into bands, or assess fewer features at a "
            "time.")
    assert BOOTSTRAP_CELLS == 10_000_000
    with pytest.raises(FaircardError) as err:
        assess(frame, target="outcome", score="score", sensitive=["a", "b"], n_boot=1000,
               intersection=False)
    assert str(err.value) == said
    path = tmp_path / "cells.parquet"
    frame.to_parquet(path)
    spec = AssessmentSpec(target="outcome", score="score", sensitive=("a", "b"),
                          intersection=False, n_boot=1000)
    with pytest.raises(FaircardError) as err:
        assess_grouped(count_duckdb(str(path), spec), spec)
    assert str(err.value) == said


@pytest.mark.parametrize(("n_boot", "most"), [(0, 100_000), (1, 100_000), (100, 100_000),
                                              (101, 99_009), (1000, 10_000), (2500, 4_000),
                                              (20_000, 500)])
def test_the_cells_allowed_scale_with_the_replicates_asked_for(n_boot, most):
    """Replicates x cells at most 10,000,000 (320 MB of counts), cells at most 100,000."""
    from faircard.prepare import check_intersection_size

    check_intersection_size(("a", "b"), most, intersection=False, n_boot=n_boot)
    with pytest.raises(FaircardError, match=f"at most {most:,} combinations" if most < 100_000
                       else "limit 100,000"):
        check_intersection_size(("a", "b"), most + 1, intersection=False, n_boot=n_boot)


def test_the_replicates_of_each_group_are_the_sums_of_its_cells():
    """The groups' replicates, summed a slice at a time without a cells x groups table, are
    numpy's einsum with that table (groups without a cell included)."""
    from faircard.uncertainty import group_replicates

    rng = np.random.default_rng(3)
    for cells, groups, boot in ((2000, 40, 130), (5, 9, 3), (20_000, 300, 1)):
        reps = rng.integers(0, 50, (boot, cells, 4))
        to_group = rng.integers(0, groups, cells)
        table = np.zeros((cells, groups))
        table[np.arange(cells), to_group] = 1.0
        np.testing.assert_array_equal(group_replicates(reps, to_group, groups),
                                      np.einsum("bck,cg->bgk", reps, table))
