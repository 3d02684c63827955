"""Webhooks' rules: the signature (known answers against hmac), the URLs a hook may point at and the
addresses a delivery may reach, and the event types a hook may hear."""
import hashlib
import hmac

import pytest

from services.notify.domain.webhooks import HOOKABLE, blocked_address, check_url, sign, verify
from shared.rules import DomainError

pytestmark = pytest.mark.unit


def test_the_signature_is_hmac_sha256_over_the_timestamp_a_dot_and_the_body():
    body = '{"id":"e1","data":{"名":"张三"}}'.encode()
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1700000000, body) == "sha256=" + expected
    assert sign("s3cret", "1700000000", body) == "sha256=" + expected
    # a known answer, computed apart (printf '1700000000.{"id":"e1"}' | openssl dgst -sha256 -hmac s3cret)
    assert sign("s3cret", 1700000000, b'{"id":"e1"}') == (
        "sha256=e584ea1bae10bbbc105c193bee45ee128f39b60803189b2673b3e878b94997c8")
    assert sign("s3cret", 1700000001, body) != sign("s3cret", 1700000000, body)
    assert sign("other", 1700000000, body) != sign("s3cret", 1700000000, body)


def test_a_receiver_refuses_a_stale_timestamp_or_a_changed_body():
    body = b'{"a":1}'
    good = sign("k", 1000, body)
    assert verify("k", "1000", body, good, now=1100)
    assert not verify("k", "1000", body, good, now=1000 + 301)  # a replay, later
    assert not verify("k", "1000", b'{"a":2}', good, now=1000)
    assert not verify("k", "1001", body, good, now=1000)  # the timestamp is signed too
    assert not verify("k", "soon", body, good, now=1000)
    assert not verify("x", "1000", body, good, now=1000)


@pytest.mark.parametrize("url", ["https://hooks.example.com/gonghui", "http://hooks.example.com:8080/in?x=1",
                                 "HTTPS://Example.COM", "https://8.8.8.8/hook", "https://[2606:4700::1]:443/x"])
def test_public_http_and_https_urls_are_accepted(url):
    assert check_url(url, allow_private=False) == url


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/x", "http and https"),
    ("file:///etc/passwd", "http and https"),
    ("gopher://example.com", "http and https"),
    ("javascript:alert(1)", "http and https"),
    ("example.com/hook", "http and https"),
    ("https://", "host"),
    ("https:///path", "host"),
    ("https://user:pw@example.com/", "credentials"),
    ("https://user@example.com/", "credentials"),
    ("https://example.com:99999/", "valid"),
    ("https://exa mple.com/", "spaces"),
    ("", "required"),
    ("https://example.com/" + "x" * 2100, "2048"),
])
def test_other_urls_are_refused_naming_the_url(url, reason):
    with pytest.raises(DomainError) as refused:
        check_url(url, allow_private=False)
    assert refused.value.field == "url" and reason in refused.value.message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "10.0.0.5",
                                  "172.16.3.4", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
                                  "[::1]", "[::]", "[fe80::1]", "[fc00::1]", "[::ffff:127.0.0.1]",
                                  "[::ffff:10.0.0.1]", "localhost", "LOCALHOST.", "api.localhost"])
def test_loopback_private_and_link_local_hosts_are_refused_unless_allowed(host):
    url = f"http://{host}:8080/hook"
    with pytest.raises(DomainError) as refused:
        check_url(url, allow_private=False)
    assert refused.value.field == "url"
    assert check_url(url, allow_private=True) == url


def test_allowing_private_addresses_allows_nothing_else():
    for url in ("ftp://127.0.0.1/", "https://u:p@127.0.0.1/", "http://"):
        with pytest.raises(DomainError):
            check_url(url, allow_private=True)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.31.255.255", "192.168.0.1", "169.254.169.254", "0.0.0.0",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "100.64.0.1", "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:192.168.1.1", "::ffff:169.254.169.254", "2002:7f00:1::1", "2002:c0a8:101::1",
    "64:ff9b::a00:1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "not an address",
])
def test_internal_and_special_addresses_are_blocked(address):
    assert blocked_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111",
                                     "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "2002:808:808::1",
                                     "64:ff9b::808:808"])
def test_public_addresses_are_not(address):
    assert not blocked_address(address)


def test_hooks_hear_every_type_notify_consumes_about_an_organisation_or_member():
    from services.notify.consumed import ROUTES

    assert set(HOOKABLE) == set(ROUTES) | {"gonghui.members.member.joined"}
    assert len(HOOKABLE) == len(set(HOOKABLE))
