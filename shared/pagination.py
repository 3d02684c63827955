"""Cursor pagination, newest first, with a bounded page size."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId
from marshmallow import Schema, ValidationError, fields, validate, validates
from mongoengine.queryset.visitor import Q

from .web import ApiError

MAX_LIMIT = 100


class PageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=64))

    @validates("cursor")
    def _cursor(self, value, **_):
        if value is not None and decode_cursor(value) is None:
            raise ValidationError("Not a valid cursor.")


def encode_cursor(object_id: ObjectId) -> str:
    return base64.urlsafe_b64encode(object_id.binary).decode().rstrip("=")


def decode_cursor(cursor: str) -> ObjectId | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return ObjectId(raw) if len(raw) == 12 else None
    except (ValueError, TypeError):
        return None


def page(queryset, args: dict, render) -> dict:
    """Items after ``args['cursor']`` (by descending id) and the next cursor."""
    if args.get("cursor"):
        queryset = queryset.filter(id__lt=decode_cursor(args["cursor"]))
    rows = list(queryset.order_by("-id").limit(args["limit"] + 1))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return {"items": [render(r) for r in rows],
            "next_cursor": encode_cursor(rows[-1].pk) if more and rows else None}


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "next_cursor": fields.String(allow_none=True, required=True)}, name=name)


def _encode_key(value, object_id: ObjectId) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(object_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_key(cursor: str, is_datetime: bool):
    try:
        value, object_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return (datetime.fromisoformat(value) if is_datetime and value else value), ObjectId(object_id)
    except (ValueError, TypeError, InvalidId):
        return None


class SortedPageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))


def sorted_page(queryset, args: dict, render, field: str, descending: bool, is_datetime: bool = False) -> dict:
    """Keyset pagination on (``field``, id): stable under inserts, bounded page size."""
    op = "lt" if descending else "gt"
    if args.get("cursor"):
        key = _decode_key(args["cursor"], is_datetime)
        if key is None:
            raise ApiError(422, "invalid cursor", {"cursor": ["Not a valid cursor."]})
        value, object_id = key
        queryset = queryset.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": object_id}))
    sign = "-" if descending else "+"
    rows = list(queryset.order_by(f"{sign}{field}", f"{sign}id").limit(args["limit"] + 1))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    last = rows[-1] if rows else None
    return {"items": [render(r) for r in rows],
            "next_cursor": _encode_key(getattr(last, field), last.pk) if more and last else None}
