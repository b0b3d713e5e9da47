"""The sandboxed child: isolation, limits, and a parent that survives whatever the model does."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from faircard import FaircardError
from faircard.io.models import Limits, load_model
from tests.security import model_payloads as mp

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def df():
    return mp.frame(n=400)


@pytest.fixture(scope="module")
def good(df):
    est = LogisticRegression().fit(df[FEATURES], df["y"])
    return est, pickle.dumps(est)


def test_resource_py_in_working_directory_is_not_imported(tmp_path, monkeypatch, df, good):
    canary = tmp_path / "imported"
    (tmp_path / "resource.py").write_text(
        f"open({str(canary)!r}, 'w').close()\n"
        "RLIMIT_AS = RLIMIT_CPU = RLIMIT_FSIZE = RLIMIT_NOFILE = RLIMIT_CORE = 0\n"
        "def setrlimit(*a): pass\n"
        "def getrlimit(*a): return (-1, -1)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHONSTARTUP", str(tmp_path / "resource.py"))
    est, raw = good
    m = load_model(raw, filename="m.pkl")
    np.testing.assert_allclose(m.predict_scores(df[FEATURES]), est.predict_proba(df[FEATURES])[:, 1])
    assert not canary.exists()
    limits = Path(f"/proc/{m.pid}/limits").read_text()
    assert "Max address space         2147483648" in limits
    m.close()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_child_runs_isolated_with_limits(tmp_path, monkeypatch, good):
    monkeypatch.setenv("FAIRCARD_TEST_SECRET", "do-not-pass-on")
    secret_file = open(tmp_path / "parent.txt", "w")  # noqa: SIM115 (kept open on purpose)
    os.set_inheritable(secret_file.fileno(), True)
    try:
        m = load_model(good[1], filename="m.pkl", memory_limit_mb=1536)
        proc = Path(f"/proc/{m.pid}")
        argv = proc.joinpath("cmdline").read_bytes().split(b"\0")
        assert b"-I" in argv[1:3]
        env = dict(item.split(b"=", 1) for item in proc.joinpath("environ").read_bytes()
                   .split(b"\0") if item)
        assert b"FAIRCARD_TEST_SECRET" not in env
        assert set(env) <= {b"PATH", b"LC_ALL", b"HOME", b"OPENBLAS_NUM_THREADS",
                            b"OMP_NUM_THREADS", b"MKL_NUM_THREADS"}
        targets = {os.readlink(p) for p in proc.joinpath("fd").iterdir()}
        assert str(tmp_path / "parent.txt") not in targets
        assert len(targets) <= 5, targets  # stdin, stdout, stderr, the protocol's copy
        limits = {line[:26].strip(): line[26:].split()[:2]
                  for line in proc.joinpath("limits").read_text().splitlines()[1:]}
        assert limits["Max address space"] == [str(1536 * 1024**2)] * 2
        assert limits["Max cpu time"][0] == limits["Max cpu time"][1] != "unlimited"
        assert limits["Max file size"] == [str(1024**2)] * 2
        assert limits["Max open files"] == ["64", "64"]
        assert limits["Max core file size"] == ["0", "0"]
        m.close()
    finally:
        secret_file.close()


def test_memory_limit_holds_at_load():
    raw = mp.hogs()["ndarray of 6e9 bytes"][0]
    with pytest.raises(FaircardError, match=r"more than 1,024 MB of memory") as info:
        load_model(raw, filename="big.pkl", memory_limit_mb=1024)
    assert "\n" not in str(info.value)


def test_crash_while_predicting_is_one_line_and_the_process_carries_on(df, good):
    m = load_model(mp.dump(mp.tree_far_feature(), "pkl"), filename="crafted.pkl")
    assert m.classes == [0, 1]  # facts came back as plain data
    for _ in range(2):  # the second call starts a new child and fails the same way
        with pytest.raises(FaircardError) as info:
            m.predict_scores(df[FEATURES])
        msg = str(info.value)
        assert "crafted.pkl' crashed while predicting (signal 11, SIGSEGV)" in msg, msg
        assert "\n" not in msg
    est, raw = good
    ok = load_model(raw, filename="m.pkl")
    np.testing.assert_array_equal(ok.predict_labels(df[FEATURES]), est.predict(df[FEATURES]))


def test_wall_clock_timeout_while_predicting(df):
    big = mp.frame(n=200_000)
    est = RandomForestClassifier(n_estimators=50, random_state=0).fit(df[FEATURES], df["y"])
    m = load_model(pickle.dumps(est), filename="slow.pkl",
                   limits=Limits(predict_timeout_s=0.05))
    with pytest.raises(FaircardError, match=r"took longer than 0.05 s predicting"):
        m.predict_scores(big[FEATURES])


def test_idle_child_exits_and_a_new_one_takes_over(df, good):
    est, raw = good
    m = load_model(raw, filename="m.pkl", limits=Limits(idle_s=0.5))
    first = m.pid
    deadline = time.monotonic() + 30
    while m.pid is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert m.pid is None, "the idle child should have exited"
    np.testing.assert_allclose(m.predict_scores(df[FEATURES]), est.predict_proba(df[FEATURES])[:, 1])
    assert m.pid not in (None, first)


def test_chunks_cover_every_row_in_order(monkeypatch, df, good):
    from faircard.io import sandbox

    monkeypatch.setattr(sandbox, "CHUNK_CELLS", 3 * 10)  # 1,000-row chunks (the minimum)
    big = mp.frame(n=4_321, seed=3)
    est, raw = good
    m = load_model(raw, filename="m.pkl")
    np.testing.assert_allclose(m.predict_scores(big[FEATURES], 0),
                               est.predict_proba(big[FEATURES])[:, 0])
    np.testing.assert_array_equal(m.predict_labels(big[FEATURES]), est.predict(big[FEATURES]))


def test_handle_pickles_without_its_process(good, df):
    est, raw = good
    m = load_model(raw, filename="m.pkl")
    copy = pickle.loads(pickle.dumps(m))
    assert copy.pid is None and copy.sha256 == m.sha256
    np.testing.assert_allclose(copy.predict_scores(df[FEATURES]),
                               est.predict_proba(df[FEATURES])[:, 1])
