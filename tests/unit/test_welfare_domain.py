"""The welfare service's rules, without I/O: what each ledger entry does to its budget, the export's
neutralised cells, the assistance policy (caps, the branch's limit, kinds) and the hardship workflow."""
from datetime import date, datetime, timedelta, timezone

import pytest

from services.welfare import domain
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
