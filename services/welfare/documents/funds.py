"""Union funds (工会经费): yearly budgets with their counters, and the append-only ledger."""
from __future__ import annotations

from bson import ObjectId
from mongoengine import DateTimeField, DictField, Document, IntField, ListField, ObjectIdField, StringField

from ..domain.funds import CATEGORIES, ENTRY_KINDS
from .views import ALIAS


class Budget(Document):
    """A year's budget of one organisation and category. Its counters change only by conditional
    increments (``app.ledger.apply``): what lowers ``remaining_fen`` is applied only if enough remains,
    in one write, whatever number of processes race."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    org_id = StringField(required=True)
    org_path = ListField(StringField())  # a copy, rewritten when a subtree moves
    year = IntField(required=True)
    category = StringField(required=True, choices=CATEGORIES)
    budget_fen = IntField(required=True, min_value=0)
    committed_fen = IntField(default=0)
    disbursed_fen = IntField(default=0)
    contributed_fen = IntField(default=0)
    transferred_in_fen = IntField(default=0)
    transferred_out_fen = IntField(default=0)
    remaining_fen = IntField(default=0)
    changes = IntField(default=0)  # every change of the counters (guards a recount)
    changed_at = DateTimeField()
    created_by = StringField()
    created_at = DateTimeField(required=True)

    meta = {"db_alias": ALIAS, "collection": "budgets",
            "indexes": [{"fields": ("org_id", "year", "category"), "unique": True}, "org_path", "changed_at"]}


class ImmutableEntry(Exception):
    """Raised by any attempt to change or delete a ledger entry."""


class LedgerEntry(Document):
    """One entry of the ledger: written once, never updated or deleted (a correction is a reversal).
    ``key`` is unique: one commitment and one disbursement per application, one reversal per entry."""

    id = ObjectIdField(primary_key=True, default=ObjectId)
    key = StringField(required=True)
    budget_id = ObjectIdField(required=True)
    org_id = StringField(required=True)  # scope comes from the budget (entries never change, paths may)
    year = IntField(required=True)
    category = StringField(required=True)
    kind = StringField(required=True, choices=ENTRY_KINDS)
    amount_fen = IntField(required=True, min_value=1)
    deltas = DictField(required=True)  # what it did to the budget's counters (a reversal undoes exactly this)
    reverses = ObjectIdField()  # a reversal: the entry it reverses
    application_id = ObjectIdField()
    transfer_id = StringField()  # the two entries of a transfer share it
    counterpart_org_id = StringField()
    counterpart_budget_id = ObjectIdField()
    payment_reference = StringField()
    note = StringField(max_length=500)
    by = StringField(required=True)
    at = DateTimeField(required=True)

    meta = {"db_alias": ALIAS, "collection": "ledger",
            "indexes": [{"fields": ["key"], "unique": True}, ("budget_id", "at"), ("org_id", "year"), "application_id"]}

    def save(self, *args, **kwargs):
        if not kwargs.get("force_insert"):
            raise ImmutableEntry("a ledger entry is only ever inserted")
        return super().save(*args, **kwargs)

    def update(self, **kwargs):
        raise ImmutableEntry("a ledger entry is never updated; record a reversal")

    def modify(self, query=None, **update):
        raise ImmutableEntry("a ledger entry is never updated; record a reversal")

    def delete(self, signal_kwargs=None, **write_concern):
        raise ImmutableEntry("a ledger entry is never deleted; record a reversal")
