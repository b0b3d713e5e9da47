"""Inputs that mislead: text encodings, personal data as roles, one-hot features, many groups,
age bands, single-column files, table limits and nested Parquet columns."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from faircard import FaircardError, assess, load_table
from faircard.cli import main
from faircard.io import TableLimits, read_table
from faircard.onehot import decode_one_hot, find_one_hot
from faircard.roles import (
    count_groups,
    default_bands,
    guess_sensitive,
    guess_target,
    many_groups,
    score_candidates,
    sensitive_options,
)
from faircard.spec import Binning


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------- encodings

WESTERN = pd.DataFrame({"facility": ["Ärzteheim", "Café Müller", "Straße", "Œuvre „x“"],
                        "y": [1, 0, 1, 0]})


def test_cp1252_file_decodes_correctly():
    raw = WESTERN.to_csv(index=False).encode("cp1252")
    table = read_table(raw, filename="d.csv")
    assert table.encoding == "cp1252" and table.encoding_detected
    assert table.frame["facility"].tolist() == WESTERN["facility"].tolist()


@pytest.mark.parametrize("text, first", [("facility,y\nÄrzteheim,1\n", "Ärzteheim"),
                                         ("a;b\nÉté;1\nNoël;0\n", "Été")])
def test_short_cp1252_files_are_not_read_as_korean(text, first):
    df = load_table(text.encode("cp1252"), filename="d.csv")
    assert df.iloc[0, 0] == first


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_korean_and_utf8_files_still_work(encoding):
    frame = pd.DataFrame({"성별": ["남", "여", "여"], "지역": ["서울", "부산", "대구"], "y": [1, 0, 1]})
    table = read_table(frame.to_csv(index=False).encode(encoding), filename="d.csv")
    pd.testing.assert_frame_equal(table.frame, frame)
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp949": "cp949", "euc-kr": "cp949"}
    assert table.encoding == expected[encoding]


def test_chosen_encoding_is_used_and_checked():
    raw = WESTERN.to_csv(index=False).encode("cp1252")
    chosen = read_table(raw, filename="d.csv", encoding="cp1252")
    assert chosen.encoding == "cp1252" and not chosen.encoding_detected
    with pytest.raises(FaircardError, match="not utf-8 text: line 2"):
        read_table(raw, filename="d.csv", encoding="utf-8")
    with pytest.raises(FaircardError, match="not a text encoding"):
        read_table(raw, filename="d.csv", encoding="no-such-codec")


def test_mixed_encodings_are_read_line_by_line_with_a_warning():
    raw = (b"city,y\n" + "Zürich,1\n".encode() + "Ärzteheim,0\n".encode("cp1252")
           + "Köln,1\n".encode() + "Düsseldorf,0\n".encode("cp1252"))
    table = read_table(raw, filename="mixed.csv")
    assert table.frame["city"].tolist() == ["Zürich", "Ärzteheim", "Köln", "Düsseldorf"]
    assert len(table.warnings) == 1
    assert "mixes text encodings" in table.warnings[0] and "line 2" in table.warnings[0]


def test_cli_encoding_option(tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.integers(0, 2, 200), "score": rng.random(200),
                       "site": rng.choice(["Ärzteheim", "Café"], 200)})
    path = tmp_path / "w.csv"
    path.write_bytes(df.to_csv(index=False).encode("cp1252"))
    out = tmp_path / "a.json"
    common = ["assess", path, "--target", "y", "--score", "score", "--sensitive", "site",
              "--bootstrap", "0", "--quiet"]
    code, _, err = _run([*common, "--json", out], capsys)
    assert code == 0 and "read as cp1252 (detected)" in err
    assert {g["group"] for g in pd.read_json(out, typ="series")["by_group"]} == {"Ärzteheim",
                                                                                 "Café"}
    code, _, err = _run([*common, "--encoding", "utf-8"], capsys)
    assert code == 2 and "not utf-8 text" in err
    code, _, err = _run([*common, "--encoding", "cp1252"], capsys)
    assert code == 0 and "detected" not in err


def test_single_column_text_file_warns():
    table = read_table(b"a b c\n1 2 3\n4 5 6\n", filename="d.csv")
    assert table.frame.shape == (2, 1)
    assert any("single column" in w and "delimiter" in w for w in table.warnings)
    assert read_table(b"a,b\n1,2\n", filename="d.csv").warnings == ()


# ---------------------------------------------------------------- personal data

@pytest.fixture
def people_csv(tmp_path):
    rng = np.random.default_rng(2)
    n = 300
    df = pd.DataFrame({"full_name": [f"Jane Roe{i}" for i in range(n)],
                       "email": [f"p{i}@example.org" for i in range(n)],
                       "y": rng.integers(0, 2, n), "score": rng.random(n),
                       "sex": rng.choice(["F", "M"], n)})
    path = tmp_path / "people.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("command", ["assess", "thresholds", "card", "record", "gate"])
@pytest.mark.parametrize("role", ["sensitive", "target"])
def test_every_command_refuses_personal_data_as_a_role(people_csv, tmp_path, capsys, command,
                                                       role):
    sensitive = "full_name" if role == "sensitive" else "sex"
    target = "email" if role == "target" else "y"
    argv = [command, people_csv, "--target", target, "--score", "score",
            "--sensitive", sensitive]
    if command == "card":
        argv += ["--out", tmp_path / "card", "--formats", "md"]
    if command in ("record", "gate"):
        argv += ["--store", tmp_path / "s.db"]
    if command == "record":
        argv += ["--author", "Ann Analyst"]
    if command == "gate":
        argv += ["--max-dpd", "0.1"]
    try:
        code, out, err = _run(argv, capsys)
    except SystemExit as exc:  # an option this command does not take
        pytest.fail(f"{command}: {exc}")
    assert code == 2
    assert "personal data" in err
    assert "Jane Roe" not in out + err and "@example.org" not in out + err


# ---------------------------------------------------------------- one-hot features

def _one_hot_pair(n=900, seed=4):
    rng = np.random.default_rng(seed)
    race = rng.choice(["White", "Black", "Asian_Pac_Islander", "Other"], n, p=[.5, .3, .15, .05])
    base = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                         "sex": rng.choice(["F", "M"], n)})
    one_col = base.assign(race=race)
    one_hot = pd.concat([base, pd.get_dummies(pd.Series(race, name="race"), prefix="race",
                                              dtype=int)], axis=1)
    return one_col, one_hot


def test_one_hot_columns_are_one_feature_with_an_identical_assessment():
    one_col, one_hot = _one_hot_pair()
    assert "race" not in one_hot.columns
    assert find_one_hot(one_hot) == {"race": ["race_Asian_Pac_Islander", "race_Black",
                                              "race_Other", "race_White"]}
    kwargs = dict(target="y", score="score", sensitive=["race", "sex"], n_boot=50)
    a = assess(one_col, **kwargs)
    b = assess(one_hot, **kwargs)
    pd.testing.assert_frame_equal(a.by_group, b.by_group)
    pd.testing.assert_frame_equal(a.disparities, b.disparities)
    assert a.to_dict() == b.to_dict()


def test_one_hot_group_is_offered_instead_of_its_columns():
    _, one_hot = _one_hot_pair()
    options = sensitive_options(one_hot, exclude={"y", "score"})
    assert options[0] == "race" and not any(o.startswith("race_") for o in options)
    assert guess_sensitive(one_hot) == ["race", "sex"]


def test_one_hot_decoding_rules():
    df = pd.DataFrame({"g_a": [1, 0] * 5, "g_b": [0, 1] * 4 + [0, 0],
                       "x_a": [1] * 10, "x_b": [1] + [0] * 9})
    # x has a row with two 1s: not one-hot; g has one row without a 1 (90% have exactly one)
    assert find_one_hot(df) == {"g": ["g_a", "g_b"]}
    decoded = decode_one_hot(df, ["g_a", "g_b"], "g")
    assert decoded.tolist()[:4] == ["a", "b", "a", "b"]
    assert decoded.isna().tolist() == [False] * 9 + [True]
    # fewer rows with exactly one 1: not one-hot
    assert find_one_hot(df.assign(g_a=[1, 0] * 4 + [0, 0])) == {}
    # an existing column with the prefix's name wins
    assert find_one_hot(df.assign(g=1)) == {}


def test_cli_sensitive_one_hot(tmp_path, capsys):
    one_col, one_hot = _one_hot_pair()
    p1, p2 = tmp_path / "col.csv", tmp_path / "hot.csv"
    one_col.to_csv(p1, index=False)
    one_hot.to_csv(p2, index=False)
    docs = []
    for path in (p1, p2):
        out = tmp_path / f"{path.stem}.json"
        code, _, err = _run(["assess", path, "--target", "y", "--score", "score", "--sensitive",
                             "race", "--bootstrap", "0", "--quiet", "--json", out], capsys)
        assert code == 0, err
        docs.append(out.read_text())
    assert docs[0] == docs[1]


# ---------------------------------------------------------------- many groups, age bands

def test_many_groups_need_confirmation_in_the_cli(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 2000
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                       "zip": rng.integers(10000, 10080, n).astype(str)})
    assert count_groups(df, ["zip"])["zip"] == df["zip"].nunique() > 50
    assert many_groups(df, ["zip"]) == {"zip": df["zip"].nunique()}
    path = tmp_path / "z.csv"
    df.to_csv(path, index=False)
    argv = ["assess", path, "--target", "y", "--score", "score", "--sensitive", "zip",
            "--bootstrap", "0", "--quiet"]
    code, _, err = _run(argv, capsys)
    assert code == 2 and "--allow-many-groups" in err and "more than 50" in err
    code, _, err = _run([*argv, "--allow-many-groups"], capsys)
    assert code == 0 and "warning" in err and "more than 50" in err


def test_default_age_bands_start_at_the_youngest():
    ages = pd.Series([17, 18, 22, 30, 45, 70, 90])
    edges, labels = default_bands(ages, "age")
    assert edges[0] == 17 and labels[0] == "17-24"
    banded = Binning(tuple(edges), tuple(labels)).apply(ages)
    assert not pd.isna(banded).any()  # nobody is "(missing)"
    edges, labels = default_bands(pd.Series([30, 50]), "age")
    assert edges[0] == 30 and labels == ["30-39", "40-64", "65+"]


# ---------------------------------------------------------------- limits

def test_limits_from_the_environment():
    limits = TableLimits.from_env({"FAIRCARD_MAX_ROWS": "1_000", "FAIRCARD_MAX_FILE_MB": "5"})
    assert limits.max_rows == 1000 and limits.max_file_bytes == 5 * 1024**2
    assert limits.max_cells == TableLimits().max_cells
    with pytest.raises(FaircardError, match="FAIRCARD_MAX_CELLS must be a whole number"):
        TableLimits.from_env({"FAIRCARD_MAX_CELLS": "lots"})


@pytest.mark.parametrize("limits, words", [
    (TableLimits(max_rows=100), "limit on rows (100 rows)"),
    (TableLimits(max_cells=250), "limit on cells (250 cells)"),
    (TableLimits(max_file_bytes=500), "limit on file size"),
])
def test_csv_over_a_limit_names_it(limits, words):
    raw = b"a,b,c\n" + b"1,2,3\n" * 150
    with pytest.raises(FaircardError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_table(raw, filename="d.csv", limits=limits)
    assert load_table(raw, filename="d.csv").shape == (150, 3)


def test_decoded_text_limit_for_legacy_encodings():
    raw = ("a\n" + "Ärzteheim\n" * 400).encode("cp1252")
    with pytest.raises(FaircardError, match="limit on decoded bytes"):
        load_table(raw, filename="d.csv", limits=TableLimits(max_decoded_bytes=2000))


def test_limits_come_from_the_environment_by_default(monkeypatch):
    monkeypatch.setenv("FAIRCARD_MAX_ROWS", "10")
    with pytest.raises(FaircardError, match="FAIRCARD_MAX_ROWS"):
        load_table(b"a\n" + b"1\n" * 20, filename="d.csv")


def test_parquet_bomb_is_refused_from_its_metadata(tmp_path):
    """150 million identical rows in a few hundred kilobytes: refused from the footer, fast."""
    path = tmp_path / "bomb.parquet"
    chunk = pa.table({"a": pa.nulls(10_000_000, pa.int8())})
    with pq.ParquetWriter(path, chunk.schema, compression="none", write_statistics=False) as w:
        for _ in range(15):
            w.write_table(chunk, row_group_size=10_000_000)
    assert path.stat().st_size < 2_000_000
    assert pq.ParquetFile(path).metadata.num_rows == 150_000_000
    t0 = time.perf_counter()
    with pytest.raises(FaircardError, match="150,000,000 rows, over this server's limit on rows"):
        load_table(path)
    assert time.perf_counter() - t0 < 5  # materialising would take minutes and gigabytes


def test_parquet_cells_and_expansion_limits(tmp_path):
    path = tmp_path / "wide.parquet"
    pd.DataFrame({f"c{i}": np.arange(100) for i in range(10)}).to_parquet(path)
    with pytest.raises(FaircardError, match="1,000 cells"):
        load_table(path, limits=TableLimits(max_cells=999))
    with pytest.raises(FaircardError, match="limit on decoded bytes"):
        load_table(path, limits=TableLimits(max_decoded_bytes=1000))


# ---------------------------------------------------------------- nested Parquet columns

def test_parquet_list_and_struct_columns_are_left_out_with_a_note():
    table = pa.table({
        "y": [1, 0, 1, 0], "score": [0.9, 0.2, 0.7, 0.4], "sex": ["F", "M", "F", "M"],
        "tags": [[1, 2], [3], [], [4]],
        "address": [{"city": "A", "zip": 1}] * 4,
        "attrs": pa.array([[("k", "v")]] * 4, pa.map_(pa.string(), pa.string())),
    })
    buf = io.BytesIO()
    pq.write_table(table, buf)
    read = read_table(buf.getvalue(), filename="n.parquet")
    assert list(read.frame.columns) == ["y", "score", "sex"]
    assert len(read.warnings) == 1 and "'tags'" in read.warnings[0]
    assert "lists or records" in read.warnings[0]


def test_roles_and_assess_ignore_or_refuse_nested_columns():
    df = pd.DataFrame({"tags": [[1, 2], [3], [1], [2]] * 10, "rec": [{"a": 1}] * 40,
                       "y": [1, 0] * 20, "score": np.linspace(0, 1, 40), "sex": ["F", "M"] * 20})
    assert guess_target(df) == "y"
    assert score_candidates(df) == ["score"]
    options = sensitive_options(df, exclude={"y", "score"})
    assert options == ["sex"]
    with pytest.raises(FaircardError, match="holds lists or records"):
        assess(df, target="y", score="score", sensitive="tags", n_boot=0)


def test_diagnostics_read_one_hot_columns_as_one_feature():
    from faircard.diagnostics import diagnose

    one_col, one_hot = _one_hot_pair()
    a = diagnose(one_col, target="y", score="score", sensitive=["race"], seed=0)
    b = diagnose(one_hot, target="y", score="score", sensitive=["race"], seed=0)
    pd.testing.assert_frame_equal(a.representation, b.representation)
    pd.testing.assert_frame_equal(a.base_rates, b.base_rates)
