"""The workers' congress (职工代表大会): congresses, terms, sessions, proposals, ballots.

A secret ballot is stored as a ``Ballot`` document only: the register of who has voted (``voters``, a list
of member ids) and anonymous counters (``tally``: one integer per choice or candidate, and ``cast``). A
vote is one atomic update of that document that adds the voter to the register, increments the counters
of the choices marked and bumps the version, guarded by "the ballot is open and this delegate is not in the
register". No record of an individual ballot is ever written (no document, no array element, no id, no
timestamp, no event, no outbox pointer), so nothing stored can be lined up with the register: the only
thing kept about a vote is that a counter is one higher. See ``app/ballots.py``.
"""
from __future__ import annotations

from bson import ObjectId
from mongoengine import (
    DateField,
    DateTimeField,
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ObjectIdField,
    StringField,
)

from shared.events.outbox import OutboxDocument

from ..domain.congress import (
    BALLOT_KINDS,
    BALLOT_STATUSES,
    CONGRESS_KINDS,
    PROPOSAL_STATUSES,
    SATISFACTION,
    SESSION_STATUSES,
)
from .views import ALIAS


class Congress(Document):
    """A grassroots union's workers' (or, in a school, teachers' and staff) congress: one per union."""
    id = ObjectIdField(primary_key=True, default=ObjectId)
    org_id = StringField(required=True)
    org_path = ListField(StringField())  # the union's path (a copy, rewritten when a subtree moves)
    kind = StringField(required=True, choices=CONGRESS_KINDS)
    name = StringField(required=True, max_length=200)
    created_by = StringField()
    created_at = DateTimeField(required=True)
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "congresses",
            "indexes": [{"fields": ["org_id"], "unique": True}, "org_path"]}


class Delegate(EmbeddedDocument):
    member_id = StringField(required=True)
    elected_on = DateField()
    added_by = StringField()


class Term(Document):
    """A term (届) of a congress and the delegates (职工代表) elected for it."""
    id = ObjectIdField(primary_key=True, default=ObjectId)
    congress_id = ObjectIdField(required=True)
    org_id = StringField(required=True)
    org_path = ListField(StringField())
    number = IntField(required=True, min_value=1)
    starts_on = DateField(required=True)
    ends_on = DateField(required=True)
    delegates = ListField(EmbeddedDocumentField(Delegate))
    delegate_ids = ListField(StringField())  # the same members, as plain ids: a write's "not yet a delegate" guard
    created_at = DateTimeField(required=True)
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "congress_terms",
            "indexes": [{"fields": ["congress_id", "number"], "unique": True}, "org_path"]}


class CheckIn(EmbeddedDocument):
    member_id = StringField(required=True)
    at = DateTimeField(required=True)
    by = StringField()


class CongressSession(OutboxDocument):
    """A session (次会议) of a term, with the delegates checked in (签到)."""
    id = ObjectIdField(primary_key=True, default=ObjectId)
    congress_id = ObjectIdField(required=True)
    term_id = ObjectIdField(required=True)
    org_id = StringField(required=True)
    org_path = ListField(StringField())
    number = IntField(required=True, min_value=1)
    held_on = DateField(required=True)
    venue = StringField(max_length=200)
    agenda = ListField(StringField(max_length=500))
    status = StringField(required=True, choices=SESSION_STATUSES, default="called")
    present = ListField(EmbeddedDocumentField(CheckIn))
    present_ids = ListField(StringField())  # the same delegates, as plain ids: the check-in's "once" guard
    called_by = StringField()
    called_at = DateTimeField(required=True)
    closed_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "congress_sessions",
            "indexes": [{"fields": ["term_id", "number"], "unique": True}, "org_path"]}

class Step(EmbeddedDocument):
    """One entry of a proposal's trail."""
    action = StringField(required=True)
    at = DateTimeField(required=True)
    by = StringField()
    member_id = StringField()  # the delegate acted for (submit, second, rate)
    note = StringField(max_length=5000)


class Proposal(OutboxDocument):
    """A proposal (提案) of a delegate to a session."""
    id = ObjectIdField(primary_key=True, default=ObjectId)
    session_id = ObjectIdField(required=True)
    term_id = ObjectIdField(required=True)
    congress_id = ObjectIdField(required=True)
    org_id = StringField(required=True)
    org_path = ListField(StringField())
    proposer_id = StringField(required=True)
    title = StringField(required=True, max_length=200)
    content = StringField(required=True, max_length=5000)
    seconders = ListField(StringField())
    status = StringField(required=True, choices=PROPOSAL_STATUSES, default="submitted")
    decline_reason = StringField(max_length=1000)
    department = StringField(max_length=200)
    answer = StringField(max_length=5000)
    satisfaction = StringField(choices=SATISFACTION)
    comment = StringField(max_length=1000)
    history = ListField(EmbeddedDocumentField(Step))
    submitted_at = DateTimeField(required=True)
    decided_at = DateTimeField()
    answered_at = DateTimeField()
    rated_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "congress_proposals",
            "indexes": [("session_id", "status"), "org_path", "proposer_id"]}


class Ballot(OutboxDocument):
    """A secret ballot (无记名投票) of a session: a motion or an election. ``voters`` is the register of who
    has voted; ``tally`` and ``cast`` are anonymous counters. There is no record of any single ballot."""
    id = ObjectIdField(primary_key=True, default=ObjectId)
    session_id = ObjectIdField(required=True)
    term_id = ObjectIdField(required=True)
    congress_id = ObjectIdField(required=True)
    org_id = StringField(required=True)
    org_path = ListField(StringField())
    kind = StringField(required=True, choices=BALLOT_KINDS)
    title = StringField(required=True, max_length=200)
    candidates = ListField(StringField())  # member ids (elections)
    seats = IntField()  # how many a delegate may mark, and at most how many are elected
    status = StringField(required=True, choices=BALLOT_STATUSES, default="draft")
    delegates = IntField()  # ALL the term's delegates when it opened: the base of the pass rule
    voters = ListField(StringField())  # the register of who voted (never how)
    tally = DictField()  # choice or candidate -> count
    cast = IntField(default=0)
    result = DictField()
    created_by = StringField()
    created_at = DateTimeField(required=True)
    opened_at = DateTimeField()
    closed_at = DateTimeField()
    version = IntField(default=1)

    meta = {"db_alias": ALIAS, "collection": "congress_ballots", "indexes": ["session_id", "org_path"]}


CONGRESS_DOCUMENTS: list = [Congress, Term, CongressSession, Proposal, Ballot]
CONGRESS_PATH_COPIES: list = [(d, "org_path") for d in CONGRESS_DOCUMENTS]
