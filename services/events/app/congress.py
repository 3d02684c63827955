"""The workers' congress (职工代表大会 / 教职工代表大会) of a grassroots union: the congress, its terms (届)
and their delegates (职工代表), its sessions (次会议) and the delegates' check-in (签到).

Who sees what: staff of the union or above (anything else is 404), and the union's own members (a member
token), who read what a delegate needs and act only for themselves. Delegates are checked in by
themselves or by staff at the door; the check-in is the member's attendance (``attendance.recorded``,
kind ``congress_session``) for the six-month rule, recorded once per delegate and session.
"""
from __future__ import annotations

from datetime import date

from bson import ObjectId

from shared import versioned
from shared.errors import NotFound, in_state, refuse_unless
from shared.events.envelope import isoformat, utcnow
from shared.scope import get_visible

from ..documents import MemberView
from ..documents.congress import Ballot, CheckIn, Congress, CongressSession, Delegate, Term
from ..domain import congress as rules
from ..published.activities import ATTENDANCE_RECORDED
from ..published.congress import SESSION_CALLED, session_called
from . import access
from .context import Context

# -- who sees what -----------------------------------------------------------------------------------------


def caller_member(ctx: Context) -> MemberView | None:
    """The member a member token stands for (None for staff tokens or an unknown member)."""
    return access.me(ctx)


def visible(ctx: Context, obj) -> bool:
    """Staff of the union or above, or a member of the union (its own token)."""
    if access.sees(ctx, obj.org_path):
        return True
    me = caller_member(ctx)
    return me is not None and obj.org_id in (me.org_path or ())


def load(ctx: Context, document, object_id: str, what: str):
    """An object of the congress the caller may see; missing or out of scope is 404."""
    return get_visible(document, object_id, lambda obj: visible(ctx, obj), what)


def staff_load(ctx: Context, document, object_id: str, what: str):
    """An object staff of its union (or above) act on: out of scope is 404, a member's token 403."""
    obj = load(ctx, document, object_id, what)
    access.require_staff(ctx)
    if not access.sees(ctx, obj.org_path):
        raise NotFound(f"{what} not found")
    return obj


def delegate_for(ctx: Context, term: Term, member_id: str | None, field: str = "member_id") -> str:
    """The delegate a request is for: the caller itself (member token) or one staff name; 409 when the
    member is no delegate of the term, or its membership has since been kept, suspended or ended (a kept
    membership cannot vote or stand)."""
    member = access.acting_member(ctx, member_id)
    refuse_unless(rules.check_delegate, term.delegate_ids, str(member.pk), field)
    refuse_unless(rules.check_can_stand, candidate(member), term.org_id, field)
    return str(member.pk)


def candidate(view: MemberView) -> rules.Candidate:
    return rules.Candidate(status=view.status, kept=bool(view.kept), org_path=tuple(view.org_path or ()))


# -- congresses ----------------------------------------------------------------------------------------------

def create_congress(ctx: Context, org_id: str, kind: str, name: str) -> Congress:
    """Set up a grassroots union's congress (one per union)."""
    org = access.staff_org(ctx, org_id)
    refuse_unless(rules.check_congress_org, org.kind, org.status)
    congress = Congress(id=ObjectId(), org_id=str(org.pk), org_path=list(org.path), kind=kind, name=name,
                        created_by=ctx.who.sub, created_at=utcnow())
    versioned.insert(congress, lambda: in_state("org_id", "this union already has a congress"))
    return congress


def congresses(ctx: Context, org_id: str | None = None):
    """The congresses the caller sees: staff, those at or below their organisation; a member, its union's."""
    if access.is_staff(ctx):
        if ctx.who.org is None and ctx.who.has("operator"):
            rows = Congress.objects
        elif ctx.who.org is None:
            rows = Congress.objects(id=None)
        else:
            rows = Congress.objects(org_path=ctx.who.org)
    else:
        me = caller_member(ctx)
        rows = Congress.objects(org_id__in=list(me.org_path or ())) if me else Congress.objects(id=None)
    return rows.filter(org_path=org_id) if org_id else rows


def read_congress(ctx: Context, congress_id: str) -> Congress:
    return load(ctx, Congress, congress_id, "congress")


# -- terms and delegates -------------------------------------------------------------------------------------

def create_term(ctx: Context, congress_id: str, number: int, starts_on: date, ends_on: date) -> Term:
    congress = staff_load(ctx, Congress, congress_id, "congress")
    refuse_unless(rules.check_term, starts_on, ends_on)
    term = Term(id=ObjectId(), congress_id=congress.pk, org_id=congress.org_id, org_path=list(congress.org_path),
                number=number, starts_on=starts_on, ends_on=ends_on, created_at=utcnow())
    versioned.insert(term, lambda: in_state("number", f"the congress already has a term {number}"))
    return term


def terms(ctx: Context, congress_id: str):
    congress = read_congress(ctx, congress_id)
    return Term.objects(congress_id=congress.pk)


def read_term(ctx: Context, term_id: str) -> Term:
    return load(ctx, Term, term_id, "term")


def add_delegate(ctx: Context, term_id: str, member_id: str, elected_on: date | None) -> Term:
    """A delegate elected for the term: an active member of the union whose membership is not kept."""
    term = staff_load(ctx, Term, term_id, "term")
    view = access.member(ctx, member_id)
    refuse_unless(rules.check_can_stand, candidate(view), term.org_id, "member_id")
    delegate = Delegate(member_id=str(view.pk), elected_on=elected_on, added_by=ctx.who.sub)
    if not Term.objects(pk=term.pk, delegate_ids__ne=delegate.member_id).update_one(
            push__delegates=delegate, push__delegate_ids=delegate.member_id, inc__version=1):
        raise in_state("member_id", "already a delegate of this term")
    term.reload()
    return term


# -- sessions and check-in -----------------------------------------------------------------------------------

def call_session(ctx: Context, term_id: str, number: int, held_on: date, venue: str | None,
                 agenda: list[str]) -> CongressSession:
    """Call a session of the term: the delegates are told (``congress.session_called``)."""
    term = staff_load(ctx, Term, term_id, "term")
    refuse_unless(rules.check_session, held_on, term.starts_on, term.ends_on, agenda)
    congress = Congress.objects(pk=term.congress_id).first()
    session = CongressSession(id=ObjectId(), congress_id=term.congress_id, term_id=term.pk, org_id=term.org_id,
                              org_path=list(term.org_path), number=number, held_on=held_on, venue=venue,
                              agenda=agenda, called_by=ctx.who.sub, called_at=utcnow())
    session.record(SESSION_CALLED, session_called(session, term, congress))
    versioned.insert(session, lambda: in_state("number", f"the term already has a session {number}"))
    return session


def sessions(ctx: Context, term_id: str):
    term = read_term(ctx, term_id)
    return CongressSession.objects(term_id=term.pk)


def read_session(ctx: Context, session_id: str) -> CongressSession:
    return load(ctx, CongressSession, session_id, "session")


def term_of(session) -> Term:
    return Term.objects(pk=session.term_id).first()


def quorum(session: CongressSession, term: Term) -> tuple[int, int]:
    """(delegates checked in, ALL delegates of the term)."""
    delegates = set(term.delegate_ids)
    return len(delegates.intersection(session.present_ids)), len(delegates)


def check_in(ctx: Context, session_id: str, member_id: str | None) -> CongressSession:
    """Check a delegate in, once: the member itself, or staff at the door. One conditional write adds the
    delegate to those present and appends its ``attendance.recorded``; a second check-in (even a racing
    one) finds the delegate already present and writes nothing."""
    session = read_session(ctx, session_id)
    term = term_of(session)
    delegate = delegate_for(ctx, term, member_id)
    refuse_unless(rules.check_session_open, session.status)
    now = utcnow()
    data = {"member_id": delegate, "activity_id": str(session.pk), "kind": "congress_session",
            "attended_at": isoformat(now)}
    # not versioned.write: many delegates check in at once, and each write is guarded by its own condition
    # (this delegate not yet present, the session still open) rather than by the version read
    written = CongressSession.update_with_events(
        session.pk, [(ATTENDANCE_RECORDED, data)], conditions={"status": "called", "present_ids__ne": delegate},
        push__present=CheckIn(member_id=delegate, at=now, by=ctx.who.sub), push__present_ids=delegate, inc__version=1)
    session.reload()
    if not written:
        if delegate in session.present_ids:
            raise in_state("member_id", "the delegate is already checked in")
        raise in_state("session_id", "the session is closed")
    return session


def close_session(ctx: Context, session_id: str) -> CongressSession:
    """Close the session: no more check-ins, proposals or ballots (an open ballot is closed first)."""
    def attempt():
        session = staff_load(ctx, CongressSession, session_id, "session")
        refuse_unless(rules.check_session_open, session.status)
        if Ballot.objects(session_id=session.pk, status="open").first() is not None:
            raise in_state("session_id", "a ballot of this session is still open")
        if versioned.write(session, conditions={"status": "called"}, sets={"status": "closed", "closed_at": utcnow()}):
            return session
        return None

    return versioned.retried(attempt, "session")
