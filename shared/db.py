"""One MongoDB connection per service, under the service's own alias."""
from __future__ import annotations

import mongoengine
from mongoengine import Document

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
