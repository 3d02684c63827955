"""The workers' congress (职工代表大会) against the real database: congress, terms, delegates, sessions,
check-in, proposals and secret ballots, over HTTP."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from bson import ObjectId

from tests.integration.events_seed import member_view, org_views

pytestmark = pytest.mark.integration

DELEGATES = 10


def events_of(document_name: str, pk) -> list:
    """(type, data) of the events a congress document has published or is about to (the outbox)."""
    from services.events.documents import congress as documents
    from shared.events.outbox import pending_events

    return [(e.type, dict(e.data)) for e in pending_events(getattr(documents, document_name), ObjectId(pk))]


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.json)
    return response.json


@pytest.fixture
def cg(ev, bearer):
    """A union (a) with a congress, a term with ten delegates, and a session called; another union (b)."""
    orgs = org_views(("fed", "a", "b"))
    a_path = [orgs["fed"], orgs["a"]]
    staff = bearer("admin", orgs["a"])
    delegates = [member_view(a_path) for _ in range(DELEGATES)]
    congress = ok(ev.post("/api/v1/congresses", json={"org_id": orgs["a"], "kind": "teachers",
                                                      "name": "第一中学教职工代表大会"}, headers=staff), 201)
    term = ok(ev.post(f"/api/v1/congresses/{congress['id']}/terms",
                      json={"number": 3, "starts_on": "2024-01-01", "ends_on": "2028-12-31"}, headers=staff), 201)
    for d in delegates:
        ok(ev.post(f"/api/v1/congress-terms/{term['id']}/delegates", json={"member_id": d}, headers=staff), 201)
    session = ok(ev.post(f"/api/v1/congress-terms/{term['id']}/sessions",
                         json={"number": 1, "held_on": "2026-11-23", "venue": "学校礼堂",
                               "agenda": ["审议学校工作报告", "表决绩效工资分配方案"]}, headers=staff), 201)
    return {"as": lambda member_id: bearer("member", orgs["a"], sub=member_id), "orgs": orgs, "staff": staff,
            "delegates": delegates, "congress": congress["id"], "term": term["id"],
            "session": session["id"], "a_path": a_path}


def check_in(ev, cg, delegates):
    for d in delegates:
        ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/check-ins", json={}, headers=cg["as"](d)))


def ballot(ev, cg, **body):
    body = {"kind": "motion", "title": "表决《教职工绩效工资分配方案》", **body}
    return ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/ballots", json=body, headers=cg["staff"]), 201)["id"]


def vote(ev, cg, ballot_id, delegate, **body):
    return ev.post(f"/api/v1/ballots/{ballot_id}/votes", json=body, headers=cg["as"](delegate))


# -- congress, terms, delegates, sessions --------------------------------------------------------------------

def test_a_grassroots_union_has_one_congress_with_terms_delegates_and_sessions(ev, cg, bearer):
    staff, orgs = cg["staff"], cg["orgs"]
    fed = bearer("admin", orgs["fed"])
    refused = ev.post("/api/v1/congresses", json={"org_id": orgs["fed"], "kind": "workers", "name": "x"}, headers=fed)
    assert refused.status_code == 422 and "org_id" in refused.json["error"]["fields"]  # not a grassroots union
    again = ev.post("/api/v1/congresses", json={"org_id": orgs["a"], "kind": "workers", "name": "x"}, headers=staff)
    assert again.status_code == 409
    assert ev.post("/api/v1/congresses", json={"org_id": orgs["a"], "kind": "board", "name": "x"},
                   headers=staff).status_code == 422
    assert [c["id"] for c in ok(ev.get("/api/v1/congresses", headers=fed))["items"]] == [cg["congress"]]
    assert ok(ev.get(f"/api/v1/congresses/{cg['congress']}", headers=staff))["kind"] == "teachers"
    assert ev.post(f"/api/v1/congresses/{cg['congress']}/terms", headers=staff,
                   json={"number": 3, "starts_on": "2029-01-01", "ends_on": "2030-12-31"}).status_code == 409
    too_long = ev.post(f"/api/v1/congresses/{cg['congress']}/terms", headers=staff,
                       json={"number": 4, "starts_on": "2029-01-01", "ends_on": "2034-12-31"})
    assert too_long.status_code == 422 and "ends_on" in too_long.json["error"]["fields"]
    assert [t["number"] for t in ok(ev.get(f"/api/v1/congresses/{cg['congress']}/terms", headers=staff))["items"]] == [3]
    term = ok(ev.get(f"/api/v1/congress-terms/{cg['term']}", headers=staff))
    assert term["delegate_count"] == DELEGATES and [d["member_id"] for d in term["delegates"]] == cg["delegates"]
    outside = ev.post(f"/api/v1/congress-terms/{cg['term']}/sessions", headers=staff,
                      json={"number": 2, "held_on": "2030-01-01", "agenda": ["x"]})
    assert outside.status_code == 422 and "held_on" in outside.json["error"]["fields"]
    assert ev.post(f"/api/v1/congress-terms/{cg['term']}/sessions", headers=staff,
                   json={"number": 1, "held_on": "2026-12-01", "agenda": ["x"]}).status_code == 409
    sessions = ok(ev.get(f"/api/v1/congress-terms/{cg['term']}/sessions", headers=staff))["items"]
    assert [(s["number"], s["status"], s["present_count"], s["delegate_count"], s["quorum"]) for s in sessions] == [
        (1, "called", 0, DELEGATES, False)]


def test_calling_a_session_tells_the_delegates(ev, cg):
    [(kind, data)] = events_of("CongressSession", cg["session"])
    assert kind == "gonghui.events.congress.session_called"
    assert data["delegate_ids"] == cg["delegates"] and data["org_id"] == cg["orgs"]["a"]
    assert (data["term_number"], data["session_number"], data["held_on"], data["kind"]) == (3, 1, "2026-11-23",
                                                                                           "teachers")
    assert data["agenda"] == ["审议学校工作报告", "表决绩效工资分配方案"]


def test_delegates_are_active_members_of_the_union_whose_membership_is_not_kept(ev, cg):
    staff, term = cg["staff"], cg["term"]

    def add(member_id):
        return ev.post(f"/api/v1/congress-terms/{term}/delegates", json={"member_id": member_id}, headers=staff)

    kept = member_view(cg["a_path"], kept=True)
    left = member_view(cg["a_path"], status="left")
    other_union = member_view([cg["orgs"]["fed"], cg["orgs"]["b"]])
    assert add(kept).status_code == 409 and "kept" in add(kept).json["error"]["message"]
    assert add(left).status_code == 409
    assert add(other_union).status_code == 404  # another branch's member is not found
    assert add(cg["delegates"][0]).status_code == 409  # already a delegate
    assert add(str(ObjectId())).status_code == 404
    sub_union = str(ObjectId())
    from services.events.documents import OrgView

    OrgView(id=sub_union, name="语文组", kind="sub_union", path=[*cg["a_path"], sub_union], status="active",
            version=1).save()
    assert ok(add(member_view([*cg["a_path"], sub_union])), 201)["delegate_count"] == DELEGATES + 1


# -- check-in ------------------------------------------------------------------------------------------------

def test_a_delegate_checks_in_once_per_session_and_it_is_recorded_as_attendance(ev, cg, bearer):
    session, [d1, d2, *_] = cg["session"], cg["delegates"]
    url = f"/api/v1/congress-sessions/{session}/check-ins"
    itself = ok(ev.post(url, json={}, headers=cg["as"](d1)))
    assert itself["present"] == [d1] and itself["present_count"] == 1
    assert ev.post(url, json={}, headers=cg["as"](d1)).status_code == 409  # once
    assert ev.post(url, json={"member_id": d1}, headers=cg["staff"]).status_code == 409
    assert ev.post(url, json={"member_id": d2}, headers=cg["as"](d1)).status_code == 403  # only itself
    assert ok(ev.post(url, json={"member_id": d2}, headers=cg["staff"]))["present"] == [d1, d2]  # staff at the door
    not_delegate = member_view(cg["a_path"])
    assert ev.post(url, json={}, headers=cg["as"](not_delegate)).status_code == 409
    assert ev.post(url, json={}, headers=cg["staff"]).status_code == 404  # staff name the delegate
    attendance = [data for kind, data in events_of("CongressSession", session)
                  if kind == "gonghui.events.attendance.recorded"]
    assert [(a["member_id"], a["activity_id"], a["kind"]) for a in attendance] == [
        (d1, session, "congress_session"), (d2, session, "congress_session")]
    ok(ev.post(f"/api/v1/congress-sessions/{session}/close", headers=cg["staff"]))
    assert ev.post(url, json={"member_id": cg["delegates"][2]}, headers=cg["staff"]).status_code == 409


def test_racing_check_ins_of_one_delegate_record_it_once(events_app, cg, bearer):
    d = cg["delegates"][0]
    headers = cg["as"](d)

    def send(_):
        with events_app.test_client() as c:
            return c.post(f"/api/v1/congress-sessions/{cg['session']}/check-ins", json={}, headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(send, range(8)))
    assert sorted(codes) == [200] + [409] * 7
    attendance = [k for k, _ in events_of("CongressSession", cg["session"]) if k.endswith("attendance.recorded")]
    assert len(attendance) == 1


# -- the quorum ----------------------------------------------------------------------------------------------

def test_voting_opens_only_while_more_than_two_thirds_of_all_delegates_are_checked_in(ev, cg, bearer):
    motion = ballot(ev, cg)
    check_in(ev, cg, cg["delegates"][:6])  # 6 of 10: not more than two thirds
    refused = ev.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"])
    assert refused.status_code == 409 and "two thirds" in refused.json["error"]["message"]
    assert ok(ev.get(f"/api/v1/congress-sessions/{cg['session']}", headers=cg["staff"]))["quorum"] is False
    assert vote(ev, cg, motion, cg["delegates"][0], choice="yes").status_code == 409  # not open
    check_in(ev, cg, cg["delegates"][6:7])  # 7 of 10
    assert ok(ev.get(f"/api/v1/congress-sessions/{cg['session']}", headers=cg["staff"]))["quorum"] is True
    opened = ok(ev.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]))
    assert opened["status"] == "open" and opened["delegates"] == DELEGATES
    assert ev.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]).status_code == 409


def test_the_quorum_counts_all_delegates_of_the_term_including_those_added_later(ev, cg, bearer):
    check_in(ev, cg, cg["delegates"][:7])  # 7 of 10
    for _ in range(2):  # by-elections: 7 of 12 is not more than two thirds
        ok(ev.post(f"/api/v1/congress-terms/{cg['term']}/delegates", json={"member_id": member_view(cg["a_path"])},
                   headers=cg["staff"]), 201)
    assert ev.post(f"/api/v1/ballots/{ballot(ev, cg)}/open", headers=cg["staff"]).status_code == 409


# -- proposals -----------------------------------------------------------------------------------------------

def test_a_proposal_is_seconded_accepted_assigned_answered_and_rated_with_its_trail(ev, cg, bearer):
    staff, [p, s1, s2, other, *_] = cg["staff"], cg["delegates"]
    submitted = ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/proposals", headers=cg["as"](p),
                           json={"title": "关于改善教职工食堂就餐条件的提案", "content": "增加窗口，延长供餐时间。"}), 201)
    pid = submitted["id"]
    assert submitted["proposer_id"] == p and submitted["status"] == "submitted"

    def second(member):
        return ev.post(f"/api/v1/proposals/{pid}/seconds", json={}, headers=cg["as"](member))

    assert second(p).status_code == 422  # not its own
    ok(second(s1))
    assert second(s1).status_code == 409  # once
    assert second(member_view(cg["a_path"])).status_code == 409  # a member who is not a delegate
    early = ev.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=staff)
    assert early.status_code == 409 and "seconders" in early.json["error"]["fields"]
    assert ok(second(s2))["seconders"] == [s1, s2]
    assert ev.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=cg["as"](p)).status_code == 403
    assert ok(ev.post(f"/api/v1/proposals/{pid}/accept", json={}, headers=staff))["status"] == "accepted"
    assert second(other).status_code == 409  # no longer collecting seconders
    assert ev.post(f"/api/v1/proposals/{pid}/answer", json={"answer": "x"}, headers=staff).status_code == 409
    ok(ev.post(f"/api/v1/proposals/{pid}/assign", json={"department": "总务处"}, headers=staff))
    assert ok(ev.post(f"/api/v1/proposals/{pid}/assign", json={"department": "后勤处"},
                      headers=staff))["department"] == "后勤处"
    assert ev.post(f"/api/v1/proposals/{pid}/rate", json={"satisfaction": "satisfied"},
                   headers=cg["as"](p)).status_code == 409  # not answered yet
    answered = ok(ev.post(f"/api/v1/proposals/{pid}/answer", json={"answer": "已增加午餐窗口两个。"}, headers=staff))
    assert answered["status"] == "answered"
    assert ev.post(f"/api/v1/proposals/{pid}/rate", json={"satisfaction": "satisfied"},
                   headers=cg["as"](s1)).status_code == 409  # only the proposer
    assert ev.post(f"/api/v1/proposals/{pid}/rate", json={"satisfaction": "happy"},
                   headers=cg["as"](p)).status_code == 422
    rated = ok(ev.post(f"/api/v1/proposals/{pid}/rate", json={"satisfaction": "basically_satisfied",
                                                             "comment": "希望继续改进"}, headers=cg["as"](p)))
    assert rated["status"] == "rated" and rated["satisfaction"] == "basically_satisfied"
    trail = ok(ev.get(f"/api/v1/proposals/{pid}", headers=cg["as"](other)))["history"]
    assert [(s["action"], s["member_id"]) for s in trail] == [
        ("submitted", p), ("seconded", s1), ("seconded", s2), ("accepted", None), ("assigned", None),
        ("assigned", None), ("answered", None), ("rated", p)]
    assert [s["note"] for s in trail][4:7] == ["总务处", "后勤处", "已增加午餐窗口两个。"]
    events = events_of("Proposal", pid)
    assert [k for k, _ in events] == ["gonghui.events.proposal.accepted", "gonghui.events.proposal.answered"]
    assert events[0][1]["seconder_ids"] == [s1, s2] and events[1][1]["department"] == "后勤处"


def test_a_proposal_is_declined_with_a_reason_and_the_session_report_counts_them(ev, cg, bearer):
    staff, [p, s1, s2, *_] = cg["staff"], cg["delegates"]

    def submit(title):
        return ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/proposals", headers=staff,
                          json={"member_id": p, "title": title, "content": "内容"}), 201)["id"]

    declined, pending, accepted = submit("个人诉求"), submit("待附议"), submit("关于体检的提案")
    for pid in (declined, accepted):
        for s in (s1, s2):
            ok(ev.post(f"/api/v1/proposals/{pid}/seconds", json={"member_id": s}, headers=staff))
    assert ev.post(f"/api/v1/proposals/{declined}/decline", json={}, headers=staff).status_code == 422  # a reason
    out = ok(ev.post(f"/api/v1/proposals/{declined}/decline", json={"reason": "属于个人诉求，转为意见建议办理"},
                     headers=staff))
    assert out["status"] == "declined" and out["decline_reason"] == "属于个人诉求，转为意见建议办理"
    assert ev.post(f"/api/v1/proposals/{declined}/accept", json={}, headers=staff).status_code == 409
    [(kind, data)] = events_of("Proposal", declined)
    assert kind == "gonghui.events.proposal.declined" and data["reason"].startswith("属于个人诉求")
    ok(ev.post(f"/api/v1/proposals/{accepted}/accept", json={}, headers=staff))
    ok(ev.post(f"/api/v1/proposals/{accepted}/assign", json={"department": "工会办公室"}, headers=staff))
    ok(ev.post(f"/api/v1/proposals/{accepted}/answer", json={"answer": "明年起每年体检一次"}, headers=staff))
    ok(ev.post(f"/api/v1/proposals/{accepted}/rate", json={"satisfaction": "not_satisfied", "member_id": p},
               headers=staff))  # staff recording the proposer's feedback form
    report = ok(ev.get(f"/api/v1/congress-sessions/{cg['session']}/proposal-report", headers=staff))
    assert report["total"] == 3
    assert report["by_status"] == {"submitted": 1, "accepted": 0, "declined": 1, "assigned": 0, "answered": 0,
                                   "rated": 1}
    assert report["by_satisfaction"] == {"satisfied": 0, "basically_satisfied": 0, "not_satisfied": 1}
    listed = ok(ev.get(f"/api/v1/congress-sessions/{cg['session']}/proposals?status=submitted", headers=staff))
    assert [x["id"] for x in listed["items"]] == [pending]
    not_delegate = member_view(cg["a_path"])
    assert ev.post(f"/api/v1/congress-sessions/{cg['session']}/proposals", headers=cg["as"](not_delegate),
                   json={"title": "x", "content": "y"}).status_code == 409


# -- secret ballots ------------------------------------------------------------------------------------------

def test_a_motion_passes_only_with_yes_from_more_than_half_of_all_delegates(ev, cg, bearer):
    check_in(ev, cg, cg["delegates"][:8])
    d = cg["delegates"]
    fails, passes = ballot(ev, cg, title="第一项"), ballot(ev, cg, title="第二项")
    for b in (fails, passes):
        ok(ev.post(f"/api/v1/ballots/{b}/open", headers=cg["staff"]))
    # 5 yes of 8 voting is a majority of those voting, but not more than half of all 10 delegates
    for member, choice in zip(d[:8], ["yes"] * 5 + ["no", "abstain", "no"], strict=True):
        ok(vote(ev, cg, fails, member, choice=choice))
    for member, choice in zip(d[:8], ["yes"] * 6 + ["no", "abstain"], strict=True):
        ok(vote(ev, cg, passes, member, choice=choice))
    failed = ok(ev.post(f"/api/v1/ballots/{fails}/close", headers=cg["staff"]))["result"]
    assert failed == {"delegates": 10, "cast": 8, "needed": 6, "tally": {"yes": 5, "no": 2, "abstain": 1},
                      "passed": False, "elected": [], "tied": []}
    passed = ok(ev.post(f"/api/v1/ballots/{passes}/close", headers=cg["staff"]))["result"]
    assert passed["passed"] is True and passed["tally"] == {"yes": 6, "no": 1, "abstain": 1}
    [(kind, data)] = events_of("Ballot", passes)
    assert kind == "gonghui.events.ballot.closed" and data["passed"] is True and data["needed"] == 6
    assert ev.post(f"/api/v1/ballots/{passes}/close", headers=cg["staff"]).status_code == 409
    assert vote(ev, cg, passes, d[8], choice="yes").status_code == 409  # closed (and not checked in)


def test_results_exist_only_after_closing_and_only_checked_in_delegates_vote_once(ev, cg, bearer):
    check_in(ev, cg, cg["delegates"][:7])
    motion = ballot(ev, cg)
    ok(ev.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]))
    d = cg["delegates"]
    assert vote(ev, cg, motion, d[0], choice="maybe").status_code == 422
    assert vote(ev, cg, motion, d[0], candidates=[d[1]]).status_code == 422
    voted = ok(vote(ev, cg, motion, d[0], choice="yes"))
    assert voted["voted"] is True and voted["result"] is None and "tally" not in voted
    assert vote(ev, cg, motion, d[0], choice="no").status_code == 409  # at most one ballot
    assert vote(ev, cg, motion, d[8], choice="yes").status_code == 409  # not checked in
    assert vote(ev, cg, motion, member_view(cg["a_path"]), choice="yes").status_code == 409  # not a delegate
    staff_vote = ev.post(f"/api/v1/ballots/{motion}/votes", json={"choice": "yes"}, headers=cg["staff"])
    assert staff_vote.status_code == 403  # nobody votes for a delegate
    for viewer in (cg["staff"], cg["as"](d[1])):
        seen = ok(ev.get(f"/api/v1/ballots/{motion}", headers=viewer))
        assert seen["status"] == "open" and seen["result"] is None and seen["cast"] == 1
    assert ok(ev.get(f"/api/v1/ballots/{motion}", headers=cg["as"](d[1])))["voted"] is False
    listed = ok(ev.get(f"/api/v1/congress-sessions/{cg['session']}/ballots", headers=cg["staff"]))["items"]
    assert [(b["id"], b["result"]) for b in listed] == [(motion, None)]
    assert events_of("Ballot", motion) == []
    busy = ev.post(f"/api/v1/congress-sessions/{cg['session']}/close", headers=cg["staff"])
    assert busy.status_code == 409  # a ballot is still open
    closed = ok(ev.post(f"/api/v1/ballots/{motion}/close", headers=cg["staff"]))
    assert closed["result"]["tally"] == {"yes": 1, "no": 0, "abstain": 0} and closed["result"]["passed"] is False
    assert ev.post(f"/api/v1/congress-sessions/{cg['session']}/close", headers=cg["staff"]).status_code == 200


def test_a_delegate_whose_membership_is_kept_since_can_neither_check_in_nor_vote(ev, cg):
    from services.events.documents import MemberView

    d = cg["delegates"]
    check_in(ev, cg, d[:8])
    motion = ballot(ev, cg)
    ok(ev.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]))
    MemberView.objects(pk__in=[d[0], d[9]]).update(set__kept=True)  # retired: the members topic says so
    refused = vote(ev, cg, motion, d[0], choice="yes")
    assert refused.status_code == 409 and "kept" in refused.json["error"]["message"]
    late = ev.post(f"/api/v1/congress-sessions/{cg['session']}/check-ins", json={}, headers=cg["as"](d[9]))
    assert late.status_code == 409 and "kept" in late.json["error"]["message"]
    ok(vote(ev, cg, motion, d[1], choice="yes"))


def test_an_election_marks_at_most_n_candidates_and_elects_only_over_half_of_all_delegates(ev, cg, bearer):
    d = cg["delegates"]
    check_in(ev, cg, d)
    outsider = member_view(cg["a_path"])  # a member who is not a delegate may stand
    kept = member_view(cg["a_path"], kept=True)
    refused = ev.post(f"/api/v1/congress-sessions/{cg['session']}/ballots", headers=cg["staff"],
                      json={"kind": "election", "title": "补选", "candidates": [d[0], kept], "seats": 1})
    assert refused.status_code == 409  # a kept membership cannot stand
    too_many = ev.post(f"/api/v1/congress-sessions/{cg['session']}/ballots", headers=cg["staff"],
                       json={"kind": "election", "title": "补选", "candidates": [d[0]], "seats": 2})
    assert too_many.status_code == 422
    cands = [d[0], d[1], outsider]
    election = ballot(ev, cg, kind="election", title="选举工会委员会委员", candidates=cands, seats=2)
    ok(ev.post(f"/api/v1/ballots/{election}/open", headers=cg["staff"]))
    assert vote(ev, cg, election, d[0], candidates=cands).status_code == 422  # three marks for two seats
    assert vote(ev, cg, election, d[0], candidates=[d[5]]).status_code == 422  # not a candidate
    assert vote(ev, cg, election, d[0], choice="yes").status_code == 422
    marks = [[d[0], outsider]] * 6 + [[d[0], d[1]]] * 2 + [[d[1]]] + [[]]  # d0: 8, outsider: 6, d1: 3, 1 blank
    for member, marked in zip(d, marks, strict=True):
        ok(vote(ev, cg, election, member, candidates=marked))
    result = ok(ev.post(f"/api/v1/ballots/{election}/close", headers=cg["staff"]))["result"]
    assert result["tally"] == {d[0]: 8, d[1]: 3, outsider: 6, "blank": 1}
    assert result["elected"] == [d[0], outsider] and result["passed"] is None
    [(kind, data)] = events_of("Ballot", election)
    assert data["elected"] == [d[0], outsider] and data["cast"] == 10


def test_an_election_candidate_with_half_of_all_delegates_is_not_elected(ev, cg, bearer):
    d = cg["delegates"]
    check_in(ev, cg, d)
    election = ballot(ev, cg, kind="election", title="选举主席", candidates=[d[0], d[1]], seats=1)
    ok(ev.post(f"/api/v1/ballots/{election}/open", headers=cg["staff"]))
    for member in d[:5]:
        ok(vote(ev, cg, election, member, candidates=[d[0]]))
    for member in d[5:9]:
        ok(vote(ev, cg, election, member, candidates=[d[1]]))
    result = ok(ev.post(f"/api/v1/ballots/{election}/close", headers=cg["staff"]))["result"]
    assert result["tally"][d[0]] == 5 and result["needed"] == 6 and result["elected"] == []


def test_one_delegate_sending_two_ballots_at_once_is_counted_once(events_app, cg, bearer):
    client = events_app.test_client()
    check_in(client, cg, cg["delegates"])
    motion = ballot(client, cg)
    ok(client.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]))
    d = cg["delegates"]

    def send(n):
        member, choice = (d[0], ["yes", "no"][n % 2]) if n < 16 else (d[n - 15], "yes")
        with events_app.test_client() as c:
            return member, c.post(f"/api/v1/ballots/{motion}/votes", json={"choice": choice},
                                  headers=cg["as"](member)).status_code

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, range(16 + 9)))  # d0 sixteen times (yes and no), each other delegate once
    d0 = sorted(code for member, code in results if member == d[0])
    assert d0 == [200] + [409] * 15
    assert all(code == 200 for member, code in results if member != d[0])
    result = ok(client.post(f"/api/v1/ballots/{motion}/close", headers=cg["staff"]))["result"]
    assert result["cast"] == 10 and sum(result["tally"].values()) == 10
    assert result["tally"]["yes"] in (9, 10) and result["tally"]["no"] == 10 - result["tally"]["yes"]


def _vote_in_a_process(settings, ballot_id, headers, choice, barrier) -> int:
    """One process of its own (its own app and database connections), voting when all are ready."""
    from services.events import create_app

    client = create_app(settings).test_client()
    barrier.wait(timeout=60)
    return client.post(f"/api/v1/ballots/{ballot_id}/votes", json={"choice": choice}, headers=headers).status_code


def test_one_delegate_voting_from_several_processes_at_once_is_counted_once(ev, cg, settings_for):
    import multiprocessing

    check_in(ev, cg, cg["delegates"])
    motion = ballot(ev, cg)
    ok(ev.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]))
    settings, headers = settings_for("events"), cg["as"](cg["delegates"][0])
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(4) as pool:
        barrier = manager.Barrier(4)
        codes = pool.starmap(_vote_in_a_process, [(settings, motion, headers, choice, barrier)
                                                  for choice in ("yes", "no", "yes", "no")])
    assert sorted(codes) == [200, 409, 409, 409]
    result = ok(ev.post(f"/api/v1/ballots/{motion}/close", headers=cg["staff"]))["result"]
    assert result["cast"] == 1 and result["tally"]["yes"] + result["tally"]["no"] == 1


def test_ballots_cast_while_closing_are_either_counted_or_refused(events_app, cg, bearer):
    client = events_app.test_client()
    check_in(client, cg, cg["delegates"])
    motion = ballot(client, cg)
    ok(client.post(f"/api/v1/ballots/{motion}/open", headers=cg["staff"]))

    def send(n):
        with events_app.test_client() as c:
            if n == 5:
                return "close", c.post(f"/api/v1/ballots/{motion}/close", headers=cg["staff"]).status_code
            return "vote", c.post(f"/api/v1/ballots/{motion}/votes", json={"choice": "yes"},
                                  headers=cg["as"](cg["delegates"][n])).status_code

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(send, range(10)))
    assert ("close", 200) in results
    accepted = sum(1 for what, code in results if what == "vote" and code == 200)
    assert all(code in (200, 409) for _, code in results)
    final = ok(client.get(f"/api/v1/ballots/{motion}", headers=cg["staff"]))
    assert final["result"]["cast"] == accepted == final["result"]["tally"]["yes"] == final["cast"]


# -- out of scope, and what a member may do ------------------------------------------------------------------

def test_every_congress_route_is_not_found_for_another_branch(ev, cg, bearer):
    staff = cg["staff"]
    check_in(ev, cg, cg["delegates"][:8])
    pid = ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/proposals", headers=staff,
                     json={"member_id": cg["delegates"][0], "title": "t", "content": "c"}), 201)["id"]
    bid = ballot(ev, cg)
    ok(ev.post(f"/api/v1/ballots/{bid}/open", headers=staff))
    b_member = member_view([cg["orgs"]["fed"], cg["orgs"]["b"]])
    c, t, s = cg["congress"], cg["term"], cg["session"]
    routes = [("get", f"/api/v1/congresses/{c}", None), ("get", f"/api/v1/congresses/{c}/terms", None),
              ("post", f"/api/v1/congresses/{c}/terms", {"number": 9, "starts_on": "2024-01-01",
                                                        "ends_on": "2025-01-01"}),
              ("get", f"/api/v1/congress-terms/{t}", None),
              ("post", f"/api/v1/congress-terms/{t}/delegates", {"member_id": b_member}),
              ("get", f"/api/v1/congress-terms/{t}/sessions", None),
              ("post", f"/api/v1/congress-terms/{t}/sessions", {"number": 5, "held_on": "2026-01-01", "agenda": ["x"]}),
              ("get", f"/api/v1/congress-sessions/{s}", None),
              ("post", f"/api/v1/congress-sessions/{s}/check-ins", {"member_id": b_member}),
              ("post", f"/api/v1/congress-sessions/{s}/close", None),
              ("get", f"/api/v1/congress-sessions/{s}/proposals", None),
              ("post", f"/api/v1/congress-sessions/{s}/proposals", {"member_id": b_member, "title": "t",
                                                                    "content": "c"}),
              ("get", f"/api/v1/congress-sessions/{s}/proposal-report", None),
              ("get", f"/api/v1/congress-sessions/{s}/ballots", None),
              ("post", f"/api/v1/congress-sessions/{s}/ballots", {"kind": "motion", "title": "t"}),
              ("get", f"/api/v1/proposals/{pid}", None),
              ("post", f"/api/v1/proposals/{pid}/seconds", {"member_id": b_member}),
              ("post", f"/api/v1/proposals/{pid}/accept", {}),
              ("post", f"/api/v1/proposals/{pid}/decline", {"reason": "r"}),
              ("post", f"/api/v1/proposals/{pid}/assign", {"department": "d"}),
              ("post", f"/api/v1/proposals/{pid}/answer", {"answer": "a"}),
              ("post", f"/api/v1/proposals/{pid}/rate", {"satisfaction": "satisfied", "member_id": b_member}),
              ("get", f"/api/v1/ballots/{bid}", None), ("post", f"/api/v1/ballots/{bid}/open", None),
              ("post", f"/api/v1/ballots/{bid}/votes", {"choice": "yes"}),
              ("post", f"/api/v1/ballots/{bid}/close", None)]
    for headers in (bearer("admin", cg["orgs"]["b"]), bearer("member", cg["orgs"]["b"], sub=b_member)):
        for method, url, body in routes:
            kwargs = {"json": body} if body is not None else {}
            response = getattr(ev, method)(url, headers=headers, **kwargs)
            assert response.status_code == 404, (method, url, response.status_code, response.json)
    assert ok(ev.get("/api/v1/congresses", headers=bearer("admin", cg["orgs"]["b"])))["items"] == []
    assert ok(ev.get("/api/v1/congresses", headers=bearer("member", cg["orgs"]["b"], sub=b_member)))["items"] == []
    assert ev.post("/api/v1/congresses", json={"org_id": cg["orgs"]["a"], "kind": "workers", "name": "x"},
                   headers=bearer("admin", cg["orgs"]["b"])).status_code == 404
    # nothing changed for union a
    assert ok(ev.get(f"/api/v1/ballots/{bid}", headers=staff))["cast"] == 0
    assert ok(ev.get(f"/api/v1/congress-sessions/{s}", headers=staff))["status"] == "called"


def test_a_member_does_delegate_things_for_itself_and_nothing_of_staff(ev, cg, bearer):
    d0, d1, d2 = cg["delegates"][:3]
    me = cg["as"](d0)
    c, t, s = cg["congress"], cg["term"], cg["session"]
    # reads what a delegate needs
    assert [x["id"] for x in ok(ev.get("/api/v1/congresses", headers=me))["items"]] == [c]
    ok(ev.get(f"/api/v1/congress-terms/{t}", headers=me))
    ok(ev.get(f"/api/v1/congress-sessions/{s}", headers=me))
    # staff things are forbidden
    forbidden = [("post", "/api/v1/congresses", {"org_id": cg["orgs"]["a"], "kind": "workers", "name": "x"}),
                 ("post", f"/api/v1/congresses/{c}/terms", {"number": 9, "starts_on": "2024-01-01",
                                                           "ends_on": "2025-01-01"}),
                 ("post", f"/api/v1/congress-terms/{t}/delegates", {"member_id": d0}),
                 ("post", f"/api/v1/congress-terms/{t}/sessions", {"number": 5, "held_on": "2026-01-01",
                                                                   "agenda": ["x"]}),
                 ("post", f"/api/v1/congress-sessions/{s}/close", None),
                 ("post", f"/api/v1/congress-sessions/{s}/ballots", {"kind": "motion", "title": "t"}),
                 ("post", f"/api/v1/congress-sessions/{s}/check-ins", {"member_id": d1}),
                 ("post", f"/api/v1/congress-sessions/{s}/proposals", {"member_id": d1, "title": "t", "content": "c"})]
    for method, url, body in forbidden:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(ev, method)(url, headers=me, **kwargs)
        assert response.status_code == 403, (url, response.status_code)
    pid = ok(ev.post(f"/api/v1/congress-sessions/{s}/proposals", json={"title": "t", "content": "c"}, headers=me),
             201)["id"]
    assert ev.post(f"/api/v1/proposals/{pid}/seconds", json={"member_id": d1}, headers=me).status_code == 403
    for path in ("accept", "decline", "assign", "answer"):
        body = {"reason": "r", "department": "d", "answer": "a"}
        body = {k: v for k, v in body.items() if k == {"decline": "reason", "assign": "department",
                                                       "answer": "answer"}.get(path)}
        assert ev.post(f"/api/v1/proposals/{pid}/{path}", json=body, headers=me).status_code == 403
    check_in(ev, cg, cg["delegates"][:8])
    bid = ballot(ev, cg)
    for path in ("open", "close"):
        assert ev.post(f"/api/v1/ballots/{bid}/{path}", headers=me).status_code == 403


def test_the_congress_routes_are_documented_with_the_error_shape(ev):
    spec = ok(ev.get("/api/v1/openapi.json"))
    ours = {path: ops for path, ops in spec["paths"].items()
            if path.startswith(("/api/v1/congress", "/api/v1/proposals", "/api/v1/ballots"))}
    assert {"/api/v1/congresses", "/api/v1/congress-terms/{term_id}/delegates",
            "/api/v1/congress-sessions/{session_id}/check-ins", "/api/v1/congress-sessions/{session_id}/proposal-report",
            "/api/v1/proposals/{proposal_id}/seconds", "/api/v1/ballots/{ballot_id}/votes"} <= set(ours)
    for path, ops in ours.items():
        for method, operation in ops.items():
            if method in ("get", "post"):
                assert {"404", "409", "422"} <= set(operation["responses"]), (path, method)
    schemas = spec["components"]["schemas"]
    assert {"CongressCheckIn", "ProposalSubmit", "BallotCast", "BallotResult", "ProposalReport"} <= set(schemas)
