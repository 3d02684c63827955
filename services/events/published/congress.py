"""Events of the workers' congress. A cast ballot publishes nothing: the only event of a secret ballot is
``ballot.closed``, with its anonymous counts and result (never who voted how)."""
from __future__ import annotations

from shared.events.envelope import isoformat

from .types import event_type

SESSION_CALLED = event_type("congress.session_called")
PROPOSAL_ACCEPTED = event_type("proposal.accepted")
PROPOSAL_DECLINED = event_type("proposal.declined")
PROPOSAL_ANSWERED = event_type("proposal.answered")
BALLOT_CLOSED = event_type("ballot.closed")

CONGRESS_TYPES: list = [SESSION_CALLED, PROPOSAL_ACCEPTED, PROPOSAL_DECLINED, PROPOSAL_ANSWERED, BALLOT_CLOSED]


def session_called(session, term, congress) -> dict:
    """Who to tell: the term's delegates (ids), what and when."""
    return {"session_id": str(session.pk), "congress_id": str(congress.pk), "org_id": congress.org_id,
            "kind": congress.kind, "congress_name": congress.name, "term_number": term.number,
            "session_number": session.number, "held_on": session.held_on.isoformat(), "venue": session.venue,
            "agenda": list(session.agenda), "delegate_ids": list(term.delegate_ids), "version": session.version}


def proposal_data(proposal) -> dict:
    return {"proposal_id": str(proposal.pk), "session_id": str(proposal.session_id),
            "congress_id": str(proposal.congress_id), "org_id": proposal.org_id,
            "proposer_id": proposal.proposer_id, "title": proposal.title, "status": proposal.status,
            "seconder_ids": list(proposal.seconders), "version": proposal.version}


def proposal_accepted(proposal) -> dict:
    return {**proposal_data(proposal), "accepted_at": isoformat(proposal.decided_at)}


def proposal_declined(proposal) -> dict:
    return {**proposal_data(proposal), "reason": proposal.decline_reason,
            "declined_at": isoformat(proposal.decided_at)}


def proposal_answered(proposal) -> dict:
    return {**proposal_data(proposal), "department": proposal.department, "answer": proposal.answer,
            "answered_at": isoformat(proposal.answered_at)}


def ballot_closed(ballot) -> dict:
    r = ballot.result
    return {"ballot_id": str(ballot.pk), "session_id": str(ballot.session_id), "congress_id": str(ballot.congress_id),
            "org_id": ballot.org_id, "kind": ballot.kind, "title": ballot.title,
            "candidates": list(ballot.candidates), "seats": ballot.seats, "delegates": r["delegates"],
            "cast": r["cast"], "needed": r["needed"], "tally": {k: int(v) for k, v in r["tally"].items()},
            "passed": r["passed"], "elected": list(r["elected"]), "tied": list(r["tied"]),
            "closed_at": isoformat(ballot.closed_at), "version": ballot.version}
