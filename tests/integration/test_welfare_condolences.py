"""Condolence campaigns (慰问, 送温暖) and life-event payments: a campaign's visit list generated for a subtree
from the hardship registry or the member read model, in batches and idempotently; each visit recorded once
by staff in scope and paid from the campaign organisation's condolences budget (refused when overspent);
progress per child organisation; life events paid once per member and event from the schedule in force;
the events (amounts, never the household's circumstances or the visit's note)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from bson import ObjectId

from shared.events.envelope import utcnow
from tests.integration import welfare_seed as seed

pytestmark = pytest.mark.integration

welfare_app, wf = seed.welfare_app, seed.wf
TODAY = utcnow().date().isoformat()


@pytest.fixture
def tree(wf, bearer):
    """fed → a, b; a → a1, a2 (workshops)."""
    from services.welfare.documents import OrgView

    orgs = seed.org_views(("fed", "a", "b"))
    for name in ("a1", "a2"):
        orgs[name] = str(ObjectId())
        OrgView(id=orgs[name], name=name, kind="grassroots", path=[orgs["fed"], orgs["a"], orgs[name]],
                status="active", version=1).save()
    staff = bearer("admin", orgs["a"])
    return {**orgs, "staff": staff, "fed_staff": bearer("admin", orgs["fed"]), "staff_b": bearer("admin", orgs["b"]),
            "staff_a1": bearer("admin", orgs["a1"]), "staff_a2": bearer("admin", orgs["a2"])}


def _path(tree, *names):
    return [tree[n] for n in ("fed", *names)]


def _campaign(wf, headers, org_id, **body):
    response = wf.post("/api/v1/campaigns", headers=headers, json={
        "org_id": org_id, "name": "2027 春节送温暖", "kind": "summer_cooling", "amount_fen": 50_000, **body})
    assert response.status_code == 201, response.json
    return response.json


def _visits(wf, headers, campaign_id, **query):
    items, cursor = [], None
    while True:
        q = "&".join(f"{k}={v}" for k, v in {**query, "limit": 100, **({"cursor": cursor} if cursor else {})}.items())
        page = wf.get(f"/api/v1/campaigns/{campaign_id}/visits?{q}", headers=headers).json
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_summer_cooling_lists_the_front_line_workers_of_the_subtree_once(wf, tree, monkeypatch):
    from services.welfare.app import campaigns
    from services.welfare.documents import Campaign, Visit

    front = [seed.member_view(_path(tree, "a", "a1"), employment_type="front_line") for _ in range(7)]
    front += [seed.member_view(_path(tree, "a", "a2"), employment_type="front_line") for _ in range(5)]
    seed.member_view(_path(tree, "a", "a1"), employment_type="permanent")  # not front-line
    seed.member_view(_path(tree, "a", "a1"), employment_type="front_line", status="suspended")  # not active
    seed.member_view(_path(tree, "b"), employment_type="front_line")  # another subtree
    monkeypatch.setattr(campaigns, "BATCH", 5)
    monkeypatch.setattr(campaigns, "TIME_BUDGET", -1)  # one batch per request: generation continues later
    made = _campaign(wf, tree["staff"], tree["a"], employment_types=["front_line"])
    assert made["status"] == "generating"
    assert wf.post(f"/api/v1/campaigns/{made['id']}/generate", headers=tree["staff_b"]).status_code == 404
    # a batch retried (as after a crash before the position was written) lists nobody twice
    Campaign.objects(pk=ObjectId(made["id"])).update_one(unset__generated_after=True)
    for _ in range(10):
        shown = wf.post(f"/api/v1/campaigns/{made['id']}/generate", headers=tree["staff"])
        if shown.status_code == 409:
            break
        assert shown.status_code == 200, shown.json
    shown = wf.get(f"/api/v1/campaigns/{made['id']}", headers=tree["staff"]).json
    assert (shown["status"], shown["visits"]) == ("open", 12)
    assert sorted(v["member_id"] for v in _visits(wf, tree["staff"], made["id"])) == sorted(front)
    assert Visit.objects(campaign_id=ObjectId(made["id"])).count() == 12
    # a second generation run (the worker) after it opened changes nothing
    campaigns.generate_some(Campaign.objects(pk=ObjectId(made["id"])).first())
    assert Visit.objects(campaign_id=ObjectId(made["id"])).count() == 12
    # staff of a workshop see their part of the list; staff of another branch nothing
    assert len(_visits(wf, tree["staff_a2"], made["id"])) == 5
    assert wf.get(f"/api/v1/campaigns/{made['id']}", headers=tree["staff_b"]).status_code == 404
    assert [c["id"] for c in wf.get("/api/v1/campaigns", headers=tree["staff_a1"]).json["items"]] == [made["id"]]
    assert wf.get("/api/v1/campaigns", headers=tree["staff_b"]).json["items"] == []


def test_the_worker_finishes_a_generation_a_request_left(wf, tree, monkeypatch):
    from services.welfare.app import campaigns

    for _ in range(7):
        seed.member_view(_path(tree, "a", "a1"))
    monkeypatch.setattr(campaigns, "BATCH", 2)
    monkeypatch.setattr(campaigns, "TIME_BUDGET", -1)
    made = _campaign(wf, tree["staff"], tree["a"])
    assert made["status"] == "generating"
    while campaigns.generate_pending():
        pass
    shown = wf.get(f"/api/v1/campaigns/{made['id']}", headers=tree["staff"]).json
    assert (shown["status"], shown["visits"]) == ("open", 7)
    assert wf.post(f"/api/v1/campaigns/{made['id']}/generate", headers=tree["staff"]).status_code == 409


def test_spring_festival_warmth_visits_the_filed_hardship_households(wf, tree):
    from services.welfare.documents import HardshipFile

    members = [seed.member_view(_path(tree, "a", "a1")) for _ in range(3)]
    for i, member in enumerate(members):
        HardshipFile(member_id=member, org_id=tree["a1"], org_path=_path(tree, "a", "a1"), category="deep",
                     status="filed" if i < 2 else "in_notice", active_slot=member, details_encrypted="x",
                     submitted_by="s", submitted_at=utcnow()).save()
    refused = wf.post("/api/v1/campaigns", headers=tree["staff"], json={
        "org_id": tree["a"], "name": "x", "kind": "spring_festival_warmth", "source": "members", "amount_fen": 1})
    assert refused.status_code == 422
    made = _campaign(wf, tree["staff"], tree["a"], kind="spring_festival_warmth")
    assert (made["source"], made["status"], made["visits"]) == ("hardship", "open", 2)
    visits = _visits(wf, tree["staff"], made["id"])
    assert sorted(v["member_id"] for v in visits) == sorted(members[:2]) and all(v["file_id"] for v in visits)


def test_a_visit_is_recorded_once_paid_from_the_budget_and_progress_is_per_child(wf, bearer, tree):
    from services.welfare.documents import LedgerEntry, Visit

    for name, n in (("a1", 3), ("a2", 2)):
        for _ in range(n):
            seed.member_view(_path(tree, "a", name))
    seed.budget(wf, tree["staff"], tree["a"], 120_000, category="condolences")
    made = _campaign(wf, tree["staff"], tree["a"])
    assert made["visits"] == 5
    visits = _visits(wf, tree["staff"], made["id"])
    in_a1 = [v for v in visits if v["org_id"] == tree["a1"]]
    in_a2 = [v for v in visits if v["org_id"] == tree["a2"]]
    body = {"visited_by": "王主席", "visited_on": TODAY, "note": "送去慰问品和慰问金"}
    url = f"/api/v1/campaign-visits/{in_a1[0]['id']}/record"
    assert wf.post(url, json=body, headers=tree["staff_b"]).status_code == 404  # another branch
    assert wf.post(url, json=body, headers=tree["staff_a2"]).status_code == 404  # another workshop
    assert wf.post(url, json=body, headers=bearer("member", tree["a1"], sub=in_a1[0]["member_id"])).status_code in (403, 404)
    assert wf.post(url, json={**body, "amount_fen": 50_001}, headers=tree["staff_a1"]).status_code == 422
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    assert wf.post(url, json={**body, "visited_on": tomorrow}, headers=tree["staff_a1"]).status_code == 422
    done = wf.post(url, json=body, headers=tree["staff_a1"])
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["amount_fen"], done.json["visited_by"]) == ("visited", 50_000, "王主席")
    assert wf.post(url, json=body, headers=tree["staff"]).status_code == 409  # once
    second = wf.post(f"/api/v1/campaign-visits/{in_a2[0]['id']}/record", json={**body, "amount_fen": 40_000},
                     headers=tree["staff"])
    assert second.status_code == 200
    over = wf.post(f"/api/v1/campaign-visits/{in_a1[1]['id']}/record", json=body, headers=tree["staff"])
    assert over.status_code == 422 and "overspent" in over.json["error"]["message"]  # 30,000 left
    assert wf.get(f"/api/v1/campaign-visits/{in_a1[1]['id']}", headers=tree["staff"]).json["status"] == "pending"
    budget = wf.get(f"/api/v1/budgets?org_id={tree['a']}", headers=tree["staff"]).json["items"][0]
    assert (budget["disbursed_fen"], budget["remaining_fen"]) == (90_000, 30_000)
    entry = LedgerEntry.objects(key=f"visit:{in_a1[0]['id']}").first()
    assert entry.kind == "disbursement" and entry.amount_fen == 50_000
    assert wf.post(f"/api/v1/ledger/{entry.pk}/reverse", json={"note": "x"}, headers=tree["staff"]).status_code == 409

    progress = wf.get(f"/api/v1/campaigns/{made['id']}/progress", headers=tree["staff"]).json
    rows = {r["org_id"]: (r["visited"], r["total"], r["amount_fen"]) for r in progress["children"]}
    assert rows == {tree["a1"]: (1, 3, 50_000), tree["a2"]: (1, 2, 40_000)}
    assert (progress["visited"], progress["total"], progress["amount_fen"]) == (2, 5, 90_000)
    mine = wf.get(f"/api/v1/campaigns/{made['id']}/progress", headers=tree["staff_a2"]).json
    assert [(r["org_id"], r["total"]) for r in mine["children"]] == [(tree["a2"], 2)]
    assert wf.get(f"/api/v1/campaigns/{made['id']}/progress", headers=tree["staff_b"]).status_code == 404

    events = seed.events_of(Visit, in_a1[0]["id"])
    assert [t for t, _ in events] == ["campaign_visit.recorded"]
    data = events[0][1]
    assert (data["amount_fen"], data["campaign_id"], data["member_id"]) == (50_000, made["id"],
                                                                          in_a1[0]["member_id"])
    assert "慰问品" not in str(data) and "note" not in data

    closed = wf.post(f"/api/v1/campaigns/{made['id']}/close", headers=tree["staff_a1"])
    assert closed.status_code == 404  # a workshop does not close its federation branch's campaign
    assert wf.post(f"/api/v1/campaigns/{made['id']}/close", headers=tree["staff"]).json["status"] == "closed"
    assert wf.post(f"/api/v1/campaign-visits/{in_a2[1]['id']}/record", json=body,
                   headers=tree["staff"]).status_code == 409


def test_two_racing_recorders_of_one_visit_pay_once(welfare_app, wf, tree):
    from services.welfare.documents import LedgerEntry

    seed.member_view(_path(tree, "a", "a1"))
    seed.budget(wf, tree["staff"], tree["a"], 1_000_000, category="condolences")
    made = _campaign(wf, tree["staff"], tree["a"])
    visit = _visits(wf, tree["staff"], made["id"])[0]
    barrier, codes = threading.Barrier(6), []

    def record():
        client = welfare_app.test_client()
        barrier.wait()
        codes.append(client.post(f"/api/v1/campaign-visits/{visit['id']}/record", headers=tree["staff"], json={
            "visited_by": "x", "visited_on": TODAY}).status_code)

    threads = [threading.Thread(target=record) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [409] * 5
    assert LedgerEntry.objects(key=f"visit:{visit['id']}").count() == 1
    budget = wf.get(f"/api/v1/budgets?org_id={tree['a']}", headers=tree["staff"]).json["items"][0]
    assert budget["disbursed_fen"] == 50_000


def test_life_events_paid_once_per_member_and_event_from_the_schedule(wf, bearer, tree):
    from services.welfare.documents import LedgerEntry, LifeEventPayment

    member = seed.member_view(_path(tree, "a", "a1"))
    seed.budget(wf, tree["staff_a1"], tree["a1"], 200_000, category="condolences")
    schedule = {"amounts": {"childbirth": 80_000, "marriage": 0}}
    assert wf.put(f"/api/v1/policies/{tree['a']}/life-events", json=schedule,
                  headers=tree["staff"]).status_code == 403  # a branch does not set its own
    set_ = wf.put(f"/api/v1/policies/{tree['a']}/life-events", json=schedule, headers=tree["fed_staff"])
    assert set_.status_code == 200 and set_.json["amounts"]["childbirth"] == 80_000
    in_force = wf.get(f"/api/v1/policies/{tree['a1']}/life-events", headers=tree["staff_a1"]).json
    assert (in_force["set_by_org_id"], in_force["amounts"]["childbirth"]) == (tree["a"], 80_000)

    body = {"member_id": member, "kind": "childbirth", "occurred_on": TODAY, "note": "女儿出生"}
    assert wf.post("/api/v1/life-event-payments", json=body, headers=tree["staff_b"]).status_code == 404
    me = bearer("member", tree["a1"], sub=member)
    assert wf.post("/api/v1/life-event-payments", json=body, headers=me).status_code == 403
    paid = wf.post("/api/v1/life-event-payments", json=body, headers=tree["staff_a1"])
    assert paid.status_code == 201, paid.json
    assert (paid.json["amount_fen"], paid.json["kind"]) == (80_000, "childbirth")
    again = wf.post("/api/v1/life-event-payments", json=body, headers=tree["staff"])
    assert again.status_code == 409 and again.json["error"]["fields"] == {"kind": ["Paid."]}
    assert LedgerEntry.objects(key=f"life:{member}:childbirth:{TODAY}").count() == 1
    assert wf.post("/api/v1/life-event-payments", json={**body, "kind": "marriage"},
                   headers=tree["staff"]).status_code == 422  # the schedule pays nothing for it
    future = (utcnow().date() + timedelta(days=3)).isoformat()
    assert wf.post("/api/v1/life-event-payments", json={**body, "kind": "bereavement", "occurred_on": future},
                   headers=tree["staff"]).status_code == 422
    retired = wf.post("/api/v1/life-event-payments", json={**body, "kind": "retirement"}, headers=tree["staff"])
    assert retired.status_code == 201 and retired.json["amount_fen"] == 100_000  # the default
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    assert wf.post("/api/v1/life-event-payments", json={**body, "kind": "retirement", "occurred_on": yesterday},
                   headers=tree["staff"]).status_code == 409  # retirement: once, whatever the day
    over = wf.post("/api/v1/life-event-payments", json={**body, "kind": "hospitalisation"}, headers=tree["staff"])
    assert over.status_code == 422 and "overspent" in over.json["error"]["message"]  # 20,000 left of 200,000
    assert [p["id"] for p in wf.get("/api/v1/life-event-payments", headers=me).json["items"]] == [
        retired.json["id"], paid.json["id"]]
    assert wf.get(f"/api/v1/life-event-payments/{paid.json['id']}", headers=tree["staff_b"]).status_code == 404
    assert wf.get("/api/v1/life-event-payments", headers=tree["staff_b"]).json["items"] == []
    events = seed.events_of(LifeEventPayment, paid.json["id"])
    assert [t for t, _ in events] == ["life_event.paid"] and events[0][1]["amount_fen"] == 80_000
    assert "女儿" not in str(events)
    suspended = seed.member_view(_path(tree, "a", "a1"), status="suspended")
    assert wf.post("/api/v1/life-event-payments", json={**body, "member_id": suspended},
                   headers=tree["staff"]).status_code == 409


def test_racing_payments_for_one_event_pay_once(welfare_app, wf, tree):
    from services.welfare.documents import LedgerEntry

    member = seed.member_view(_path(tree, "a"))
    seed.budget(wf, tree["staff"], tree["a"], 1_000_000, category="condolences")
    barrier, codes = threading.Barrier(6), []

    def pay():
        client = welfare_app.test_client()
        barrier.wait()
        codes.append(client.post("/api/v1/life-event-payments", headers=tree["staff"], json={
            "member_id": member, "kind": "marriage", "occurred_on": TODAY}).status_code)

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201] + [409] * 5
    assert LedgerEntry.objects(key=f"life:{member}:marriage:{TODAY}").count() == 1
    budget = wf.get(f"/api/v1/budgets?org_id={tree['a']}", headers=tree["staff"]).json["items"][0]
    assert budget["disbursed_fen"] == 50_000
