import base64
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from shared import auth

pytestmark = pytest.mark.unit
SECRET = "s" * 40


def _unsigned(claims: dict) -> str:
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_a_minted_token_decodes_to_the_caller():
    caller = auth.decode(auth.mint(SECRET, "u1", ["admin"], "org1"), SECRET)
    assert caller == auth.Caller(sub="u1", org="org1", roles=("admin",))


@pytest.mark.parametrize("make", [
    lambda: _unsigned({"sub": "u", "org": "o", "roles": ["admin"], "exp": 9999999999}),
    lambda: jwt.encode({"sub": "u", "org": "o", "roles": ["admin"], "exp": 9999999999}, SECRET, algorithm="HS512"),
    lambda: jwt.encode({"sub": "u", "org": "o", "roles": ["admin"]}, SECRET, algorithm="HS256"),
    lambda: auth.mint(SECRET, "u", ["admin"], "o", ttl=timedelta(seconds=-5)),
    lambda: auth.mint("another-secret-" + "y" * 30, "u", ["admin"], "o"),
    lambda: jwt.encode({"sub": "u", "org": "o", "roles": ["root"], "exp": 9999999999}, SECRET, algorithm="HS256"),
    lambda: jwt.encode({"sub": "u", "roles": ["admin"], "exp": 9999999999}, SECRET, algorithm="HS256"),
    lambda: "not.a.token",
])
def test_tokens_that_are_not_ours_or_not_valid_are_refused(make):
    with pytest.raises(auth.Unauthenticated):
        auth.decode(make(), SECRET)


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
    expired = jwt.encode({"sub": "u", "org": "o", "roles": ["admin"],
                          "exp": datetime.now(timezone.utc) - timedelta(minutes=1)}, SECRET, algorithm="HS256")
    with pytest.raises(auth.Unauthenticated, match="expired"):
        auth.decode(expired, SECRET)
