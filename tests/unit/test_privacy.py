"""Personal-data columns are found by name and by content, without flagging ordinary columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from faircard.privacy import detect_personal_data, drop_personal_data


def _compas_like(n=50):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "id": np.arange(n),
        "name": [f"person {i}" for i in range(n)],
        "first": ["a"] * n,
        "last": ["b"] * n,
        "dob": ["1980-01-01"] * n,
        "sex": rng.choice(["Male", "Female"], n),
        "race": rng.choice(["A", "B"], n),
        "age": rng.integers(18, 70, n),
        "age_cat": ["25 - 45"] * n,
        "decile_score": rng.integers(1, 11, n),
        "first_offense": rng.integers(0, 2, n),
        "c_charge_desc": ["Battery"] * n,
        "two_year_recid": rng.integers(0, 2, n),
    })


def test_compas_like_identifiers_are_flagged_and_nothing_else():
    flags = {f.column: f.kind for f in detect_personal_data(_compas_like())}
    assert flags == {"name": "name", "first": "name", "last": "name", "dob": "date_of_birth"}


def test_content_detection():
    n = 20
    df = pd.DataFrame({
        "contact": [f"user{i}@example.org" for i in range(n)],
        "rrn": [f"900101-{1 + i % 4}234567" for i in range(n)],
        "ident": [f"123-45-{6789 + i}" for i in range(n)],
        "tel_no": [f"010-1234-{5678 + i}" for i in range(n)],
        "comment": ["fine"] * n,
        "이름": ["홍길동"] * n,
    })
    flags = {f.column: f.kind for f in detect_personal_data(df)}
    assert flags == {"contact": "email", "rrn": "national_id", "ident": "national_id",
                     "tel_no": "phone", "이름": "name"}
    kept = drop_personal_data(df, detect_personal_data(df))
    assert list(kept.columns) == ["comment"]
