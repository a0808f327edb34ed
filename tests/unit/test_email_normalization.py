"""normalize_email: the one form e-mail addresses are stored and compared in (users, participants,
sign-in, CSV import). Look-alike spellings must collapse onto the plain address."""
import pytest

from portal.auth.operations import normalize_email
from portal.enrollments.csv.parse import EmailNormalizer
from portal.errors import DomainError


def fullwidth(text: str) -> str:
    """ASCII letters, digits and punctuation as their fullwidth look-alikes (ａｄｍｉｎ＠…)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize("look_alike", [
    "admin@acme.example",
    "Admin@ACME.example",
    "  admin@acme.example\t",
    "ａｄｍｉｎ@acme.example",                 # fullwidth local part
    fullwidth("admin@acme.example"),          # everything fullwidth, ＠ and ． included
    fullwidth("ADMIN@ACME.EXAMPLE"),
    "admin@ａｃｍｅ.example",                 # fullwidth domain
    "ⓐdmin@acme.example",                    # circled letter
    "ᴬdmin@acme.example",                    # modifier letter
])
def test_look_alikes_of_an_address_normalize_to_it(look_alike):
    assert normalize_email(look_alike) == "admin@acme.example"


@pytest.mark.parametrize("raw,expected", [
    ("ﬁnance@acme.example", "finance@acme.example"),       # the fi ligature
    ("oﬃce@acme.example", "office@acme.example"),           # the ffi ligature
    ("a\u2024b@acme.example", "a.b@acme.example"),          # one dot leader
    ("Ǆemal@acme.example", "džemal@acme.example"),         # a single-character digraph
    ("cafe\u0301@acme.example", "caf\u00e9@acme.example"),  # decomposed accent composes
])
def test_compatibility_characters_fold_to_their_plain_form(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", [
    "ａｄｍｉｎ@acme.example", "ADMİN@acme.example", "ﬁnance@ＡＣＭＥ.example", "straße@acme.example", "Ǆ@acme.example",
])
def test_normalizing_is_stable(raw):
    once = normalize_email(raw)
    assert normalize_email(once) == once
    assert once == once.lower()  # what the email_lowercase constraints on users and participants demand


@pytest.mark.parametrize("raw", ["", "   ", "admin", "admin@", "@acme.example", "ad min@acme.example",
                                 "admin@@acme.example", fullwidth("admin")])
def test_invalid_addresses_are_refused_at_the_email_field(raw):
    with pytest.raises(DomainError) as caught:
        normalize_email(raw)
    assert caught.value.field == "email"


def test_the_csv_import_fast_path_agrees_with_normalize_email():
    normalizer = EmailNormalizer()
    addresses = ["olena@acme.example", "ＯＬＥＮＡ@acme.example", "ﬁnn@acme.example", "Finn@acme.example",
                 fullwidth("olena@acme.example")]
    assert [normalizer(a) for a in addresses] == [normalize_email(a) for a in addresses]
    assert len({normalizer(a) for a in addresses}) == 2
