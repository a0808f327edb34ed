"""Standard Webhooks signatures (https://www.standardwebhooks.com), through the
``standardwebhooks`` package: ``webhook-signature`` is ``v1,`` and the base64 HMAC-SHA256,
under the endpoint's secret, of ``"{webhook-id}.{webhook-timestamp}.{body}"``. While a
rotated-out secret is still valid, the header carries one signature per secret, space
separated, so a receiver holding either accepts the message.

Secrets are ``whsec_`` and the base64 of 32 random bytes, made by the portal and shown once.
"""
from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

__all__ = ["SECRET_PREFIX", "WebhookVerificationError", "new_secret", "sign", "signed_headers", "verify"]


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: datetime, body: str) -> str:
    """``v1,<base64 signature>`` of one message under one secret."""
    return Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)


def signed_headers(secrets_: Iterable[str], message_id: str, body: str, now: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent now."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(sign(s, message_id, now, body) for s in secrets_),
    }


def verify(secret: str, body: bytes | str, headers: dict[str, str]) -> Any:
    """What a receiver does: the parsed body when a signature matches (compared in constant
    time) and the timestamp is within five minutes, else WebhookVerificationError."""
    return Webhook(secret).verify(body, headers)
