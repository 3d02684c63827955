"""Every events route outside the congress (walked in test_events_congress.py), called by staff of
another branch with branch A's objects: all 404, lists without them; and a member token does what a
member does and nothing else."""
from __future__ import annotations

import pytest

from tests.helpers import api_routes, call_route
from tests.integration.events_seed import activity_body, member_view, org_views

pytestmark = pytest.mark.integration

CONGRESS_PREFIXES = ("/api/v1/congress", "/api/v1/proposals", "/api/v1/ballots")
BODIES = {  # a valid body for each route that names an object, so that scope (not validation) decides
    ("GET", "/api/v1/activities/<activity_id>"): None,
    ("PATCH", "/api/v1/activities/<activity_id>"): {"capacity": 50},
    ("POST", "/api/v1/activities/<activity_id>/publish"): None,
    ("POST", "/api/v1/activities/<activity_id>/close"): None,
    ("POST", "/api/v1/activities/<activity_id>/start"): None,
    ("POST", "/api/v1/activities/<activity_id>/finish"): None,
    ("POST", "/api/v1/activities/<activity_id>/cancel"): {"reason": "x"},
    ("GET", "/api/v1/activities/<activity_id>/check-in-code"): None,
    ("PUT", "/api/v1/activities/<activity_id>/results"): {"items": [{"registration_id": "{registration_id}",
                                                                     "rank": 1}]},
    ("POST", "/api/v1/activities/<activity_id>/registrations"): {"member_id": "{member_id}"},
    ("GET", "/api/v1/activities/<activity_id>/registrations"): None,
    ("POST", "/api/v1/activities/<activity_id>/check-in"): {"code": "12345678"},
    ("GET", "/api/v1/registrations/<registration_id>"): None,
    ("POST", "/api/v1/registrations/<registration_id>/cancel"): None,
    ("POST", "/api/v1/registrations/<registration_id>/check-in"): None,
    ("GET", "/api/v1/suggestions/<suggestion_id>"): None,
    ("POST", "/api/v1/suggestions/<suggestion_id>/review"): {"adopted": True},
}
LISTS = {("GET", "/api/v1/activities"), ("GET", "/api/v1/registrations"), ("GET", "/api/v1/suggestions")}
CREATES = {("POST", "/api/v1/activities"): activity_body("{organiser_id}"),
           ("POST", "/api/v1/suggestions"): {"title": "t", "content": "c"}}


@pytest.fixture
def branch_a(ev, bearer):
    orgs = org_views(("fed", "a", "b"))
    staff = bearer("admin", orgs["a"])
    member = member_view([orgs["fed"], orgs["a"]])
    activity = ev.post("/api/v1/activities", json=activity_body(orgs["a"], kind="skill_competition"),
                       headers=staff).json["id"]
    ev.post(f"/api/v1/activities/{activity}/publish", headers=staff)
    registration = ev.post(f"/api/v1/activities/{activity}/registrations", json={"member_id": member},
                           headers=staff).json["id"]
    suggestion = ev.post("/api/v1/suggestions", json={"title": "t", "content": "c"},
                         headers=bearer("member", orgs["a"], sub=member)).json["id"]
    return {**orgs, "staff": staff, "member_id": member, "activity_id": activity, "registration_id": registration,
            "suggestion_id": suggestion, "organiser_id": orgs["a"]}


def _routes(events_app):
    return api_routes(events_app, CONGRESS_PREFIXES)


def _call(ev, method, rule, ids, headers):
    key = (method, rule.rule)
    return call_route(ev, method, rule, ids, headers, BODIES.get(key, CREATES.get(key)))


def test_every_route_hides_branch_a_from_staff_of_branch_b(events_app, ev, bearer, branch_a):
    staff_b = bearer("admin", branch_a["b"])
    walked = set()
    for method, rule in _routes(events_app):
        key = (method, rule.rule)
        walked.add(key)
        response = _call(ev, method, rule, branch_a, staff_b)
        if key in LISTS:
            assert response.status_code == 200 and response.json["items"] == [], key
        elif key in CREATES:
            assert response.status_code in (404, 403), (key, response.status_code)  # 403: a member's own only
        else:
            assert key in BODIES, f"{key} is not walked: add it to BODIES"
            assert response.status_code == 404, (key, response.status_code, response.json)
            assert response.json["error"]["code"] == "not_found"
    assert walked == set(BODIES) | LISTS | set(CREATES)
    shown = ev.get(f"/api/v1/activities/{branch_a['activity_id']}", headers=branch_a["staff"]).json
    assert (shown["status"], shown["capacity"], shown["confirmed"]) == ("published", None, 1)  # nothing changed


def test_a_member_does_what_a_member_does_and_nothing_else(events_app, ev, bearer, branch_a):
    me = bearer("member", branch_a["a"], sub=branch_a["member_id"])
    allowed = {("GET", "/api/v1/activities"), ("GET", "/api/v1/activities/<activity_id>"),
               ("GET", "/api/v1/registrations"), ("GET", "/api/v1/registrations/<registration_id>"),
               ("POST", "/api/v1/registrations/<registration_id>/cancel"),
               ("POST", "/api/v1/activities/<activity_id>/check-in"),  # refused only for its code or its time
               ("POST", "/api/v1/activities/<activity_id>/registrations"),  # already registered: 409
               ("GET", "/api/v1/suggestions"), ("GET", "/api/v1/suggestions/<suggestion_id>"),
               ("POST", "/api/v1/suggestions")}
    for method, rule in _routes(events_app):
        key = (method, rule.rule)
        if key in allowed or key == ("POST", "/api/v1/registrations/<registration_id>/cancel"):
            continue
        response = _call(ev, method, rule, branch_a, me)
        assert response.status_code in (403, 404), (key, response.status_code, response.json)
    assert ev.get("/api/v1/activities", headers=me).json["items"][0]["id"] == branch_a["activity_id"]
    assert ev.post(f"/api/v1/activities/{branch_a['activity_id']}/registrations", json={},
                   headers=me).status_code == 409
    assert ev.post(f"/api/v1/activities/{branch_a['activity_id']}/check-in", json={"code": "12345678"},
                   headers=me).status_code in (409, 422)  # before the start window, or a wrong code
    assert ev.post("/api/v1/suggestions", json={"title": "t", "content": "c"}, headers=me).status_code == 201
    assert ev.post(f"/api/v1/registrations/{branch_a['registration_id']}/cancel", headers=me).status_code == 200
    other = member_view([branch_a["fed"], branch_a["a"]])
    assert ev.post(f"/api/v1/activities/{branch_a['activity_id']}/registrations", json={"member_id": other},
                   headers=me).status_code == 403  # a member acts only for itself
