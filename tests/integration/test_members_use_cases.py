"""The members use cases called directly, as views call them: plain functions of a Context and
validated input, against the real database, no HTTP."""
from __future__ import annotations

import pytest

from services.members.app import members as member_cases
from services.members.app import orgs, registration
from services.members.documents import Member, Organisation
from shared import versioned
from shared.errors import Conflict, Forbidden, NotFound, Refused
from shared.events.outbox import pending_events
from tests.helpers import grassroots, member_body, use_case_context


@pytest.fixture
def ctx(members_app, tree):
    return lambda roles="admin", org=tree["a"], sub=None: use_case_context(members_app, roles, org, sub)


def _types(member):
    return [e.type for e in pending_events(Member, member.pk)]


def test_registering_issues_a_card_and_records_the_events_with_the_write(ctx, tree):
    member = registration.register(ctx(), member_body(tree["a"], 1))
    stored = Member.objects(pk=member.pk).first()
    assert stored.status == "active" and stored.card_no == member.card_no and stored.joined_at
    assert stored.phone_masked.endswith(member_body(tree["a"], 1)["phone"][-4:])
    assert _types(member) == ["gonghui.members.contact.changed", "gonghui.members.member.joined"]
    assert [h.action for h in stored.history] == ["register"]


def test_registration_refusals_name_the_field_and_write_nothing(ctx, tree):
    with pytest.raises(NotFound) as outside:
        registration.register(ctx(org=tree["b"]), member_body(tree["a"], 2))  # A is outside B's subtree
    assert outside.value.fields == {"org_id": ["No such organisation."]}
    good = member_body(tree["a"], 2)["id_number"]
    with pytest.raises(Refused) as bad:  # a wrong check character
        registration.register(ctx(), member_body(tree["a"], 2, id_number=good[:-1] + ("1" if good[-1] == "0" else "0")))
    assert set(bad.value.fields) == {"id_number"}
    with pytest.raises(Forbidden):
        registration.register(ctx("member"), member_body(tree["a"], 2))
    assert Member.objects(org_id=tree["a"]).count() == 0
    registration.register(ctx(), member_body(tree["a"], 2))
    with pytest.raises(Conflict) as twice:
        registration.register(ctx(), member_body(tree["a"], 2))
    assert twice.value.code == "already_registered" and set(twice.value.fields) == {"id_number"}


def test_an_application_is_approved_with_a_card_or_rejected_freeing_the_id_number(ctx, tree):
    applicant = registration.apply(ctx(), member_body(tree["a"], 3))
    assert applicant.status == "applicant" and applicant.card_no is None
    approved = registration.approve(ctx(), str(applicant.pk))
    assert approved.status == "active" and approved.card_no and approved.version == 2
    with pytest.raises(Conflict) as done:
        registration.approve(ctx(), str(applicant.pk))  # nothing pending any more: the state refuses it
    assert done.value.code == "invalid_state"
    other = registration.apply(ctx(), member_body(tree["a"], 4))
    registration.reject(ctx(), str(other.pk), "材料不全")
    again = registration.apply(ctx(), member_body(tree["a"], 4))  # the ID number was freed
    assert again.pk != other.pk and again.application_state == "pending"


def test_status_changes_follow_the_rules_and_leave_needs_its_reason(ctx, tree):
    member = registration.register(ctx(), member_body(tree["a"], 5))
    with pytest.raises(Refused) as no_reason:
        member_cases.change_status(ctx(), str(member.pk), "leave", None)
    assert set(no_reason.value.fields) == {"reason"}
    left = member_cases.change_status(ctx(), str(member.pk), "leave", "voluntary")
    assert left.status == "left" and left.left_at and _types(left)[-1] == "gonghui.members.member.left"
    with pytest.raises(Conflict):
        member_cases.update_profile(ctx(), str(member.pk), {"job": "x"})
    back = registration.register(ctx(), member_body(tree["a"], 5))  # rejoining: the same record and card
    assert back.pk == member.pk and back.card_no == member.card_no and back.status == "active"


def test_profile_changes_reseal_contacts_only_when_they_change(ctx, tree):
    member = registration.register(ctx(), member_body(tree["a"], 6))
    renamed = member_cases.update_profile(ctx(), str(member.pk), {"name": " 李四 "})
    assert renamed.name == "李四" and _types(renamed)[-1] == "gonghui.members.member.updated"
    before = len(_types(renamed))
    unchanged = member_cases.update_profile(ctx(), str(member.pk), {"name": "李四"})
    assert unchanged.version == renamed.version and len(_types(unchanged)) == before
    member_cases.update_profile(ctx(), str(member.pk), {"phone": "13900001111"})
    assert _types(renamed)[-1] == "gonghui.members.contact.changed"


def test_personal_data_is_for_the_member_and_its_staff_never_operators(ctx, tree):
    member = registration.register(ctx(), member_body(tree["a"], 7))
    clear = member_cases.read_personal_data(ctx("member", sub=str(member.pk)), str(member.pk))
    assert clear["id_number"] == member_body(tree["a"], 7)["id_number"]
    with pytest.raises(Forbidden):
        member_cases.read_personal_data(ctx("operator", org=None), str(member.pk))
    with pytest.raises(NotFound):
        member_cases.read_personal_data(ctx(org=tree["b"]), str(member.pk))
    assert member_cases.personal_data_reads(ctx(), str(member.pk)).count() == 1


def test_organisation_use_cases(ctx, tree):
    op = ctx("operator", org=None)
    c = orgs.create(op, "第三中学工会", "grassroots", tree["industry"], grassroots("x", tree["industry"], 3)["credit_code"],
                    300)
    with pytest.raises(Conflict) as taken:
        orgs.create(op, "重名", "grassroots", tree["industry"], c.credit_code, 10)
    assert taken.value.code == "already_registered"
    with pytest.raises(Refused) as bad_code:
        orgs.update(op, str(c.pk), {"headcount": -1} | {"credit_code": "not a code"})
    assert "credit_code" in bad_code.value.fields
    registration.register(ctx(org=str(c.pk)), member_body(str(c.pk), 8))
    with pytest.raises(Conflict) as in_use:
        orgs.close(op, str(c.pk))  # a member is still active
    assert in_use.value.code == "invalid_state" and set(in_use.value.fields) == {"status"}
    with pytest.raises(Forbidden):
        orgs.close(ctx(org=str(c.pk)), str(c.pk))  # not by its own admin
    moved = orgs.move(op, str(c.pk), tree["fed"])
    assert moved.parent_id == tree["fed"] and Organisation.objects(pk=c.pk).first().path == [tree["fed"], str(c.pk)]


def test_a_versioned_write_that_loses_a_race_changes_nothing(ctx, tree):
    member = registration.register(ctx(), member_body(tree["a"], 9))
    stale = Member.objects(pk=member.pk).first()
    assert versioned.write(member, sets={"job": "先"})
    assert not versioned.write(stale, sets={"job": "后"})
    assert (stale.job, stale.version) == (None, 1)
    assert Member.objects(pk=member.pk).first().job == "先"
    calls = []
    with pytest.raises(Conflict):
        versioned.retried(lambda: calls.append(1), "member")
    assert len(calls) == 5
