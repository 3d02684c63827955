"""A campaign over a 35,000-member branch: its visit list is generated in batches of bulk inserts (never one
query reading a whole collection), continued across calls, complete and without duplicates."""
from __future__ import annotations

import time

import pytest
from bson import ObjectId

from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf
MEMBERS = 35_000


def test_a_campaign_over_a_35000_member_branch(wf, bearer):
    from services.welfare.documents import MemberView, Visit

    orgs = seed.org_views(("fed", "a", "b"))
    staff = bearer("admin", orgs["a"])
    rows = [{"_id": str(ObjectId()), "org_path": [orgs["fed"], orgs["a"]], "status": "active",
             "employment_type": "front_line", "version": 1} for _ in range(MEMBERS)]
    for i in range(0, MEMBERS, 5_000):
        MemberView._get_collection().insert_many(rows[i:i + 5_000], ordered=False)
    started = time.monotonic()
    made = wf.post("/api/v1/campaigns", headers=staff, json={"org_id": orgs["a"], "name": "夏送清凉",
                                                             "kind": "summer_cooling", "amount_fen": 3_000,
                                                             "employment_types": ["front_line"]})
    assert made.status_code == 201, made.json
    shown, calls = made.json, 1
    while shown["status"] == "generating":
        shown = wf.post(f"/api/v1/campaigns/{shown['id']}/generate", headers=staff).json
        calls += 1
        assert calls < 50
    elapsed = time.monotonic() - started
    assert shown["visits"] == MEMBERS
    assert Visit.objects(campaign_id=ObjectId(shown["id"])).count() == MEMBERS
    progress = wf.get(f"/api/v1/campaigns/{shown['id']}/progress", headers=staff).json
    assert (progress["total"], progress["visited"]) == (MEMBERS, 0)
    print(f"\n35,000 visits generated in {elapsed:.1f} s over {calls} request(s)")
