"""Proposals (提案) to a congress session: a delegate submits one, at least two OTHER delegates second it
(附议), staff acting for the proposals committee accept it (立案) or decline it with a reason (不立案),
assign it to a handling department (督办), record the department's answer (反馈), and the proposer rates the
answer (满意度). Every step is kept in the proposal's trail (``history``), with who acted and when."""
from __future__ import annotations

from shared import versioned
from shared.errors import in_state, refuse_unless
from shared.events.envelope import utcnow

from ..documents.congress import CongressSession, Proposal, Step
from ..domain import congress as rules
from ..published.congress import (
    PROPOSAL_ACCEPTED,
    PROPOSAL_ANSWERED,
    PROPOSAL_DECLINED,
    proposal_accepted,
    proposal_answered,
    proposal_declined,
)
from . import access
from .congress import delegate_for, load, read_session, staff_load, term_of
from .context import Context


def submit(ctx: Context, session_id: str, member_id: str | None, title: str, content: str) -> Proposal:
    """A delegate of the session's term submits a proposal while the session is open."""
    session = read_session(ctx, session_id)
    proposer = delegate_for(ctx, term_of(session), member_id)
    refuse_unless(rules.check_session_open, session.status)
    now = utcnow()
    proposal = Proposal(session_id=session.pk, term_id=session.term_id, congress_id=session.congress_id,
                        org_id=session.org_id, org_path=list(session.org_path), proposer_id=proposer, title=title,
                        content=content, submitted_at=now,
                        history=[Step(action="submitted", at=now, by=ctx.who.sub, member_id=proposer)])
    proposal.save(force_insert=True)
    return proposal


def listing(ctx: Context, session_id: str, status: str | None = None):
    session = read_session(ctx, session_id)
    rows = Proposal.objects(session_id=session.pk)
    return rows.filter(status=status) if status else rows


def read(ctx: Context, proposal_id: str) -> Proposal:
    return load(ctx, Proposal, proposal_id, "proposal")


def second(ctx: Context, proposal_id: str, member_id: str | None) -> Proposal:
    """Another delegate of the term seconds (附议) a submitted proposal, once. One conditional write: the
    proposal is still submitted, and neither proposed nor already seconded by this delegate."""
    proposal = read(ctx, proposal_id)
    seconder = delegate_for(ctx, term_of(proposal), member_id)
    refuse_unless(rules.check_seconding, proposal.status, proposal.proposer_id, seconder, proposal.seconders)
    step = Step(action="seconded", at=utcnow(), by=ctx.who.sub, member_id=seconder)
    written = Proposal.objects(pk=proposal.pk, status="submitted", proposer_id__ne=seconder,
                               seconders__ne=seconder).update_one(push__seconders=seconder, push__history=step,
                                                                  inc__version=1)
    proposal.reload()
    if not written:
        refuse_unless(rules.check_seconding, proposal.status, proposal.proposer_id, seconder, proposal.seconders)
        raise in_state("status", "the proposal changed meanwhile")
    return proposal


def _step(ctx: Context, proposal_id: str, action: str, sets: dict, events=(), note: str | None = None,
          member_id: str | None = None, check=None) -> Proposal:
    """Move a proposal along its lifecycle: read, check, write (versioned), retried on a lost race."""
    def attempt():
        proposal = staff_load(ctx, Proposal, proposal_id, "proposal") if member_id is None else read(ctx, proposal_id)
        target = refuse_unless(rules.next_proposal_status, action, proposal.status)
        if check:
            check(proposal)
        step = Step(action=target, at=utcnow(), by=ctx.who.sub, member_id=member_id, note=note)
        values = {**sets, "status": target}
        if versioned.write(proposal, events, sets=values, push__history=step):
            return proposal
        return None

    return versioned.retried(attempt, "proposal")


def accept(ctx: Context, proposal_id: str, note: str | None) -> Proposal:
    """Accept (立案): only a proposal with at least two seconders besides the proposer."""
    return _step(ctx, proposal_id, "accept", {"decided_at": utcnow()}, [(PROPOSAL_ACCEPTED, proposal_accepted)],
                 note=note, check=lambda p: refuse_unless(rules.check_acceptance, p.seconders))


def decline(ctx: Context, proposal_id: str, reason: str) -> Proposal:
    """Decline (不立案) with a reason the proposer is told."""
    return _step(ctx, proposal_id, "decline", {"decided_at": utcnow(), "decline_reason": reason},
                 [(PROPOSAL_DECLINED, proposal_declined)], note=reason)


def assign(ctx: Context, proposal_id: str, department: str) -> Proposal:
    """Assign an accepted proposal to the department that handles it (or reassign it before the answer)."""
    return _step(ctx, proposal_id, "assign", {"department": department}, note=department)


def answer(ctx: Context, proposal_id: str, text: str) -> Proposal:
    """Record the handling department's answer; the proposer is told and asked to rate it."""
    return _step(ctx, proposal_id, "answer", {"answer": text, "answered_at": utcnow()},
                 [(PROPOSAL_ANSWERED, proposal_answered)], note=text)


def rate(ctx: Context, proposal_id: str, member_id: str | None, satisfaction: str, comment: str | None) -> Proposal:
    """The proposer rates the answer (satisfied / basically satisfied / not satisfied): the proposer itself,
    or staff recording the proposer's feedback form."""
    proposal = read(ctx, proposal_id)
    proposer = access.acting_member(ctx, member_id or (None if ctx.who.has("member") else proposal.proposer_id))
    if str(proposer.pk) != proposal.proposer_id:
        raise in_state("member_id", "only the proposer rates the answer")
    return _step(ctx, proposal_id, "rate", {"satisfaction": satisfaction, "comment": comment,
                                            "rated_at": utcnow()}, note=comment, member_id=proposal.proposer_id)


def report(ctx: Context, session_id: str) -> dict:
    """A session's proposals counted by state and by the proposers' satisfaction."""
    session: CongressSession = read_session(ctx, session_id)
    rows = Proposal.objects(session_id=session.pk).only("status", "satisfaction")
    return {"session_id": str(session.pk), **rules.proposal_report([(p.status, p.satisfaction) for p in rows])}
