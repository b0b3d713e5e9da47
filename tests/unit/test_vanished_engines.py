"""A group whose every row is left out (no outcome or no score) is named by DuckDB and Spark as
an upload names it, counted by the engine from its rows left out: the same sentences, checked
against pandas counting the raw rows of the same file, in the assessment's cube (the pages read
it there), in the CLI's output, and after a feature is removed from the counts (the app's
derived counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import faircard
from faircard.cli import main
from faircard.engine import assess_source
from faircard.engine.derive import derive_grouped
from faircard.engine.grouped import assess_grouped
from faircard.engine.sources import count_duckdb
from faircard.prepare import vanished_of
from faircard.spec import AssessmentSpec, Binning

SPEC = AssessmentSpec(target="y", score="s", sensitive=("race", "age"), n_boot=0,
                      bins={"age": Binning(edges=(18.0, 40.0, 60.0, 80.0),
                                           labels=("18-39", "40-59", "60-79"))})


def _rows(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"y": rng.integers(0, 2, n).astype(float), "s": rng.random(n),
                       "race": rng.choice(np.array(["A", "B", "C", "D", None], dtype=object),
                                          n, p=[0.4, 0.3, 0.1, 0.1, 0.1]),
                       "age": rng.integers(18, 80, n).astype(float)})
    df.loc[df.race == "C", "s"] = np.nan                    # every score of 'C' missing
    d = (df.race == "D").to_numpy()
    df.loc[d, "y"] = np.nan                                  # every outcome of 'D' missing ...
    df.loc[np.flatnonzero(d)[:4], "s"] = np.nan              # ... some scores too
    df.loc[df.race.isna(), "s"] = np.nan                     # the missing race: no score
    df.loc[df.age >= 60, "y"] = np.nan                       # the oldest band: no outcome
    df.loc[df.index[:7], "age"] = np.nan                     # a band of missing ages, kept
    return df


def _expected(df: pd.DataFrame) -> list[str]:
    """The sentences from the raw rows, counted by pandas on group masks."""
    no_y, no_s = df["y"].isna(), df["s"].isna()
    left = no_y | no_s
    out = []
    band = pd.cut(df["age"], [18, 40, 60, 80], right=False, labels=["18-39", "40-59", "60-79"])
    for feature, col in (("race", df["race"].fillna("(missing)")),
                         ("age", band.astype(object).where(band.notna(), "(missing)"))):
        for g in sorted(col.unique(), key=lambda v: (v == "(missing)", v)):
            mine = (col == g).to_numpy()
            if left[mine].all():
                n, n_y = int(mine.sum()), int((mine & no_y).sum())
                lack = ("an outcome" if n_y == n else "a score" if n_y == 0 else
                        f"an outcome ({n_y:,}) or a score ({n - n_y:,})")
                out.append(f"{feature}: '{g}' has no row left: its {n:,} rows lack {lack}.")
    return out


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    df = _rows()
    path = tmp_path_factory.mktemp("vanished") / "left_out.parquet"
    df.to_parquet(path, index=False)
    return df, str(path)


def test_duckdb_names_the_groups_an_upload_names(parquet):
    df, path = parquet
    expected = _expected(df)
    assert len(expected) == 4, expected  # 'C', 'D', '(missing)' of race; '60-79' of age
    upload = faircard.assess_spec(pd.read_parquet(path), SPEC)
    assert vanished_of(upload.cube, upload.spec, pd.read_parquet(path)) == expected
    counted = assess_source(path, SPEC, engine="duckdb")
    assert vanished_of(counted.cube, counted.spec) == expected  # no row needed


def test_fewer_features_derived_from_the_counts_keep_their_names(parquet):
    df, path = parquet
    grouped = count_duckdb(path, SPEC)
    race = AssessmentSpec(target="y", score="s", sensitive=("race",), n_boot=0)
    derived = assess_grouped(derive_grouped(grouped, race.sensitive), race)
    assert vanished_of(derived.cube, race) == [s for s in _expected(df) if s.startswith("race")]


def test_nothing_is_named_when_every_group_keeps_a_row(tmp_path):
    df = _rows(1)
    df.loc[df.race.isin(["C", "D"]) | df.race.isna(), ["y", "s"]] = 0.0
    df.loc[df.age >= 60, "y"] = 1.0
    df.loc[df.index[::11], "s"] = np.nan
    path = tmp_path / "kept.parquet"
    df.to_parquet(path, index=False)
    a = assess_source(str(path), SPEC, engine="duckdb")
    assert a.n_dropped > 0 and vanished_of(a.cube, a.spec) == [] == _expected(df)


def test_the_cli_names_them_on_every_engine_after_the_rows_left_out(parquet, capsys):
    df, path = parquet
    outputs = []
    for engine in ("pandas", "duckdb"):
        code = main(["assess", path, "--engine", engine, "--target", "y", "--score", "s",
                     "--sensitive", "race", "--sensitive", "age", "--bins",
                     "age=18,40,60,80:18-39,40-59,60-79", "--bootstrap", "0"])
        assert code == 0
        notes = [line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("Note: ")]
        left = next(i for i, line in enumerate(notes) if " left out (" in line)
        assert notes[left + 1:left + 5] == [f"Note: {s}" for s in _expected(df)]
        outputs.append(notes)
    assert outputs[0] == outputs[1]


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_names_them_as_pandas_and_duckdb_do(parquet, spark):
    from faircard.engine.sources import count_spark

    df, path = parquet
    a = assess_grouped(count_spark(spark.read.parquet(path), SPEC), SPEC)
    assert vanished_of(a.cube, a.spec) == _expected(df)
