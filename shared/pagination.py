"""Cursor pagination, newest first, with a bounded page size."""
from __future__ import annotations

import base64

from bson import ObjectId
from marshmallow import Schema, ValidationError, fields, validate, validates

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
