"""Bearer JWTs (HS256, pinned) and branch scope.

Claims: ``sub``, ``org`` (the organisation the caller is bound to), ``roles``
(``operator``, ``admin``, ``member``) and ``exp`` (required). A caller bound
to organisation X sees X and everything below it; anything else is reported
as not found, exactly as if it did not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

ALGORITHM = "HS256"
ROLES = ("operator", "admin", "member")


class Unauthenticated(Exception):
    pass


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


def decode(token: str, secret: str) -> Caller:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub"], "verify_exp": True})
    except jwt.PyJWTError as exc:
        raise Unauthenticated(str(exc)) from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
        raise Unauthenticated("roles must be a non-empty list of " + ", ".join(ROLES))
    org = claims.get("org")
    if org is not None and not isinstance(org, str):
        raise Unauthenticated("org must be a string")
    if org is None and "operator" not in roles:
        raise Unauthenticated("org is required for admin and member tokens")
    return Caller(sub=str(claims["sub"]), org=org, roles=tuple(roles))


def mint(secret: str, sub: str, roles: list[str], org: str | None = None, ttl: timedelta = timedelta(hours=12)) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": sub, "roles": roles, "iat": now, "exp": now + ttl}
    if org is not None:
        claims["org"] = org
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
