"""Where the portal may send webhooks: HTTPS URLs whose host resolves only to public
addresses (SPEC §4.2, §5).

A webhook makes the portal's own network send requests to a URL someone typed, so a URL
that reaches the portal's neighbours (its database, a cloud metadata service at
169.254.169.254, anything on a private or loopback network) is refused. The host is
resolved and EVERY address it resolves to is checked — at registration, and again before
each attempt, when the connection is made to the address that was checked (a name that
changes its answer between the check and the connection cannot slip through). Redirects
are never followed.

Only a testing app (``PORTAL_WEBHOOKS_ALLOW_PRIVATE``, on by default when ``TESTING``) may
use private addresses and plain HTTP: the tests' receiver listens on 127.0.0.1.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from portal.i18n import _l, force_locale

MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeURL(ValueError):
    """The URL may not be used; ``message`` (lazy) says why, in words for the form, in the
    reader's language; ``english`` is the same words for the delivery log, which is stored
    once for every reader and kept in English like the rest of its technical lines."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)

    @property
    def english(self) -> str:
        with force_locale("en"):
            return str(self.message)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (for the Host header and the TLS certificate)
    port: int
    path: str  # path and query, "/" at least
    addresses: tuple[str, ...]  # every address the host resolved to, all checked


def allow_private() -> bool:
    return bool(current_app.config.get("PORTAL_WEBHOOKS_ALLOW_PRIVATE", current_app.testing))


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (tests replace this to fake DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """A globally routable unicast address: not private, loopback, link-local (cloud
    metadata), shared (CGNAT), multicast, reserved or unspecified — also when an IPv6
    address carries an IPv4 one (``::ffff:127.0.0.1``)."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:  # 64:ff9b::/96 reaches the IPv4 address in its last 32 bits
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local
                                 or ip.is_reserved or ip.is_unspecified)


def parse_url(url: str, *, allow_insecure: bool = False) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a well-formed webhook URL, or UnsafeURL saying what is wrong."""
    text = (url or "").strip()
    if not text:
        raise UnsafeURL(_l("Enter the URL that receives the webhooks, starting with https://."))
    if len(text) > MAX_URL_LENGTH:
        raise UnsafeURL(_l("The URL is too long (at most %(max)s characters).", max=MAX_URL_LENGTH))
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text) or not text.isascii():
        raise UnsafeURL(_l("The URL contains spaces or characters a URL cannot have; percent-encode them."))
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise UnsafeURL(_l("That is not a valid URL.")) from None
    schemes = ("https", "http") if allow_insecure else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeURL(_l("Webhooks are sent over HTTPS only: the URL must start with https://."))
    if not host:
        raise UnsafeURL(_l("The URL has no host name."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL(_l("Put no user name or password in the URL: receivers check the signature instead."))
    if parts.fragment:
        raise UnsafeURL(_l("Leave out the #fragment: it is never sent to the receiver."))
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, path


def check_url(url: str, *, private_ok: bool | None = None) -> Target:
    """The URL's target with every address it resolves to, refused (UnsafeURL) when it is
    not HTTPS, does not resolve, or any address is not public."""
    private_ok = allow_private() if private_ok is None else private_ok
    scheme, host, port, path = parse_url(url, allow_insecure=private_ok)
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        name = host.rstrip(".").lower()
        if (name == "localhost" or name.endswith(".localhost")) and not private_ok:
            raise UnsafeURL(_l("The host is this machine (localhost): webhooks go to other systems only.")) from None
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            raise UnsafeURL(_l("The host %(host)s could not be found (DNS). Check the URL.", host=host)) from None
    if not addresses:
        raise UnsafeURL(_l("The host %(host)s could not be found (DNS). Check the URL.", host=host))
    if not private_ok:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeURL(_l("The host %(host)s resolves to %(address)s, a private, loopback, link-local or "
                               "reserved address: webhooks go to public addresses only.", host=host,
                               address=refused[0]))
    return Target(scheme, host, port, path, tuple(addresses))
