"""Read models kept from another service's events, applied at most once per
version: an older or repeated event never overwrites a newer state."""
from __future__ import annotations

from mongoengine import Document
from pymongo.errors import DuplicateKeyError


def upsert_if_newer(document: type[Document], pk: str, version: int, fields: dict) -> bool:
    """Set ``fields`` on ``pk`` when ``version`` is newer than what is stored."""
    collection = document._get_collection()
    try:
        result = collection.update_one(
            {"_id": pk, "$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}]},
            {"$set": {**fields, "version": version}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the stored copy is as new or newer
    return result.modified_count > 0 or result.upserted_id is not None
