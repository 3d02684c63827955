"""Bearer JWTs and branch scope.

Two kinds of token are accepted, each with its algorithm pinned:

* HS256, signed with the shared secret (``GONGHUI_JWT_SECRET``): what
  ``make run``, ``gonghui token`` and the tests mint;
* RS256 or ES256 from the federation's identity provider (OpenID Connect),
  verified with the key its JWKS (``GONGHUI_JWT_JWKS_URL``) publishes under
  the token's ``kid``.

Any other ``alg`` (``none`` included) is refused, an HS256 token is never
checked against an identity-provider key nor an RS256/ES256 one against the
secret, and a JWKS key must be of the token's algorithm.

Claims: ``iss`` and ``aud`` (must match the configured issuer and audience),
``iat`` and ``exp`` (required; ``exp - iat`` at most the maximum lifetime,
``iat`` not in the future), ``sub``, ``org`` (the organisation the caller is
bound to) and the roles (``operator``, ``admin``, ``member``; in the claim
``roles`` unless configured otherwise). A caller bound to organisation X
sees X and everything below it; anything else is reported as not found,
exactly as if it did not exist.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import jwt

ALGORITHM = "HS256"  # the shared-secret algorithm (what mint() signs with)
IDP_ALGORITHMS = ("RS256", "ES256")  # only through the JWKS
ROLES = ("operator", "admin", "member")
DEFAULT_ISSUER = "gonghui"
DEFAULT_AUDIENCE = "gonghui"
DEFAULT_MAX_TTL = 43200  # seconds (12 h)
IAT_LEEWAY = 60  # seconds of clock skew allowed on iat


class Unauthenticated(Exception):
    pass


class KeysUnavailable(Exception):
    """The identity provider's JWKS cannot be fetched or used: not the caller's fault."""


@dataclass(frozen=True)
class Caller:
    sub: str
    org: str | None
    roles: tuple[str, ...]

    def has(self, role: str) -> bool:
        return role in self.roles

    def can_see(self, org_path: list[str] | tuple[str, ...]) -> bool:
        """True when the object's organisation path passes through the caller's org."""
        if self.has("operator"):
            return True
        return self.org is not None and self.org in org_path

    def acts_as_member(self, member_id: str) -> bool:
        return self.has("member") and self.sub == member_id


class Verifier:
    """Checks bearer tokens; one per app (``Verifier.from_settings``). The JWKS
    client is made on the first identity-provider token (so after gunicorn's
    fork, never at import or app creation) and caches the key set."""

    def __init__(self, secret: str | None = None, *, jwks_url: str | None = None,
                 issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE,
                 max_ttl: int = DEFAULT_MAX_TTL, roles_claim: str = "roles", leeway: int = IAT_LEEWAY,
                 jwks_lifespan: float = 300, jwks_timeout: float = 5, jwks_cooldown: float = 30):
        if not secret and not jwks_url:
            raise ValueError("a JWT secret or a JWKS URL is needed")
        if jwks_url and urlparse(jwks_url).scheme not in ("http", "https"):
            raise ValueError(f"the JWKS URL must be http(s): {jwks_url!r}")
        if max_ttl <= 0:
            raise ValueError("the maximum token lifetime must be positive")
        if not issuer or not audience:
            raise ValueError("the issuer and the audience must not be empty")
        self._secret = secret or None
        self.jwks_url = jwks_url or None
        self.issuer = issuer
        self.audience = audience
        self.max_ttl = int(max_ttl)
        self.roles_claim = roles_claim or "roles"
        self.leeway = leeway
        self._jwks_options = dict(cache_jwk_set=True, lifespan=jwks_lifespan, timeout=jwks_timeout,
                                  cooldown_duration=jwks_cooldown, headers={"User-Agent": "gonghui"})
        self._jwks_client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()
        # tokens verified lately -> (caller, until when it stands without verifying again)
        self._verified: dict[str, tuple[Caller, float]] = {}
        self._recheck_after = jwks_lifespan

    @classmethod
    def from_settings(cls, settings) -> "Verifier":
        return cls(settings.jwt_secret, jwks_url=settings.jwt_jwks_url, issuer=settings.jwt_issuer,
                   audience=settings.jwt_audience, max_ttl=settings.jwt_max_ttl_seconds,
                   roles_claim=settings.jwt_roles_claim)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return ((ALGORITHM,) if self._secret else ()) + (IDP_ALGORITHMS if self.jwks_url else ())

    REMEMBERED_AT_MOST = 10_000  # verified tokens a process remembers (callers reuse theirs for hours)

    def decode(self, token: str) -> Caller:
        """The caller a token stands for. A token verified lately stands without verifying it again
        (PyJWT's checks cost about 5 % of a request's CPU) until it expires, and for no longer than the
        identity provider's key set is cached, so a withdrawn key stops working no later than before."""
        now = time.time()
        known = self._verified.get(token)
        if known is not None and now < known[1]:
            return known[0]
        claims = self.claims(token)
        caller = self._caller(claims)
        if len(self._verified) >= self.REMEMBERED_AT_MOST:
            self._verified.clear()
        self._verified[token] = (caller, min(claims["exp"], now + self._recheck_after))
        return caller

    def claims(self, token: str) -> dict:
        """The verified claims of a token, or ``Unauthenticated`` saying why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise Unauthenticated(f"algorithm {alg!r} is not accepted (accepted: {', '.join(self.algorithms)})")
        key = self._secret if alg == ALGORITHM else self._idp_key(header, alg)
        try:
            claims = jwt.decode(token, key, algorithms=[alg], issuer=self.issuer, audience=self.audience,
                                options={"require": ["iss", "aud", "iat", "exp", "sub"], "verify_iat": False})
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the {exc.claim!r} claim is required") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token has expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthenticated(f"wrong issuer (iss must be {self.issuer!r})") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated(f"wrong audience (aud must include {self.audience!r})") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthenticated("signature verification failed") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(str(exc) or type(exc).__name__) from exc
        self._check_lifetime(claims)
        return claims

    def _check_lifetime(self, claims: dict) -> None:
        iat, exp = claims["iat"], claims["exp"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)):
            raise Unauthenticated("iat and exp must be numeric dates")
        if iat > time.time() + self.leeway:
            raise Unauthenticated("token is issued in the future (iat)")
        if exp - iat > self.max_ttl:
            raise Unauthenticated(f"token lifetime (exp - iat = {int(exp - iat)} s) exceeds the maximum "
                                  f"of {self.max_ttl} s")

    def _client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._jwks_client is None:
                self._jwks_client = jwt.PyJWKClient(self.jwks_url, **self._jwks_options)
            return self._jwks_client

    def _idp_key(self, header: dict, alg: str):
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no key id (kid)")
        client = self._client()
        try:
            keys = client.get_signing_keys()  # cached for a while
        except jwt.PyJWTError as exc:
            raise KeysUnavailable(f"the identity provider's keys are unavailable: {exc}") from exc
        jwk = client.match_kid(keys, kid)
        if jwk is None:  # perhaps rotated: one refetch, at most every cooldown seconds
            try:
                jwk = client.get_signing_key(kid)
            except jwt.PyJWKClientConnectionError as exc:
                raise KeysUnavailable(f"the identity provider's keys are unavailable: {exc}") from exc
            except jwt.PyJWTError as exc:
                raise Unauthenticated(f"unknown signing key (kid {kid!r})") from exc
        if jwk.algorithm_name != alg:
            raise Unauthenticated(f"signing key {kid!r} is for {jwk.algorithm_name}, not {alg}")
        return jwk.key

    def _caller(self, claims: dict) -> Caller:
        roles = claims.get(self.roles_claim) or []
        if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
            raise Unauthenticated(f"{self.roles_claim} must be a non-empty list of " + ", ".join(ROLES))
        org = claims.get("org")
        if org is not None and not isinstance(org, str):
            raise Unauthenticated("org must be a string")
        if org is None and "operator" not in roles:
            raise Unauthenticated("org is required for admin and member tokens")
        return Caller(sub=str(claims["sub"]), org=org, roles=tuple(roles))


def decode(token: str, verifier: Verifier | str) -> Caller:
    """The caller a token stands for; ``verifier`` may be a bare shared secret
    (HS256 with the default issuer, audience and maximum lifetime)."""
    if isinstance(verifier, str):
        if not verifier:
            raise Unauthenticated("no token can be verified: no secret configured")
        verifier = Verifier(verifier)
    return verifier.decode(token)


def mint(secret: str, sub: str, roles: list[str], org: str | None = None, ttl: timedelta = timedelta(hours=12),
         *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE) -> str:
    now = datetime.now(timezone.utc)
    claims = {"iss": issuer, "aud": audience, "sub": sub, "roles": roles, "iat": now, "exp": now + ttl}
    if org is not None:
        claims["org"] = org
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
