"""Bringing records written by earlier versions up to what the service keeps now."""
from __future__ import annotations

from pymongo import UpdateOne

from . import domain
from .documents import Member

BATCH = 500


def forget_birth_dates(vault) -> int:
    """Members registered when the full birth date was kept in clear: keep only its year, and mask the
    ID number anew (the old mask showed its first three characters). Daily; a no-op once done."""
    collection, done = Member._get_collection(), 0
    while True:
        rows = list(collection.find({"birth_date": {"$exists": True}},
                                    {"birth_date": 1, "id_number_encrypted": 1}).limit(BATCH))
        if not rows:
            return done
        done += collection.bulk_write([UpdateOne({"_id": row["_id"]}, {
            "$set": {"birth_year": row["birth_date"].year,
                     "id_number_masked": domain.mask_id_number(vault.decrypt(row["id_number_encrypted"]))},
            "$unset": {"birth_date": ""}}) for row in rows], ordered=False).modified_count
