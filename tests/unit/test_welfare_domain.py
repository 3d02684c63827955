"""The welfare service's rules, without I/O: what each ledger entry does to its budget, the export's
neutralised cells, the assistance policy (caps, the branch's limit, kinds) and the hardship workflow."""
from datetime import date, datetime, timedelta, timezone

import pytest

from services.welfare import domain, published
from services.welfare.domain import assistance, funds, hardship

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_each_entry_moves_its_counters_and_a_reversal_undoes_it_exactly():
    assert funds.deltas("commitment", 500) == {"committed_fen": 500, "remaining_fen": -500}
    assert funds.deltas("disbursement", 500) == {"disbursed_fen": 500}  # against its commitment
    assert funds.deltas("disbursement", 500, committed=False) == {"disbursed_fen": 500, "committed_fen": 500,
                                                                  "remaining_fen": -500}
    assert funds.deltas("contribution", 300) == {"contributed_fen": 300, "remaining_fen": 300}
    assert funds.deltas("transfer_out", 200)["remaining_fen"] == -200
    assert funds.deltas("transfer_in", 200)["remaining_fen"] == 200
    for kind in ("commitment", "contribution", "transfer_out", "transfer_in"):
        changes = funds.deltas(kind, 700)
        undone = funds.reversal(changes)
        assert {key: changes[key] + undone[key] for key in changes} == dict.fromkeys(changes, 0)
    assert funds.needs(funds.deltas("commitment", 500)) == 500
    assert funds.needs(funds.reversal(funds.deltas("commitment", 500))) == 0
    assert funds.needs(funds.reversal(funds.deltas("contribution", 300))) == 300  # income already spent: refused


def test_an_entry_is_positive_and_a_reversal_is_not_reversed():
    for amount in (0, -5):
        with pytest.raises(domain.DomainError) as refused:
            funds.deltas("commitment", amount)
        assert refused.value.field == "amount_fen"
    with pytest.raises(domain.DomainError):
        funds.check_reversible("reversal")
    funds.check_reversible("commitment")


def test_the_balance_is_what_is_held():
    counters = {"budget_fen": 10_000, "contributed_fen": 500, "transferred_in_fen": 200, "transferred_out_fen": 100,
                "disbursed_fen": 3_000}
    assert funds.balance(counters) == 7_600


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"x\")"])
def test_cells_a_spreadsheet_would_run_are_neutralised(cell):
    assert funds.neutralised(cell) == "'" + cell


def test_other_cells_are_left_alone():
    for cell in ("生活救助", "a=1", "", 5, -5, None):
        assert funds.neutralised(cell) == cell


def test_yearly_caps_per_kind_and_member():
    policy = domain.Policy(caps={**assistance.DEFAULT_CAPS, "medical_aid": 10_000})
    assistance.check_cap("medical_aid", 4_000, 6_000, policy)
    with pytest.raises(domain.DomainError) as refused:
        assistance.check_cap("medical_aid", 4_001, 6_000, policy)
    assert refused.value.field == "amount_fen" and "4000 fen left" in refused.value.message
    assistance.check_cap("living_subsidy", 600_000, 0, policy)  # the default for a kind not set


def test_the_level_above_approves_over_the_branch_limit():
    policy = domain.Policy(branch_limit_fen=100_000)
    assert not assistance.needs_level_above(100_000, policy)
    assert assistance.needs_level_above(100_001, policy)
    assistance.check_approver(100_001, policy, approver_is_above_branch=True)
    with pytest.raises(domain.DomainError):
        assistance.check_approver(100_001, policy, approver_is_above_branch=False)


def test_assistance_transitions_and_applicants():
    assistance.check_transition("review", "submitted")
    assistance.check_transition("approve", "reviewed")
    assistance.check_transition("disburse", "approved")
    for action, status in [("approve", "submitted"), ("disburse", "reviewed"), ("reject", "approved"),
                           ("review", "rejected"), ("reject", "disbursed")]:
        with pytest.raises(domain.StateError):
            assistance.check_transition(action, status)
    assistance.check_applicant("active")
    for status in ("suspended", "left", "applicant", None):
        with pytest.raises(domain.StateError):
            assistance.check_applicant(status)


def test_an_education_grant_names_the_childs_school_and_admission_year():
    assistance.check_kind_details("education_grant", "市第一中学", 2026)
    with pytest.raises(domain.DomainError) as refused:
        assistance.check_kind_details("education_grant", None, 2026)
    assert refused.value.field == "child_school"
    with pytest.raises(domain.DomainError) as refused:
        assistance.check_kind_details("education_grant", "市第一中学", None)
    assert refused.value.field == "child_admission_year"
    with pytest.raises(domain.DomainError):
        assistance.check_kind_details("medical_aid", "市第一中学", None)
    assistance.check_kind_details("medical_aid", None, None)


def test_a_hardship_file_runs_its_workflow_in_order():
    order = [("visit", "submitted"), ("open_notice", "visited"), ("close_notice", "in_notice"),
             ("approve", "noticed"), ("recheck", "filed")]
    for action, status in order:
        hardship.check_transition(action, status)
    for action, status in [("approve", "in_notice"), ("approve", "visited"), ("open_notice", "submitted"),
                           ("recheck", "closed"), ("reject", "filed"), ("reject", "in_notice")]:
        with pytest.raises(domain.StateError):
            hardship.check_transition(action, status)


def test_objections_only_while_the_notice_runs_and_none_open_at_approval():
    closes = NOW + timedelta(days=1)
    hardship.check_objection_window("in_notice", closes, NOW)
    for status, at in [("in_notice", closes), ("noticed", NOW), ("visited", NOW)]:
        with pytest.raises(domain.StateError):
            hardship.check_objection_window(status, closes, at)
    hardship.check_no_open_objection(0)
    with pytest.raises(domain.StateError) as refused:
        hardship.check_no_open_objection(1)
    assert refused.value.field == "objections"
    with pytest.raises(domain.StateError):
        hardship.check_notice_over(closes, NOW)
    hardship.check_notice_over(closes, closes)


def test_household_details_and_review_dates():
    hardship.check_details(3, 50_000, 90_000, ["illness"])
    for args, field in [((0, 1, 1, ["illness"]), "household_size"), ((1, 1, 0, ["illness"]), "local_minimum_fen"),
                        ((1, 1, 1, []), "causes")]:
        with pytest.raises(domain.DomainError) as refused:
            hardship.check_details(*args)
        assert refused.value.field == field
    today = date(2026, 12, 1)
    hardship.check_review_date(today + timedelta(days=365), today)
    for review_on in (today, today + timedelta(days=400)):
        with pytest.raises(domain.DomainError):
            hardship.check_review_date(review_on, today)


# --- the contract of gonghui.welfare.v1 (tests/contract lists the other services' types) ---

SENSITIVE = {"id_number", "phone", "mobile", "email", "details", "health", "causes", "household_size",
             "income_per_head_fen", "local_minimum_fen", "circumstances", "findings", "text", "category", "by_member"}


@pytest.mark.parametrize("event_type", published.ALL, ids=lambda t: t.name)
def test_welfare_schemas_are_valid_closed_and_their_examples_validate(event_type):
    assert event_type.schema["$id"] == event_type.dataschema == f"urn:gonghui:schema:{event_type.name}:1"
    assert event_type.schema.get("additionalProperties") is False
    assert event_type.schema["examples"]
    for example in event_type.schema["examples"]:
        event_type.validate(example)
    assert not SENSITIVE & set(event_type.schema["properties"])  # no personal data, no household details


def test_what_welfare_builds_validates():
    from bson import ObjectId

    from services.welfare.documents import Application, FileStep, HardshipFile, Objection, Step
    from services.welfare.published import assistance as pa
    from services.welfare.published import hardship as ph

    at = NOW
    application = Application(id=ObjectId(), member_id=str(ObjectId()), org_id=str(ObjectId()), kind="medical_aid",
                              amount_fen=150_000, status="reviewed", version=2, reason_encrypted="sealed",
                              trail=[Step(action="review", by="admin:x", at=at)])
    pa.APPLICATION_REVIEWED.validate(pa.application_decided(application))
    application.status = "approved"
    pa.APPLICATION_APPROVED.validate(pa.application_decided(application))
    application.status, application.rejection_reason = "rejected", "超过年度上限"
    pa.APPLICATION_REJECTED.validate(pa.application_decided(application))
    application.status, application.payment_reference, application.disbursement_id = "disbursed", "P-1", ObjectId()
    pa.DISBURSEMENT_MADE.validate(pa.disbursement_made(application))

    f = HardshipFile(id=ObjectId(), member_id=str(ObjectId()), org_id=str(ObjectId()), status="filed", version=6,
                     review_on=date(2027, 12, 1), notice_opens_at=at, notice_closes_at=at + timedelta(days=5),
                     objections=1, open_objections=0, history=[FileStep(action="approve", by="admin:y", at=at)])
    for decision in ("approved", "renewed"):
        ph.HARDSHIP_FILE_DECIDED.validate(ph.file_decided(decision)(f))
    f.status, f.review_on = "closed", None
    ph.HARDSHIP_FILE_DECIDED.validate(ph.file_decided("closed")(f))
    ph.NOTICE_OPENED.validate(ph.notice_opened(f))
    ph.NOTICE_CLOSED.validate(ph.notice_closed(f, at))
    objection = Objection(id=ObjectId(), file_id=f.pk, by_member="m", text_encrypted="x", lodged_at=at)
    ph.OBJECTION_LODGED.validate(ph.objection_lodged(objection, f))
