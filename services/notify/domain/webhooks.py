"""Webhooks for systems, the rules without I/O: which event types a hook may hear, which URLs and
addresses it may point at, and how each delivery is signed.

A receiver checks a delivery by recomputing ``sign(secret, X-Gonghui-Timestamp, body)`` and comparing it
with X-Gonghui-Signature in constant time, refusing a timestamp far from its clock (a replay), and drops a
repeated X-Gonghui-Delivery (a retry of a send whose outcome notify could not record)."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

from shared.rules import DomainError

# Every type notify consumes that concerns an organisation or a member (services.notify.consumed.ROUTES'
# keys and the welcome's member.joined; a unit test keeps the two lists equal).
HOOKABLE: tuple[str, ...] = (
    "gonghui.members.member.joined",
    "gonghui.members.member.status_changed",
    "gonghui.members.review.opened",
    "gonghui.members.transfer.requested",
    "gonghui.members.transfer.accepted",
    "gonghui.members.transfer.declined",
    "gonghui.members.transfer.expired",
    "gonghui.events.activity.cancelled",
    "gonghui.events.award.granted",
    "gonghui.events.ballot.closed",
    "gonghui.events.congress.session_called",
    "gonghui.events.proposal.accepted",
    "gonghui.events.proposal.answered",
    "gonghui.events.proposal.declined",
    "gonghui.events.registration.cancelled",
    "gonghui.events.registration.confirmed",
    "gonghui.events.registration.promoted",
    "gonghui.events.registration.waitlisted",
    "gonghui.events.suggestion.reviewed",
    "gonghui.welfare.application.approved",
    "gonghui.welfare.application.rejected",
    "gonghui.welfare.application.reviewed",
    "gonghui.welfare.campaign_visit.recorded",
    "gonghui.welfare.disbursement.made",
    "gonghui.welfare.hardship_file.decided",
    "gonghui.welfare.life_event.paid",
    "gonghui.welfare.notice.closed",
    "gonghui.welfare.notice.opened",
    "gonghui.welfare.objection.lodged",
)

SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048
REPLAY_WINDOW_SECONDS = 300  # what a receiver should accept between the timestamp and its clock

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64 translates to it)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT: not the public internet


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the hook's secret over ``"<timestamp>."`` and the body's bytes."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int | str, body: bytes, signature: str, now: float,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver does: the signature matches (constant time) and the timestamp is within ``window``
    seconds of ``now``."""
    try:
        fresh = abs(now - int(timestamp)) <= window
    except (TypeError, ValueError):
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def _ip(value) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    return ipaddress.ip_address(str(value).split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)


def _v4_blocked(ip: ipaddress.IPv4Address) -> bool:
    return (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified or ip.is_multicast
            or ip.is_reserved or ip in _SHARED_V4 or not ip.is_global)


def blocked_address(value) -> bool:
    """True for an address a hook may not be delivered to (unless an operator allows private ones):
    loopback, link-local, private, unspecified, multicast, reserved, shared (CGNAT) and anything else not
    global, in IPv4 and IPv6, and an IPv6 address that carries such an IPv4 one (IPv4-mapped, 6to4,
    NAT64). Anything that is not an address at all is blocked too."""
    try:
        ip = _ip(value)
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_blocked(ip)
    if ip.ipv4_mapped is not None:
        return _v4_blocked(ip.ipv4_mapped)
    embedded = ip.sixtofour
    if embedded is None and any(ip in net for net in _NAT64):
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if embedded is not None:  # reaches the IPv4 address it carries
        return _v4_blocked(embedded)
    if ip.teredo is not None:  # a tunnel to anywhere
        return True
    return (ip.is_loopback or ip.is_link_local or ip.is_site_local or ip.is_private or ip.is_unspecified
            or ip.is_multicast or ip.is_reserved or not ip.is_global)


def _literal_address(host: str):
    """The address a host names literally, in any form a resolver accepts (127.1, 0x7f.0.0.1, 2130706433
    are all 127.0.0.1 to inet_aton), or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host.replace(".", "").isalnum() and not any(c.isalpha() and c not in "abcdefx" for c in host.lower()):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_url(url: str, allow_private: bool) -> str:
    """The URL, if a hook may point at it: http or https, a host, no credentials, and (unless
    ``allow_private``) not an address or a local name a delivery may not reach. A name is checked again
    against the address actually connected to, at every delivery."""
    if not isinstance(url, str) or not url.strip():
        raise DomainError("url", "A URL is required.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise DomainError("url", f"At most {MAX_URL_LENGTH} characters.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise DomainError("url", "The URL may not hold spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError as exc:
        raise DomainError("url", "Not a valid URL.") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise DomainError("url", "Only http and https URLs are allowed.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise DomainError("url", "The URL may not carry credentials; the signature authenticates notify.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise DomainError("url", "The URL needs a host.")
    if allow_private:
        return url
    literal = _literal_address(host)
    if literal is not None:
        if blocked_address(literal):
            raise DomainError("url", "Deliveries to loopback, link-local, private or reserved addresses "
                                     "are not allowed.")
    elif host.lower() == "localhost" or host.lower().endswith(".localhost"):
        raise DomainError("url", "Deliveries to this machine are not allowed.")
    return url
