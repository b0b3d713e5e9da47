"""Shared fixtures: small deterministic datasets made here (no files from outside), and how the
suite is spread over processes (pytest-xdist, ``-n auto --dist loadgroup`` in pyproject.toml)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_WORKERS = 4
"""``-n auto`` starts one worker per CPU this process may use, at most this many: each worker
collects the whole suite (~14 s of CPU) and holds its own imports, and past four the run's length
is set by the groups of :func:`_worker_group`, not by the number of workers."""

_GROUPS_FILE = pytest.StashKey[str]()


def pytest_xdist_auto_num_workers(config):
    """The number of workers ``-n auto`` starts (PYTEST_XDIST_AUTO_NUM_WORKERS overrides it):
    none when the command names test files only (starting workers would cost more than those
    tests gain), else one per CPU up to :data:`MAX_WORKERS`."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist reads it
    if config.args_source == pytest.Config.ArgsSource.ARGS and all(
            os.path.isfile(arg.split("::")[0]) for arg in config.args):
        return 0
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _worker_group(item) -> str | None:
    """The group whose tests one worker runs together, or None for a test any worker may run:
    one Spark session (a JVM, most of a Spark test's time), one Streamlit server and browser,
    one throwaway PostgreSQL server, and each module's module-scoped fixtures built once rather
    than once per worker."""
    if "spark" in item.fixturenames:
        return "spark"
    if item.get_closest_marker("e2e"):
        return "e2e"
    if item.get_closest_marker("postgres"):
        return "postgres"
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    if any(d[-1].scope in ("module", "class") for d in defs if d):
        return item.path.relative_to(item.config.rootpath).as_posix()
    return None


# pytest-xdist's own --dist loadgroup appends the group to each test's node id, which pytest 9.2
# ignores (pytest-xdist issue 1386: every test is then scheduled alone, silently). Instead the
# workers write each test's group to a file the controller names, and the controller's scheduler
# (pytest-xdist's scope scheduler) sends each group to one worker as one unit.

def pytest_configure_node(node):
    """(controller) Tell each worker where to write the groups of the tests it collected."""
    config = node.config
    if _GROUPS_FILE not in config.stash:
        fd, path = tempfile.mkstemp(prefix="faircard-test-groups-", suffix=".json")
        os.close(fd)
        config.stash[_GROUPS_FILE] = path
    node.workerinput["faircard_groups"] = config.stash[_GROUPS_FILE]


def pytest_unconfigure(config):
    path = config.stash.get(_GROUPS_FILE, None)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def pytest_collection_modifyitems(config, items):
    path = getattr(config, "workerinput", {}).get("faircard_groups")
    if path is None:
        return
    groups = {item.nodeid: f"group:{g}" for item in items if (g := _worker_group(item))}
    mine = f"{path}.{config.workerinput['workerid']}"
    with open(mine, "w", encoding="utf-8") as f:
        json.dump(groups, f)
    os.replace(mine, path)  # every worker collects the same tests: any complete copy will do


def pytest_xdist_make_scheduler(config, log):
    """(controller) ``--dist loadgroup``: the tests of a group go to one worker, one unit."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # first called once every worker has collected
                with open(config.stash[_GROUPS_FILE], encoding="utf-8") as f:
                    self.groups = json.load(f)
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)


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
def server_config(monkeypatch):
    """Streamlit's config module with the repository's ``.streamlit/config.toml`` read by
    Streamlit's own loader (no ``STREAMLIT_*`` variables), read afresh again afterwards."""
    from streamlit import config

    monkeypatch.chdir(ROOT)  # Streamlit reads ./.streamlit/config.toml
    for name in list(os.environ):
        if name.startswith("STREAMLIT_"):
            monkeypatch.delenv(name)
    config.get_config_options(force_reparse=True)
    yield config
    config.get_config_options(force_reparse=True)


@pytest.fixture
def small_df() -> pd.DataFrame:
    return make_dataset(0, n=400)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local[*] Spark session for the whole run (the commands' getOrCreate finds it):
    starting the JVM is most of a Spark test's time. Its tests run in one worker
    (:func:`_worker_group`), so a parallel run starts one JVM too."""
    import shutil
    import warnings

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (java is not on PATH)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PySpark's pandas 3 notice
        from pyspark.sql import SparkSession

        session = (SparkSession.builder.master("local[*]").appName("faircard-tests")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")  # no bars in the output
                   .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("warehouse")))
                   .config("spark.sql.shuffle.partitions", "4")
                   .config("spark.sql.codegen.wholeStage", "false")  # small data: no compiling
                   .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
