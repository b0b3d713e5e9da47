"""The audit store on SQLite and PostgreSQL: the whole flow, tampering, and concurrent writers
(8 writers x 50 records and 50 reviews each: nothing lost, one intact chain)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import faircard
from faircard.errors import FaircardError
from faircard.governance.signing import Keys
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset
from tests.unit.postgres import POSTGRESQL

KEYS = Keys.from_environment(environ={"FAIRCARD_SIGNING_KEY": "q" * 48})
WRITERS, EACH = 8, 50


@pytest.fixture(params=["sqlite", POSTGRESQL])
def url(request, tmp_path):
    if request.param == "sqlite":
        # in memory-backed /dev/shm when there is one: each commit's fsync on this disk costs
        # ~35 ms, which would measure the disk, not the locking under test
        shm = Path("/dev/shm")
        where = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) \
            else tmp_path
        request.addfinalizer(lambda: shutil.rmtree(where, ignore_errors=True)
                             if where != tmp_path else None)
        return f"sqlite:///{where / 'audit.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="module")
def small():
    df = make_dataset(1, n=200, n_features=1)
    doc = faircard.assess(df, target="y", score="score", sensitive="sex", n_boot=0).to_dict()
    return doc, hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()


def _add(store, small, **kw):
    doc, sha = small
    kw.setdefault("title", "Loans")
    kw.setdefault("created_by", "alice")
    return store.add(doc, dataset_name="loans.csv", dataset_sha256=sha, **kw)


def _sql(url, statement):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def test_flow_and_tampering(url, small):
    with AuditStore(url, keys=KEYS) as store:
        rec = _add(store, small, cells={"cells": [[1, 2, 3, 4]]})
        store.submit(rec.id, "alice")
        store.comment(rec.id, "carol", "Why 0.5?", section="policy")
        with pytest.raises(FaircardError, match="cannot approve"):
            store.review(rec.id, " ALICE ", "approve")
        assert store.review(rec.id, "bob", "approve").status == "approved"
        assert store.cells(rec.id) == {"cells": [[1, 2, 3, 4]]}
        head = store.head()
        v = store.verify(expect_head=head)
        assert v.ok and (v.n_records, v.n_reviews, v.n_comments, v.n_signed) == (1, 2, 1, 4)
    _sql(url, "UPDATE reviews SET reviewer = 'eve' WHERE decision = 'approve'")
    with AuditStore(url, keys=KEYS) as store:
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "review 2"


def test_concurrent_writers_lose_nothing_and_keep_one_chain(url, small):
    AuditStore(url, keys=KEYS).close()
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(i: int) -> None:
        try:
            with AuditStore(url, keys=KEYS) as store:
                start.wait()
                for j in range(EACH):
                    rec = _add(store, small, title=f"w{i}-{j}", created_by=f"writer {i}")
                    store.review(rec.id, f"reviewer {i}", "comment", f"w{i}-{j} seen")
        except BaseException as exc:  # reported below
            errors.append(exc)

    began = time.perf_counter()
    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    assert errors == []
    with AuditStore(url, keys=KEYS) as store:
        records = store.list()
        v = store.verify()
        titles = sorted(r.title for r in records)
        comments = sorted(h.comment for r in records for h in store.history(r.id))
    expected = sorted(f"w{i}-{j}" for i in range(WRITERS) for j in range(EACH))
    assert titles == expected and comments == sorted(f"{t} seen" for t in expected)
    assert v.ok, v.problems[:3]
    assert (v.n_records, v.n_reviews, v.n_signed) == (WRITERS * EACH, WRITERS * EACH,
                                                       2 * WRITERS * EACH)
    print(f"{url.split(':')[0]}: {2 * WRITERS * EACH} entries by {WRITERS} writers in "
          f"{elapsed:.1f} s")
