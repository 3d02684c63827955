"""Cursor pagination, newest first, with a bounded page size."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from bson import ObjectId
from marshmallow import Schema, ValidationError, fields, validate, validates
from mongoengine import ObjectIdField
from mongoengine.queryset.visitor import Q

MAX_LIMIT = 100


@dataclass
class Found:
    """What a listing use case returns: the rows (a queryset, paged by the view) and a filter applied to
    each page after the query (None when the query alone decides; e.g. dropping rows a subtree move has
    taken out of scope meanwhile)."""
    rows: object
    keep: Callable[[list], list] | None


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


# A sorted page's cursor: the last row's id (its length in one byte, then its 12 bytes or UTF-8) and
# its sort value (a datetime as 8 bytes of milliseconds since 1970, a string as UTF-8), base64url.
# Any string of this alphabet and a decodable length is a position, so the documented pattern is the
# whole contract, and nothing in a cursor can become a query operator.
SORTED_CURSOR = r"^(?:[A-Za-z0-9_-]{4}){4,128}(?:[A-Za-z0-9_-]{2,3})?$"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MIN_MS, _MAX_MS = -62135596800000, 253402300799999  # year 1 to year 9999


def _encode_key(value, pk) -> str:
    key = pk.binary if isinstance(pk, ObjectId) else str(pk).encode()
    if isinstance(value, datetime):
        value = int((value - _EPOCH) / timedelta(milliseconds=1)).to_bytes(8, "big", signed=True)
    else:
        value = str(value).encode()
    return base64.urlsafe_b64encode(bytes([len(key)]) + key + value).decode().rstrip("=")


def _decode_key(cursor: str, is_datetime: bool, object_id_pk: bool) -> tuple:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    key, rest = raw[1:1 + raw[0]], raw[1 + raw[0]:]
    pk = ObjectId(key.ljust(12, b"\0")[:12]) if object_id_pk else key.decode(errors="replace")
    if is_datetime:
        ms = max(_MIN_MS, min(_MAX_MS, int.from_bytes(rest[:8].rjust(8, b"\0"), "big", signed=True)))
        return _EPOCH + timedelta(milliseconds=ms), pk
    return rest.decode(errors="replace"), pk


class SortedPageArgs(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Regexp(SORTED_CURSOR),
                           metadata={"description": "next_cursor of the previous page"})


def sorted_page(queryset, args: dict, render, field: str, descending: bool, is_datetime: bool = False,
                keep=None) -> dict:
    """Keyset pagination on (``field``, id): stable under inserts, bounded page size """
    op = "lt" if descending else "gt"
    if args.get("cursor"):
        object_id_pk = isinstance(queryset._document._fields["id"], ObjectIdField)
        value, pk = _decode_key(args["cursor"], is_datetime, object_id_pk)
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
