"""Webhook rules without HTTP or a database: Standard Webhooks signatures, the address rule
(SSRF), the retry schedule and what a message may carry."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest

from portal.webhooks import addresses
from portal.webhooks.addresses import UnsafeURL, check_url, is_public
from portal.webhooks.events import EVENT_TYPES, safe_data
from portal.webhooks.schedule import GIVE_UP_AFTER, next_attempt_at, retry_delay
from portal.webhooks.signing import WebhookVerificationError, new_secret, signed_headers, verify

BODY = json.dumps({"type": "program.enrollment.created", "id": 7, "data": {"campaign_id": 3}})


# --- signatures --------------------------------------------------------------------------------
def test_a_secret_is_whsec_and_32_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_secret() != secret


def test_the_signature_is_the_hmac_of_id_timestamp_and_body():
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signed_headers([secret], "msg_abc", BODY, now)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"msg_abc.{int(now.timestamp())}.{BODY}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert headers == {"webhook-id": "msg_abc", "webhook-timestamp": str(int(now.timestamp())),
                       "webhook-signature": f"v1,{expected}"}
    assert verify(secret, BODY.encode(), headers)["id"] == 7


def test_a_tampered_body_a_wrong_secret_or_a_changed_id_fails():
    secret = new_secret()
    headers = signed_headers([secret], "msg_abc", BODY)
    with pytest.raises(WebhookVerificationError):
        verify(secret, BODY.replace('"campaign_id": 3', '"campaign_id": 4'), headers)
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), BODY, headers)
    with pytest.raises(WebhookVerificationError):
        verify(secret, BODY, {**headers, "webhook-id": "msg_other"})


def test_an_old_or_future_timestamp_fails_even_with_a_good_signature():
    secret = new_secret()
    old = signed_headers([secret], "msg_abc", BODY, datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(secret, BODY, old)
    future = signed_headers([secret], "msg_abc", BODY, datetime.now(UTC) + timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError, match="too new"):
        verify(secret, BODY, future)


def test_during_a_rotation_both_secrets_verify():
    old, new = new_secret(), new_secret()
    headers = signed_headers([new, old], "msg_abc", BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(old, BODY, headers) and verify(new, BODY, headers)


# --- addresses (SSRF) --------------------------------------------------------------------------
@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.10", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "2002:7f00:1::", "64:ff9b::a00:1", "not-an-ip",
])
def test_private_loopback_link_local_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are(address):
    assert is_public(address)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://10.0.0.5/hook", "https://169.254.169.254/latest/meta-data/",
    "https://[::1]:8443/hook", "https://[fe80::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/",
    "https://localhost/hook", "https://api.localhost/hook",
])
def test_urls_to_private_addresses_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_url(url, private_ok=False)


@pytest.mark.parametrize("url,message", [
    ("http://hooks.example.com/x", "HTTPS"), ("ftp://hooks.example.com/x", "HTTPS"), ("", "Enter"),
    ("https://user:pw@hooks.example.com/", "password"), ("https:///nohost", "host"),
    ("https://hooks.example.com/a b", "spaces"), ("https://hooks.example.com:99999/", "valid"),
    ("https://hooks.example.com/#frag", "fragment"), ("https://" + "a" * 2000 + ".com/", "too long"),
])
def test_malformed_or_plain_http_urls_are_refused(url, message, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    with pytest.raises(UnsafeURL, match=message):
        check_url(url, private_ok=False)


def test_every_address_a_name_resolves_to_is_checked(monkeypatch):
    answers = {"hooks.example.com": ["93.184.215.14"], "sneaky.example.com": ["93.184.215.14", "10.0.0.7"],
               "metadata.example.com": ["169.254.169.254"], "v6.example.com": ["::1"]}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers[host])
    target = check_url("https://hooks.example.com/portal?x=1", private_ok=False)
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.example.com", 443, "/portal?x=1", ("93.184.215.14",))
    for host in ("sneaky.example.com", "metadata.example.com", "v6.example.com"):
        with pytest.raises(UnsafeURL, match="public addresses only"):
            check_url(f"https://{host}/hook", private_ok=False)


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    def fail(host, port):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(addresses, "resolve", fail)
    with pytest.raises(UnsafeURL, match="could not be found"):
        check_url("https://nowhere.example.com/", private_ok=False)


def test_testing_may_use_plain_http_on_loopback():
    assert check_url("http://127.0.0.1:8123/hook", private_ok=True).addresses == ("127.0.0.1",)


# --- retries -----------------------------------------------------------------------------------
GOLDEN = [  # failed attempts, wait before the next, time since the first attempt when it happens
    (1, "0:00:30", "0:00:30"), (2, "0:01:00", "0:01:30"), (3, "0:02:00", "0:03:30"), (4, "0:04:00", "0:07:30"),
    (5, "0:08:00", "0:15:30"), (6, "0:16:00", "0:31:30"), (7, "0:32:00", "1:03:30"), (8, "1:04:00", "2:07:30"),
    (9, "2:08:00", "4:15:30"), (10, "4:16:00", "8:31:30"), (11, "6:00:00", "14:31:30"), (12, "6:00:00", "20:31:30"),
]


def test_the_retry_schedule_doubles_from_30_seconds_to_6_hours_and_gives_up_after_24_hours():
    created = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    at, table = created, []
    for failed in range(1, 30):
        later = next_attempt_at(created, at, failed)
        if later is None:
            break
        table.append((failed, str(retry_delay(failed)), str(later - created)))
        at = later
    assert table == GOLDEN
    assert failed == 13 and at + retry_delay(13) > created + GIVE_UP_AFTER  # the 13th failure is the last
    assert retry_delay(50) == timedelta(hours=6)
    with pytest.raises(ValueError):
        retry_delay(0)


# --- what a message carries ------------------------------------------------------------------
def test_a_message_carries_ids_references_and_figures_never_free_text():
    data = {"campaign_id": 3, "participant_ref": "P-7KQ2", "role": "beneficiary", "source": "csv",
            "reason": "Olena moved to Bergen", "display_name": "Olena Kovalenko", "email": "olena@example.org",
            "note": "x", "name": {"from": "Old name", "to": "New name"}, "milestones_reached": ["first_session"],
            "kind": "k" * 101, "config_changes": {"a": {"from": 1, "to": 2}}}
    clean = safe_data(data)
    assert clean == {"campaign_id": 3, "participant_ref": "P-7KQ2", "role": "beneficiary", "source": "csv",
                     "milestones_reached": ["first_session"], "changed_fields": ["name"]}
    text = json.dumps(clean)
    for secret in ("Olena", "Bergen", "olena@example.org", "Old name", "New name"):
        assert secret not in text


def test_every_subscribable_type_is_an_activity_event_type():
    from portal.activity.operations import is_known_event_type

    assert EVENT_TYPES and all(is_known_event_type(t) for t in EVENT_TYPES)
