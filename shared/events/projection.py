"""Read models kept from another service's events, applied at most once per
version: an older or repeated event never overwrites a newer state.

Events of one aggregate share a Kafka key, hence a partition, hence one
consumer in the group at a time: that consumer is the only writer of the
aggregate's copy, so reading the stored version by ``_id`` and then writing by
``_id`` is safe, and both are index lookups on every database we run on.
"""
from __future__ import annotations

from mongoengine import Document
from pymongo import UpdateOne


def upsert_if_newer(document: type[Document], pk: str, version: int, fields: dict) -> bool:
    """Set ``fields`` on ``pk`` when ``version`` is newer than what is stored."""
    collection = document._get_collection()
    stored = collection.find_one({"_id": pk}, {"version": 1})
    if stored is not None and stored.get("version", 0) >= version:
        return False
    collection.update_one({"_id": pk}, {"$set": {**fields, "version": version}}, upsert=True)
    return True


def rewrite_paths(document: type[Document], field: str, old_prefix: list[str], new_prefix: list[str]) -> int:
    """After a subtree moved, replace ``old_prefix`` by ``new_prefix`` in the
    paths held by a read model. Idempotent; scans the read model (moves are rare)."""
    collection = document._get_collection()
    updates = [UpdateOne({"_id": raw["_id"]}, {"$set": {field: [*new_prefix, *raw[field][len(old_prefix):]]}})
               for raw in collection.find({field: old_prefix[-1]}, {field: 1})
               if raw.get(field, [])[: len(old_prefix)] == old_prefix]
    return collection.bulk_write(updates, ordered=False).modified_count if updates else 0
