"""CloudEvents 1.0, Kafka protocol binding, binary content mode.

Attributes travel as ``ce_`` headers, the value is the event data as plain
JSON and the key is the aggregate id (``subject``), so any Kafka tool reads it.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """A record that is not a CloudEvent we can read."""


def utcnow() -> datetime:
    """Now in UTC, to the millisecond: what MongoDB stores, so reads equal writes."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def aware(moment: datetime | None) -> datetime | None:
    """A moment read back from the database as UTC-aware (a client without tz_aware returns it naive)."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def isoformat(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    subject: str
    data: dict
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: str = field(default_factory=lambda: isoformat(utcnow()))
    dataschema: str | None = None

    def to_record(self) -> tuple[bytes, list[tuple[str, bytes]], bytes]:
        """(key, headers, value) for a Kafka producer."""
        headers = [
            ("ce_specversion", SPECVERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", self.time.encode()),
            ("ce_subject", self.subject.encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.dataschema:
            headers.append(("ce_dataschema", self.dataschema.encode()))
        value = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        return self.subject.encode(), headers, value

    @classmethod
    def from_record(cls, headers: list[tuple[str, bytes]] | None, value: bytes | None) -> "CloudEvent":
        attrs = {}
        for name, raw in headers or []:
            try:
                attrs[name] = raw.decode() if raw is not None else ""
            except UnicodeDecodeError as exc:
                raise EnvelopeError(f"header {name} is not UTF-8") from exc
        if attrs.get("ce_specversion") != SPECVERSION:
            raise EnvelopeError(f"ce_specversion must be {SPECVERSION}, got {attrs.get('ce_specversion')!r}")
        missing = [h for h in ("ce_id", "ce_source", "ce_type") if not attrs.get(h)]
        if missing:
            raise EnvelopeError(f"missing headers: {', '.join(missing)}")
        content_type = attrs.get("content-type", CONTENT_TYPE)
        if not content_type.startswith(CONTENT_TYPE):
            raise EnvelopeError(f"content-type must be {CONTENT_TYPE}, got {content_type!r}")
        try:
            data = json.loads(value) if value else {}
        except ValueError as exc:
            raise EnvelopeError(f"value is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise EnvelopeError("value must be a JSON object")
        return cls(
            type=attrs["ce_type"],
            source=attrs["ce_source"],
            subject=attrs.get("ce_subject", ""),
            data=data,
            id=attrs["ce_id"],
            time=attrs.get("ce_time", ""),
            dataschema=attrs.get("ce_dataschema"),
        )
