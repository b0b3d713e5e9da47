"""Who is acting: identities from a sign-in provider (OIDC) or typed names in local mode.

An :class:`Identity` is what every record, review and comment stores about a person: the
``issuer`` and ``subject`` that identify them, and a display name for people to read. With a
sign-in provider, the issuer and subject come from the ID token, and two identities are the same
person exactly when both match (names are never compared). Without one (the app's local
single-user mode and the command line), a person is only a typed name: the issuer is
:data:`UNAUTHENTICATED` and the subject is the name's comparison key (:func:`name_key`), so
``"Alice"``, ``"Аlice"`` with a Cyrillic "А", ``"Ali\\u200bce"`` with a zero-width space and
``"Smith, Alice"`` / ``"Alice Smith"`` are one person.

Roles (:data:`ROLES`) come from a claim in the ID token and/or a roles file that maps e-mail
addresses and groups to roles (:func:`load_role_map`).

Pure Python: no streamlit, no database.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import FaircardError

UNAUTHENTICATED = "unauthenticated"
"""The issuer of every identity that did not sign in (local mode, command line)."""

ROLES = ("viewer", "author", "reviewer", "approver", "admin")
"""Roles, from reading to administering. Every role can read and comment."""

ACTIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "comment": frozenset(ROLES),
    "record": frozenset({"author", "admin"}),
    "submit": frozenset({"author", "admin"}),
    "answer": frozenset({"author", "admin"}),
    "decide": frozenset({"reviewer", "approver", "admin"}),
    "approve": frozenset({"approver", "admin"}),
}
"""Which roles may do what: ``decide`` is requesting changes or rejecting, ``approve`` is the
sign-off, ``answer`` is an author's reply to a comment."""

ACTION_WORDS = {
    "view": "open records", "comment": "comment", "record": "record assessments",
    "submit": "submit records for review", "answer": "answer comments",
    "decide": "request changes or reject", "approve": "approve (sign off)",
}

ROLES_ENV = "FAIRCARD_ROLES"
"""Environment variable naming the roles file (TOML or YAML)."""


# -- names: normalisation and confusable skeletons (local mode) -------------------------------

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) that are not in category Cf:
# fillers and selectors that render as nothing.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),    # combining grapheme joiner
    (0x115F, 0x1160),    # Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),    # Khmer inherent vowels
    (0x180B, 0x180F),    # Mongolian free variation selectors
    (0x3164, 0x3164),    # Hangul filler
    (0xFE00, 0xFE0F),    # variation selectors
    (0xFFA0, 0xFFA0),    # halfwidth Hangul filler
    (0xE0100, 0xE01EF),  # variation selectors supplement
    (0x2800, 0x2800),    # braille blank (visible as nothing, not ignorable but abused so)
)


def _is_invisible(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Cc", "Cs", "Co", "Cn"):
        return not ch.isspace()
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _IGNORABLE_RANGES)


def clean_name(name: str) -> str:
    """``name`` as people should see it: NFKC-normalised, without invisible or format characters
    (zero-width spaces and joiners, bidi controls, soft hyphens, variation selectors, ...), with
    runs of whitespace as one space and no leading or trailing space."""
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(" " if ch.isspace() else ch for ch in text if not _is_invisible(ch))
    return " ".join(text.split())


@functools.cache
def _prototypes() -> dict[int, str]:
    """Unicode's confusable prototypes (UTS #39 confusables.txt, see confusables.tsv)."""
    table: dict[int, str] = {}
    path = Path(__file__).with_name("confusables.tsv")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        src, tgt = line.split("\t")
        table[int(src, 16)] = "".join(chr(int(cp, 16)) for cp in tgt.split())
    return table


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: NFD, each character replaced by its confusable
    prototype, NFD again. Two strings with the same skeleton look alike."""
    table = _prototypes()
    nfd = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", nfd.translate(table))


_SEPARATORS = re.compile(r"[\s,]+")


def _tokens(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(text) if t]


def name_key(name: str) -> str:
    """The comparison key of a typed name: :func:`clean_name`, case-folded, reduced to its
    confusable skeleton and case-folded again, split into words at spaces and commas, with the
    words sorted. So "Surname, Given name" and "Given name Surname" have the same key (so does
    "Surname Given name": for a guard against self-approval, one false "same person" is better
    than a missed one). This is the subject of a typed name's :class:`Identity`."""
    return _sorted_words(_folded(name))


def _folded(name: str) -> str:
    return skeleton(clean_name(name).casefold()).casefold()


def _folded_after(name: str) -> str:
    # UTS #39 skeletons are case-sensitive (Greek capital Kappa -> "K", capital "I" -> "l"),
    # which case-folding first would lose; fold only afterwards.
    return skeleton(clean_name(name)).casefold()


def _case_sensitive_key(name: str) -> str:
    return _sorted_words(_folded_after(name))


def _sorted_words(text: str) -> str:
    return " ".join(sorted(_tokens(text)))


def _words(key: str) -> list[str]:
    """The words of a name's key without accents and punctuation: "Kím, Ana (QA)." gives
    ["kirn", "ana", "qa"] (the skeleton writes "m" as "rn")."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", key)
                   if not unicodedata.category(ch).startswith("M"))
    return "".join(ch if ch.isalnum() else " " for ch in bare).split()


def _same_words(a: list[str], b: list[str]) -> bool:
    if not a or not b:
        return False
    if sorted(a) == sorted(b) or "".join(a) == "".join(b):  # "Ana-Kim", "AnaKim", "Ana K i m"
        return True
    short, long = sorted((set(a), set(b)), key=len)
    return len(short) >= 2 and short <= long  # "Dr. Ana Kim", "Ana Kim (author)"


def same_name(a: str, b: str) -> bool:
    """Whether two typed names are the same person's for local mode: the same :func:`name_key`
    (case-insensitive), or the same case-sensitive UTS #39 skeleton (so a Greek capital Kappa
    for "K", or a capital "I" for a small "l", is caught too); either also with accents and
    punctuation left out, words joined or split ("Ana-Kim", "AnaKim", "Ana Kím", "Ana Kim.")
    or words added to a name of two words or more ("Dr. Ana Kim", "Ana Kim (author)")."""
    if name_key(a) == name_key(b):
        return True
    ka, kb = _case_sensitive_key(a), _case_sensitive_key(b)
    if ka and ka == kb:
        return True
    return any(_same_words(_words(fold(a)), _words(fold(b))) for fold in (_folded, _folded_after))


# -- identities ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """A person acting in faircard.

    ``issuer`` and ``subject`` identify them (the ID token's ``iss`` and ``sub``; for a typed name
    :data:`UNAUTHENTICATED` and :func:`name_key`); ``display_name`` is for people to read;
    ``roles`` a subset of :data:`ROLES`; ``authenticated`` whether they signed in.
    """

    issuer: str
    subject: str
    display_name: str
    email: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    authenticated: bool = False

    def can(self, action: str) -> bool:
        """Whether one of the identity's roles allows ``action`` (a key of :data:`ACTIONS`)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        return bool(self.roles & ACTIONS[action])

    def require(self, action: str) -> None:
        """Raise a :class:`FaircardError` when the identity may not do ``action``."""
        if not self.can(action):
            allowed = ", ".join(r for r in ROLES if r in ACTIONS[action])
            have = ", ".join(r for r in ROLES if r in self.roles) or "no role"
            raise FaircardError(
                f"{self.display_name} may not {ACTION_WORDS[action]}: that needs one of the "
                f"roles {allowed}, and {self.display_name} has {have}. Ask an administrator to "
                "add the role in the roles file or at the sign-in provider."
            )

    def is_same_person(self, other: Identity) -> bool:
        """Same issuer and subject; when either did not sign in, also the same typed name
        (:func:`same_name`), since a typed name proves nothing."""
        if (self.issuer, self.subject) == (other.issuer, other.subject):
            return True
        if not (self.authenticated and other.authenticated):
            return same_name(self.display_name, other.display_name)
        return False

    def to_dict(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "subject": self.subject,
                "display_name": self.display_name, "email": self.email,
                "roles": [r for r in ROLES if r in self.roles],
                "authenticated": self.authenticated}


def local_identity(name: str, roles: Iterable[str] = ROLES) -> Identity:
    """The identity of a typed name (local mode, command line): not signed in, every role by
    default (one person works alone), subject = :func:`name_key`."""
    shown = clean_name(name)
    if not shown:
        raise FaircardError("The name is empty (or only invisible characters); type a name.")
    return Identity(issuer=UNAUTHENTICATED, subject=name_key(name), display_name=shown,
                    roles=frozenset(roles), authenticated=False)


def same_person(a_issuer: str | None, a_subject: str | None, a_name: str,
                b_issuer: str | None, b_subject: str | None, b_name: str) -> bool:
    """:meth:`Identity.is_same_person` for stored values (an issuer or subject may be missing in
    entries written before identities were stored: those compare by name)."""
    def ident(issuer: str | None, subject: str | None, name: str) -> Identity:
        authenticated = bool(issuer) and issuer != UNAUTHENTICATED and bool(subject)
        if not authenticated:
            return Identity(UNAUTHENTICATED, name_key(name), name)
        return Identity(str(issuer), str(subject), name, authenticated=True)

    return ident(a_issuer, a_subject, a_name).is_same_person(ident(b_issuer, b_subject, b_name))


# -- roles -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleMap:
    """Where roles come from: ``claim`` (a claim of the ID token listing role names; dotted for
    nested claims such as ``realm_access.roles``), ``users`` (e-mail -> roles), ``groups`` (group
    named in the ``groups_claim`` -> roles) and ``default`` (roles of everyone who signs in)."""

    claim: str = "roles"
    groups_claim: str = "groups"
    users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    default: frozenset[str] = frozenset()

    def roles_for(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The roles of a signed-in person with these ID-token claims."""
        roles = set(self.default)
        roles |= {r for r in _names(_claim(claims, self.claim)) if r in ROLES}
        email = _verified_email(claims)
        if email:
            roles |= self.users.get(email_key(email), frozenset())
        for group in _names(_claim(claims, self.groups_claim)):
            roles |= self.groups.get(group, frozenset())
        return frozenset(roles)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split(".") if path else ():
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _names(value: Any) -> list[str]:
    """Role or group names from a claim: a list, or one string of space/comma-separated names."""
    if isinstance(value, str):
        return _tokens(value)
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def _verified_email(claims: Mapping[str, Any]) -> str | None:
    """The e-mail address, only when the provider says it verified it (``email_verified``
    true). Otherwise anyone could have typed it: some providers let people set their own
    address (Microsoft Entra ID sends no ``email_verified`` and its ``email`` claim can be
    edited), and it must not give roles."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        return None
    if claims.get("email_verified") not in (True, "true", "True"):
        return None
    return email.strip()


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def email_key(email: str) -> str:
    """An e-mail address compared without the case of its ASCII letters. Other letters are
    kept as they are: Unicode case-folding would make "\u212aim@example.org" (KELVIN SIGN) or
    "\u017fam@example.org" (LONG S) the address of kim@ or sam@, and give their roles to
    whoever registered the look-alike."""
    return email.strip().translate(_ASCII_LOWER)


def _role_set(value: Any, where: str) -> frozenset[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise FaircardError(
            f"In the roles file, {where} must be a role name or a list of role names; got "
            f"{value!r}."
        )
    unknown = [n for n in names if n not in ROLES]
    if unknown:
        raise FaircardError(
            f"In the roles file, {where} names the unknown role '{unknown[0]}'. The roles are: "
            f"{', '.join(ROLES)}."
        )
    return frozenset(names)


def parse_role_map(data: Any, source: str = "the roles file") -> RoleMap:
    """A :class:`RoleMap` from the parsed roles file::

        claim = "roles"            # optional: the ID-token claim listing roles
        groups_claim = "groups"    # optional: the claim listing groups
        default = ["viewer"]       # optional: roles of everyone who signs in
        [users]
        "alice@example.org" = ["author"]
        [groups]
        "fairness-board" = ["reviewer", "approver"]
    """
    if not isinstance(data, Mapping):
        raise FaircardError(f"{source} must be a table of settings (users, groups, default).")
    known = {"claim", "groups_claim", "default", "users", "groups"}
    extra = sorted(set(data) - known)
    if extra:
        raise FaircardError(
            f"{source} has the unknown setting '{extra[0]}'. Use: {', '.join(sorted(known))}."
        )
    for key in ("claim", "groups_claim"):
        if key in data and not isinstance(data[key], str):
            raise FaircardError(f"In {source}, '{key}' must be a claim name such as \"roles\".")
    tables = {}
    for key in ("users", "groups"):
        value = data.get(key) or {}
        if not isinstance(value, Mapping):
            raise FaircardError(f"In {source}, '{key}' must map names to roles.")
        tables[key] = {
            (email_key(str(k)) if key == "users" else str(k)):
            _role_set(v, f"{key[:-1]} '{k}'") for k, v in value.items()
        }
    return RoleMap(
        claim=data.get("claim", "roles"), groups_claim=data.get("groups_claim", "groups"),
        users=tables["users"], groups=tables["groups"],
        default=_role_set(data.get("default", []), "'default'"),
    )


def load_role_map(path: str | os.PathLike[str] | None = None) -> RoleMap:
    """The roles file at ``path`` (default ``$FAIRCARD_ROLES``; TOML, or YAML for ``.yaml`` /
    ``.yml``). Without a file: roles come from the ``roles`` claim only."""
    if path is None:
        path = os.environ.get(ROLES_ENV) or None
    if path is None:
        return RoleMap()
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise FaircardError(
            f"Cannot read the roles file '{p}': {exc.strerror or exc}. Check {ROLES_ENV} or the "
            "'roles_file' setting."
        ) from None
    try:
        data = yaml.safe_load(text) if p.suffix.lower() in (".yaml", ".yml") \
            else tomllib.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise FaircardError(
            f"The roles file '{p}' is not valid {'YAML' if p.suffix in ('.yaml', '.yml') else 'TOML'}"
            f": {str(exc).splitlines()[0]}"
        ) from None
    return parse_role_map(data or {}, f"The roles file '{p}'")


def identity_from_claims(claims: Mapping[str, Any], role_map: RoleMap | None = None) -> Identity:
    """The identity of a signed-in person from the ID token's claims (``st.user``): ``iss`` and
    ``sub`` identify them; the display name is ``name``, or given and family name, or
    ``preferred_username``, or the e-mail address."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or not issuer or not isinstance(subject, str) or not subject:
        raise FaircardError(
            "The sign-in provider did not say who you are (the ID token has no 'iss' or 'sub'). "
            "Check the provider's OpenID Connect settings."
        )
    if issuer == UNAUTHENTICATED:
        raise FaircardError(f"The sign-in provider's issuer cannot be '{UNAUTHENTICATED}'.")
    email = _verified_email(claims)
    given = " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name")).strip()
    shown = next((clean_name(str(v)) for v in (claims.get("name"), given,
                  claims.get("preferred_username"), email) if v and clean_name(str(v))), subject)
    roles = (role_map or RoleMap()).roles_for(claims)
    return Identity(issuer=issuer, subject=subject, display_name=shown, email=email,
                    roles=roles, authenticated=True)
