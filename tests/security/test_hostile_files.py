"""Hostile card JSON files and database URLs: each ends in one line (CLI exit 2), no traceback.

Card drafts are imported by ``faircard card --card-json`` and by the Model card page; audit
stores are named by ``--store`` or ``FAIRCARD_STORE``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faircard.card import ModelCard
from faircard.cli import main as cli_main
from faircard.errors import FaircardError

CARD_JSON = {
    "5000-digit integer": ('{"model_details": {"version": ' + "9" * 5000 + "}}").encode(),
    "invalid UTF-8": b'{"model_details": {"name": "caf\xe9 \xff"}}',
    "UTF-16": '{"model_details": {}}'.encode("utf-16"),
    "lone surrogate": b'{"model_details": {"name": "\\ud800"}}',
    "5000-deep arrays": b'{"model_details": {}, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "100000-deep objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "over 5,000,000 characters": b'{"model_details": {"name": "' + b"x" * 5_000_001 + b'"}}',
    "not an object": b"[1, 2, 3]",
    "section is a list": b'{"model_details": {}, "caveats": [1]}',
    "empty file": b"",
    "binary": bytes(range(256)),
    "NaN literal": b'{"model_details": NaN}',
}
ACCEPTED = {
    "UTF-8 with BOM": "\ufeff{\"model_details\": {\"name\": \"Loans\"}}".encode(),
    "text fields of other types": b'{"model_details": {"name": 3, "version": [1], '
                                  b'"license": {"a": 1}, "owners": null}}',
    "huge float": b'{"model_details": {"version": 1e999}}',
}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 200
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.4 * y + rng.random(n) * 0.6, 0, 1),
                          "grp": np.array(["A", "B"])[np.arange(n) % 2]})
    path = tmp_path_factory.mktemp("cards") / "d.csv"
    frame.to_csv(path, index=False)
    return path


def _card_cli(data_file, card_json, out, capsys):
    rc = cli_main(["card", str(data_file), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--bootstrap", "0", "--formats", "md,json", "--card-json",
                   str(card_json), "--out", str(out)])
    return rc, *capsys.readouterr()


@pytest.mark.parametrize("raw", list(CARD_JSON.values()), ids=list(CARD_JSON))
def test_hostile_card_json_is_refused_in_one_line(raw, tmp_path, data_file, capsys):
    with pytest.raises(FaircardError):
        ModelCard.from_bytes(raw)
    path = tmp_path / "draft.json"
    path.write_bytes(raw)
    rc, out, err = _card_cli(data_file, path, tmp_path / "out", capsys)
    assert rc == 2, (out, err)
    assert err.startswith("faircard: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out" / "model_card.md").exists()


@pytest.mark.parametrize("raw", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_odd_but_valid_card_json_keeps_only_text(raw, tmp_path, data_file, capsys):
    path = tmp_path / "draft.json"
    path.write_bytes(raw)
    rc, out, err = _card_cli(data_file, path, tmp_path / "out", capsys)
    assert rc == 0, err
    card = json.loads((tmp_path / "out" / "model_card.json").read_text(encoding="utf-8"))
    expected = json.loads(raw.decode("utf-8-sig"))["model_details"]
    for key, value in card["model_details"].items():
        if isinstance(expected.get(key), str):
            assert value == expected[key]
        else:
            assert value == "", (key, value)  # non-text values are not carried over


def test_card_json_messages_say_what_was_wrong():
    with pytest.raises(FaircardError, match="more than 4,300 digits"):
        ModelCard.from_bytes(CARD_JSON["5000-digit integer"])
    at = CARD_JSON["invalid UTF-8"].index(b"\xe9")
    with pytest.raises(FaircardError, match=rf"not UTF-8 text \(byte 0xe9 at position {at}\)"):
        ModelCard.from_bytes(CARD_JSON["invalid UTF-8"])
    with pytest.raises(FaircardError, match="not valid Unicode"):
        ModelCard.from_bytes(CARD_JSON["lone surrogate"])
    with pytest.raises(FaircardError, match="nests too deeply"):
        ModelCard.from_bytes(CARD_JSON["100000-deep objects"])


STORE_URLS = {
    "unknown scheme": ("bogus://x", "does not know"),
    "web URL": ("http://example.com/db", "does not know"),
    "unknown driver": ("postgresql+nosuch://u@h/db", "does not know"),
    "driver not installed": ("mysql://u:secret@h/db", "not installed"),
    "no scheme": ("://", "not a database URL"),
    "unparsable": ("postgresql://u@h:notaport/db", "not a database URL"),
}


@pytest.mark.parametrize("url, says", list(STORE_URLS.values()), ids=list(STORE_URLS))
@pytest.mark.parametrize("how", ["--store", "FAIRCARD_STORE"])
def test_bad_store_urls_end_in_one_line(url, says, how, capsys, monkeypatch):
    args = ["records"]
    if how == "--store":
        args += ["--store", url]
    else:
        monkeypatch.setenv("FAIRCARD_STORE", url)
    rc = cli_main(args)
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    assert err.startswith("faircard: error: ") and err.count("\n") == 1, err
    assert says in err and "secret" not in err, err


def test_card_output_that_cannot_be_written_is_one_line(tmp_path, data_file, capsys):
    (tmp_path / "out" / "model_card.md").mkdir(parents=True)  # a folder where the file goes
    rc = cli_main(["card", str(data_file), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--bootstrap", "0", "--formats", "md", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "Cannot write" in err and err.count("\n") == 1, err
