"""The audit chain's verification (:func:`faircard.governance.chain.verify_chain`) on chains built
here by hand: every hash is computed with hashlib and json from the documented construction
(sha256 of the sorted, compact JSON of the table name and the covered columns), never with
faircard's own hashing, so a change to what the hash covers fails here. Each test tampers with
one thing a forger or a careless admin could change and checks that verify names it; written to
kill mutmut survivors."""

from __future__ import annotations

import hashlib
import json

import pytest

from faircard.governance import chain as ch

GENESIS = "0" * 64
ISSUER = "https://login.example.org"

# The columns each hash version covers, written out from the store's documented schema.
_REC1 = ("id", "seq", "created_at", "created_by", "title", "dataset_name", "dataset_sha256",
         "n_rows", "models", "spec", "summary", "assessment", "fingerprint", "supersedes",
         "prev_hash")
_REV1 = ("id", "seq", "record_id", "reviewer", "role", "decision", "comment", "at", "prev_hash")
_REC2 = (*_REC1, "hash_version", "author_issuer", "author_subject", "baseline_id", "cells")
_REV2 = (*_REV1, "hash_version", "reviewer_issuer", "reviewer_subject")
_COM2 = ("id", "seq", "record_id", "section", "body", "reply_to", "author", "author_issuer",
         "author_subject", "role", "at", "prev_hash", "hash_version")
COLUMNS = {1: {"records": _REC1, "reviews": _REV1},
           2: {"records": _REC2, "reviews": _REV2, "comments": _COM2},
           3: {"records": (*_REC2, "card"), "reviews": _REV2, "comments": _COM2}}


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(value) -> str:
    return hashlib.sha256(_json(value).encode("utf-8")).hexdigest()


def _hash(row: dict, table: str) -> str:
    version = row.get("hash_version") or 1
    return _sha({"table": table, **{c: row[c] for c in COLUMNS[version][table]}})


DATASET = hashlib.sha256(b"loans.csv").hexdigest()
MODEL = hashlib.sha256(b"model.skops").hexdigest()
DOC = {"target": "repaid", "sensitive_features": ["sex"], "n_rows": 8, "n_dropped": 1,
       "overall": {"accuracy": 0.75, "selection_rate": 0.5},
       "criteria": {"demographic_parity_difference": 0.25}, "extra": "not summarised"}
SUMMARY = {k: DOC[k] for k in ("n_rows", "n_dropped", "overall", "criteria")}
CARD_TEXT = {"intended_use": {"primary_uses": "Pre-screening loan applications"}}
CARD = {"format": "faircard-card", "version": 1, "text": CARD_TEXT,
        "model": {"name": "m", "type": "t", "sha256": MODEL}, "metrics": None,
        "personal_data": [], "suppress_small_groups": False, "bias_sources": None,
        "proxies": None}


class Chain:
    """A chain written the way the store writes it, with the hashes computed here."""

    def __init__(self):
        self.tables = {"records": [], "reviews": [], "comments": []}
        self.prev = GENESIS
        self.seq = 0
        self.status: dict[int, str] = {}
        self.head_signed = False

    def _append(self, table: str, row: dict, version: int) -> dict:
        self.seq += 1
        row = {"id": len(self.tables[table]) + 1, "seq": self.seq, "prev_hash": self.prev,
               "key_id": None, "signature": None, **row}
        if version > 1:
            row["hash_version"] = version
        row["entry_hash"] = _hash(row, table)
        self.prev = row["entry_hash"]
        self.tables[table].append(row)
        return row

    def record(self, author="Alice Smith", issuer=None, subject=None, *, version=3,
               card=False, supersedes=None, baseline=None, spec=None) -> dict:
        spec = dict(spec or {"target": "repaid", "threshold": 0.5})
        if card:
            spec["card_text_sha256"] = _sha(CARD_TEXT)
        fingerprint = _sha({"dataset_sha256": DATASET, "model_sha256s": [MODEL], "spec": spec,
                            "results": SUMMARY})
        row = {"created_at": "2026-11-26T07:00:00+00:00", "created_by": author,
               "title": "Loans v1", "dataset_name": "loans.csv", "dataset_sha256": DATASET,
               "n_rows": 8, "models": _json([{"name": "m", "sha256": MODEL}]),
               "spec": _json(spec), "summary": _json(SUMMARY), "assessment": _json(DOC),
               "fingerprint": fingerprint, "supersedes": supersedes, "status": "draft"}
        if version > 1:
            row.update(author_issuer=issuer, author_subject=subject, baseline_id=baseline,
                       cells=None)
        if version > 2:
            row["card"] = _json(CARD) if card else None
        out = self._append("records", row, version)
        self.status[out["id"]] = "draft"
        return out

    def event(self, record_id: int, decision: str, reviewer="Bob Jones", issuer=None,
              subject=None, *, version=3, comment="ok") -> dict:
        row = {"record_id": record_id, "reviewer": reviewer, "role": None,
               "decision": decision, "comment": comment, "at": "2026-11-26T07:05:00+00:00"}
        if version > 1:
            row.update(reviewer_issuer=issuer, reviewer_subject=subject)
        new = {"submit": "in_review", "approve": "approved", "reject": "rejected",
               "request_changes": "changes_requested"}.get(decision)
        if new is not None:
            self.set_status(record_id, new)
        return self._append("reviews", row, version)

    def comment(self, record_id: int, reply_to=None, author="Carol") -> dict:
        row = {"record_id": record_id, "section": "finding:1", "body": "why?",
               "reply_to": reply_to, "author": author, "author_issuer": None,
               "author_subject": None, "role": None, "at": "2026-11-26T07:06:00+00:00"}
        return self._append("comments", row, 3)

    def set_status(self, record_id: int, status: str) -> None:
        self.status[record_id] = status
        if record_id <= len(self.tables["records"]):
            self.tables["records"][record_id - 1]["status"] = status

    def rehash(self, table: str, index: int) -> None:
        """Rehash one entry after a change and relink every later entry (a full rewrite)."""
        row = self.tables[table][index]
        row["entry_hash"] = _hash(row, table)
        prev = row["entry_hash"]
        later = sorted((r for t in self.tables.values() for r in t if r["seq"] > row["seq"]),
                       key=lambda r: r["seq"])
        for r in later:
            t = next(name for name, rows in self.tables.items() if any(x is r for x in rows))
            r["prev_hash"] = prev
            r["entry_hash"] = _hash(r, t)
            prev = r["entry_hash"]
        self.prev = prev

    @property
    def meta(self) -> dict:
        meta = {"head_hash": self.prev, "event_count": str(self.seq)}
        if self.head_signed:  # as a signed store keeps it (by the test key ring below)
            meta.update(head_key_id="k1",
                        head_signature=f"good:{ch.head_message(self.seq, self.prev)}")
        return meta

    def verify(self, **kw) -> ch.VerifyResult:
        return ch.verify_chain(self.tables, self.meta, **kw)


def _approved_chain() -> Chain:
    c = Chain()
    c.record(card=True)
    c.event(1, "submit", reviewer="Alice Smith")
    c.event(1, "approve", comment="")
    c.comment(1)
    c.comment(1, reply_to=1, author="Alice Smith")
    return c


def _reasons(result: ch.VerifyResult) -> list[str]:
    return [str(p) for p in result.problems]


class Keys:
    """A key ring that accepts the signature "good:<entry_hash>" by key "k1"."""

    def __init__(self):
        self.calls = []

    def check(self, key_id, signature, entry_hash):
        self.calls.append((key_id, signature, entry_hash))
        if signature == f"good:{entry_hash}" and key_id == "k1":
            return ""
        return "its signature is not valid"


# -- an intact chain -------------------------------------------------------------------------

def test_an_intact_chain_verifies_with_its_counts_and_head():
    c = _approved_chain()
    c.record(author="Dan", supersedes=1, baseline=1)
    c.event(2, "submit", reviewer="Dan")
    c.event(2, "request_changes", comment="needs the age groups")
    r = c.verify()
    assert r.ok and r.problems == [] and r.first_broken is None
    assert (r.n_records, r.n_reviews, r.n_comments) == (2, 4, 2)
    assert r.head == c.prev and r.n_signed == 0 and r.signatures_checked is False
    assert r.message == (
        f"The audit store is intact: 2 records, 4 review events, 2 comments, head "
        f"{c.prev}. The entries are not signed: anyone who can write to the database could "
        "rewrite them unnoticed; configure a signing key.")
    d = r.to_dict()
    assert d == {"ok": True, "n_records": 2, "n_reviews": 4, "n_comments": 2, "n_signed": 0,
                 "signatures_checked": False, "head": c.prev, "message": r.message,
                 "problems": []}


def test_an_empty_store_verifies_without_a_signing_warning():
    r = ch.verify_chain({}, {"head_hash": GENESIS, "event_count": "0"})
    assert r.ok and r.head == GENESIS
    assert (r.n_records, r.n_reviews, r.n_comments) == (0, 0, 0)
    assert r.message == ("The audit store is intact: 0 records, 0 review events, "
                         f"0 comments, head {GENESIS}.")


def test_entries_are_walked_in_seq_order_whatever_order_the_tables_give():
    c = _approved_chain()
    shuffled = {t: list(reversed(rows)) for t, rows in c.tables.items()}
    assert ch.verify_chain(shuffled, c.meta).ok


def test_seq_read_as_text_still_orders_the_chain():
    # a database driver may hand numbers back as text; "10" must come after "9"
    c = Chain()
    c.record()
    for _ in range(10):
        c.comment(1)
    prev = GENESIS
    for row in [*c.tables["records"], *c.tables["comments"]]:
        table = "records" if row["id"] == 1 and "title" in row else "comments"
        row["seq"], row["prev_hash"] = str(row["seq"]), prev
        row["entry_hash"] = prev = _hash(row, table)
    rows = c.tables["comments"]
    c.tables["comments"] = rows[-2:] + rows[:-2]
    assert ch.verify_chain(c.tables, {"head_hash": prev, "event_count": "11"}).ok


def test_older_hash_versions_keep_verifying():
    c = Chain()
    c.record(version=1)
    c.event(1, "submit", version=1)
    c.event(1, "approve", reviewer="Carol", version=1)
    c.record(version=2)
    c.event(2, "submit", version=2)
    assert "hash_version" not in c.tables["records"][0]
    assert c.verify().ok
    c.tables["records"][0]["hash_version"] = None   # a NULL column reads as version 1
    assert c.verify().ok


# -- hashes and links ------------------------------------------------------------------------

def test_hashed_columns_by_version():
    assert ch.hashed_columns({}, "records") == _REC1
    assert ch.hashed_columns({"hash_version": None}, "reviews") == _REV1
    assert ch.hashed_columns({"hash_version": "2"}, "comments") == _COM2
    assert ch.hashed_columns({"hash_version": 3}, "records") == (*_REC2, "card")
    assert ch.HASH_VERSION == 3
    with pytest.raises(ValueError, match="^no hash version 7 for records$"):
        ch.hashed_columns({"hash_version": 7}, "records")
    with pytest.raises(ValueError, match="^no hash version 1 for comments$"):
        ch.hashed_columns({"hash_version": 1}, "comments")


def test_compute_hash_matches_the_documented_construction():
    c = _approved_chain()
    for table, rows in c.tables.items():
        for row in rows:
            assert ch.compute_hash(row, table) == row["entry_hash"]
            assert ch.entry_hash(row, COLUMNS[3][table], table) == row["entry_hash"]
    row = c.tables["reviews"][0]
    # the table name is covered: the same columns under another table hash differently
    assert ch.entry_hash(row, _REV2, "records") != row["entry_hash"]


@pytest.mark.parametrize("table,index,column,value", [
    ("records", 0, "title", "Loans v1 (final)"),
    ("records", 0, "n_rows", 9),
    ("records", 0, "card", None),
    ("reviews", 1, "decision", "reject"),
    ("reviews", 1, "reviewer", "Mallory"),
    ("reviews", 1, "reviewer_subject", "someone"),
    ("comments", 1, "body", "all fine"),
])
def test_an_entry_changed_after_it_was_written_is_found(table, index, column, value):
    c = _approved_chain()
    row = c.tables[table][index]
    row[column] = value
    r = c.verify()
    assert not r.ok
    p = r.first_broken
    assert (p.table, p.id, p.seq) == (table, row["id"], row["seq"])
    assert p.reason == ("its content does not match its entry_hash: it was changed after it "
                        "was written")
    n = len(r.problems)
    assert r.message == (f"The audit store is broken: {n} {'problem' if n == 1 else 'problems'},"
                         f" the first at {table[:-1]} {row['id']}.")


def test_a_careful_tamper_breaks_at_the_next_entry():
    """Rewrite the approval's comment, rehash it and patch the next entry's prev_hash: the
    next entry's hash covers its predecessor's hash, so it no longer matches."""
    c = _approved_chain()
    approval = c.tables["reviews"][1]
    approval["comment"] = "rubber stamp"
    approval["entry_hash"] = _hash(approval, "reviews")
    nxt = c.tables["comments"][0]
    nxt["prev_hash"] = approval["entry_hash"]
    r = c.verify()
    assert [(p.entry, p.reason) for p in r.problems] == [
        ("comment 1", "its content does not match its entry_hash: it was changed after it was "
                      "written")]


def test_a_full_rewrite_is_found_by_the_head_and_a_published_head():
    c = _approved_chain()
    published = c.prev
    meta = c.meta
    c.tables["reviews"][1]["comment"] = "rubber stamp"
    c.rehash("reviews", 1)
    # the chain itself is consistent again; the store's own head still names the old one
    r = ch.verify_chain(c.tables, meta)
    assert [p.entry for p in r.problems] == ["the store's head"]
    p = r.problems[0]
    assert (p.table, p.id, p.seq) == ("meta", None, 6)
    assert p.reason == (f"the store says it has 5 entries ending in {published}, but the chain "
                        f"has 5 ending in {c.prev}: entries were removed or added outside "
                        "faircard")
    # with the head patched too, only a head published earlier finds it
    assert c.verify().ok
    r = c.verify(expect_head=published)
    assert [(p.table, p.id, p.seq, p.reason) for p in r.problems] == [
        ("meta", None, 6, f"the published head {published} is not in the chain: entries were "
                          "removed or the chain was rewritten since it was published")]


def test_a_published_head_anywhere_in_the_chain_is_accepted():
    c = _approved_chain()
    middle = c.tables["reviews"][0]["entry_hash"]
    assert c.verify(expect_head=middle).ok
    assert c.verify(expect_head=c.prev).ok
    assert c.verify(expect_head=GENESIS).ok


def test_entries_removed_from_the_end_are_found_by_the_head():
    c = _approved_chain()
    meta = c.meta
    c.tables["comments"].pop()
    r = ch.verify_chain(c.tables, meta)
    assert [p.entry for p in r.problems] == ["the store's head"]
    assert "the store says it has 5 entries" in r.problems[0].reason
    assert "but the chain has 4 ending in" in r.problems[0].reason
    # the same with only the count or only the head wrong
    c2 = _approved_chain()
    assert not ch.verify_chain(c2.tables, {**c2.meta, "event_count": "6"}).ok
    assert not ch.verify_chain(c2.tables, {**c2.meta, "head_hash": GENESIS}).ok
    assert not ch.verify_chain(c2.tables, {"event_count": "5"}).ok


def test_an_entry_removed_from_the_middle_is_named_first():
    c = _approved_chain()
    c.tables["reviews"].pop(0)   # the submission (seq 2)
    r = ch.verify_chain(c.tables, {"head_hash": c.prev, "event_count": "4"})
    approval = c.tables["reviews"][0]
    assert r.problems[0] == ch.ChainProblem(
        "reviews", approval["id"], 3,
        "it is event 3 of the chain where event 2 was expected: an entry was removed or "
        "inserted")
    assert r.problems[1].reason == ("its prev_hash does not match the entry before it: an "
                                    "earlier entry was removed, inserted or rewritten")
    # without the submission the approval decides on a draft, and the status left behind
    # comes after every problem of the chain itself
    assert r.problems[2].reason == "it decides on record 1, which was draft, not in review"
    assert r.problems[-1] == ch.ChainProblem(
        "records", 1, 1, "its status is 'approved' but its reviews give 'draft': the status "
                         "was edited")


def test_a_relinked_prev_hash_alone_is_found():
    c = _approved_chain()
    c.tables["comments"][0]["prev_hash"] = GENESIS
    c.rehash("comments", 0)
    r = c.verify()
    assert [(p.entry, p.seq, p.reason) for p in r.problems] == [
        ("comment 1", 4, "its prev_hash does not match the entry before it: an earlier entry "
                         "was removed, inserted or rewritten")]


@pytest.mark.parametrize("change", [
    {"hash_version": 9},                    # no such version: ValueError
    {"hash_version": "v3"},                 # unreadable version: read as version 1
])
def test_an_entry_whose_hash_cannot_be_computed_is_a_problem_not_a_crash(change):
    c = _approved_chain()
    c.tables["comments"][0].update(change)
    r = c.verify()
    assert [p.entry for p in r.problems] == ["comment 1"]
    assert "does not match its entry_hash" in r.problems[0].reason


def test_an_entry_missing_a_hashed_column_is_a_problem_not_a_crash():
    c = _approved_chain()
    del c.tables["reviews"][0]["reviewer_subject"]
    r = c.verify()
    assert [p.entry for p in r.problems] == ["review 1"]
    assert "does not match its entry_hash" in r.problems[0].reason


# -- signatures --------------------------------------------------------------------------------

def _signed_chain() -> Chain:
    c = _approved_chain()
    for rows in c.tables.values():
        for row in rows:
            row["key_id"], row["signature"] = "k1", f"good:{row['entry_hash']}"
    c.head_signed = True
    return c


def test_signatures_are_checked_against_each_entry_hash():
    c = _signed_chain()
    keys = Keys()
    r = c.verify(keys=keys)
    assert r.ok and r.n_signed == 5 and r.signatures_checked
    assert r.message.endswith(" Every entry's signature checks out.")
    head = ch.head_message(c.seq, c.prev)
    assert sorted(keys.calls) == sorted(
        [("k1", f"good:{row['entry_hash']}", row["entry_hash"])
         for rows in c.tables.values() for row in rows] + [("k1", f"good:{head}", head)])


def test_a_signed_chain_whose_head_is_not_the_signed_one_is_a_problem():
    c = _signed_chain()
    signed_meta = c.meta
    assert c.verify(keys=Keys()).ok
    c.head_signed = False  # no head signature (or none by a trusted key)
    [problem] = c.verify(keys=Keys()).problems
    assert problem.entry == "the store's head" and "removed from the end" in problem.reason
    # the last two comments cut and the head moved back; the head signature is the old one
    del c.tables["comments"][:]
    last = c.tables["reviews"][-1]
    meta = {**signed_meta, "head_hash": last["entry_hash"], "event_count": str(last["seq"])}
    [problem] = ch.verify_chain(c.tables, meta, Keys()).problems
    assert problem.entry == "the store's head" and "removed from the end" in problem.reason


def test_a_forged_or_missing_signature_is_a_problem():
    c = _signed_chain()
    c.tables["reviews"][1]["signature"] = "forged"
    c.tables["comments"][0]["key_id"] = "k2"
    c.tables["records"][0]["signature"] = None
    r = c.verify(keys=Keys())
    assert [(p.entry, p.reason) for p in r.problems] == [
        ("record 1", "its signature is not valid"),
        ("review 2", "its signature is not valid"),
        ("comment 1", "its signature is not valid")]
    assert r.n_signed == 4


def test_signed_entries_without_keys_cannot_pass():
    c = _signed_chain()
    for row in c.tables["records"]:
        row["signature"] = None   # the first signed entry is then the submission (seq 2)
    r = c.verify()
    assert [(p.table, p.id, p.seq, p.reason) for p in r.problems] == [
        ("reviews", 1, 2, "4 entries are signed but no verification key is configured, so "
                          "their signatures cannot be checked: set FAIRCARD_SIGNING_KEY or "
                          "FAIRCARD_VERIFY_KEYS")]
    assert r.n_signed == 4 and not r.signatures_checked
    # hashes, links and statuses only, before signing a store written unsigned
    keys = Keys()
    assert c.verify(signatures=False).ok
    assert c.verify(keys=keys, signatures=False).ok and keys.calls == []


def test_unsigned_entries_with_keys_are_problems():
    c = _approved_chain()
    r = c.verify(keys=Keys())
    assert len(r.problems) == 5 and not r.ok
    assert {p.reason for p in r.problems} == {"its signature is not valid"}


# -- records -------------------------------------------------------------------------------------

def _record_problem(mutate, **record_kw) -> list[str]:
    c = Chain()
    c.record(**record_kw)
    mutate(c.tables["records"][0])
    c.rehash("records", 0)   # a forger who can rehash: only the content checks remain
    return _reasons(c.verify())


@pytest.mark.parametrize("column,value", [
    ("models", "not json"), ("spec", "{"), ("summary", None), ("assessment", "[1"),
    ("models", _json([{"name": "m"}])),          # a model without its sha256
    ("assessment", _json({"n_rows": 8})),       # not an assessment document
])
def test_unreadable_record_json_is_named(column, value):
    assert _record_problem(lambda r: r.update({column: value})) == [
        "record 1: its stored JSON cannot be read"]


@pytest.mark.parametrize("column,value", [
    ("dataset_sha256", hashlib.sha256(b"other data").hexdigest()),
    ("models", _json([{"name": "m", "sha256": DATASET}])),
    ("spec", _json({"target": "repaid", "threshold": 0.6})),
    ("summary", _json({**SUMMARY, "n_rows": 9})),
    ("fingerprint", "f" * 64),
])
def test_a_fingerprint_that_does_not_match_its_inputs_is_named(column, value):
    assert _record_problem(lambda r: r.update({column: value})) == [
        "record 1: its fingerprint does not match its data, models, spec and results"]


def test_a_summary_that_does_not_match_the_full_assessment_is_named():
    doc = {**DOC, "overall": {"accuracy": 0.95, "selection_rate": 0.5}}
    assert _record_problem(lambda r: r.update(assessment=_json(doc))) == [
        "record 1: its summary does not match its full assessment"]
    # what the summary leaves out may differ
    doc = {**DOC, "extra": "another note"}
    assert _record_problem(lambda r: r.update(assessment=_json(doc))) == []


def test_a_recorded_card_verifies_and_its_text_is_covered():
    assert _record_problem(lambda r: None, card=True) == []
    edited = {**CARD, "text": {"intended_use": {"primary_uses": "Anything"}}}
    assert _record_problem(lambda r: r.update(card=_json(edited)), card=True) == [
        "record 1: its model card text is not the text its fingerprint covers: the text was "
        "changed after it was recorded"]
    assert _record_problem(lambda r: r.update(card="{not json"), card=True) == [
        "record 1: its stored model card cannot be read"]
    assert _record_problem(lambda r: r.update(card=_json({**CARD, "version": 2})), card=True) == [
        "record 1: This record's model card is in version 2; this faircard reads version 1. "
        "Upgrade faircard to open it."]


@pytest.mark.parametrize("version", [1, 2])
def test_a_card_added_to_a_record_whose_hash_does_not_cover_it_is_named(version):
    # the hash of versions 1 and 2 leaves the card column out, so it verifies as a hash
    c = Chain()
    c.record(version=version, card=False, spec={"target": "repaid",
                                                "card_text_sha256": _sha(CARD_TEXT)})
    c.tables["records"][0]["card"] = _json(CARD)
    assert _reasons(c.verify()) == [
        "record 1: it has a model card, which its hash does not cover (it was written before "
        "records kept one): the card was added afterwards"]


def test_a_record_may_supersede_and_compare_with_only_earlier_records():
    c = Chain()
    c.record()
    c.record(supersedes=1, baseline=1)
    assert c.verify().ok
    assert _record_problem(lambda r: r.update(supersedes=1)) == [
        "record 1: it supersedes record 1, which does not exist before it in the chain"]
    assert _record_problem(lambda r: r.update(baseline_id=4)) == [
        "record 1: it names as its baseline record 4, which does not exist before it in the "
        "chain"]
    # the first reference is reported, the baseline's only when the superseded one exists
    c = Chain()
    c.record()
    c.record(supersedes=1, baseline=3)
    assert _reasons(c.verify()) == [
        "record 2: it names as its baseline record 3, which does not exist before it in the "
        "chain"]


def test_a_record_with_a_bad_fingerprint_and_a_bad_reference_names_the_fingerprint():
    def both(r):
        r.update(fingerprint="e" * 64, supersedes=5)
    assert _record_problem(both) == [
        "record 1: its fingerprint does not match its data, models, spec and results"]


# -- review events and the status flow ---------------------------------------------------------

def test_request_changes_reject_and_comment_give_their_statuses():
    c = Chain()
    for _ in range(3):
        c.record()
    for rid in (1, 2, 3):
        c.event(rid, "submit")
    c.event(1, "request_changes")
    c.event(2, "reject")
    c.event(3, "comment")
    assert c.verify().ok
    assert [r["status"] for r in c.tables["records"]] == ["changes_requested", "rejected",
                                                          "in_review"]


@pytest.mark.parametrize("old,new", [("approved", "in_review"), ("in_review", "approved"),
                                     ("rejected", "approved"),
                                     ("changes_requested", "approved")])
def test_a_status_edited_by_hand_is_found(old, new):
    c = Chain()
    c.record()
    c.event(1, "submit")
    if old != "in_review":
        c.event(1, {"approved": "approve", "rejected": "reject",
                    "changes_requested": "request_changes"}[old])
    c.tables["records"][0]["status"] = new   # status is not hashed: a cache of the events
    r = c.verify()
    assert [(p.table, p.id, p.seq, p.reason) for p in r.problems] == [
        ("records", 1, 1, f"its status is '{new}' but its reviews give '{old}': the status "
                          "was edited")]


def test_a_self_approval_by_typed_name_is_found():
    c = Chain()
    c.record(author="Alice Smith")
    c.event(1, "submit", reviewer="Alice Smith")
    c.event(1, "approve", reviewer="smith, ALICE")
    assert _reasons(c.verify()) == ["review 2: it approves record 1 by its own author",
                                    "record 1: its status is 'approved' but its reviews give "
                                    "'in_review': the status was edited"]


def test_a_self_approval_by_the_same_signed_in_person_under_another_name_is_found():
    c = Chain()
    c.record(author="Alice Smith", issuer=ISSUER, subject="u-1")
    c.event(1, "submit", reviewer="Alice Smith", issuer=ISSUER, subject="u-1")
    c.event(1, "approve", reviewer="Reviewer Two", issuer=ISSUER, subject="u-1")
    assert _reasons(c.verify())[0] == "review 2: it approves record 1 by its own author"


def test_a_signed_in_namesake_may_approve():
    c = Chain()
    c.record(author="Alice Smith", issuer=ISSUER, subject="u-1")
    c.event(1, "submit", reviewer="Alice Smith", issuer=ISSUER, subject="u-1")
    c.event(1, "approve", reviewer="Alice Smith", issuer=ISSUER, subject="u-2")
    assert c.verify().ok


def test_a_typed_name_cannot_approve_a_signed_in_authors_record_under_their_name():
    c = Chain()
    c.record(author="Alice Smith", issuer=ISSUER, subject="u-1")
    c.event(1, "submit", reviewer="Alice Smith", issuer=ISSUER, subject="u-1")
    c.event(1, "approve", reviewer="Alice Smith")
    assert _reasons(c.verify())[0] == "review 2: it approves record 1 by its own author"


def test_the_author_may_send_back_or_reject_their_own_record():
    c = Chain()
    c.record(author="Alice Smith")
    c.record(author="Alice Smith")
    c.event(1, "submit", reviewer="Alice Smith")
    c.event(2, "submit", reviewer="Alice Smith")
    c.event(1, "reject", reviewer="Alice Smith")
    c.event(2, "request_changes", reviewer="Alice Smith")
    assert c.verify().ok


def test_an_approval_of_another_record_is_checked_against_that_records_author():
    c = Chain()
    c.record(author="Alice Smith")
    c.record(author="Bob Jones", spec={"target": "repaid", "threshold": 0.6})  # not the same
    c.event(2, "submit")
    c.event(2, "approve", reviewer="Alice Smith")
    assert c.verify().ok
    c = Chain()
    c.record(author="Bob Jones")
    c.record(author="Alice Smith")
    c.event(2, "submit")
    c.event(2, "approve", reviewer="Alice Smith")
    assert _reasons(c.verify())[0] == "review 2: it approves record 2 by its own author"


@pytest.mark.parametrize("events,reason", [
    ([("submit", 1), ("submit", 1)], "it submits record 1, which was in_review, not a draft"),
    ([("submit", 1), ("approve", 1), ("submit", 1)],
     "it submits record 1, which was approved, not a draft"),
    ([("approve", 1)], "it decides on record 1, which was draft, not in review"),
    ([("submit", 1), ("reject", 1), ("approve", 1)],
     "it decides on record 1, which was rejected, not in review"),
    ([("submit", 1), ("request_changes", 1), ("reject", 1)],
     "it decides on record 1, which was changes_requested, not in review"),
    ([("approve", 2)], "it refers to record 2, which does not exist before it in the chain"),
    ([("comment", 2)], "it refers to record 2, which does not exist before it in the chain"),
    ([("submit", 1), ("rubber-stamp", 1)], "its decision 'rubber-stamp' is not a known decision"),
])
def test_events_that_break_the_status_flow_are_named(events, reason):
    c = Chain()
    c.record()
    for decision, rid in events[:-1]:
        c.event(rid, decision)
    decision, rid = events[-1]
    row = c.event(rid, decision, reviewer="Carol")
    problems = c.verify().problems
    assert (problems[0].table, problems[0].id, problems[0].seq, problems[0].reason) == (
        "reviews", row["id"], row["seq"], reason)


def test_a_comment_event_does_not_move_a_record_in_any_status():
    c = Chain()
    c.record()
    c.event(1, "comment")
    c.event(1, "submit")
    c.event(1, "comment")
    c.event(1, "approve")
    c.event(1, "comment")
    assert c.verify().ok and c.tables["records"][0]["status"] == "approved"


def test_a_review_on_a_later_record_is_refused():
    c = Chain()
    c.record()
    c.event(1, "submit")
    c.record()
    c.tables["reviews"][0]["record_id"] = 2
    c.rehash("reviews", 0)
    c.tables["records"][0]["status"] = "draft"
    c.tables["records"][1]["status"] = "in_review"
    reasons = _reasons(c.verify())
    assert reasons[0] == ("review 1: it refers to record 2, which does not exist before it in "
                          "the chain")


# -- comments ----------------------------------------------------------------------------------

def test_comments_must_refer_to_earlier_records_and_comments():
    c = Chain()
    c.record()
    c.comment(2)
    assert _reasons(c.verify()) == [
        "comment 1: it refers to record 2, which does not exist before it in the chain"]
    c = Chain()
    c.record()
    c.record()
    c.comment(1)
    c.comment(2, reply_to=1)      # answers a comment on another record
    c.comment(1, reply_to=3)      # answers a comment not yet written
    c.comment(1, reply_to=1)      # fine
    assert _reasons(c.verify()) == [
        "comment 2: it answers comment 1, which is not an earlier comment on record 2",
        "comment 3: it answers comment 3, which is not an earlier comment on record 1"]


# -- small parts -----------------------------------------------------------------------------------

def test_is_authenticated():
    assert ch.is_authenticated(ISSUER, "u-1") is True
    assert ch.is_authenticated("unauthenticated", "alice") is False
    assert ch.is_authenticated(None, "u-1") is False
    assert ch.is_authenticated(ISSUER, "") is False
    assert ch.is_authenticated(ISSUER, None) is False
    assert ch.is_authenticated("", "u-1") is False


def test_problem_names_and_dict():
    assert ch.ChainProblem("records", 3, 1, "x").entry == "record 3"
    assert ch.ChainProblem("reviews", 7, 1, "x").entry == "review 7"
    assert ch.ChainProblem("comments", 2, 1, "x").entry == "comment 2"
    assert ch.ChainProblem("meta", None, 9, "x").entry == "the store's head"
    assert str(ch.ChainProblem("reviews", 7, 4, "it is late")) == "review 7: it is late"
    c = _approved_chain()
    c.tables["comments"][1]["body"] = "edited"
    d = c.verify().to_dict()
    assert d["ok"] is False and d["n_comments"] == 2 and d["n_reviews"] == 2
    assert d["problems"] == [{"table": "comments", "id": 2, "seq": 5, "entry": "comment 2",
                              "reason": "its content does not match its entry_hash: it was "
                                        "changed after it was written"}]
    assert d["message"] == "The audit store is broken: 1 problem, the first at comment 2."


def test_decisions_and_statuses():
    assert ch.DECISIONS == ("approve", "request_changes", "reject", "comment")
    assert ch.DECISION_STATUS == {"approve": "approved", "request_changes": "changes_requested",
                                  "reject": "rejected"}
    assert ch.GENESIS_HASH == GENESIS


# -- entries a forger can shape freely -------------------------------------------------------------

@pytest.mark.parametrize("stored", ["", None, "XXXX"])
def test_an_entry_whose_hash_cannot_be_computed_never_matches_its_stored_hash(stored):
    """An unknown hash version with an empty (or missing) entry_hash must not read as a match:
    otherwise the entry's content would be covered by no hash at all."""
    c = _approved_chain()
    last = c.tables["comments"][1]
    last.update(hash_version=9, entry_hash=stored, body="anything at all")
    r = ch.verify_chain(c.tables, {"head_hash": stored, "event_count": "5"})
    assert ("comment 2", "its content does not match its entry_hash: it was changed after it "
                         "was written") in [(p.entry, p.reason) for p in r.problems]
    assert not r.ok


def test_an_unreadable_seq_is_not_read_as_the_first_event():
    c = Chain()
    c.record()
    c.comment(1)
    record, comment = c.tables["records"][0], c.tables["comments"][0]
    record["seq"] = "first"
    record["entry_hash"] = _hash(record, "records")
    comment["prev_hash"] = record["entry_hash"]
    comment["entry_hash"] = c.prev = _hash(comment, "comments")
    r = c.verify()
    assert [(p.entry, p.seq, p.reason) for p in r.problems] == [
        ("record 1", 0, "it is event 0 of the chain where event 1 was expected: an entry was "
                        "removed or inserted")]


def test_a_card_on_an_entry_of_an_unknown_hash_version_is_reported_not_a_crash():
    c = Chain()
    c.record(card=True)
    c.tables["records"][0]["hash_version"] = 9
    assert _reasons(c.verify()) == [
        "record 1: its content does not match its entry_hash: it was changed after it was "
        "written",
        "record 1: it has a model card, which its hash does not cover (it was written before "
        "records kept one): the card was added afterwards"]


def test_entries_sharing_a_seq_in_one_table_are_walked_by_id():
    c = Chain()
    c.record()
    c.comment(1)
    c.comment(1)
    c.tables["comments"][1]["seq"] = 2     # a second entry claims seq 2
    c.tables["comments"].reverse()         # and the table hands it over first
    assert [(p.entry, p.reason) for p in c.verify().problems] == [
        ("comment 2", "it is event 2 of the chain where event 3 was expected: an entry was "
                      "removed or inserted"),
        ("comment 2", "its content does not match its entry_hash: it was changed after it was "
                      "written")]


def test_entries_sharing_a_seq_across_tables_are_reported_not_a_crash():
    c = Chain()
    c.record()
    c.event(1, "submit")
    c.comment(1)
    c.tables["comments"][0]["seq"] = 2     # the comment claims the submission's place
    r = c.verify()
    # walked by table name at an equal seq: the comment, then the review
    assert [p.entry for p in r.problems] == ["comment 1", "comment 1", "review 1", "review 1",
                                             "the store's head"]
