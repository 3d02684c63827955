"""Read models kept from another service's events, applied at most once per
version: an older or repeated event never overwrites a newer state.

Events of one aggregate share a Kafka key, hence a partition, hence one
consumer in the group at a time: that consumer is the only writer of the
aggregate's copy, so reading the stored version by ``_id`` and then writing by
``_id`` is safe, and both are index lookups on every database we run on.
"""
from __future__ import annotations

from mongoengine import Document


def upsert_if_newer(document: type[Document], pk: str, version: int, fields: dict) -> bool:
    """Set ``fields`` on ``pk`` when ``version`` is newer than what is stored."""
    collection = document._get_collection()
    stored = collection.find_one({"_id": pk}, {"version": 1})
    if stored is not None and stored.get("version", 0) >= version:
        return False
    collection.update_one({"_id": pk}, {"$set": {**fields, "version": version}}, upsert=True)
    return True
