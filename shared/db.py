"""One MongoDB connection per service, under the service's own alias."""
from __future__ import annotations

import mongoengine
from mongoengine import Document, NotUniqueError
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .config import Settings


def connect(settings: Settings) -> None:
    """Register the service's alias (its name) against its own database.

    Documents declare ``meta = {"db_alias": "<service>"}``, so several services
    can share a process in tests without touching each other's data.
    """
    mongoengine.disconnect(alias=settings.service)
    for document in _documents_of(settings.service):
        document._collection = None  # mongoengine's own detach misses classes that share a name
    mongoengine.connect(
        db=settings.database,
        alias=settings.service,
        host=settings.mongo_url,
        uuidRepresentation="standard",
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connect=False,
    )


def _documents_of(alias: str) -> list[type[Document]]:
    found, stack = [], [Document]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if not sub._meta.get("abstract") and sub._meta.get("db_alias") == alias:
                found.append(sub)
    return found


def ensure_indexes(documents: list[type[Document]]) -> None:
    for document in documents:
        document.ensure_indexes()


def ping(settings: Settings) -> None:
    mongoengine.get_db(alias=settings.service).command("ping")


DUPLICATE_KEY = 11000  # MongoDB's code, which FerretDB returns too


def insert_new(collection, docs: list[dict]) -> list[int]:
    """Insert raw documents unordered; those a unique index already holds (a replay, a retried batch) are
    skipped. Returns the indexes of the skipped ones; any other write error is raised."""
    if not docs:
        return []
    try:
        collection.insert_many(docs, ordered=False)
        return []
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return [error["index"] for error in errors]


def is_duplicate_key(exc: BaseException) -> bool:
    """True when a write was refused by a unique index, by the driver's error type and code rather than
    its wording (mongoengine wraps the driver's error; its cause is kept)."""
    while exc is not None:
        if isinstance(exc, DuplicateKeyError) or getattr(exc, "code", None) == DUPLICATE_KEY:
            return True
        if isinstance(exc, BulkWriteError):
            errors = exc.details.get("writeErrors", [])
            return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)
        if isinstance(exc, NotUniqueError) and exc.__cause__ is None:
            return True  # mongoengine raises it only for code 11000 (and 11001)
        exc = exc.__cause__ or exc.__context__
    return False
