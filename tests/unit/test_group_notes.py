"""Known values outside the bands form their own groups (never "(missing)"), and combinations
of groups with nobody in them are named, in pandas and DuckDB alike."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

import faircard
from faircard.card import build_card
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.spec import AssessmentSpec, Binning

EDGES = (18, 25, 40, 65)
NAMES = ("18-24", "25-39", "40-65")


def _rows(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(10, 80, n).astype(float)
    age[age == 65] = 64  # the top edge belongs to the last band; pandas.cut would disagree
    age[:37] = np.nan
    sex = rng.choice(["Female", "Male"], n).astype(object)
    race = rng.choice(["A", "B", "Other"], n).astype(object)
    race[(sex == "Female") & (race == "Other")] = "A"  # nobody is Female & Other
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.7, y, 1 - y)
    return pd.DataFrame({"y": y, "pred": pred, "age": age, "sex": sex, "race": race})


SPEC = AssessmentSpec(target="y", prediction="pred", sensitive=("age", "sex"), n_boot=0,
                      bins={"age": Binning(EDGES, NAMES)})


@pytest.fixture(scope="module")
def data_and_path(tmp_path_factory):
    data = _rows()
    path = tmp_path_factory.mktemp("bands") / "rows.parquet"
    data.to_parquet(path)
    return data, path


def _engines(data, path, spec):
    return {"pandas": faircard.assess_spec(data, spec),
            "duckdb": assess_grouped(count_duckdb(str(path), spec), spec)}


def _oracle_bands(age: pd.Series) -> pd.Series:
    cut = pd.cut(age, [-np.inf, *EDGES, np.inf], right=False,
                 labels=["under 18", *NAMES, "over 65"])
    return cut.astype(object).where(age.notna(), "(missing)")


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_values_outside_the_bands_are_their_own_groups_not_missing(data_and_path, engine):
    data, path = data_and_path
    result = _engines(data, path, SPEC)[engine]
    band = _oracle_bands(data["age"])
    expected = band.value_counts()
    got = result.counts_frame().query("feature == 'age'").set_index("group")["n"]
    assert dict(got) == {k: int(v) for k, v in expected.items()}
    assert got["(missing)"] == data["age"].isna().sum()
    acc = result.by_group.query("feature == 'age' and metric == 'accuracy'").set_index("group")
    for group in expected.index:
        mask = (band == group).to_numpy()
        assert acc.loc[group, "value"] == pytest.approx(
            accuracy_score(data["y"][mask], data["pred"][mask]), abs=1e-12)
    assert any("outside its bands" in n and "'under 18'" in n and "'over 65'" in n
               for n in result.notes)


def test_the_pandas_and_duckdb_groups_of_out_of_band_values_are_the_same(data_and_path):
    data, path = data_and_path
    got = _engines(data, path, SPEC)
    assert got["pandas"].counts_frame().equals(got["duckdb"].counts_frame())
    assert got["pandas"].notes == got["duckdb"].notes


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_combinations_with_nobody_are_named(data_and_path, engine):
    data, path = data_and_path
    spec = AssessmentSpec(target="y", prediction="pred", sensitive=("sex", "race"), n_boot=0)
    result = _engines(data, path, spec)[engine]
    sizes = data.groupby(["sex", "race"]).size()
    empty = [f"{s} & {r}" for s, r in itertools.product(sorted(data["sex"].unique()),
                                                         sorted(data["race"].unique()))
             if (s, r) not in sizes.index]
    assert empty == ["Female & Other"]
    note = [n for n in result.notes if n.startswith("No one in")]
    assert note == [f"No one in 1 of the 6 combinations of sex & race, so they are not shown: "
                    f"{empty[0]}."]
    shown = result.counts_frame().query("feature == 'sex & race'")
    assert sorted(shown["group"]) == sorted(f"{s} & {r}" for s, r in sizes.index)
    card = build_card(result)
    assert note[0] in card.caveats["automatic"]


def test_a_long_list_of_empty_combinations_is_capped_and_counted():
    rng = np.random.default_rng(0)
    n = 40
    data = pd.DataFrame({"y": rng.integers(0, 2, n), "pred": rng.integers(0, 2, n),
                         "a": [f"a{i}" for i in range(n)], "b": [f"b{i:02d}" for i in range(n)]})
    spec = AssessmentSpec(target="y", prediction="pred", sensitive=("a", "b"), n_boot=0,
                          min_group_size=0)
    result = faircard.assess_spec(data, spec)
    (note,) = [x for x in result.notes if x.startswith("No one in")]
    n_empty = n * n - len(data.groupby(["a", "b"]).size())
    assert f"No one in {n_empty:,} of the {n * n:,} combinations" in note
    assert note.endswith(f"(and {n_empty - 10:,} more).")


def test_no_note_without_intersections(data_and_path):
    data, _ = data_and_path
    spec = AssessmentSpec(target="y", prediction="pred", sensitive=("sex", "race"), n_boot=0,
                          intersection=False)
    assert not any(n.startswith("No one in") for n in faircard.assess_spec(data, spec).notes)
