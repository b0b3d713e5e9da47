""""Open a large dataset on the server" with hostile paths: each is one sentence on the Data &
model page, nothing outside the allowed folders is read, and the dataset in use stays."""

from __future__ import annotations

import pytest

from faircard.engine.paths import DATA_DIRS_ENV
from tests.app.conftest import new, no_exception, small_frame, text_of


@pytest.fixture
def folders(tmp_path, monkeypatch):
    allowed, outside = tmp_path / "datasets", tmp_path / "secret"
    allowed.mkdir()
    outside.mkdir()
    small_frame(300).to_parquet(allowed / "good.parquet")
    small_frame(300).to_csv(outside / "private.csv", index=False)
    (allowed / "empty.csv").write_bytes(b"")
    (allowed / "header.csv").write_bytes(b"outcome,risk_score,sex\n")
    (allowed / "bad.parquet").write_bytes(b"PAR1 not a footer PAR1")
    (allowed / "empty_folder").mkdir()
    (allowed / "links").mkdir()
    (allowed / "links" / "out").symlink_to(outside)
    (allowed / "links" / "out.csv").symlink_to(outside / "private.csv")
    monkeypatch.setenv(DATA_DIRS_ENV, str(allowed))
    return allowed, outside


def _open(at, path: str):
    at.text_input(key="w_server_path").input(path)
    if at.button(key="open_server_path").disabled:  # enabled once a path is typed
        at.run()
    at.button(key="open_server_path").click().run()
    no_exception(at)
    return [text_of(e) for e in at.error]


def test_hostile_server_paths_are_one_sentence_and_change_nothing(folders):
    allowed, outside = folders
    at = new("app_pages/data.py")
    at.run()
    assert _open(at, "good.parquet") == []
    source = at.session_state["fc_source"]
    assert source["rows"] == 300
    refused = {
        "../secret/private.csv": "outside the folders",
        str(outside / "private.csv"): "outside the folders",
        "links/out/private.csv": "outside the folders",
        "links/out.csv": "outside the folders",
        "links/*": "outside the folders",
        "links": "outside the folders",
        "good.parquet/../../secret/private.csv": "outside the folders",
        "/": "outside the folders",
        "*.nothing": "No file matches",
        "[": "No file matches",
        "empty_folder": "has no files",
        "bad.parquet": "cannot read",
        "file:///etc/passwd": "There is no file or folder",
        "https://example.com/d.parquet": "There is no file or folder",
        "a" * 5000 + ".csv": "too long",
        "x/" * 3000 + "d.csv": "too long",
        "empty.csv": "no data rows",
        "header.csv": "no data rows",
    }
    for path, says in refused.items():
        errors = _open(at, path)
        assert len(errors) == 1 and says in errors[0], (path[:60], errors)
        assert len(errors[0]) < 600, errors[0][:600]  # a sentence, not a dump of the path
        assert at.session_state["fc_source"] == source, path[:60]
        assert at.session_state["fc_data_name"] == "good.parquet"


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_the_command_line_refuses_a_path_too_long_in_one_line(engine, capsys):
    from faircard.cli import main

    code = main(["assess", "a" * 5000 + ".csv", "--engine", engine, "--target", "y",
                 "--score", "s", "--sensitive", "g"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("faircard: error: ") and "too long" in err and len(err) < 300
