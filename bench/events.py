"""The events service at a real size: members of the 35,000-member branch registering themselves for
one activity, 50 at a time, and the rule that must hold while they race (capacity)."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from shared import auth
from shared.events.envelope import isoformat, utcnow

from .load import Client, in_parallel


def activity_registrations(stack, secret: str, members_db, events_db, branch: str, clients: int = 50,
                           total: int = 3000, capacity: int = 1000):
    """(the run, confirmed, waitlisted): ``total`` members register for one activity of ``capacity``."""
    member_ids = [str(m["_id"]) for m in members_db.members.find({"org_path": branch, "status": "active"},
                                                                   {"_id": 1}).limit(total)]
    deadline = time.monotonic() + 600  # the events worker keeps its own copy of the members
    while events_db.member_views.count_documents({"_id": {"$in": member_ids}}) < len(member_ids):
        if time.monotonic() > deadline:
            raise RuntimeError("the events read model did not catch up with the members")
        time.sleep(2)
    staff = Client(stack.url("events"), {"Authorization": "Bearer " + auth.mint(
        secret, "admin:bench", ["admin"], branch, ttl=timedelta(hours=1))})
    now = utcnow()
    status, activity = staff.request("POST", "/api/v1/activities", {
        "organiser_id": branch, "title": "职工运动会", "kind": "sports_meet", "capacity": capacity,
        "registration_opens_at": isoformat(now - timedelta(hours=1)),
        "registration_closes_at": isoformat(now + timedelta(days=1)),
        "starts_at": isoformat(now + timedelta(days=2)), "ends_at": isoformat(now + timedelta(days=2, hours=8))})
    assert status == 201, activity
    staff.request("POST", f"/api/v1/activities/{activity['id']}/publish")
    tokens = ["Bearer " + auth.mint(secret, m, ["member"], branch, ttl=timedelta(hours=1)) for m in member_ids]
    path = f"/api/v1/activities/{activity['id']}/registrations"
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def make_worker():
        client = Client(stack.url("events"), {})

        def call(i):
            client.headers = {"Authorization": tokens[i]}  # each member registers itself
            started = time.perf_counter()
            status, body = client.request("POST", path, {})
            took = time.perf_counter() - started
            key = body["status"] if status == 201 else str(status)
            with lock:
                outcomes[key] = outcomes.get(key, 0) + 1
            return took, status != 201
        return call

    run = in_parallel(clients, len(member_ids), make_worker)
    _, shown = staff.request("GET", f"/api/v1/activities/{activity['id']}")
    return run, outcomes, shown
