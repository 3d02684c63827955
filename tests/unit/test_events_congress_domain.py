"""The workers' congress rules (职工代表大会), with no I/O."""
from __future__ import annotations

from datetime import date

import pytest

from services.events.domain import congress as rules
from shared.rules import DomainError, StateError

UNION = "u1"


def member(status="active", kept=False, path=("fed", UNION)):
    return rules.Candidate(status=status, kept=kept, org_path=tuple(path))


# -- the congress and its delegates --------------------------------------------------------------------------

def test_a_congress_belongs_to_an_active_grassroots_union():
    rules.check_congress_org("grassroots", "active")
    for kind in ("federation", "industry", "regional", "sub_union", "group"):
        with pytest.raises(DomainError):
            rules.check_congress_org(kind, "active")
    with pytest.raises(StateError):
        rules.check_congress_org("grassroots", "closed")


def test_only_active_members_of_the_union_whose_membership_is_not_kept_can_stand():
    rules.check_can_stand(member(), UNION)
    rules.check_can_stand(member(path=("fed", UNION, "sub")), UNION)  # a member of a sub-union below it
    with pytest.raises(DomainError):
        rules.check_can_stand(member(path=("fed", "other")), UNION)
    for status in ("applicant", "suspended", "transferred_out", "left", "deceased"):
        with pytest.raises(StateError):
            rules.check_can_stand(member(status=status), UNION)
    with pytest.raises(StateError, match="kept"):
        rules.check_can_stand(member(kept=True), UNION)


def test_a_term_ends_after_it_starts_and_lasts_at_most_five_years():
    rules.check_term(date(2024, 1, 1), date(2029, 1, 1))
    with pytest.raises(DomainError):
        rules.check_term(date(2024, 1, 1), date(2024, 1, 1))
    with pytest.raises(DomainError):
        rules.check_term(date(2024, 1, 1), date(2029, 1, 2))
    rules.check_term(date(2024, 2, 29), date(2029, 2, 28))
    with pytest.raises(DomainError):
        rules.check_term(date(9998, 1, 1), date(9999, 1, 1))  # refused, not an overflow


def test_a_session_is_held_within_its_term_and_has_an_agenda():
    rules.check_session(date(2025, 3, 1), date(2024, 1, 1), date(2027, 1, 1), ["工作报告"])
    with pytest.raises(DomainError, match="within"):
        rules.check_session(date(2028, 3, 1), date(2024, 1, 1), date(2027, 1, 1), ["工作报告"])
    with pytest.raises(DomainError, match="agenda"):
        rules.check_session(date(2025, 3, 1), date(2024, 1, 1), date(2027, 1, 1), [])


def test_only_the_terms_delegates_act_as_delegates():
    rules.check_delegate(["a", "b"], "a")
    with pytest.raises(StateError):
        rules.check_delegate(["a", "b"], "c")


# -- the quorum ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("present, delegates, quorum", [
    (7, 10, True), (6, 10, False),  # 2/3 of 10 is 6.67
    (10, 15, False), (11, 15, True),  # exactly two thirds is not more than two thirds
    (2, 3, False), (3, 3, True), (0, 0, False), (1, 1, True),
])
def test_voting_needs_more_than_two_thirds_of_all_delegates_present(present, delegates, quorum):
    assert rules.has_quorum(present, delegates) is quorum
    if quorum:
        rules.check_quorum(present, delegates)
    else:
        with pytest.raises(StateError, match="two thirds"):
            rules.check_quorum(present, delegates)


def test_a_ballot_opens_from_draft_only_and_only_with_the_quorum():
    rules.check_can_open("draft", 7, 10)
    with pytest.raises(StateError):
        rules.check_can_open("draft", 6, 10)
    for status in ("open", "closed"):
        with pytest.raises(StateError):
            rules.check_can_open(status, 10, 10)


# -- proposals -----------------------------------------------------------------------------------------------

def test_a_proposal_is_seconded_by_other_delegates_once_each():
    rules.check_seconding("submitted", "p", "s1", [])
    with pytest.raises(DomainError, match="own"):
        rules.check_seconding("submitted", "p", "p", [])
    with pytest.raises(StateError, match="already"):
        rules.check_seconding("submitted", "p", "s1", ["s1"])
    with pytest.raises(StateError):
        rules.check_seconding("accepted", "p", "s3", ["s1", "s2"])


def test_a_proposal_is_accepted_only_with_two_seconders():
    rules.check_acceptance(["s1", "s2"])
    for seconders in ([], ["s1"], ["s1", "s1"]):
        with pytest.raises(StateError, match="seconders"):
            rules.check_acceptance(seconders)


def test_the_proposal_lifecycle():
    assert rules.next_proposal_status("accept", "submitted") == "accepted"
    assert rules.next_proposal_status("decline", "submitted") == "declined"
    assert rules.next_proposal_status("assign", "accepted") == "assigned"
    assert rules.next_proposal_status("assign", "assigned") == "assigned"  # reassigned before the answer
    assert rules.next_proposal_status("answer", "assigned") == "answered"
    assert rules.next_proposal_status("rate", "answered") == "rated"
    for action, status in [("accept", "declined"), ("decline", "accepted"), ("assign", "submitted"),
                           ("assign", "declined"), ("answer", "accepted"), ("rate", "assigned"), ("rate", "rated"),
                           ("answer", "answered")]:
        with pytest.raises(StateError):
            rules.next_proposal_status(action, status)


def test_the_proposal_report_counts_by_state_and_by_satisfaction():
    report = rules.proposal_report([("submitted", None), ("declined", None), ("rated", "satisfied"),
                                    ("rated", "not_satisfied"), ("rated", "satisfied"), ("answered", None)])
    assert report["total"] == 6
    assert report["by_status"] == {"submitted": 1, "accepted": 0, "declined": 1, "assigned": 0, "answered": 1,
                                   "rated": 3}
    assert report["by_satisfaction"] == {"satisfied": 2, "basically_satisfied": 0, "not_satisfied": 1}


# -- ballots -------------------------------------------------------------------------------------------------

def test_a_motion_has_no_candidates_and_an_election_fills_seats_from_its_candidates():
    rules.check_ballot("motion", [], None)
    rules.check_ballot("election", ["a", "b", "c"], 2)
    with pytest.raises(DomainError):
        rules.check_ballot("motion", ["a"], None)
    with pytest.raises(DomainError):
        rules.check_ballot("election", [], 1)
    with pytest.raises(DomainError):
        rules.check_ballot("election", ["a", "a"], 1)
    with pytest.raises(DomainError):
        rules.check_ballot("election", ["a", "b"], 3)
    with pytest.raises(DomainError):
        rules.check_ballot("election", ["a", "b"], None)


def test_a_ballot_marks_one_motion_choice_or_at_most_n_candidates():
    assert rules.marks("motion", [], None, "yes", None) == ["yes"]
    assert rules.marks("election", ["a", "b", "c"], 2, None, ["a", "c"]) == ["a", "c"]
    assert rules.marks("election", ["a", "b", "c"], 2, None, []) == [rules.BLANK]
    for args in [("motion", [], None, None, None), ("motion", [], None, "maybe", None),
                 ("motion", [], None, "yes", ["a"]), ("election", ["a", "b", "c"], 2, None, ["a", "b", "c"]),
                 ("election", ["a", "b"], 2, None, ["a", "a"]), ("election", ["a", "b"], 2, None, ["z"]),
                 ("election", ["a", "b"], 2, "yes", None), ("election", ["a", "b"], 2, None, None)]:
        with pytest.raises(DomainError):
            rules.marks(*args)


def test_only_checked_in_delegates_cast_and_only_while_open_with_the_quorum():
    rules.check_can_cast("open", True, True, 7, 10)
    with pytest.raises(StateError, match="not open"):
        rules.check_can_cast("draft", True, True, 7, 10)
    with pytest.raises(StateError, match="not open"):
        rules.check_can_cast("closed", True, True, 7, 10)
    with pytest.raises(StateError, match="delegates"):
        rules.check_can_cast("open", False, True, 7, 10)
    with pytest.raises(StateError, match="check in"):
        rules.check_can_cast("open", True, False, 7, 10)
    with pytest.raises(StateError, match="two thirds"):
        rules.check_can_cast("open", True, True, 6, 10)


def test_a_motion_passes_only_with_yes_from_more_than_half_of_all_delegates():
    # 10 delegates: 6 yes pass; 5 yes do not, even when nobody votes no
    assert rules.result("motion", {"yes": 6, "no": 1, "abstain": 0}, 10, None, 7)["passed"] is True
    assert rules.result("motion", {"yes": 5, "no": 0, "abstain": 0}, 10, None, 5)["passed"] is False
    # a majority of those voting is not enough: 5 of 7 voting, of 11 delegates
    assert rules.result("motion", {"yes": 5, "no": 2, "abstain": 0}, 11, None, 7)["passed"] is False
    assert rules.result("motion", {"yes": 6, "no": 2, "abstain": 0}, 11, None, 8)["passed"] is True
    result = rules.result("motion", {"yes": 6, "no": 2, "abstain": 1}, 11, None, 9)
    assert result["needed"] == 6 and result["cast"] == 9 and result["delegates"] == 11


def test_a_candidate_is_elected_only_with_more_than_half_of_all_delegates():
    tally = {"a": 8, "b": 6, "c": 5, rules.BLANK: 1}
    result = rules.result("election", tally, 10, 3, 10)
    assert result["elected"] == ["a", "b"] and result["tied"] == []  # c has 5 of 10: not more than half
    assert result["passed"] is None


def test_an_election_elects_at_most_its_seats_and_none_of_a_tie_for_the_last_seat():
    assert rules.result("election", {"a": 9, "b": 8, "c": 7, "blank": 0}, 10, 2, 10)["elected"] == ["a", "b"]
    tied = rules.result("election", {"a": 9, "b": 7, "c": 7, "blank": 0}, 10, 2, 10)
    assert tied["elected"] == ["a"] and sorted(tied["tied"]) == ["b", "c"]


def test_a_ballot_starts_with_zero_counters_and_no_record_of_any_voter():
    assert rules.empty_tally("motion", []) == {"yes": 0, "no": 0, "abstain": 0}
    assert rules.empty_tally("election", ["a", "b"]) == {"a": 0, "b": 0, rules.BLANK: 0}
