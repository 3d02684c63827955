"""welfare across services: members registered in the members service reach welfare's read model through
the topic (and so may apply), a member who has left may not, and the decisions and the disbursement go out
on gonghui.welfare.v1 with amounts and without the member's reasons."""
from __future__ import annotations

import json

import pytest

from tests.helpers import eventually, member_body, read_topic
from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf


def drain(*workers, until, timeout=60.0):
    def turn():
        for worker in workers:
            worker.turn()
        return until()
    return eventually(turn, timeout=timeout, interval=0)


def test_members_reach_welfare_and_its_decisions_reach_the_topic(members, tree, bearer, workers, wf):
    from services.welfare.documents import MemberView, OrgView

    admin = bearer("admin", tree["a"])
    ids = [members.post("/api/v1/members", json=member_body(tree["a"], 80 + n), headers=admin).json["id"]
           for n in range(2)]
    relay, welfare = workers("members"), workers("welfare")
    drain(relay, welfare, until=lambda: OrgView.objects(pk=tree["a"]).first()
          and MemberView.objects(pk__in=ids, status="active").count() == 2)
    seed.budget(wf, admin, tree["a"], 1_000_000)
    me = bearer("member", tree["a"], sub=ids[0])
    application = seed.apply(wf, me, kind="emergency_aid", amount_fen=80_000)["id"]
    for step, body in [("review", {}), ("approve", {}), ("disburse", {"payment_reference": "BANK-1"})]:
        answer = wf.post(f"/api/v1/assistance/{application}/{step}", json=body, headers=admin)
        assert answer.status_code == 200, (step, answer.json)

    left = members.post(f"/api/v1/members/{ids[1]}/status", json={"action": "leave", "reason": "voluntary"},
                        headers=admin)
    assert left.status_code == 200, left.json
    drain(relay, welfare, until=lambda: MemberView.objects(pk=ids[1]).first().status != "active")
    refused = wf.post("/api/v1/assistance", json={"kind": "living_subsidy", "amount_fen": 1_000, "reason": "x"},
                      headers=bearer("member", tree["a"], sub=ids[1]))
    assert refused.status_code == 409

    welfare.turn()
    records = read_topic(welfare.settings.kafka_bootstrap, welfare.settings.topic("gonghui.welfare.v1"), 3)
    published = [(dict(r.headers)["ce_type"].decode(), json.loads(r.value)) for r in records]
    assert [t for t, _ in published] == ["gonghui.welfare.application.reviewed",
                                         "gonghui.welfare.application.approved", "gonghui.welfare.disbursement.made"]
    assert published[-1][1]["payment_reference"] == "BANK-1" and published[-1][1]["amount_fen"] == 80_000
    assert "家庭成员重病" not in json.dumps([d for _, d in published], ensure_ascii=False)


def test_a_campaign_visit_and_a_life_event_payment_reach_the_topic(members, tree, bearer, workers, wf):
    """Members registered in the members service are on a campaign's visit list; the visit and a life-event
    payment go out with their amounts, never the visit's note."""
    from services.welfare.documents import MemberView, OrgView

    admin = bearer("admin", tree["a"])
    ids = [members.post("/api/v1/members", json=member_body(tree["a"], 90 + n), headers=admin).json["id"]
           for n in range(2)]
    relay, welfare = workers("members"), workers("welfare")
    drain(relay, welfare, until=lambda: OrgView.objects(pk=tree["a"]).first()
          and MemberView.objects(pk__in=ids, status="active").count() == 2)
    seed.budget(wf, admin, tree["a"], 1_000_000, category="condolences")
    campaign = wf.post("/api/v1/campaigns", headers=admin, json={"org_id": tree["a"], "name": "夏送清凉",
                                                                 "kind": "summer_cooling", "amount_fen": 20_000})
    assert campaign.status_code == 201 and campaign.json["visits"] == 2, campaign.json
    visit = wf.get(f"/api/v1/campaigns/{campaign.json['id']}/visits", headers=admin).json["items"][0]
    recorded = wf.post(f"/api/v1/campaign-visits/{visit['id']}/record", headers=admin,
                       json={"visited_by": "工会主席", "visited_on": "2026-07-15", "note": "高温岗位送绿豆汤"})
    assert recorded.status_code == 200, recorded.json
    paid = wf.post("/api/v1/life-event-payments", headers=admin, json={"member_id": ids[1], "kind": "marriage",
                                                                       "occurred_on": "2026-05-01"})
    assert paid.status_code == 201, paid.json

    welfare.turn()
    records = read_topic(welfare.settings.kafka_bootstrap, welfare.settings.topic("gonghui.welfare.v1"), 2)
    published = {dict(r.headers)["ce_type"].decode(): json.loads(r.value) for r in records}
    assert published["gonghui.welfare.campaign_visit.recorded"]["amount_fen"] == 20_000
    assert published["gonghui.welfare.life_event.paid"]["amount_fen"] == 50_000
    assert "绿豆汤" not in json.dumps(published, ensure_ascii=False)
