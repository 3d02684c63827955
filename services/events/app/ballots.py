"""Secret ballots (无记名投票) of a congress session: motions (yes / no / abstain) and elections (mark at most
``seats`` of the candidates). Staff create, open and close a ballot; it opens only while more than two
thirds of ALL the term's delegates are checked in; each checked-in delegate casts at most one ballot, with
its own token (nobody votes for someone else); results exist only once it is closed.

How secrecy is kept in storage
------------------------------
There is no record of a cast ballot anywhere. Casting is ONE atomic update of the ``Ballot`` document::

    filter  {_id, status: "open", voters: {$ne: delegate}}
    update  {$push: {voters: delegate}, $inc: {"tally.<choice>": 1 (each choice marked), cast: 1, version: 1}}

- ``voters`` is the register of who voted (needed for "at most one ballot", atomically: a second or racing
  cast by the same delegate matches nothing and changes nothing). It holds member ids only.
- ``tally`` holds one integer per choice (or candidate, and ``blank``): the votes are only ever counters.
  No document, array element, id (ObjectIds embed a time), timestamp or sequence number is written per
  ballot, so there is nothing whose order or time could be lined up with the register.
- Casting writes no event and no outbox pointer, and nothing about the choice is logged. The only event of a
  ballot is ``ballot.closed`` with the anonymous counts and the result.
- While the ballot is open the API shows neither the tally nor the register; after closing, the counts.

What it does not hide (and no tally can): a unanimous result tells everyone's vote; and someone who watches
the database live (the oplog, or reading the document between two casts) sees one counter move as one name
joins the register. A stored copy of the database at any one moment links no delegate to a choice.
"""
from __future__ import annotations

from shared import versioned
from shared.errors import Forbidden, NotFound, in_state, refuse_unless
from shared.events.envelope import utcnow

from ..documents import MemberView
from ..documents.congress import Ballot, CongressSession
from ..domain import congress as rules
from ..published.congress import BALLOT_CLOSED, ballot_closed
from .congress import candidate, load, quorum, read_session, staff_load, term_of
from .context import Context


def create(ctx: Context, session_id: str, kind: str, title: str, candidates: list[str], seats: int | None) -> Ballot:
    """A draft motion or election of an open session. Candidates are delegates or other members of the
    union who may stand (active, membership not kept)."""
    session = staff_load(ctx, CongressSession, session_id, "session")
    refuse_unless(rules.check_session_open, session.status)
    refuse_unless(rules.check_ballot, kind, candidates, seats)
    for member_id in candidates:
        view = MemberView.objects(pk=member_id).first()
        if view is None:
            raise NotFound("member not found", {"candidates": [f"No such member: {member_id}."]})
        refuse_unless(rules.check_can_stand, candidate(view), session.org_id, "candidates")
    ballot = Ballot(session_id=session.pk, term_id=session.term_id, congress_id=session.congress_id,
                    org_id=session.org_id, org_path=list(session.org_path), kind=kind, title=title,
                    candidates=candidates, seats=seats if kind == "election" else None,
                    tally=rules.empty_tally(kind, candidates), created_by=ctx.who.sub, created_at=utcnow())
    ballot.save(force_insert=True)
    return ballot


def listing(ctx: Context, session_id: str):
    session = read_session(ctx, session_id)
    return Ballot.objects(session_id=session.pk)


def read(ctx: Context, ballot_id: str) -> Ballot:
    return load(ctx, Ballot, ballot_id, "ballot")


def has_voted(ctx: Context, ballot: Ballot) -> bool | None:
    """Whether the calling member has voted (None for staff: the register is not shown)."""
    if not ctx.who.has("member"):
        return None
    return ctx.who.sub in (ballot.voters or ())


def open_ballot(ctx: Context, ballot_id: str) -> Ballot:
    """Open a draft ballot, only while more than two thirds of ALL the term's delegates are checked in;
    the number of delegates then is the base of the pass rule."""
    def attempt():
        ballot = staff_load(ctx, Ballot, ballot_id, "ballot")
        session = CongressSession.objects(pk=ballot.session_id).first()
        refuse_unless(rules.check_session_open, session.status)
        present, delegates = quorum(session, term_of(session))
        refuse_unless(rules.check_can_open, ballot.status, present, delegates)
        if versioned.write(ballot, conditions={"status": "draft"},
                           sets={"status": "open", "opened_at": utcnow(), "delegates": delegates}):
            return ballot
        return None

    return versioned.retried(attempt, "ballot")


def cast(ctx: Context, ballot_id: str, choice: str | None, marked: list[str] | None) -> Ballot:
    """The calling delegate casts its one ballot (see the module's docstring for how it stays secret)."""
    ballot = read(ctx, ballot_id)
    if not ctx.who.has("member"):
        raise Forbidden("a delegate casts its own ballot, with its own token")
    voter = ctx.who.sub
    session = CongressSession.objects(pk=ballot.session_id).first()
    term = term_of(session)
    view = MemberView.objects(pk=voter).first()
    if view is None:
        raise NotFound("member not found")
    refuse_unless(rules.check_can_stand, candidate(view), ballot.org_id, "ballot_id")  # e.g. kept since
    present, delegates = quorum(session, term)
    refuse_unless(rules.check_can_cast, ballot.status, voter in term.delegate_ids, voter in session.present_ids,
                  present, delegates)
    counters = refuse_unless(rules.marks, ballot.kind, ballot.candidates, ballot.seats, choice, marked)
    written = Ballot._get_collection().update_one(
        {"_id": ballot.pk, "status": "open", "voters": {"$ne": voter}},
        {"$push": {"voters": voter}, "$inc": {**{f"tally.{c}": 1 for c in counters}, "cast": 1, "version": 1}})
    if not written.modified_count:
        ballot.reload()
        if voter in ballot.voters:
            raise in_state("ballot_id", "you have already voted on this ballot")
        raise in_state("ballot_id", "the ballot is not open")
    ballot.reload()
    return ballot


def close(ctx: Context, ballot_id: str) -> Ballot:
    """Close an open ballot and publish its result (``ballot.closed``). The write is guarded by the version
    read, which every cast bumps: a ballot cast meanwhile makes the close count again."""
    def attempt():
        ballot = staff_load(ctx, Ballot, ballot_id, "ballot")
        refuse_unless(rules.check_can_close, ballot.status)
        result = rules.result(ballot.kind, {k: int(v) for k, v in ballot.tally.items()}, ballot.delegates,
                              ballot.seats, ballot.cast)
        if versioned.write(ballot, [(BALLOT_CLOSED, ballot_closed)], conditions={"status": "open"},
                           sets={"status": "closed", "closed_at": utcnow(), "result": result}):
            return ballot
        return None

    return versioned.retried(attempt, "ballot", attempts=20)
