"""Text that is not a number in a banded column ("unknown") is a known value: a group of its
own, named as written, never "(missing)", the same for pandas, DuckDB and Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, recall_score

import faircard
from faircard.engine import spark_frame
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.group_notes import group_notes
from faircard.io.tables import read_table
from faircard.spec import AssessmentSpec, Binning

BANDS = Binning((18, 40, 65), ("18-39", "40-64"))
SPEC = AssessmentSpec(target="y", score="score", sensitive=("age", "sex"), threshold=0.5,
                      n_boot=0, min_group_size=0, bins={"age": BANDS})
AGES = ["17", "25", "39", "40", "64", "65", "80", "unknown", "n/a-ish", "NA", "", "  ",
        "40-64"]


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 4000
    y = rng.integers(0, 2, n)
    return pd.DataFrame({"y": y, "score": np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0,
                                                           1), 3),
                         "age": rng.choice(AGES, n), "sex": rng.choice(["F", "M"], n)})


@pytest.fixture(scope="module")
def csv_path(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("bands") / "ages.csv"
    rows.to_csv(path, index=False)
    return path


def _expected_group(age: str) -> str | None:
    """The group of a written age, by hand: the rule stated in the README."""
    text = age.strip()
    if text in ("", "NA"):
        return "(missing)"
    try:
        v = float(text)
    except ValueError:
        return "40-64 (as written)" if text == "40-64" else text
    return "under 18" if v < 18 else "18-39" if v < 40 else "40-64" if v <= 65 else "over 65"


def test_text_in_a_banded_column_is_its_own_group_and_matches_scikit_learn(rows, csv_path):
    got = faircard.assess_spec(read_table(csv_path).frame, SPEC)
    groups = rows["age"].map(_expected_group).to_numpy()
    frame = got.counts_frame().query("feature == 'age'").set_index("group")
    assert set(frame.index) == set(groups)
    assert {"unknown", "n/a-ish", "40-64 (as written)"} <= set(frame.index)
    y = rows["y"].to_numpy()
    pred = (rows["score"].to_numpy() >= 0.5).astype(int)
    values = got.by_group.query("feature == 'age'").set_index(["group", "metric"])["value"]
    for group in set(groups):
        mask = groups == group
        assert frame.loc[group, "n"] == mask.sum(), group
        assert values[(group, "selection_rate")] == pytest.approx(pred[mask].mean(), abs=1e-12)
        assert values[(group, "accuracy")] == pytest.approx(
            accuracy_score(y[mask], pred[mask]), abs=1e-12)
        assert values[(group, "true_positive_rate")] == pytest.approx(
            recall_score(y[mask], pred[mask]), abs=1e-12)
    notes = " ".join(group_notes(got.cube.index, SPEC))
    assert "'n/a-ish'" in notes and "'unknown'" in notes and "not as missing" in notes


def test_duckdb_and_pandas_name_the_text_groups_alike(csv_path, tmp_path, rows):
    expected = faircard.assess_spec(read_table(csv_path).frame, SPEC)
    got = assess_grouped(count_duckdb(str(csv_path), SPEC), SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    pd.testing.assert_frame_equal(expected.by_group, got.by_group)
    path = tmp_path / "ages.parquet"
    rows.to_parquet(path)  # text as written: only null is missing, a blank is empty
    expected = faircard.assess_spec(pd.read_parquet(path), SPEC)
    got = assess_grouped(count_duckdb(str(path), SPEC), SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    assert {"unknown", "NA", "(missing)"} <= set(got.counts_frame()["group"])


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_names_the_text_groups_as_pandas_does(spark, csv_path):
    from faircard.engine.sources import count_spark

    expected = faircard.assess_spec(read_table(csv_path).frame, SPEC)
    got = assess_grouped(count_spark(spark_frame(str(csv_path), spark=spark), SPEC), SPEC)
    pd.testing.assert_frame_equal(expected.counts_frame(), got.counts_frame())
    pd.testing.assert_frame_equal(expected.by_group, got.by_group, rtol=1e-12)
