"""Cursor pagination, newest first, with a bounded page size."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId
from marshmallow import Schema, ValidationError, fields, validate, validates
from mongoengine import ObjectIdField
from mongoengine.queryset.visitor import Q

from .web import ApiError

MAX_LIMIT = 100


class PageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9_-]{16}$"),
                           metadata={"description": "next_cursor of the previous page"})

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


def page(queryset, args: dict, render, keep=None) -> dict:
    """Items after ``args['cursor']`` (by descending id) and the next cursor. ``keep`` (rows → rows) may
    drop rows from a page after the query; the cursor still moves past them."""
    if args.get("cursor"):
        queryset = queryset.filter(id__lt=decode_cursor(args["cursor"]))
    rows = list(queryset.order_by("-id").limit(args["limit"] + 1))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return {"items": [render(r) for r in (keep(rows) if keep else rows)],
            "next_cursor": encode_cursor(rows[-1].pk) if more and rows else None}


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True),
                             "next_cursor": fields.String(allow_none=True, required=True)}, name=name)


def _encode_key(value, pk) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(pk)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_key(cursor: str, is_datetime: bool, object_id_pk: bool):
    """(value, pk) from a cursor; None unless both are plain scalars of the expected kinds, so that no
    cursor can smuggle a query operator in."""
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, str) or not (value is None or isinstance(value, (str, int, float))):
            return None
        if is_datetime:
            value = datetime.fromisoformat(value) if isinstance(value, str) else None
            if value is None:
                return None
        return value, (ObjectId(pk) if object_id_pk else pk)
    except (ValueError, TypeError, InvalidId):
        return None


class SortedPageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))


def sorted_page(queryset, args: dict, render, field: str, descending: bool, is_datetime: bool = False,
                keep=None) -> dict:
    """Keyset pagination on (``field``, id): stable under inserts, bounded page size."""
    op = "lt" if descending else "gt"
    if args.get("cursor"):
        object_id_pk = isinstance(queryset._document._fields["id"], ObjectIdField)
        key = _decode_key(args["cursor"], is_datetime, object_id_pk)
        if key is None:
            raise ApiError(422, "invalid cursor", {"cursor": ["Not a valid cursor."]})
        value, pk = key
        # the first filter is implied by the second; it gives an index scan its starting point
        queryset = queryset.filter(**{f"{field}__{op}e": value}).filter(
            Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk}))
    sign = "-" if descending else "+"
    rows = list(queryset.order_by(f"{sign}{field}", f"{sign}id").limit(args["limit"] + 1))
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    last = rows[-1] if rows else None
    return {"items": [render(r) for r in (keep(rows) if keep else rows)],
            "next_cursor": _encode_key(getattr(last, field), last.pk) if more and last else None}
