"""Shared fixtures: small deterministic datasets made here (no files from outside)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_dataset(seed: int, n: int = 600, n_features: int = 2, with_missing: bool = True,
                 tiny_group: bool = True, no_positive_group: bool = True) -> pd.DataFrame:
    """Random binary outcomes and scores with 1-3 sensitive features of mixed types.

    Includes a tiny group, a group with no positives and missing sensitive values on request.
    """
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", "non-binary"], size=n, p=[0.45, 0.45, 0.10])
    race = pd.Categorical(rng.choice(["A", "B", "C", "D"], size=n, p=[0.4, 0.3, 0.2, 0.1]),
                          categories=["D", "C", "B", "A", "unused"])
    band = rng.integers(1, 4, size=n)
    base = 0.25 + 0.2 * (sex == "male") + 0.1 * (band == 3)
    y = (rng.random(n) < base).astype(int)
    score = np.clip(0.5 * y + rng.normal(0.3, 0.25, n), 0, 1)
    score = np.round(score, 2)  # ties on purpose
    df = pd.DataFrame({"y": y, "score": score, "sex": sex, "race": race, "band": band})
    df["pred"] = (df["score"] >= 0.5).astype(int)
    if tiny_group:
        df.loc[df.index[:3], "sex"] = "tiny"
    if no_positive_group:
        idx = df.index[3:25]
        df.loc[idx, "sex"] = "nopos"
        df.loc[idx, "y"] = 0
    if with_missing:
        df.loc[df.index[30:40], "race"] = np.nan
    cols = ["sex", "race", "band"][:n_features]
    df.attrs["sensitive"] = cols
    return df


# a rate and its complement: the same counts split the other way round
COMPLEMENTS = {"true_positive_rate": "false_negative_rate",
               "false_positive_rate": "true_negative_rate",
               "precision": "false_discovery_rate",
               "negative_predictive_value": "false_omission_rate"}
COMPLEMENTS.update({v: k for k, v in COMPLEMENTS.items()})


def holm_once_per_hypothesis(disp) -> np.ndarray:
    """statsmodels' Holm over the distinct hypotheses of a disparities table (a rate and its
    complement between the same two groups counted once), spread back onto every row."""
    from statsmodels.stats.multitest import multipletests

    family: dict = {}
    row_key = []
    for _, r in disp.iterrows():
        if np.isnan(r["p_value"]):
            row_key.append(None)
            continue
        metric = min(r["metric"], COMPLEMENTS.get(r["metric"], r["metric"]))
        key = (r["feature"], metric, frozenset((r["worst_group"], r["best_group"])))
        family.setdefault(key, r["p_value"])
        row_key.append(key)
    keys = list(family)
    adjusted = dict(zip(keys, multipletests([family[k] for k in keys], method="holm")[1],
                        strict=True))
    return np.array([np.nan if k is None else adjusted[k] for k in row_key])


@pytest.fixture
def small_df() -> pd.DataFrame:
    return make_dataset(0, n=400)


@pytest.fixture(scope="session")
def spark():
    """One local[*] Spark session for the whole run (the commands' getOrCreate finds it):
    starting the JVM is most of a Spark test's time."""
    import shutil
    import warnings

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (java is not on PATH)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PySpark's pandas 3 notice
        from pyspark.sql import SparkSession

        session = (SparkSession.builder.master("local[*]").appName("faircard-tests")
                   .config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.codegen.wholeStage", "false")  # small data: no compiling
                   .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
