"""The audit store: fingerprints, the hash chain, status flow, sign-off rules, damaged files."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading

import pytest

import faircard
from faircard.errors import FaircardError
from faircard.governance.chain import compute_hash
from faircard.governance.records import assessment_fingerprint, canonical_json, spec_of
from faircard.governance.store import (
    GENESIS_HASH,
    MAX_COMMENT,
    MAX_NAME,
    SCHEMA_VERSION,
    AuditStore,
)
from tests.conftest import make_dataset

MODEL_A = {"name": "logreg.skops", "sha256": "a" * 64}
MODEL_B = {"name": "logreg.skops", "sha256": "b" * 64}


def _sha(df) -> str:
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()


def _assess(df, **kw):
    kw.setdefault("n_boot", 0)
    return faircard.assess(df, target="y", score="score", sensitive=["sex", "race"], **kw)


@pytest.fixture(scope="module")
def data():
    return make_dataset(3, n=500)


@pytest.fixture(scope="module")
def result(data):
    return _assess(data)


@pytest.fixture
def store(tmp_path):
    with AuditStore(tmp_path / "audit.db") as s:
        yield s


def _add(store, result, data, **kw):
    kw.setdefault("title", "Loans v1")
    kw.setdefault("created_by", "alice")
    kw.setdefault("dataset_name", "loans.csv")
    kw.setdefault("dataset_sha256", _sha(data))
    kw.setdefault("models", [MODEL_A])
    return store.add(result, **kw)


def _sql(path, statement, *params):
    con = sqlite3.connect(path)
    con.execute(statement, params)
    con.commit()
    con.close()


# -- fingerprints ---------------------------------------------------------------------------

def test_fingerprint_is_stable_across_two_runs_of_the_same_input(store, data):
    first = _add(store, _assess(data), data)
    second = _add(store, _assess(data.copy()), data, title="again")
    assert first.fingerprint == second.fingerprint
    assert len(first.fingerprint) == 64 and first.id != second.id
    # the gate's way of computing it gives the same value
    assert assessment_fingerprint(_assess(data), dataset_sha256=_sha(data),
                                  models=[MODEL_A]) == first.fingerprint
    # bootstrap settings change intervals, not the fingerprinted results
    assert assessment_fingerprint(_assess(data, n_boot=50), dataset_sha256=_sha(data),
                                  models=[MODEL_A]) == first.fingerprint
    # an Assessment and its to_dict() are the same input
    third = _add(store, _assess(data).to_dict(), data)
    assert third.fingerprint == first.fingerprint


def test_fingerprint_changes_with_data_spec_or_model(data, result):
    base = assessment_fingerprint(result, dataset_sha256=_sha(data), models=[MODEL_A])
    changed = data.copy()
    changed.loc[changed.index[100], "y"] = 1 - changed.loc[changed.index[100], "y"]
    new_data = assessment_fingerprint(_assess(changed), dataset_sha256=_sha(changed),
                                      models=[MODEL_A])
    same_results_other_file = assessment_fingerprint(result, dataset_sha256="c" * 64,
                                                     models=[MODEL_A])
    new_threshold = assessment_fingerprint(_assess(data, threshold=0.6),
                                           dataset_sha256=_sha(data), models=[MODEL_A])
    new_reference = assessment_fingerprint(_assess(data, reference={"sex": "female"}),
                                           dataset_sha256=_sha(data), models=[MODEL_A])
    new_model = assessment_fingerprint(result, dataset_sha256=_sha(data), models=[MODEL_B])
    no_model = assessment_fingerprint(result, dataset_sha256=_sha(data))
    renamed_model = assessment_fingerprint(result, dataset_sha256=_sha(data),
                                           models=[{**MODEL_A, "name": "other-name.skops"}])
    prints = [base, new_data, same_results_other_file, new_threshold, new_reference, new_model,
              no_model]
    assert len(set(prints)) == len(prints)
    assert renamed_model == base  # the file's bytes count, not its name


def test_canonical_json_is_sorted_compact_and_nan_free():
    text = canonical_json({"b": float("nan"), "a": [1, 0.1 + 0.2, float("inf")], "c": True})
    assert text == '{"a":[1,0.3,null],"b":null,"c":true}'


# -- recording and reading ------------------------------------------------------------------

def test_record_keeps_summary_spec_and_full_assessment(store, data, result):
    rec = _add(store, result, data)
    doc = result.to_dict()
    assert rec.status == "draft" and rec.created_by == "alice" and rec.n_rows == len(data)
    assert rec.models == [MODEL_A]
    assert rec.spec == spec_of(result)
    assert rec.spec["target"] == "y" and rec.spec["score"] == "score"
    assert rec.spec["sensitive_features"] == ["sex", "race"]
    for feature, crit in doc["criteria"].items():
        for key, value in crit.items():
            got = rec.summary["criteria"][feature][key]
            assert (got is None and (value is None or math.isnan(value))) or \
                got == pytest.approx(value, rel=1e-11)
    assert rec.summary["overall"]["accuracy"] == pytest.approx(result.overall["accuracy"])
    full = store.assessment(rec.id)
    assert full == json.loads(json.dumps(doc).replace("NaN", "null"))  # exact, not rounded
    assert store.get(rec.id) == rec
    assert [r.id for r in store.list()] == [rec.id]
    exported = store.export(rec.id)
    assert exported["record"]["fingerprint"] == rec.fingerprint
    assert exported["assessment"] == full and exported["history"] == []
    json.dumps(exported, allow_nan=False)


def test_no_row_level_data_is_stored(tmp_path, data, result):
    path = tmp_path / "audit.db"
    with AuditStore(path) as store:
        _add(store, result, data)
    raw = path.read_bytes()
    # scores of individual rows (two decimals, e.g. 0.37) never appear as a column of values
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    con.close()
    assert tables == {"meta", "records", "reviews", "comments", "alembic_version"}
    assert b'"score":[' not in raw and b'"y":[' not in raw


def test_list_filters_and_find_by_fingerprint(store, data, result):
    r1 = _add(store, result, data)
    r2 = _add(store, result, data, created_by="bob", models=[MODEL_B])
    store.submit(r2.id, "bob")
    assert [r.id for r in store.list(status="in_review")] == [r2.id]
    assert [r.id for r in store.list(created_by="alice")] == [r1.id]
    assert [r.id for r in store.find_by_fingerprint(r1.fingerprint)] == [r1.id]
    assert store.find_by_fingerprint(r1.fingerprint, status="approved") == []
    with pytest.raises(FaircardError, match="64 hexadecimal"):
        store.find_by_fingerprint("abc")
    with pytest.raises(FaircardError, match="Unknown status"):
        store.list(status="done")


def test_supersedes_links_both_ways(store, data, result):
    old = _add(store, result, data)
    new = _add(store, result, data, title="Loans v2", supersedes=old.id)
    assert new.supersedes == old.id and store.get(old.id).superseded_by == (new.id,)
    with pytest.raises(FaircardError, match="no record 99"):
        _add(store, result, data, supersedes=99)


def test_bad_inputs_to_add(store, data, result):
    with pytest.raises(FaircardError, match="sha256 of the dataset"):
        _add(store, result, data, dataset_sha256="not-a-hash")
    with pytest.raises(FaircardError, match="title is empty"):
        _add(store, result, data, title="  ")
    with pytest.raises(FaircardError, match="several models"):
        _add(store, {"models": [], "n_rows": 3}, data)
    with pytest.raises(FaircardError, match="not a faircard assessment"):
        _add(store, {"n_rows": 3}, data)
    assert store.list() == [] and store.head() == GENESIS_HASH


# -- review and sign-off --------------------------------------------------------------------

def test_status_flow_and_transitions(store, data, result):
    rec = _add(store, result, data)
    with pytest.raises(FaircardError, match="Submit it first"):
        store.review(rec.id, "bob", "approve")
    assert store.review(rec.id, "carol", "comment", "early look").status == "draft"
    assert store.submit(rec.id, "alice").status == "in_review"
    with pytest.raises(FaircardError, match="only a draft can be submitted"):
        store.submit(rec.id, "alice")
    assert store.review(rec.id, "bob", "approve", role="model risk").status == "approved"
    with pytest.raises(FaircardError, match="is approved"):
        store.review(rec.id, "dave", "reject", "too late")
    assert store.review(rec.id, "dave", "comment", "noted").status == "approved"
    events = store.history(rec.id)
    assert [(e.decision, e.reviewer) for e in events] == [
        ("comment", "carol"), ("submit", "alice"), ("approve", "bob"), ("comment", "dave")]
    assert events[2].role == "model risk" and events[2].at.endswith("+00:00")

    sent_back = _add(store, result, data)
    store.submit(sent_back.id, "alice")
    with pytest.raises(FaircardError, match="needs a comment"):
        store.review(sent_back.id, "bob", "request_changes", "   ")
    assert store.review(sent_back.id, "bob", "request_changes", "add the age bands").status \
        == "changes_requested"
    with pytest.raises(FaircardError, match="content cannot change"):
        store.submit(sent_back.id, "alice")

    rejected = _add(store, result, data)
    store.submit(rejected.id, "alice")
    assert store.review(rejected.id, "bob", "reject", "wrong data").status == "rejected"
    assert store.verify().ok


@pytest.mark.parametrize("name", ["alice", "Alice", " ALICE  ", "\uff41lice"])
def test_the_author_cannot_approve(store, data, result, name):
    rec = _add(store, result, data)
    store.submit(rec.id, "alice")
    head = store.head()
    with pytest.raises(FaircardError, match="cannot approve it"):
        store.review(rec.id, name, "approve")
    assert store.head() == head and store.get(rec.id).status == "in_review"
    # the author may still comment on or withdraw (reject) their own work
    assert store.review(rec.id, name, "reject", "withdrawn").status == "rejected"


def test_bad_decision_unknown_id_and_bad_id(store, data, result):
    rec = _add(store, result, data)
    with pytest.raises(FaircardError, match="Unknown review decision 'lgtm'"):
        store.review(rec.id, "bob", "lgtm")
    with pytest.raises(FaircardError, match="no record 42"):
        store.get(42)
    with pytest.raises(FaircardError, match="no record 42"):
        store.submit(42, "bob")
    with pytest.raises(FaircardError, match="whole number"):
        store.get("1; DROP TABLE records")
    assert store.get(str(rec.id)).id == rec.id


def test_length_limits(store, data, result):
    rec = _add(store, result, data)
    store.submit(rec.id, "alice")
    with pytest.raises(FaircardError, match="10,001 characters long; the limit is 10,000"):
        store.review(rec.id, "bob", "comment", "x" * (MAX_COMMENT + 1))
    store.review(rec.id, "bob", "comment", "x" * MAX_COMMENT)
    with pytest.raises(FaircardError, match="reviewer's name is 201"):
        store.review(rec.id, "b" * (MAX_NAME + 1), "comment", "hi")
    with pytest.raises(FaircardError, match="must be text"):
        store.review(rec.id, 12, "comment", "hi")
    with pytest.raises(FaircardError, match="author's name is 201"):
        _add(store, result, data, created_by="a" * (MAX_NAME + 1))


def test_untrusted_text_is_stored_and_returned_verbatim(tmp_path, data, result):
    path = tmp_path / "audit.db"
    texts = [
        "<script>alert('x')</script><b>bold</b> &amp;",
        "'); DROP TABLE records; --",
        "Robert\"); DELETE FROM reviews WHERE (\"1\"=\"1",
        "line one\nline two\r\n\ttabbed \u202e\u200b émoji 🙂 한국어",
        "%s %(name)s {0} ${HOME} `id`",
    ]
    with AuditStore(path) as store:
        rec = _add(store, result, data, title=texts[0], created_by=texts[2])
        store.submit(rec.id, texts[1])
        # a role is shown inside a sentence of the card: one line (the comments keep theirs)
        roles = [t[:100] if t != texts[3] else "model risk" for t in texts]
        with pytest.raises(FaircardError, match="line break or a control character"):
            store.review(rec.id, "O'Brien", "comment", texts[3], role=texts[3])
        for t, role in zip(texts, roles, strict=True):
            store.review(rec.id, "O'Brien <ob@example.org>", "comment", t, role=role)
    with AuditStore(path, create=False) as store:
        again = store.get(rec.id)
        assert again.title == texts[0] and again.created_by == texts[2]
        events = store.history(rec.id)
        assert events[0].reviewer == texts[1]
        assert [e.comment for e in events[1:]] == texts
        assert [e.role for e in events[1:]] == roles
        assert events[1].reviewer == "O'Brien <ob@example.org>"
        assert store.verify().ok


# -- verification ---------------------------------------------------------------------------

def _busy_store(path, data, result):
    with AuditStore(path) as store:
        r1 = _add(store, result, data)
        store.submit(r1.id, "alice")
        store.review(r1.id, "bob", "approve", "ok")
        r2 = _add(store, result, data, title="Loans v2", supersedes=r1.id)
        store.review(r2.id, "carol", "comment", "looks fine")
        assert store.verify().ok
        return store.head()


def test_verify_reports_an_intact_store(tmp_path, data, result):
    head = _busy_store(tmp_path / "a.db", data, result)
    with AuditStore(tmp_path / "a.db", create=False) as store:
        v = store.verify()
    assert v.ok and v.problems == [] and v.first_broken is None
    assert (v.n_records, v.n_reviews, v.head) == (2, 3, head)


@pytest.mark.parametrize("statement,entry", [
    ("UPDATE records SET title = 'Loans v1 (final)' WHERE id = 1", "record 1"),
    ("UPDATE records SET created_by = 'mallory' WHERE id = 1", "record 1"),
    ("UPDATE records SET n_rows = n_rows + 1 WHERE id = 2", "record 2"),
    ("UPDATE reviews SET comment = 'rubber stamp' WHERE id = 2", "review 2"),
    ("UPDATE reviews SET reviewer = 'eve' WHERE id = 2", "review 2"),
    ("UPDATE reviews SET decision = 'reject' WHERE id = 3", "review 3"),
])
def test_tampering_with_a_row_is_detected_and_named(tmp_path, data, result, statement, entry):
    path = tmp_path / "a.db"
    _busy_store(path, data, result)
    _sql(path, statement)
    with AuditStore(path, create=False) as store:
        v = store.verify()
    assert not v.ok
    assert v.first_broken.entry == entry
    assert "changed after it was written" in str(v.first_broken)
    assert entry in v.message


def test_editing_the_status_column_is_detected(tmp_path, data, result):
    path = tmp_path / "a.db"
    _busy_store(path, data, result)
    _sql(path, "UPDATE records SET status = 'approved' WHERE id = 2")
    with AuditStore(path, create=False) as store:
        v = store.verify()
        assert not v.ok and v.first_broken.entry == "record 2"
        assert "status is 'approved' but its reviews give 'draft'" in v.first_broken.reason


def test_rewriting_results_and_rehashing_the_row_is_still_detected(tmp_path, data, result):
    path = tmp_path / "a.db"
    _busy_store(path, data, result)
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    row = dict(con.execute("SELECT * FROM records WHERE id = 1").fetchone())
    summary = json.loads(row["summary"])
    summary["criteria"]["sex"]["demographic_parity_difference"] = 0.01
    row["summary"] = canonical_json(summary)
    row["entry_hash"] = compute_hash(row, "records")
    con.execute("UPDATE records SET summary = ?, entry_hash = ? WHERE id = 1",
                (row["summary"], row["entry_hash"]))
    con.commit()
    con.close()
    with AuditStore(path, create=False) as store:
        v = store.verify()
    reasons = [str(p) for p in v.problems]
    assert v.first_broken.entry == "record 1"
    assert any("fingerprint does not match" in r for r in reasons)
    assert any(r.startswith("review 1: its prev_hash") for r in reasons)


def test_deleting_entries_is_detected(tmp_path, data, result):
    path = tmp_path / "a.db"
    _busy_store(path, data, result)
    _sql(path, "DELETE FROM reviews WHERE id = 1")  # the submission, in the middle
    with AuditStore(path, create=False) as store:
        v = store.verify()
    assert not v.ok and v.first_broken.entry == "review 2"
    _busy_store(tmp_path / "b.db", data, result)
    _sql(tmp_path / "b.db", "DELETE FROM reviews WHERE id = 3")  # the newest entry
    with AuditStore(tmp_path / "b.db", create=False) as store:
        v = store.verify()
    assert not v.ok and "removed or added outside faircard" in v.message + str(v.problems[0])


def test_concurrent_writers_keep_one_chain(tmp_path, data, result):
    path = tmp_path / "a.db"
    with AuditStore(path) as store:
        rec = _add(store, result, data)
    errors = []

    def write(name):
        try:
            with AuditStore(path) as s:
                for i in range(8):
                    s.review(rec.id, name, "comment", f"{name} {i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("bob", "carol", "dave")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with AuditStore(path) as store:
        v = store.verify()
        assert v.ok, v.problems
        assert v.n_reviews == 24


# -- opening stores -------------------------------------------------------------------------

def test_a_random_binary_file_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "audit.db"
    blob = bytes(range(256)) * 40
    path.write_bytes(blob)
    with pytest.raises(FaircardError, match="not a SQLite database"):
        AuditStore(path)
    assert path.read_bytes() == blob
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.db"]


def test_other_bad_locations(tmp_path, data, result):
    other = tmp_path / "other.db"
    _sql(other, "CREATE TABLE customers (name TEXT)")
    before = other.read_bytes()
    with pytest.raises(FaircardError, match="not a faircard audit store"):
        AuditStore(other)
    assert other.read_bytes() == before
    with pytest.raises(FaircardError, match="is a folder"):
        AuditStore(tmp_path)
    with pytest.raises(FaircardError, match="no audit store at"):
        AuditStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(FaircardError, match="does not exist"):
        AuditStore(tmp_path / "no" / "such" / "dir.db")
    # a damaged database (valid header, garbage pages)
    good = tmp_path / "good.db"
    _busy_store(good, data, result)
    raw = bytearray(good.read_bytes())
    raw[4096:] = b"\xa5" * (len(raw) - 4096)
    bad = tmp_path / "bad.db"
    bad.write_bytes(bytes(raw))
    with pytest.raises(FaircardError, match="cannot be read"):
        with AuditStore(bad, create=False) as store:
            store.verify()


def test_a_newer_schema_is_refused(tmp_path, data, result):
    path = tmp_path / "audit.db"
    _busy_store(path, data, result)
    _sql(path, "UPDATE meta SET value = ? WHERE key = 'schema_version'", str(SCHEMA_VERSION + 1))
    with pytest.raises(FaircardError, match=f"newer faircard .*schema version {SCHEMA_VERSION + 1}"):
        AuditStore(path)


def test_default_location_env_and_url(tmp_path, monkeypatch, data, result):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FAIRCARD_STORE", raising=False)
    with AuditStore() as store:
        assert store.location == "faircard-audit.db"
    assert (tmp_path / "faircard-audit.db").exists()
    monkeypatch.setenv("FAIRCARD_STORE", str(tmp_path / "env.db"))
    with AuditStore() as store:
        _add(store, result, data)
    with AuditStore(f"sqlite:///{tmp_path / 'env.db'}", create=False) as store:
        assert len(store.list()) == 1 and store.verify().ok


def test_exists_says_whether_there_is_a_store_to_open(tmp_path, monkeypatch):
    from faircard.governance.store import exists

    path = tmp_path / "audit.db"
    assert not exists(path)
    monkeypatch.setenv("FAIRCARD_STORE", str(path))
    assert not exists()
    AuditStore(path).close()
    assert exists(path) and exists()
    assert exists("sqlite:///" + str(tmp_path / "elsewhere.db"))  # a URL is opened to find out
