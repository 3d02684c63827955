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
    mongoengine.connect(
        db=settings.database,
        alias=settings.service,
        host=settings.mongo_url,
        uuidRepresentation="standard",
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connect=False,
    )


def ensure_indexes(documents: list[type[Document]]) -> None:
    for document in documents:
        document.ensure_indexes()


def ping(settings: Settings) -> None:
    mongoengine.get_db(alias=settings.service).command("ping")
