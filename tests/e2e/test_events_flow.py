"""The events service as separate processes (gunicorn with several workers, its worker) fed by the
members topic: the capacity race, waitlist promotion, and a check-in and an award reaching members."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from shared.events.envelope import isoformat, utcnow
from tests.helpers import eventually, grassroots, member_body
from tests.stacks import database

pytestmark = pytest.mark.e2e


def _branch_with_members(http, stack, serial, count: int):
    fed = http.post("members", "/api/v1/orgs", {"name": "市总工会", "kind": "federation"}, roles="operator").json()["id"]
    a = http.post("members", "/api/v1/orgs", grassroots("甲公司工会", fed, serial), roles="admin", org=fed).json()["id"]
    ids = [http.post("members", "/api/v1/members", member_body(a, serial + n, gender="female"), roles="admin",
                     org=a).json()["id"] for n in range(count)]
    views = database(stack, "events")
    eventually(lambda: views["member_views"].count_documents({"org_path": a}) == count
               and views["org_views"].count_documents({"_id": a}) == 1, timeout=30,
               message="the events read model has the branch and its members")
    return fed, a, ids


def _activity(http, org, **overrides):
    now = utcnow()
    body = {"organiser_id": org, "title": "职工趣味运动会", "kind": "sports_meet", "venue": "职工之家",
            "registration_opens_at": isoformat(now - timedelta(hours=1)),
            "registration_closes_at": isoformat(now + timedelta(hours=2)),
            "cancellation_deadline": isoformat(now + timedelta(minutes=20)),
            "starts_at": isoformat(now + timedelta(minutes=30)), "ends_at": isoformat(now + timedelta(hours=3)),
            **overrides}
    created = http.post("events", "/api/v1/activities", body, roles="admin", org=org)
    assert created.status_code == 201, created.text
    activity = created.json()["id"]
    assert http.post("events", f"/api/v1/activities/{activity}/publish", {}, roles="admin", org=org).status_code == 200
    return activity


def test_fifty_racing_members_for_the_last_ten_places_and_ten_racing_cancellations(http, stack, serial):
    fed, a, people = _branch_with_members(http, stack, serial, 52)
    activity = _activity(http, a, capacity=12)
    for member in people[:2]:
        assert http.post("events", f"/api/v1/activities/{activity}/registrations", {}, roles="member", org=a,
                         sub=member).json()["status"] == "confirmed"

    def register(member):
        return http.post("events", f"/api/v1/activities/{activity}/registrations", {}, roles="member", org=a,
                         sub=member).json()

    with ThreadPoolExecutor(50) as pool:  # to both gunicorn workers at once
        racing = list(pool.map(register, people[2:]))
    confirmed = [r for r in racing if r["status"] == "confirmed"]
    waiting = sorted((r for r in racing if r["status"] == "waitlisted"), key=lambda r: r["ticket"])
    assert (len(confirmed), len(waiting)) == (10, 40)
    assert len({r["ticket"] for r in racing}) == 50

    def cancel(registration):
        return http.post("events", f"/api/v1/registrations/{registration['id']}/cancel", {}, roles="member", org=a,
                         sub=registration["member_id"]).status_code

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(cancel, confirmed)) == [200] * 10
    status = {r["id"]: r["status"] for r in _all_registrations(http, activity, a)}
    assert [status[r["id"]] for r in waiting] == ["confirmed"] * 10 + ["waitlisted"] * 30  # first come, first served
    shown = http.get("events", f"/api/v1/activities/{activity}", roles="admin", org=a).json()
    assert (shown["confirmed"], shown["waiting"]) == (12, 30)


def _all_registrations(http, activity, org):
    rows, cursor = [], None
    while True:
        page = http.get("events", f"/api/v1/activities/{activity}/registrations?limit=100"
                        + (f"&cursor={cursor}" if cursor else ""), roles="admin", org=org).json()
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def test_a_check_in_and_an_honour_reach_the_members_service(http, stack, serial):
    fed, a, (member,) = _branch_with_members(http, stack, serial, 1)
    activity = _activity(http, a, kind="skill_competition")
    registration = http.post("events", f"/api/v1/activities/{activity}/registrations", {}, roles="member", org=a,
                             sub=member).json()
    code = http.get("events", f"/api/v1/activities/{activity}/check-in-code", roles="admin", org=a).json()["code"]
    checked = http.post("events", f"/api/v1/activities/{activity}/check-in", {"code": code}, roles="member", org=a,
                        sub=member)
    assert checked.status_code == 200, checked.text
    month = checked.json()["checked_in_at"][:7]  # UTC month; Beijing's differs only near midnight of the 1st
    participation = database(stack, "members")["participation"]
    eventually(lambda: participation.count_documents({"member_id": member}) == 1, timeout=20,
               message="members recorded the participation month")
    assert participation.find_one({"member_id": member})["month"][:4] == month[:4]

    assert http.post("events", f"/api/v1/activities/{activity}/start", {}, roles="admin", org=a).status_code == 200
    results = {"items": [{"registration_id": registration["id"], "rank": 1, "award": "一等奖",
                          "honour": "skills_champion"}]}
    assert http.put("events", f"/api/v1/activities/{activity}/results", results, roles="admin", org=a).status_code == 200

    def honoured():
        shown = http.get("members", f"/api/v1/members/{member}", roles="admin", org=a).json()
        return "skills_champion" in shown["honours"] and shown

    eventually(honoured, timeout=20, message="the honour on the member")
    entries = http.get("members", f"/api/v1/members/{member}/history", roles="admin", org=a).json()["items"]
    assert [e["by"] for e in entries if e["action"] == "honour"] == ["gonghui.events"]
    assert activity in next(e["reason"] for e in entries if e["action"] == "honour")  # where it came from
