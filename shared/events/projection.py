"""Read models kept from another service's events, applied at most once per
version: an older or repeated event never overwrites a newer state."""
from __future__ import annotations

from mongoengine import Document
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError


def upsert_if_newer(document: type[Document], pk: str, version: int, fields: dict) -> bool:
    """Set ``fields`` on ``pk`` when ``version`` is newer than what is stored, in
    one conditional write (no read-then-write race between consumers)."""
    collection = document._get_collection()
    try:
        result = collection.update_one(
            {"_id": pk, "$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}]},
            {"$set": {**fields, "version": version}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the stored copy is as new or newer: the upsert would have made a second one
    return result.modified_count > 0 or result.upserted_id is not None


def upsert_many_if_newer(document: type[Document], items: list[tuple[str, int, dict]]) -> None:
    """``upsert_if_newer`` for many (pk, version, fields) in one round trip; whatever order they come
    in, each pk ends with the fields of its highest version."""
    if not items:
        return
    updates = [UpdateOne({"_id": pk, "$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}]},
                         {"$set": {**fields, "version": version}}, upsert=True)
               for pk, version, fields in items]
    try:
        document._get_collection().bulk_write(updates, ordered=False)
    except BulkWriteError as exc:  # duplicate keys: a stored copy was as new or newer
        if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
            raise


def rewrite_paths(document: type[Document], field: str, old_prefix: list[str], new_prefix: list[str]) -> int:
    """After a subtree moved, replace ``old_prefix`` by ``new_prefix`` in the
    paths held by a read model. Idempotent; scans the read model (moves are rare)."""
    collection = document._get_collection()
    updates = [UpdateOne({"_id": raw["_id"]}, {"$set": {field: [*new_prefix, *raw[field][len(old_prefix):]]}})
               for raw in collection.find({field: old_prefix[-1]}, {field: 1})
               if raw.get(field, [])[: len(old_prefix)] == old_prefix]
    return collection.bulk_write(updates, ordered=False).modified_count if updates else 0
