"""Tokens from the federation's identity provider: a real HTTP server serves a
JWKS (an RSA and an EC key), the members app fetches it on the first such
token and accepts RS256 and ES256 tokens signed with them, and nothing else
that merely looks like one."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared import auth
from shared.localinfra.process import free_port
from shared.testing.fixtures import JWT_SECRET

pytestmark = pytest.mark.integration

ISSUER = "https://sso.example.gov.cn/realms/federation"
AUDIENCE = "gonghui-api"
NOWHERE = "0" * 24  # an organisation id; the token is refused before anything is looked up


class Idp:
    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.jwks = {"keys": [
            {**jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True),
             "kid": "rsa-2026", "use": "sig", "alg": "RS256"},
            {**jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True),
             "kid": "ec-2026", "use": "sig", "alg": "ES256"},
        ]}
        self.hits = 0
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/protocol/openid-connect/certs":
                    self.send_error(404)
                    return
                idp.hits += 1
                body = json.dumps(idp.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/protocol/openid-connect/certs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def token(self, key: str = "rsa", kid: str | None = None, **overrides) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": [AUDIENCE, "account"], "sub": "sso-user-1", "roles": ["operator"],
                  "iat": now, "exp": now + 300, "azp": "branch-portal", **overrides}
        private, alg = (self.rsa, "RS256") if key == "rsa" else (self.ec, "ES256")
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, private, algorithm=alg,
                          headers={"kid": kid or f"{key}-2026"})

    def public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def idp():
    server = Idp()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def oidc_app(settings_for, idp):
    from services.members import create_app

    def make(**overrides):
        return create_app(settings_for("members", jwt_jwks_url=idp.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                                       **overrides))
    return make


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _hs256_signed_with(key: bytes, claims: dict, kid: str) -> str:
    signing_input = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + \
        _b64(json.dumps(claims).encode())
    return signing_input + "." + _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_rs256_and_es256_tokens_from_the_identity_provider_are_accepted(oidc_app, idp):
    hits = idp.hits
    client = oidc_app().test_client()
    assert idp.hits == hits  # creating the app fetches nothing

    created = client.post("/api/v1/orgs", json={"name": "市总工会", "kind": "federation"},
                          headers=_bearer(idp.token("rsa")))
    assert created.status_code == 201, created.json
    fed = created.json["id"]
    admin = idp.token("ec", sub="sso-user-2", roles=["admin"], org=fed)
    read = client.get(f"/api/v1/orgs/{fed}", headers=_bearer(admin))
    assert read.status_code == 200, read.json
    assert idp.hits == hits + 1  # fetched once, on the first token, then cached

    # make run's shared-secret tokens still work next to them (with this app's issuer and audience)
    local = auth.mint(JWT_SECRET, "admin:local", ["admin"], fed, issuer=ISSUER, audience=AUDIENCE)
    assert client.get(f"/api/v1/orgs/{fed}", headers=_bearer(local)).status_code == 200


def test_roles_may_come_from_another_claim(oidc_app, idp):
    client = oidc_app(jwt_roles_claim="gonghui_roles").test_client()
    ok = client.post("/api/v1/orgs", json={"name": "市总工会", "kind": "federation"},
                     headers=_bearer(idp.token("ec", roles=None, gonghui_roles=["operator"])))
    assert ok.status_code == 201, ok.json
    refused = client.post("/api/v1/orgs", json={"name": "市总工会", "kind": "federation"},
                          headers=_bearer(idp.token("ec")))  # "roles" is not read
    assert refused.status_code == 401 and "gonghui_roles" in refused.json["error"]["message"]


def test_tokens_that_only_look_like_the_identity_providers_are_refused(oidc_app, idp):
    client = oidc_app().test_client()
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "roles": ["operator"], "iat": now, "exp": now + 300}
    unsigned = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rsa-2026"}).encode()) + "." + \
        _b64(json.dumps(claims).encode()) + "."
    cases = {
        "wrong kid": (idp.token("rsa", kid="rsa-1999"), "unknown signing key"),
        "wrong iss": (idp.token("rsa", iss="https://sso.example.com/realms/other"), "wrong issuer"),
        "wrong aud": (idp.token("ec", aud="account"), "wrong audience"),
        "lifetime too long": (idp.token("rsa", exp=now + 13 * 3600), "exceeds the maximum of 43200 s"),
        "valid until 2100": (idp.token("ec", exp=4102444800), "exceeds the maximum"),
        "expired": (idp.token("rsa", iat=now - 600, exp=now - 60), "expired"),
        "no iat": (idp.token("rsa", iat=None), "'iat' claim is required"),
        "iat in the future": (idp.token("ec", iat=now + 600, exp=now + 900), "issued in the future"),
        "alg none": (unsigned, "algorithm 'none' is not accepted"),
        "HS256 signed with the public key": (_hs256_signed_with(idp.public_pem(), claims, "rsa-2026"),
                                             "signature verification failed"),
        "ES256 token naming the RSA key": (idp.token("ec", kid="rsa-2026"), "is for RS256, not ES256"),
        "tampered payload": (_tamper(idp.token("rsa")), "signature verification failed"),
    }
    for name, (token, reason) in cases.items():
        response = client.get(f"/api/v1/orgs/{NOWHERE}", headers=_bearer(token))
        assert response.status_code == 401, (name, response.json)
        assert response.json["error"]["code"] == "unauthenticated", name
        assert reason in response.json["error"]["message"], (name, response.json["error"]["message"])


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["operator", "admin"]
    return ".".join([header, _b64(json.dumps(claims).encode()), signature])


def test_with_only_a_jwks_url_shared_secret_tokens_are_refused(oidc_app, idp):
    client = oidc_app(jwt_secret="").test_client()
    local = auth.mint(JWT_SECRET, "op", ["operator"], issuer=ISSUER, audience=AUDIENCE)
    forged = _hs256_signed_with(idp.public_pem(), jwt.decode(local, options={"verify_signature": False}), "rsa-2026")
    for token in (local, forged):
        response = client.get(f"/api/v1/orgs/{NOWHERE}", headers=_bearer(token))
        assert response.status_code == 401
        assert "algorithm 'HS256' is not accepted" in response.json["error"]["message"]
    created = client.post("/api/v1/orgs", json={"name": "市总工会", "kind": "federation"},
                          headers=_bearer(idp.token("rsa")))
    assert created.status_code == 201, created.json


def test_an_unreachable_identity_provider_is_a_503_not_a_401(settings_for, idp):
    from services.members import create_app

    down = f"http://127.0.0.1:{free_port()}/certs"
    client = create_app(settings_for("members", jwt_jwks_url=down, jwt_issuer=ISSUER,
                                     jwt_audience=AUDIENCE)).test_client()
    response = client.get(f"/api/v1/orgs/{NOWHERE}", headers=_bearer(idp.token("rsa")))
    assert response.status_code == 503 and response.json["error"]["code"] == "unavailable"
