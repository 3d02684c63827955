"""The members service's use cases for dues, transfers, reviews, imports and statistics, called
directly with a Context (no HTTP): their rules, their refusals (as shared.errors kinds) and their
writes guarded by the version read."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from services.members import imports
from services.members.app import dues, registration, reviews, stats, transfers
from services.members.app import imports as roster
from services.members.app.context import Context
from services.members.documents import DuesAccount, ImportJob, Member, Organisation, Review, Transfer
from services.members.published import DUES_ASSESSED, REVIEW_RESOLVED, TRANSFER_ACCEPTED, TRANSFER_EXPIRED
from services.members.transfers import expire_due
from shared import versioned
from shared.errors import Conflict, Forbidden, NotFound, Refused
from shared.events.envelope import utcnow
from tests.helpers import member_body, use_case_context

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx_for(members_app):
    """A Context for a caller, as a request would build it (a fresh view of the tree each time)."""
    def make(roles, org=None, sub=None) -> Context:
        first = roles if isinstance(roles, str) else roles[0]
        return use_case_context(members_app, roles, org, sub or f"{first}:{org}")
    return make


def _register(ctx: Context, org_id: str, n: int) -> Member:
    return registration.register(ctx, member_body(org_id, n))


def test_dues_are_assessed_paid_once_per_reference_and_reported(tree, ctx_for):
    admin = ctx_for("admin", tree["a"])
    ids = [str(_register(admin, tree["a"], n).pk) for n in range(2)]
    outsider = str(_register(ctx_for("admin", tree["b"]), tree["b"], 9).pk)
    assessed = dues.assess_month(admin, "2026-10", [{"member_id": ids[0], "wage_fen": 600000},
                                                    {"member_id": ids[1].upper(), "wage_fen": 999},
                                                    {"member_id": outsider, "wage_fen": 600000}])
    assert (assessed["succeeded"], assessed["failed"]) == (2, 1)
    assert [i.get("dues_fen") for i in assessed["items"]] == [3000, 0, None]
    assert assessed["items"][2] == {"member_id": outsider, "ok": False, "error": "member not found"}
    again = dues.assess_month(admin, "2026-10", [{"member_id": ids[0], "wage_fen": 800000}])
    assert again["items"][0]["dues_fen"] == 4000
    account = DuesAccount.objects(pk=f"{ids[0]}:2026-10").first()
    assert account.version == 2 and account.wage_fen == 800000
    assert [e.type for e in account.outbox] == [DUES_ASSESSED.name] * 2
    assert dues.assess_month(admin, "2026-10", [{"member_id": ids[0], "wage_fen": 800000}])["succeeded"] == 1
    assert DuesAccount.objects(pk=f"{ids[0]}:2026-10").first().version == 2  # the same wage again: no write

    paid = dues.pay_month(admin, "2026-10", [{"member_id": ids[0], "amount_fen": 1000, "reference": None}] * 2)
    assert [i["paid_fen"] for i in paid["items"]] == [1000, 1000]  # the default reference counts once
    unassessed = dues.pay_month(admin, "2026-11", [{"member_id": ids[0], "amount_fen": 1000}])
    assert unassessed["items"][0]["error"] == "no dues are assessed for 2026-11 yet"

    own = dues.member_dues(ctx_for("member", tree["a"], sub=ids[0]), ids[0])
    assert own["arrears_fen"] == 3000 and own["months_in_arrears"] == ["2026-10"]
    with pytest.raises(NotFound):
        dues.member_dues(ctx_for("admin", tree["b"]), ids[0])
    report = dues.report(admin, None, "2026-10")
    assert (report["members_assessed"], report["expected_fen"], report["paid_fen"]) == (2, 4000, 1000)
    assert (report["members_paid_in_full"], report["members_outstanding"]) == (1, 1)
    with pytest.raises(Forbidden):
        dues.assess_month(ctx_for("member", tree["a"], sub=ids[0]), "2026-10", [])


def test_a_dues_account_that_keeps_changing_is_a_conflict_and_nothing_is_lost(tree, ctx_for, monkeypatch):
    admin = ctx_for("admin", tree["a"])
    member = _register(admin, tree["a"], 3)
    dues.assess(admin, member, "2026-10", 600000)
    real_write = versioned.write

    def racing_write(obj, *args, **kwargs):
        type(obj).objects(pk=obj.pk).update_one(inc__version=1)  # another writer got there first
        return real_write(obj, *args, **kwargs)

    monkeypatch.setattr(versioned, "write", racing_write)
    with pytest.raises(Conflict) as err:
        dues.pay(member, "2026-10", 1000, "r1")
    assert err.value.status == 409 and err.value.code == "conflict"
    monkeypatch.undo()
    assert DuesAccount.objects(pk=f"{member.pk}:2026-10").first().paid_fen == 0
    assert dues.pay(member, "2026-10", 1000, "r1").paid_fen == 1000


def test_a_transfer_is_asked_declined_asked_again_and_accepted(tree, ctx_for):
    admin_a, admin_b = ctx_for("admin", tree["a"]), ctx_for("admin", tree["b"])
    member_id = str(_register(admin_a, tree["a"], 4).pk)
    first = transfers.request(admin_a, member_id, tree["b"], "搬家")
    assert first.status == "requested" and first.to_org_path == [tree["fed"], tree["industry"], tree["b"]]
    with pytest.raises(Conflict) as busy:
        transfers.request(admin_a, member_id, tree["b"], None)
    assert list(busy.value.fields) == ["member_id"]
    with pytest.raises(Refused) as same:
        transfers.request(admin_b, str(_register(admin_b, tree["b"], 5).pk), tree["b"], None)
    assert list(same.value.fields) == ["to_org_id"]
    with pytest.raises(NotFound):
        transfers.request(admin_a, member_id, "0" * 24, None)
    with pytest.raises(Forbidden):
        transfers.decline(admin_a, str(first.pk), "不")  # only the receiving side answers

    declined = transfers.decline(admin_b, str(first.pk), "名额已满")
    assert declined.status == "declined" and declined.version == 2
    assert Member.objects(pk=member_id).first().open_transfer_id is None
    with pytest.raises(Conflict) as answered:
        transfers.accept(admin_b, str(first.pk))
    assert answered.value.fields == {"status": ["the transfer is already declined"]}

    second = transfers.request(ctx_for("member", tree["a"], sub=member_id), member_id, tree["b"], None)
    accepted = transfers.accept(admin_b, str(second.pk))
    assert accepted.status == "accepted" and accepted.completed
    moved = Member.objects(pk=member_id).first()
    assert moved.org_id == tree["b"] and moved.open_transfer_id is None and moved.history[-1].action == "transfer_in"
    found = transfers.listing(admin_b, "incoming", "accepted")
    assert [str(t.pk) for t in found.keep(list(found.rows))] == [str(second.pk)]
    assert transfers.listing(ctx_for("operator"), "incoming", None).keep is None


def test_a_stale_answer_is_a_conflict_and_a_lapsed_request_expires(tree, ctx_for):
    admin_a, admin_b = ctx_for("admin", tree["a"]), ctx_for("admin", tree["b"])
    member_id = str(_register(admin_a, tree["a"], 6).pk)
    transfer = transfers.request(admin_a, member_id, tree["b"], None)
    stale = Transfer.objects(pk=transfer.pk).first()
    transfers.decline(admin_b, str(transfer.pk), "不收")
    with pytest.raises(Conflict, match="answered meanwhile"):
        transfers._decide(admin_b, stale, "accepted", TRANSFER_ACCEPTED)
    assert stale.status == "requested" and stale.version == 1  # as read: the lost write left it alone

    lapsing = transfers.request(admin_a, member_id, tree["b"], None)
    Transfer.objects(pk=lapsing.pk).update_one(set__expires_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(Conflict, match="expired"):
        transfers.accept(admin_b, str(lapsing.pk))
    expired = Transfer.objects(pk=lapsing.pk).first()
    assert expired.status == "expired" and expired.version == 2 and expired.outbox[-1].type == TRANSFER_EXPIRED.name
    assert Member.objects(pk=member_id).first().open_transfer_id is None
    assert expire_due() == 0


def test_a_review_is_resolved_once_within_scope(tree, ctx_for):
    org_a = Organisation.objects(pk=tree["a"]).first()
    Review(id="m1:2026-07", member_id="m1", member_name="会员", org_id=tree["a"], org_path=list(org_a.path),
           evaluated_month="2026-07", window=["2026-01"] * 6, opened_at=utcnow()).save(force_insert=True)
    admin_a = ctx_for("admin", tree["a"])
    with pytest.raises(NotFound):
        reviews.resolve(ctx_for("admin", tree["b"]), "m1:2026-07", "good_reason", None)
    with pytest.raises(Forbidden):
        reviews.resolve(ctx_for("member", tree["a"], sub="m1"), "m1:2026-07", "good_reason", None)
    resolved = reviews.resolve(ctx_for("admin", tree["industry"]), "m1:2026-07", "good_reason", "病假")
    assert (resolved.status, resolved.outcome, resolved.note, resolved.version) == ("resolved", "good_reason", "病假", 2)
    stored = Review.objects(pk="m1:2026-07").first()
    assert stored.status == "resolved" and stored.outbox[-1].type == REVIEW_RESOLVED.name
    with pytest.raises(Conflict) as again:
        reviews.resolve(admin_a, "m1:2026-07", "treated_as_left", None)
    assert again.value.fields == {"status": ["Resolved."]} and again.value.message == "the review is already resolved"
    found = reviews.listing(admin_a, None, "resolved")
    assert [r.pk for r in found.keep(list(found.rows))] == ["m1:2026-07"]
    assert list(reviews.listing(admin_a, None, "open").rows) == []


def test_a_roster_upload_is_checked_and_its_job_seen_only_within_scope(tree, ctx_for, monkeypatch):
    admin_a, admin_b = ctx_for("admin", tree["a"]), ctx_for("admin", tree["b"])
    empty = roster.upload(admin_a, tree["a"], "r.csv", io.BytesIO(b" \n"))  # the job reports what is in it
    imports.process_pending(admin_a.vault, admin_a.contact_seal)
    failed = ImportJob.objects(pk=empty.pk).first()
    assert failed.status == "failed" and "empty" in failed.failure
    with pytest.raises(NotFound):
        roster.upload(admin_b, tree["a"], "r.csv", io.BytesIO(b"name\n"))
    with pytest.raises(Forbidden):
        roster.upload(ctx_for("member", tree["a"], sub="m"), tree["a"], "r.csv", io.BytesIO(b"name\n"))
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 8)
    with pytest.raises(roster.TooLarge) as large:
        roster.upload(admin_a, tree["a"], "r.csv", io.BytesIO(b"x" * 9))
    assert large.value.status == 413
    monkeypatch.undo()

    job = roster.upload(admin_a, tree["a"], None, io.BytesIO("姓名\n张三\n".encode()))
    assert (job.filename, job.status, job.org_id) == ("roster", "queued", tree["a"])
    assert str(roster.job(ctx_for("admin", tree["industry"]), str(job.pk)).pk) == str(job.pk)
    with pytest.raises(NotFound):
        roster.job(admin_b, str(job.pk))
    mine, theirs = roster.listing(admin_a), roster.listing(admin_b)
    assert {str(j.pk) for j in mine.keep(list(mine.rows))} == {str(job.pk), str(empty.pk)}
    assert theirs.keep(list(theirs.rows)) == []


def test_statistics_cover_the_months_between_two_in_either_order_and_need_a_subtree(tree, ctx_for):
    admin_a = ctx_for("admin", tree["a"])
    backwards = stats.subtree(admin_a, None, "2026-05", "2026-04")
    assert (backwards["period"]["from"], backwards["period"]["to"]) == ("2026-04", "2026-05")
    ahead = stats.subtree(admin_a, None, "7891-03", None)  # a start ahead of today is the period itself
    assert (ahead["period"]["from"], ahead["period"]["to"]) == ("7891-03", "7891-03")
    with pytest.raises(Refused) as unbound:
        stats.subtree(ctx_for("operator"), None, None, None)
    assert list(unbound.value.fields) == ["org_id"]
    counted = stats.subtree(admin_a, None, None, "2026-03")
    assert counted["org_id"] == tree["a"] and counted["period"]["from"] == "2026-01"
