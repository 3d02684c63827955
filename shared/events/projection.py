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
    """``upsert_if_newer`` for many (pk, version, fields) in two round trips at most; whatever order
    they come in, each pk ends with the fields of its highest version.

    Most pks are new to the read model (a member just joined): one insert of the newest version of
    each takes them all; only those that exist already get the conditional updates."""
    newest: dict[str, tuple[int, dict]] = {}
    for pk, version, fields in items:
        if pk not in newest or version > newest[pk][0]:
            newest[pk] = (version, fields)
    if not newest:
        return
    collection = document._get_collection()
    try:
        collection.insert_many([{"_id": pk, **fields, "version": version} for pk, (version, fields) in newest.items()],
                               ordered=False)
        return
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != 11000 for error in errors):
            raise
        existing = [list(newest)[error["index"]] for error in errors]
    collection.bulk_write([UpdateOne({"_id": pk, "$or": [{"version": {"$lt": newest[pk][0]}},
                                                         {"version": {"$exists": False}}]},
                                     {"$set": {**newest[pk][1], "version": newest[pk][0]}}) for pk in existing],
                          ordered=False)


def rewrite_paths(document: type[Document], field: str, old_prefix: list[str], new_prefix: list[str]) -> int:
    """After a subtree moved, replace ``old_prefix`` by ``new_prefix`` in the
    paths held by a read model. Idempotent; scans the read model (moves are rare)."""
    collection = document._get_collection()
    updates = [UpdateOne({"_id": raw["_id"]}, {"$set": {field: [*new_prefix, *raw[field][len(old_prefix):]]}})
               for raw in collection.find({field: old_prefix[-1]}, {field: 1})
               if raw.get(field, [])[: len(old_prefix)] == old_prefix]
    return collection.bulk_write(updates, ordered=False).modified_count if updates else 0
