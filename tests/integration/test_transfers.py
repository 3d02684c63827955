"""The transfer handshake: request, accept or decline, expiry, scope, events."""
from __future__ import annotations

from datetime import timedelta

import pytest
from bson import ObjectId

from services.members import transfers
from services.members.documents import Member, Transfer
from shared.events.envelope import utcnow
from shared.events.outbox import pending_events
from tests.helpers import member_body

pytestmark = pytest.mark.integration


@pytest.fixture
def migrant(members, tree, bearer):
    return members.post("/api/v1/members", json=member_body(tree["a"], 1), headers=bearer("admin", tree["a"])).json


def _request(members, migrant, tree, headers, **extra):
    return members.post("/api/v1/transfers", json={"member_id": migrant["id"], "to_org_id": tree["b"],
                                                   "reason": "工作调动", **extra}, headers=headers)


def test_accepted_transfer_moves_the_member_and_keeps_its_history(members, tree, bearer, migrant):
    requested = _request(members, migrant, tree, bearer("admin", tree["a"]))
    assert requested.status_code == 201, requested.json
    transfer_id = requested.json["id"]
    assert requested.json["status"] == "requested"
    # the old branch cannot answer its own request; the new one reads and accepts it
    assert members.post(f"/api/v1/transfers/{transfer_id}/accept", headers=bearer("admin", tree["a"])).status_code == 403
    incoming = members.get("/api/v1/transfers?direction=incoming", headers=bearer("admin", tree["b"])).json["items"]
    assert [t["id"] for t in incoming] == [transfer_id]
    accepted = members.post(f"/api/v1/transfers/{transfer_id}/accept", headers=bearer("admin", tree["b"]))
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted" and accepted.json["completed"]
    member = members.get(f"/api/v1/members/{migrant['id']}", headers=bearer("admin", tree["b"])).json
    assert member["org_id"] == tree["b"] and member["card_no"] == migrant["card_no"]
    assert members.get(f"/api/v1/members/{migrant['id']}", headers=bearer("admin", tree["a"])).status_code == 404
    history = members.get(f"/api/v1/members/{migrant['id']}/history", headers=bearer("admin", tree["b"])).json
    assert [h["action"] for h in history["items"]] == ["register", "transfer_in"]
    transfer_events = [e.type for e in pending_events(Transfer, ObjectId(transfer_id))]
    assert transfer_events == ["gonghui.members.transfer.requested", "gonghui.members.transfer.accepted"]
    event = pending_events(Transfer, ObjectId(transfer_id))[-1].data
    assert event["from_org_path"][-1] == tree["a"] and event["to_org_path"][-1] == tree["b"]  # both admins' scopes
    assert members.post(f"/api/v1/transfers/{transfer_id}/decline", json={"reason": "x"},
                        headers=bearer("admin", tree["b"])).status_code == 409


def test_a_member_may_ask_for_its_own_transfer_and_only_one_waits(members, tree, bearer, migrant):
    own = bearer("member", tree["a"], sub=migrant["id"])
    assert _request(members, migrant, tree, own).status_code == 201
    again = _request(members, migrant, tree, bearer("admin", tree["a"]))
    assert again.status_code == 409
    someone_else = bearer("member", tree["a"], sub="another-member")
    assert _request(members, migrant, tree, someone_else).status_code == 404


def test_declined_transfer_leaves_the_member_where_it_was(members, tree, bearer, migrant):
    transfer_id = _request(members, migrant, tree, bearer("admin", tree["a"])).json["id"]
    no_reason = members.post(f"/api/v1/transfers/{transfer_id}/decline", json={}, headers=bearer("admin", tree["b"]))
    assert no_reason.status_code == 422
    declined = members.post(f"/api/v1/transfers/{transfer_id}/decline", json={"reason": "查无此人"},
                            headers=bearer("admin", tree["b"]))
    assert declined.status_code == 200 and declined.json["decision_reason"] == "查无此人"
    assert Member.objects(pk=migrant["id"]).first().org_id == tree["a"]
    assert _request(members, migrant, tree, bearer("admin", tree["a"])).status_code == 201  # may ask again


def test_unanswered_requests_expire(members, tree, bearer, migrant):
    transfer_id = _request(members, migrant, tree, bearer("admin", tree["a"])).json["id"]
    assert transfers.expire_due() == 0
    Transfer.objects(pk=transfer_id).update_one(set__expires_at=utcnow() - timedelta(minutes=1))
    late = members.post(f"/api/v1/transfers/{transfer_id}/accept", headers=bearer("admin", tree["b"]))
    assert late.status_code == 409 and "expired" in late.json["error"]["message"]
    transfer = Transfer.objects(pk=transfer_id).first()
    assert transfer.status == "expired" and transfer.outbox[-1].type == "gonghui.members.transfer.expired"
    assert Member.objects(pk=migrant["id"]).first().open_transfer_id is None
    assert transfers.expire_due() == 0  # once only


def test_the_expiry_job_expires_in_the_background(members, tree, bearer, migrant, settings_for):
    from services.members import create_app

    at_once = create_app(settings_for("members", transfer_expiry_days=0)).test_client()
    transfer_id = _request(at_once, migrant, tree, bearer("admin", tree["a"])).json["id"]
    assert transfers.expire_due() == 1
    assert members.get(f"/api/v1/transfers/{transfer_id}", headers=bearer("admin", tree["b"])).json["status"] == "expired"


def test_an_accepted_transfer_a_crash_left_half_done_is_finished(members, tree, bearer, migrant):
    transfer_id = _request(members, migrant, tree, bearer("admin", tree["a"])).json["id"]
    Transfer.objects(pk=transfer_id).update_one(set__status="accepted", set__decided_by="admin")  # crash here
    assert transfers.finish_accepted() == 1
    assert Member.objects(pk=migrant["id"]).first().org_id == tree["b"]
    assert transfers.finish_accepted() == 0


def test_a_transfer_is_completed_only_once_the_member_has_moved(members, tree, bearer, migrant, monkeypatch):
    """It used to be marked completed when every attempt to move the member had failed; the member then
    kept its claim and nothing retried."""
    transfer_id = _request(members, migrant, tree, bearer("admin", tree["a"])).json["id"]
    with monkeypatch.context() as patched:  # the member changes under every attempt
        patched.setattr(Member, "update_with_events", classmethod(lambda cls, *a, **k: False))
        accepted = members.post(f"/api/v1/transfers/{transfer_id}/accept", headers=bearer("admin", tree["b"]))
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert accepted.json["completed"] is False and Transfer.objects(pk=transfer_id).first().completed is False
    assert Member.objects(pk=migrant["id"]).first().open_transfer_id == transfer_id
    assert transfers.finish_accepted() == 1  # the worker's retry
    member = Member.objects(pk=migrant["id"]).first()
    assert member.org_id == tree["b"] and member.open_transfer_id is None
    assert Transfer.objects(pk=transfer_id).first().completed is True


def test_transfers_are_scoped(members, tree, bearer, migrant):
    transfer_id = _request(members, migrant, tree, bearer("admin", tree["a"])).json["id"]
    op = bearer("operator")
    outsider_branch = members.post("/api/v1/orgs", json={"name": "外区", "kind": "federation"}, headers=op).json["id"]
    assert members.get(f"/api/v1/transfers/{transfer_id}", headers=bearer("admin", outsider_branch)).status_code == 404
    assert members.get(f"/api/v1/transfers/{transfer_id}", headers=bearer("admin", tree["a"])).status_code == 200
    assert members.post("/api/v1/transfers", json={"member_id": migrant["id"], "to_org_id": tree["a"]},
                        headers=bearer("admin", tree["b"])).status_code == 404
    to_federation = members.post("/api/v1/transfers", json={"member_id": migrant["id"], "to_org_id": tree["fed"]},
                                 headers=bearer("admin", tree["a"]))
    assert to_federation.status_code == 409 and "org_id" in to_federation.json["error"]["fields"]
