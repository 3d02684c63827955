"""The six-month rule against the database: dues, attendance from the events
topic's contract, the daily job, reviews for the branch; no status changes."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.members.consumed import on_attendance
from services.members.documents import Member, Review
from services.members.reviews import open_education_reviews
from shared.events.envelope import CloudEvent
from tests.helpers import member_body

pytestmark = pytest.mark.integration


def _attended(member_id, when):
    on_attendance(CloudEvent(type="gonghui.events.attendance.recorded", source="/gonghui/events", subject="e1",
                             data={"member_id": member_id, "activity_id": "e1", "kind": "activity",
                                   "attended_at": when, "extra_field_later": 1}))


def test_only_six_months_without_dues_and_without_union_life_opens_a_review(members, tree, bearer):
    admin = bearer("admin", tree["a"])
    ids = [members.post("/api/v1/members", json=member_body(tree["a"], n), headers=admin).json["id"] for n in range(5)]
    long_ago = datetime(2024, 1, 10, tzinfo=timezone.utc)
    Member.objects(pk__in=ids[:4]).update(set__joined_at=long_ago)  # ids[4] joined just now
    silent, paid_in_march, took_part_in_june, kept = ids[:4]
    members.post(f"/api/v1/members/{kept}/status", json={"action": "keep", "reason": "retired"}, headers=admin)
    members.post("/api/v1/dues/assessments", headers=admin,
                 json={"month": "2026-03", "items": [{"member_id": paid_in_march, "wage_fen": 500000}]})
    members.post("/api/v1/dues/payments", headers=admin,
                 json={"month": "2026-03", "items": [{"member_id": paid_in_march, "amount_fen": 2500}]})
    _attended(took_part_in_june, "2026-06-20T02:00:00Z")
    _attended(took_part_in_june, "2026-06-20T02:00:00Z")  # a replay changes nothing

    assert open_education_reviews("2026-07") == 1
    review = Review.objects.get()
    assert review.member_id == silent and review.window == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
                                                            "2026-06"]
    assert review.outbox[0].type == "gonghui.members.review.opened"
    assert open_education_reviews("2026-07") == 0 and open_education_reviews("2026-08") == 0  # one open at a time
    assert all(m.status == "active" for m in Member.objects(pk__in=ids))  # never changes a status by itself

    listed = members.get("/api/v1/reviews", headers=admin).json["items"]
    assert [r["member_id"] for r in listed] == [silent]
    assert members.get("/api/v1/reviews", headers=bearer("admin", tree["b"])).json["items"] == []
    resolved = members.post(f"/api/v1/reviews/{review.pk}/resolve", json={"outcome": "spoken_to_changed",
                                                                        "note": "已谈话，表示愿意参加活动"},
                            headers=admin)
    assert resolved.status_code == 200 and resolved.json["status"] == "resolved"
    assert members.post(f"/api/v1/reviews/{review.pk}/resolve", json={"outcome": "good_reason"},
                        headers=admin).status_code == 409
    assert members.post(f"/api/v1/reviews/{review.pk}/resolve", json={"outcome": "good_reason"},
                        headers=bearer("admin", tree["b"])).status_code == 404
    assert Member.objects(pk=silent).first().status == "active"


def test_review_lists_page_through_every_review_oldest_first(members, tree, bearer):
    import base64
    import json
    from datetime import timedelta

    org = tree["a"]
    start = datetime(2026, 7, 1, tzinfo=timezone.utc)
    for n in range(25):
        Review(id=f"m{n:02d}:2026-07", member_id=f"m{n:02d}", member_name=f"会员{n}", org_id=org,
               org_path=[tree["fed"], tree["industry"], org], evaluated_month="2026-07", window=["2026-01"],
               opened_at=start + timedelta(minutes=n % 7)).save(force_insert=True)
    admin = bearer("admin", org)
    seen, cursor = [], None
    while True:
        response = members.get("/api/v1/reviews?limit=10" + (f"&cursor={cursor}" if cursor else ""), headers=admin)
        assert response.status_code == 200, response.json
        seen += response.json["items"]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25 and len({r["id"] for r in seen}) == 25
    assert [r["opened_at"] for r in seen] == sorted(r["opened_at"] for r in seen)
    # a cursor is a plain position: one forged to carry a query operator is read as bytes, not obeyed
    forged = base64.urlsafe_b64encode(json.dumps([{"$ne": None}, "m00:2026-07"]).encode()).decode().rstrip("=")
    answer = members.get(f"/api/v1/reviews?cursor={forged}", headers=admin)
    assert answer.status_code == 200 and len(answer.json["items"]) <= 25
    refused = members.get("/api/v1/reviews?cursor=%7B%7D", headers=admin)
    assert refused.status_code == 422 and "cursor" in refused.json["error"]["fields"]


def test_attendance_counts_for_its_month_in_beijing_time(members, tree, bearer):
    """07:30 on 1 July in Shanghai is still 30 June in UTC (and in the sender's own offset below)."""
    from services.members.documents import Participation

    member = members.post("/api/v1/members", json=member_body(tree["a"], 1), headers=bearer("admin", tree["a"])).json
    _attended(member["id"], "2026-06-30T23:30:00Z")
    _attended(member["id"], "2026-07-31T11:00:00-05:00")  # 00:00 on 1 August in Beijing
    assert sorted(p.month for p in Participation.objects(member_id=member["id"])) == ["2026-07", "2026-08"]
