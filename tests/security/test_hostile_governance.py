"""Forged and self-granted approvals, tampered audit stores and hostile record ids.

The attacker here can type any name (local mode, the command line) and, in the store attacks,
write to the audit database with SQL (a shared SQLite file or PostgreSQL account) but does not
hold the signing key. What must never happen: the author approves their own record; the app,
the card or ``faircard show`` presents a status, a figure or a review that was changed in the
database as if it were recorded; a record id crashes a page or a command.
"""

from __future__ import annotations

import hashlib

import pytest

import faircard
from faircard.cli import main as cli_main
from faircard.errors import FaircardError
from faircard.governance.share import cells_of
from faircard.governance.store import AuditStore
from tests.conftest import make_dataset

MODEL = {"name": "m.skops", "sha256": "a" * 64}
DATA_SHA = hashlib.sha256(b"loans").hexdigest()
HUGE_IDS = ["99999999999999999999", str(2**63), "-" + "9" * 25, "#" + str(10**30)]


@pytest.fixture(scope="module")
def result():
    return faircard.assess(make_dataset(3, n=300), target="y", score="score",
                           sensitive=["sex"], n_boot=0)


def _add(store, result, author="Ana Kim"):
    return store.add(result, title="Loans v1", created_by=author, dataset_name="loans.csv",
                     dataset_sha256=DATA_SHA, models=[MODEL], cells=cells_of(result))


# -- record ids ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rid", HUGE_IDS)
def test_record_ids_beyond_a_database_integer_are_one_sentence(rid, tmp_path, result):
    with AuditStore(tmp_path / "a.db") as store:
        _add(store, result)
        for call in (store.get, store.history, store.comments, store.cells,
                     lambda r: store.review(r, "Ben Lee", "approve"),
                     lambda r: store.comment(r, "Ben Lee", "hi"),
                     lambda r: store.comment(1, "Ben Lee", "hi", reply_to=r)):
            with pytest.raises(FaircardError, match="record|comment|whole number"):
                call(rid)


def test_cli_show_of_a_huge_record_id_is_one_line(tmp_path, result, capsys):
    with AuditStore(tmp_path / "a.db") as store:
        _add(store, result)
    rc = cli_main(["show", HUGE_IDS[0], "--store", str(tmp_path / "a.db")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("faircard: error: There is no record") \
        and err.count("\n") == 1, err
