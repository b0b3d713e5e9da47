"""Hostile model files through the CLI: exit 2 and one line, never a signal, nothing executed.

Every payload of :mod:`tests.security.model_payloads` is written to disk and given to
``faircard assess DATA --model FILE`` in a separate process, so a crash of faircard itself
would show as a negative exit status. A canary file that any gadget would create must not
exist afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security import model_payloads as mp

ROOT = Path(__file__).resolve().parents[2]


def _cases() -> list[tuple[str, str, str]]:
    """(case id, file name, builder key); payloads are built inside the test."""
    cases = []
    for name in mp.CRAFTED:
        for ext in ("pkl", "joblib", "skops"):
            cases.append((f"crafted: {name} [.{ext}]", f"model.{ext}", f"crafted:{name}"))
    for name in mp.gadgets(Path("/x")):
        for ext in ("pkl", "joblib"):
            cases.append((f"gadget: {name} [.{ext}]", f"model.{ext}", f"gadget:{name}"))
    for name in ("schema.json inflating to 3 GB", "npy header claiming 40 GB"):
        cases.append((f"zip bomb: {name}", "model.skops", f"bomb:{name}"))
    for name in ("ndarray of 6e9 bytes", "lists nested 100,000 deep",
                 "self-referential pipeline"):
        cases.append((f"hog: {name}", "model.pkl", f"hog:{name}"))
    return cases


CASES = _cases()
_BOMBS: dict[str, bytes] = {}


def _payload(key: str, ext: str, canary: Path) -> tuple[bytes, str]:
    family, name = key.split(":", 1)
    if family == "crafted":
        build, expected = mp.CRAFTED[name]
        return mp.dump(build(), ext), expected
    if family == "gadget":
        return mp.gadgets(canary)[name], mp.REFUSED
    if family == "bomb":
        if not _BOMBS:
            _BOMBS.update(mp.skops_bombs())
        return _BOMBS[name], f"{mp.MEMORY}|{mp.UNREADABLE}"
    raw, expected = mp.hogs()[name]
    return raw, expected


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "faircard.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600, check=False)


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "data.csv"
    mp.frame().to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case,filename,key", CASES, ids=[c[0] for c in CASES])
def test_payload_through_cli_exits_2_with_one_line(case, filename, key, data_csv, tmp_path):
    canary = tmp_path / "canary"
    raw, expected = _payload(key, filename.rsplit(".", 1)[1], canary)
    model = tmp_path / filename
    model.write_bytes(raw)
    proc = run_cli("assess", str(data_csv), "--target", "y", "--sensitive", "g",
                   "--model", str(model), "--quiet", cwd=tmp_path)
    err = proc.stderr.strip()
    assert proc.returncode == 2, (case, proc.returncode, err[-2000:])
    assert len(err.splitlines()) == 1 and err.startswith("faircard: error: "), err[-2000:]
    assert re.search(expected, err), (case, err)
    assert "Traceback" not in err
    assert not canary.exists(), f"{case}: the payload ran"


def test_corpus_covers_every_family():
    families = {c[2].split(":")[0] for c in CASES}
    assert families == {"crafted", "gadget", "bomb", "hog"}
    assert len(CASES) >= 40


@pytest.mark.parametrize("function", ["os.system", "posix.system", "builtins.eval",
                                      "numpy.load", "subprocess.getoutput"])
def test_a_skops_file_naming_a_function_that_runs_code_is_refused(function):
    """A .skops pipeline whose FunctionTransformer's function is renamed in schema.json."""
    import io
    import json
    import zipfile

    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from faircard.errors import FaircardError
    from faircard.io.models import load_model

    df = mp.frame()
    pipe = Pipeline([("f", FunctionTransformer(np.abs)), ("m", LogisticRegression())])
    good = sio.dumps(pipe.fit(df[["a", "b", "c"]], df["y"]))
    module, name = function.split(".")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "schema.json":
                text = json.dumps(json.loads(data))
                assert '"__class__": "absolute", "__module__": "numpy"' in text
                data = text.replace('"__class__": "absolute", "__module__": "numpy"',
                                    f'"__class__": "{name}", "__module__": "{module}"').encode()
            zout.writestr(info.filename, data)
    with pytest.raises(FaircardError, match=f"does not trust.*{function}"):
        load_model(out.getvalue(), filename="m.skops")
