from decimal import Decimal

import pytest

from portal.errors import DomainError
from portal.keys import is_valid_key, key_from_name
from portal.l2i.operations import allocation_amount, share_to_bp
from portal.pagination import decode_cursor, encode_cursor


@pytest.mark.parametrize("key,ok", [("language-for-ukraine", True), ("a", True), ("a1-b2", True),
                                    ("Language", False), ("double--hyphen", False), ("-lead", False),
                                    ("trail-", False), ("with space", False), ("x" * 100, True), ("x" * 101, False)])
def test_key_pattern(key, ok):
    assert is_valid_key(key) is ok


def test_keys_from_names_are_valid_slugs():
    assert key_from_name("Acme – Language for Ukrainians Q1 2026") == "acme-language-for-ukrainians-q1-2026"
    assert key_from_name("Nordlys Energi AS") == "nordlys-energi-as"
    assert is_valid_key(key_from_name("Ünïcödé & spaces!!" * 20))
    assert key_from_name("!!!") == "item"


@pytest.mark.parametrize("price,share,amount", [(13_000, "0.0045", 59), (1_005, "0.5", 503), (1_004, "0.5", 502),
                                                (13_000_000, "0.45", 5_850_000), (999, "1", 999)])
def test_allocation_amount_rounds_half_up_in_decimal(price, share, amount):
    assert allocation_amount(price, share_to_bp(share)) == amount


@pytest.mark.parametrize("share", ["0", "-0.1", "1.0001", "0.00001", "abc"])
def test_bad_shares_are_refused(share):
    with pytest.raises(DomainError):
        share_to_bp(share)


def test_share_to_basis_points():
    assert share_to_bp("0.0045") == 45 and share_to_bp(Decimal("1")) == 10_000


def test_cursor_round_trip_and_tampering():
    from datetime import UTC, datetime

    stamp = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert decode_cursor(encode_cursor(stamp, 42)) == (stamp, 42)
    assert decode_cursor("not-a-cursor!!") is None and decode_cursor(None) is None


def test_a_cursor_with_an_absurd_id_is_ignored():
    import base64

    raw = base64.urlsafe_b64encode(b"2026-01-01T00:00:00|99999999999999999999").decode()
    assert decode_cursor(raw) is None
