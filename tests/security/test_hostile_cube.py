"""The counts cube a record keeps, attacked: changed in the database (with or without the
entry's hash recomputed, in a signed store or not), or replaced by a hostile archive (pickled
objects, an archive built to inflate, lying array headers). A changed cube reads "not verified"
like every other changed figure, and no archive runs code or inflates beyond its bound."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import pathlib
import sqlite3
import zipfile

import numpy as np
import pytest

import faircard
from faircard.cube import cube_from_npz, cube_to_npz
from faircard.errors import FaircardError
from faircard.governance.approval import UNVERIFIED, card_review
from faircard.governance.chain import compute_hash
from faircard.governance.share import cells_of
from faircard.governance.signing import Keys
from faircard.governance.store import AuditStore
from faircard.governance.stored_cube import stored_cube
from tests.conftest import make_dataset

DATA_SHA = hashlib.sha256(b"loans").hexdigest()
SECRET = "k" * 40


@pytest.fixture(scope="module")
def result():
    return faircard.assess(make_dataset(3, n=400), target="y", score="score",
                           sensitive=["sex"], n_boot=0)


def _store(path, signed=False):
    keys = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": SECRET}) if signed else \
        Keys.from_environment(environ={})
    return AuditStore(path, keys=keys)


def _record(path, result, signed=False):
    with _store(path, signed) as store:
        store.add(result, title="Loans v1", created_by="Ana Kim", dataset_name="loans.csv",
                  dataset_sha256=DATA_SHA, cells=cells_of(result))


def _more_rows(cube):
    w = cube.scores.weight.copy()
    w[0] += 5
    return dataclasses.replace(cube, scores=dataclasses.replace(cube.scores, weight=w))


def _other_decisions(cube):
    """A negative outcome's score moved from below the threshold (0.5) to above it: every
    cell keeps its rows, the decisions differ."""
    sc = cube.scores
    i = int(np.flatnonzero(~sc.y_true & (sc.y_score < 0.4))[0])
    score = sc.y_score.copy()
    score[i] = 0.9
    return dataclasses.replace(cube, scores=dataclasses.replace(sc, y_score=score))


def _tamper(path, change, rehash: bool):
    """Rewrite record 1's stored cube with ``change(cube)`` (or raw bytes); with ``rehash``
    also its entry hash and the store's head, as someone with SQL access but no key can."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM records WHERE id = 1").fetchone())
    cells = json.loads(row["cells"])
    blob = change if isinstance(change, bytes) else cube_to_npz(change(stored_cube(cells)))
    cells["cube"]["data"] = base64.b64encode(blob).decode("ascii")
    row["cells"] = json.dumps(cells)
    con.execute("UPDATE records SET cells = ? WHERE id = 1", (row["cells"],))
    if rehash:
        row["entry_hash"] = compute_hash(row, "records")
        con.execute("UPDATE records SET entry_hash = ? WHERE id = 1", (row["entry_hash"],))
        con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (row["entry_hash"],))
    con.commit()
    con.close()


def _review(store):
    rec = store.get(1)
    return card_review(store, fingerprint=rec.fingerprint, dataset_sha256=rec.dataset_sha256,
                       model_sha256s=[m["sha256"] for m in rec.models], spec=rec.spec,
                       summary=rec.summary)


def _share(path, monkeypatch):
    from tests.app.conftest import new, no_exception

    monkeypatch.setenv("FAIRCARD_STORE", str(path))
    at = new("app.py")
    at.query_params["record"] = "1"
    at.run()
    no_exception(at)
    return at


@pytest.mark.parametrize("change", [_more_rows, _other_decisions])
def test_a_changed_cube_is_not_verified(change, tmp_path, result, monkeypatch):
    path = tmp_path / "a.db"
    _record(path, result)
    with _store(path) as store:
        store.submit(1, "Ana Kim")
        store.review(1, "Ben Lee", "approve")
        assert store.problems(1) == [] and _review(store)["status"] == "approved"
    _tamper(path, change, rehash=False)
    with _store(path) as store:
        problems = store.problems(1)
        assert any("changed after it was written" in p for p in problems), problems
        assert _review(store)["status"] == UNVERIFIED and not store.verify().ok
    at = _share(path, monkeypatch)
    shown = "\n".join(m.value for m in at.markdown)
    assert "status **not verified**" in shown and "status **approved**" not in shown
    assert any("does not verify" in e.value for e in at.error)
    assert any("counts cube is not used" in i.value for i in at.info)
    assert not at.slider, "no what-if from a cube that does not verify"


@pytest.mark.parametrize("change, why", [(_more_rows, "other rows per cell"),
                                         (_other_decisions, "other decisions")])
def test_a_changed_cube_with_its_hash_recomputed_is_found(change, why, tmp_path, result):
    path = tmp_path / "a.db"
    _record(path, result)
    _tamper(path, change, rehash=True)
    with _store(path) as store:
        problems = store.problems(1)
        assert problems and "counts cube does not give its recorded figures" in problems[0] \
            and why in problems[0], problems
        assert not any("changed after it was written" in p for p in problems)
        assert _review(store)["status"] == UNVERIFIED and not store.verify().ok


def test_a_changed_cube_in_a_signed_store_has_no_valid_signature(tmp_path, result):
    path = tmp_path / "a.db"
    _record(path, result, signed=True)
    with _store(path, signed=True) as store:
        assert store.problems(1) == []
    blob = cube_to_npz(stored_cube(cells_of(result)))  # the same figures, re-encoded
    _tamper(path, _reordered(blob), rehash=True)
    with _store(path, signed=True) as store:
        problems = store.problems(1)
        assert any("signature does not match" in p for p in problems), problems
        assert not store.verify().ok


def _reordered(blob: bytes) -> bytes:
    """The same arrays in another archive (other bytes, same figures)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in reversed(src.infolist()):
            dst.writestr(info.filename, src.read(info))
    return out.getvalue()


# -- hostile archives ----------------------------------------------------------------------------

class _Touch:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def _npz(**arrays) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def _members(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_a_pickled_object_in_the_archive_is_refused_and_never_run(tmp_path, result):
    marker = tmp_path / "ran"
    arrays = _members(cube_to_npz(result.cube))
    arrays["entry_weight"] = np.array([_Touch(marker)], dtype=object)
    with pytest.raises(FaircardError, match="cannot be read.*entry_weight"):
        cube_from_npz(_npz(**arrays))
    assert not marker.exists()


def test_an_archive_built_to_inflate_is_refused(result):
    arrays = _members(cube_to_npz(result.cube))
    arrays["entry_weight"] = np.zeros(8 * 2**20, dtype=np.int64)  # 64 MB of zeros
    blob = _npz(**arrays)
    assert len(blob) < 2**20
    with pytest.raises(FaircardError, match="unpacks to more than"):
        cube_from_npz(blob, max_unpacked=4 * 2**20)


def test_a_member_longer_than_it_says_is_refused(result):
    arrays = _members(cube_to_npz(result.cube))
    arrays["entry_weight"] = np.zeros(2**20, dtype=np.int64)
    blob = bytearray(_npz(**arrays))
    # shrink the sizes the archive declares for that member (local and central headers)
    with zipfile.ZipFile(io.BytesIO(bytes(blob))) as z:
        info = z.getinfo("entry_weight.npy")
    real = info.file_size.to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    assert blob.count(real) == 2
    blob = bytes(blob).replace(real, fake)
    with pytest.raises(FaircardError, match="cannot be read"):
        cube_from_npz(blob)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(extra=np.zeros(3)), "unexpected parts extra"),
    (lambda a: a.update(entry_cell=a["entry_cell"].astype(np.float32)), "holds float32"),
    (lambda a: a.update(entry_cell=a["entry_cell"][:-1]), "scored entries do not match"),
    (lambda a: a.update(entry_cell=a["entry_cell"] + 50), "names no cell"),
    (lambda a: a.update(entry_weight=-a["entry_weight"]), "rows positive"),
    (lambda a: a.update(cells=a["cells"][:, :3]), "do not match"),
    (lambda a: a.update(header=np.frombuffer(b"{not json", np.uint8)), "cannot be read"),
])
def test_an_archive_that_is_not_a_cube_is_a_sentence(change, message, result):
    arrays = _members(cube_to_npz(result.cube))
    change(arrays)
    with pytest.raises(FaircardError, match=message):
        cube_from_npz(_npz(**arrays))


@pytest.mark.parametrize("blob", [b"", b"PK\x03\x04 not really", b"\x80\x04pickle"])
def test_bytes_that_are_no_archive_are_a_sentence(blob):
    with pytest.raises(FaircardError, match="not a NumPy archive"):
        cube_from_npz(blob)


def test_a_hostile_cube_in_a_store_without_signatures_is_a_problem_not_a_crash(tmp_path,
                                                                               result):
    path = tmp_path / "a.db"
    _record(path, result)
    _tamper(path, b"\x80\x04not an archive", rehash=True)
    with _store(path) as store:
        problems = store.problems(1)
        assert problems and "counts cube cannot be read" in problems[0], problems
        assert not store.verify().ok
