"""Detect columns that directly identify people (names, birth dates, contacts, national IDs).

Flagged columns are kept out of reports and exports, and cannot be sensitive features.
Detection uses the column name (whole words, English and Korean) and, for text columns, the
content of a sample of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

_NAME_PATTERNS: list[tuple[str, str]] = [
    ("name", r"^(full_?name|first_?name|last_?name|given_?name|family_?name|surname|name|first|"
             r"last|middle_?name|applicant_?name|customer_?name|patient_?name|client_?name)$"),
    ("date_of_birth", r"^(dob|date_?of_?birth|birth_?date|birthdate|birthday|born)$"),
    ("email", r"^(e_?mail|email_?address|mail)$"),
    ("phone", r"^(phone|phone_?number|telephone_?number|mobile|mobile_?number|cell|tel)$"),
    ("national_id", r"^(ssn|social_?security(_?number)?|national_?id|passport(_?number)?|"
                    r"nin|tax_?id|resident_?registration_?number|rrn)$"),
    ("address", r"^(address|street|street_?address|home_?address|postcode|zip_?code)$"),
]
_KOREAN_NAMES = {
    "이름": "name", "성명": "name", "생년월일": "date_of_birth", "주민등록번호": "national_id",
    "전화번호": "phone", "휴대폰": "phone", "연락처": "phone", "이메일": "email", "주소": "address",
}
_CONTENT = [
    ("email", re.compile(r"^[\w.+-]+@[\w-]+\.[\w.-]+$")),
    ("national_id", re.compile(r"^\d{6}-[1-4]\d{6}$")),  # Korean resident registration number
    ("national_id", re.compile(r"^\d{3}-\d{2}-\d{4}$")),  # US social security number
    ("phone", re.compile(r"^\+?\d{1,3}?[ .-]?\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{4}$")),
]
_SAMPLE = 200


@dataclass(frozen=True)
class PersonalDataFlag:
    """A column that looks like personal data, with the kind and the reason in words."""

    column: str
    kind: str
    reason: str


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower())


def detect_personal_data(df: pd.DataFrame) -> list[PersonalDataFlag]:
    """Columns of ``df`` that look like direct identifiers (by name, then by content)."""
    flags = []
    for col in df.columns:
        flag = name_flag(col)
        if flag is None:
            series = df[col]
            if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                continue
            sample = _first_present(series, _SAMPLE).astype(str).str.strip()
            flag = content_flag(col, len(sample), [
                # a plain count: an empty text sample's .sum() is '' (an all-missing column)
                sum(bool(pattern.match(v)) for v in sample)
                for _, pattern in _CONTENT])
        if flag is not None:
            flags.append(flag)
    return flags


def _first_present(series: pd.Series, k: int) -> pd.Series:
    """The first ``k`` values of ``series`` that are not missing, found in a growing head of
    the column (a whole column's copy would cost as much memory as the column)."""
    rows = k
    while True:
        head = series.iloc[:rows].dropna()
        if len(head) >= k or rows >= len(series):
            return head.head(k)
        rows *= 8


def name_flag(col) -> PersonalDataFlag | None:
    """The flag of a column whose name (English or Korean) suggests personal data."""
    norm = _normalise(col)
    kind = next((k for k, pat in _NAME_PATTERNS if re.match(pat, norm)), None)
    if kind is None:
        kind = next((k for word, k in _KOREAN_NAMES.items() if word in str(col)), None)
    if kind is None:
        return None
    return PersonalDataFlag(str(col), kind, f"the column name '{col}' suggests {_words(kind)}")


def content_flag(col, n: int, matched: list[int]) -> PersonalDataFlag | None:
    """The flag of a text column from its sample's size ``n`` (the first non-missing values,
    stripped, at most :data:`_SAMPLE`) and how many of them match each pattern of
    :data:`_CONTENT`, in order: at least 80% matching one pattern flags the column (needs 5
    values). An engine can count the matches next to the data (:data:`CONTENT_JAVA`)."""
    if n < 5:
        return None
    for (kind, _), hits in zip(_CONTENT, matched, strict=True):
        share = hits / n
        if share >= 0.8:
            return PersonalDataFlag(str(col), kind,
                                    f"{share:.0%} of the values look like {_words(kind)}")
    return None


CONTENT_JAVA = [f"(?U){pattern.pattern}" for _, pattern in _CONTENT]
"""The patterns of :data:`_CONTENT` for Java's regular expressions (Spark's ``RLIKE``); ``(?U)``
makes ``\\w`` and ``\\d`` match Unicode letters and digits, as Python's do."""


def _words(kind: str) -> str:
    return {
        "name": "people's names",
        "date_of_birth": "dates of birth",
        "email": "email addresses",
        "phone": "phone numbers",
        "national_id": "national ID numbers",
        "address": "addresses",
    }.get(kind, "identifiers")


def drop_personal_data(df: pd.DataFrame, flags: list[PersonalDataFlag]) -> pd.DataFrame:
    """``df`` without the flagged columns."""
    return df.drop(columns=[f.column for f in flags if f.column in df.columns])


def refuse_personal_data(flags: list[PersonalDataFlag], *, sensitive=(), target: str | None = None
                         ) -> None:
    """Raise FaircardError when a flagged column is chosen as a sensitive feature or target:
    its values (people's names, emails, ...) would be printed in every table and report."""
    from .errors import FaircardError

    flagged = {f.column: f for f in flags}
    for role, columns in (("a sensitive feature", list(sensitive)), ("the target", [target])):
        for c in columns:
            if c in flagged:
                raise FaircardError(
                    f"Column '{c}' looks like personal data ({flagged[c].reason}); it cannot "
                    f"be {role} because its values would appear in the report. Choose a group "
                    "column such as sex, race or an age band"
                    + (" as sensitive feature." if role != "the target" else
                       ", or the column with the true outcome as target.")
                )
