import base64
import hashlib
import hmac
import io
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared import auth
from shared.config import Settings

pytestmark = pytest.mark.unit
SECRET = "s" * 40
JWKS_URL = "https://idp.example/jwks"


def _b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unsigned(claims: dict) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _hs256_with_key(claims: dict, key: bytes, kid: str | None = None) -> str:
    """HS256 by hand with any key bytes (PyJWT itself refuses a PEM public key as an HMAC secret)."""
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def claims(**overrides) -> dict:
    """Valid claims; a test changes or drops (None) exactly the one it is about."""
    now = int(time.time())
    values = {"iss": "gonghui", "aud": "gonghui", "sub": "u", "org": "o", "roles": ["admin"],
              "iat": now, "exp": now + 3600, **overrides}
    return {k: v for k, v in values.items() if v is not None}


def hs256(**overrides) -> str:
    return jwt.encode(claims(**overrides), SECRET, algorithm="HS256")


def test_a_minted_token_decodes_to_the_caller():
    caller = auth.decode(auth.mint(SECRET, "u1", ["admin"], "org1"), SECRET)
    assert caller == auth.Caller(sub="u1", org="org1", roles=("admin",))
    assert auth.decode(hs256(), auth.Verifier(SECRET)) == auth.Caller("u", "o", ("admin",))


def test_mint_puts_issuer_audience_and_a_bounded_lifetime_in_the_token():
    payload = jwt.decode(auth.mint(SECRET, "u1", ["operator"]), SECRET, algorithms=["HS256"], audience="gonghui")
    assert payload["iss"] == "gonghui" and payload["aud"] == "gonghui"
    assert payload["exp"] - payload["iat"] == 12 * 3600  # the default is exactly the maximum, and accepted
    auth.decode(auth.mint(SECRET, "u1", ["operator"]), SECRET)


@pytest.mark.parametrize("make, reason", [
    (lambda: _unsigned(claims()), "algorithm 'none' is not accepted"),
    (lambda: jwt.encode(claims(), SECRET * 2, algorithm="HS512"), "algorithm 'HS512' is not accepted"),
    (lambda: hs256(exp=None), "'exp' claim is required"),
    (lambda: hs256(iat=None), "'iat' claim is required"),
    (lambda: hs256(iss=None), "'iss' claim is required"),
    (lambda: hs256(aud=None), "'aud' claim is required"),
    (lambda: hs256(sub=None), "'sub' claim is required"),
    (lambda: hs256(iss="someone-else"), "wrong issuer"),
    (lambda: hs256(aud="another-api"), "wrong audience"),
    (lambda: hs256(aud=["another-api", "third"]), "wrong audience"),
    (lambda: auth.mint(SECRET, "u", ["admin"], "o", ttl=timedelta(seconds=-5)), "expired"),
    (lambda: auth.mint("another-secret-" + "y" * 30, "u", ["admin"], "o"), "signature verification failed"),
    (lambda: hs256(roles=["root"]), "roles must be a non-empty list"),
    (lambda: hs256(roles=None), "roles must be a non-empty list"),
    (lambda: hs256(org=None), "org is required"),
    (lambda: "not.a.token", "malformed"),
    (lambda: hs256(exp=int(time.time()) + 12 * 3600 + 1), "exceeds the maximum of 43200 s"),
    (lambda: hs256(exp=int(datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp())), "exceeds the maximum"),
    (lambda: auth.mint(SECRET, "u", ["admin"], "o", ttl=timedelta(days=30)), "exceeds the maximum"),
    (lambda: hs256(iat=int(time.time()) + 300), "issued in the future"),
    (lambda: hs256(iat="yesterday"), "numeric"),
])
def test_tokens_that_are_not_ours_or_not_valid_are_refused(make, reason):
    with pytest.raises(auth.Unauthenticated, match=reason):
        auth.decode(make(), SECRET)


def test_iat_may_be_a_little_ahead_of_our_clock():
    auth.decode(hs256(iat=int(time.time()) + 30), SECRET)


def test_issuer_audience_and_lifetime_are_configurable():
    verifier = auth.Verifier(SECRET, issuer="https://sso.example", audience="gonghui-api", max_ttl=600)
    token = auth.mint(SECRET, "u", ["operator"], ttl=timedelta(minutes=10), issuer="https://sso.example",
                      audience="gonghui-api")
    assert verifier.decode(token).roles == ("operator",)
    with pytest.raises(auth.Unauthenticated, match="wrong issuer"):
        verifier.decode(auth.mint(SECRET, "u", ["operator"], ttl=timedelta(minutes=10)))
    with pytest.raises(auth.Unauthenticated, match="exceeds the maximum of 600 s"):
        verifier.decode(auth.mint(SECRET, "u", ["operator"], ttl=timedelta(seconds=601),
                                  issuer="https://sso.example", audience="gonghui-api"))


def test_the_roles_claim_name_is_configurable():
    verifier = auth.Verifier(SECRET, roles_claim="gonghui_roles")
    assert verifier.decode(hs256(roles=None, gonghui_roles=["member"])).roles == ("member",)
    with pytest.raises(auth.Unauthenticated, match="gonghui_roles must be"):
        verifier.decode(hs256())  # "roles" is not read any more


def test_a_verifier_needs_a_secret_or_an_http_jwks_url():
    with pytest.raises(ValueError):
        auth.Verifier("")
    with pytest.raises(ValueError):
        auth.Verifier(None, jwks_url="file:///etc/passwd")
    with pytest.raises(auth.Unauthenticated):
        auth.decode(hs256(), "")


# -- tokens from the identity provider (JWKS) ---------------------------------------------------

@pytest.fixture(scope="module")
def keys():
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "ec384": ec.generate_private_key(ec.SECP384R1())}


def _jwk(private_key, kid: str) -> dict:
    public = private_key.public_key()
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(public, rsa.RSAPublicKey) else jwt.algorithms.ECAlgorithm
    return {**algorithm.to_jwk(public, as_dict=True), "kid": kid, "use": "sig"}


class FakeIdp:
    """Stands in for the JWKS endpoint: answers PyJWKClient's HTTP requests from memory."""

    def __init__(self, keys):
        self.jwks = {"keys": [_jwk(keys["rsa"], "rsa1"), _jwk(keys["ec"], "ec1"), _jwk(keys["ec384"], "ec384")]}
        self.fetches = 0
        self.down = False

    def build_opener(self, *handlers):
        idp = self

        class Opener:
            def open(self, request, timeout=None):
                assert request.full_url == JWKS_URL
                idp.fetches += 1
                if idp.down:
                    raise urllib.error.URLError("connection refused")
                return io.BytesIO(json.dumps(idp.jwks).encode())

        return Opener()


@pytest.fixture
def idp(keys, monkeypatch):
    fake = FakeIdp(keys)
    monkeypatch.setattr(urllib.request, "build_opener", fake.build_opener)
    return fake


def signed(keys, which: str, alg: str, kid: str | None, **overrides) -> str:
    return jwt.encode(claims(**overrides), keys[which], algorithm=alg, headers={"kid": kid} if kid else None)


def test_rs256_and_es256_tokens_from_the_identity_provider_are_accepted(keys, idp):
    verifier = auth.Verifier(None, jwks_url=JWKS_URL)
    assert idp.fetches == 0  # nothing is fetched before the first token
    assert verifier.decode(signed(keys, "rsa", "RS256", "rsa1", sub="alice")) == auth.Caller("alice", "o", ("admin",))
    assert verifier.decode(signed(keys, "ec", "ES256", "ec1", sub="bob")).sub == "bob"
    assert idp.fetches == 1  # the key set is cached


@pytest.mark.parametrize("make, reason", [
    (lambda k: signed(k, "rsa", "RS256", "nope"), "unknown signing key"),
    (lambda k: signed(k, "rsa", "RS256", None), "no key id"),
    (lambda k: signed(k, "rsa", "RS256", "rsa1", iss="https://evil.example"), "wrong issuer"),
    (lambda k: signed(k, "rsa", "RS256", "rsa1", aud="account"), "wrong audience"),
    (lambda k: signed(k, "ec", "ES256", "ec1", exp=int(time.time()) + 86400), "exceeds the maximum"),
    (lambda k: signed(k, "ec", "ES256", "rsa1"), "is for RS256, not ES256"),  # a key of another type
    (lambda k: signed(k, "rsa", "RS256", "ec1"), "is for ES256, not RS256"),
    (lambda k: signed(k, "ec384", "ES384", "ec384"), "algorithm 'ES384' is not accepted"),
    (lambda k: signed(k, "rsa", "RS512", "rsa1"), "algorithm 'RS512' is not accepted"),
    (lambda k: signed(k, "rsa", "PS256", "rsa1"), "algorithm 'PS256' is not accepted"),
    (lambda k: _unsigned(claims()), "algorithm 'none' is not accepted"),
    # the RSA key as an HMAC secret: HS256 is checked only against the shared secret
    (lambda k: _hs256_with_key(claims(), k["rsa"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), "rsa1"),
     "signature verification failed"),
    (lambda k: signed(k, "rsa", "RS256", "rsa1")[:-4] + "AAAA", "signature verification failed"),
])
def test_identity_provider_tokens_are_checked(keys, idp, make, reason):
    verifier = auth.Verifier(SECRET, jwks_url=JWKS_URL)  # both kinds enabled
    with pytest.raises(auth.Unauthenticated, match=reason):
        verifier.decode(make(keys))


def test_without_a_secret_hs256_is_off_and_without_a_jwks_url_rs256_is_off(keys, idp):
    pem = keys["rsa"].public_key().public_bytes(serialization.Encoding.PEM,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    idp_only = auth.Verifier(None, jwks_url=JWKS_URL)
    for token in (hs256(), _hs256_with_key(claims(), pem, "rsa1")):
        with pytest.raises(auth.Unauthenticated, match="algorithm 'HS256' is not accepted"):
            idp_only.decode(token)
    with pytest.raises(auth.Unauthenticated, match="algorithm 'RS256' is not accepted"):
        auth.Verifier(SECRET).decode(signed(keys, "rsa", "RS256", "rsa1"))


def test_unknown_kids_do_not_hammer_the_identity_provider(keys, idp):
    verifier = auth.Verifier(None, jwks_url=JWKS_URL)
    verifier.decode(signed(keys, "rsa", "RS256", "rsa1"))
    for i in range(5):
        with pytest.raises(auth.Unauthenticated, match="unknown signing key"):
            verifier.decode(signed(keys, "rsa", "RS256", f"forged{i}"))
    assert idp.fetches == 1  # one refetch per cooldown at most, and the cooldown started with the first fetch


def test_a_rotated_key_is_found_by_refetching(keys, idp):
    verifier = auth.Verifier(None, jwks_url=JWKS_URL, jwks_cooldown=0)
    verifier.decode(signed(keys, "rsa", "RS256", "rsa1"))
    idp.jwks = {"keys": [_jwk(keys["rsa"], "rsa2")]}
    assert verifier.decode(signed(keys, "rsa", "RS256", "rsa2")).sub == "u"
    assert idp.fetches == 2


def test_an_unreachable_identity_provider_is_not_the_callers_fault(keys, idp):
    idp.down = True
    with pytest.raises(auth.KeysUnavailable):
        auth.Verifier(SECRET, jwks_url=JWKS_URL).decode(signed(keys, "rsa", "RS256", "rsa1"))


# -- settings and the token command ------------------------------------------------------------

def test_token_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GONGHUI_JWT_ISSUER", "https://sso.example/realms/fed")
    monkeypatch.setenv("GONGHUI_JWT_AUDIENCE", "gonghui-api")
    monkeypatch.setenv("GONGHUI_JWT_MAX_TTL_SECONDS", "3600")
    monkeypatch.setenv("GONGHUI_JWT_JWKS_URL", JWKS_URL)
    monkeypatch.setenv("GONGHUI_JWT_ROLES_CLAIM", "gonghui_roles")
    monkeypatch.delenv("GONGHUI_JWT_SECRET", raising=False)
    settings = Settings.from_env("members")
    assert (settings.jwt_issuer, settings.jwt_audience, settings.jwt_max_ttl_seconds, settings.jwt_jwks_url,
            settings.jwt_roles_claim) == ("https://sso.example/realms/fed", "gonghui-api", 3600, JWKS_URL,
                                          "gonghui_roles")
    verifier = auth.Verifier.from_settings(settings)
    assert verifier.algorithms == ("RS256", "ES256") and verifier.max_ttl == 3600
    settings.require_secrets()  # identity-provider tokens only: no shared secret needed
    defaults = Settings(service="members")
    assert (defaults.jwt_issuer, defaults.jwt_audience, defaults.jwt_max_ttl_seconds) == ("gonghui", "gonghui", 43200)


def test_a_shared_secret_is_required_unless_a_jwks_url_is_set_and_is_never_short():
    with pytest.raises(RuntimeError):
        Settings(service="members").require_secrets()
    with pytest.raises(RuntimeError):
        Settings(service="members", jwt_secret="short", jwt_jwks_url=JWKS_URL).require_secrets()
    Settings(service="members", jwt_jwks_url=JWKS_URL).require_secrets()
    Settings(service="members", jwt_secret=SECRET).require_secrets()


def test_the_token_command_mints_what_the_services_accept(monkeypatch):
    from shared.cli import cli

    monkeypatch.setenv("GONGHUI_JWT_SECRET", SECRET)
    monkeypatch.setenv("GONGHUI_JWT_ISSUER", "https://sso.example")
    result = CliRunner().invoke(cli, ["token", "--org", "o1", "--role", "admin"])
    assert result.exit_code == 0, result.output
    verifier = auth.Verifier.from_settings(Settings.from_env("members"))
    assert verifier.decode(result.output.strip()) == auth.Caller("admin:o1", "o1", ("admin",))
    too_long = CliRunner().invoke(cli, ["token", "--org", "o1", "--role", "admin", "--hours", "24"])
    assert too_long.exit_code != 0 and "at most 12" in too_long.output


def test_scope_is_the_subtree_of_the_bound_organisation():
    admin = auth.Caller("a", "branchA", ("admin",))
    assert admin.can_see(["fed", "branchA"])
    assert admin.can_see(["fed", "branchA", "group1"])
    assert not admin.can_see(["fed", "branchB"])
    assert not admin.can_see(["fed"])  # above the caller is out of scope too
    assert auth.Caller("op", None, ("operator",)).can_see(["anything"])


def test_a_member_acts_only_for_itself():
    member = auth.Caller("m1", "branchA", ("member",))
    assert member.acts_as_member("m1")
    assert not member.acts_as_member("m2")
    assert not auth.Caller("m1", "branchA", ("admin",)).acts_as_member("m1")


def test_expiry_is_checked_against_now():
    expired = hs256(iat=int(time.time()) - 3600, exp=datetime.now(timezone.utc) - timedelta(minutes=1))
    with pytest.raises(auth.Unauthenticated, match="expired"):
        auth.decode(expired, SECRET)


def test_a_verified_token_is_remembered_until_it_expires_and_a_forged_one_never_is():
    verifier = auth.Verifier(SECRET)
    token = hs256(exp=int(time.time()) + 2)
    assert verifier.decode(token) == auth.Caller("u", "o", ("admin",))
    checked = []
    real_claims = verifier.claims
    verifier.claims = lambda t: checked.append(t) or real_claims(t)
    assert verifier.decode(token) == auth.Caller("u", "o", ("admin",)) and checked == []  # remembered
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(auth.Unauthenticated, match="signature"):
        verifier.decode(forged)
    time.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.05)
    with pytest.raises(auth.Unauthenticated, match="expired"):
        verifier.decode(token)


def test_tokens_are_verified_again_once_the_key_set_may_have_changed_and_the_memory_is_bounded():
    never = auth.Verifier(SECRET, jwks_lifespan=0)
    checked = []
    real_claims = never.claims
    never.claims = lambda t: checked.append(t) or real_claims(t)
    token = hs256()
    never.decode(token), never.decode(token)
    assert checked == [token, token]
    small = auth.Verifier(SECRET)
    small.REMEMBERED_AT_MOST = 3
    for n in range(10):
        small.decode(hs256(sub=f"u{n}"))
    assert len(small._verified) <= 3
