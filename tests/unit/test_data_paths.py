"""Datasets opened by a server path: only inside the folders the operator allows; '..' and
symbolic links that lead out are refused with a sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faircard.engine.paths import DATA_DIRS_ENV, allowed_data_dirs, resolve_data_path
from faircard.errors import FaircardError


@pytest.fixture
def tree(tmp_path):
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    (allowed / "logs" / "day=1").mkdir(parents=True)
    outside.mkdir()
    frame = pd.DataFrame({"y": [0, 1] * 50, "score": np.linspace(0, 1, 100), "g": ["a"] * 100})
    frame.to_parquet(allowed / "logs" / "day=1" / "part.parquet")
    frame.to_parquet(allowed / "rows.parquet")
    (outside / "secret.csv").write_text("y,score\n1,0.5\n")
    return allowed, outside


def test_nothing_is_allowed_unless_the_operator_says_so(tree, monkeypatch):
    allowed, _ = tree
    monkeypatch.delenv(DATA_DIRS_ENV, raising=False)
    assert allowed_data_dirs() == []
    with pytest.raises(FaircardError, match=f"not enabled.*{DATA_DIRS_ENV}"):
        resolve_data_path(str(allowed / "rows.parquet"))
    monkeypatch.setenv(DATA_DIRS_ENV, f"{allowed}:/no/such/folder")
    assert allowed_data_dirs() == [allowed.resolve()]
    assert resolve_data_path(str(allowed / "rows.parquet")) == str(
        (allowed / "rows.parquet").resolve())


def test_files_folders_and_globs_inside_are_accepted(tree):
    allowed, _ = tree
    ok = [allowed]
    assert resolve_data_path("rows.parquet", ok) == str((allowed / "rows.parquet").resolve())
    assert resolve_data_path(str(allowed / "logs"), ok) == str((allowed / "logs").resolve())
    assert resolve_data_path("logs/**/*.parquet", ok).endswith("logs/**/*.parquet")


@pytest.mark.parametrize("how", ["dotdot", "absolute", "linked_file", "linked_folder",
                                 "link_in_folder", "glob_reaches_link",
                                 "linked_subfolder"])
def test_paths_that_lead_out_are_refused(tree, how):
    allowed, outside = tree
    ok = [allowed]
    target = {
        "dotdot": "../outside/secret.csv",
        "absolute": str(outside / "secret.csv"),
        "linked_file": "link.csv",
        "linked_folder": "away/secret.csv",
        "link_in_folder": "logs",
        "glob_reaches_link": "logs/**/*.csv",
        "linked_subfolder": "logs/**/*.parquet",
    }[how]
    if how == "linked_subfolder":
        (allowed / "logs" / "day=2").symlink_to(outside, target_is_directory=True)
    if how == "linked_file":
        (allowed / "link.csv").symlink_to(outside / "secret.csv")
    if how == "linked_folder":
        (allowed / "away").symlink_to(outside, target_is_directory=True)
    if how in ("link_in_folder", "glob_reaches_link"):
        (allowed / "logs" / "day=1" / "sneaky.csv").symlink_to(outside / "secret.csv")
    with pytest.raises(FaircardError, match="outside the folders this server allows"):
        resolve_data_path(target, ok)


def test_missing_paths_are_named(tree):
    allowed, _ = tree
    with pytest.raises(FaircardError, match="no file or folder 'nope.parquet'"):
        resolve_data_path("nope.parquet", [allowed])
    with pytest.raises(FaircardError, match="No file matches"):
        resolve_data_path("logs/*.csv", [allowed])
    with pytest.raises(FaircardError, match="Give the path"):
        resolve_data_path("  ", [allowed])


def test_a_link_inside_a_linked_folder_that_leads_out_is_refused(tree):
    """A folder linked from inside to another place inside is followed: a link in it that
    leads out is refused, and a link loop is listed once."""
    allowed, outside = tree
    (allowed / "elsewhere").mkdir()
    (allowed / "elsewhere" / "loop").symlink_to(allowed / "logs", target_is_directory=True)
    (allowed / "logs" / "shortcut").symlink_to(allowed / "elsewhere", target_is_directory=True)
    assert resolve_data_path("logs", [allowed]) == str((allowed / "logs").resolve())
    (allowed / "elsewhere" / "sneaky.csv").symlink_to(outside / "secret.csv")
    with pytest.raises(FaircardError, match="outside the folders this server allows"):
        resolve_data_path("logs", [allowed])
