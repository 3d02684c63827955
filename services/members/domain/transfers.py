"""Transfers (会员关系转接): a two-sided handshake between grassroots unions.

The old branch (or the member) requests, the new branch accepts or declines,
and an unanswered request expires. On acceptance the member's organisation
changes; dues and history continue on the same member.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .errors import DomainError, StateError

TRANSFER_STATUSES = ("requested", "accepted", "declined", "expired", "cancelled")


def check_request(member_status: str, from_org_id: str, to_org_id: str, open_transfer: str | None) -> None:
    if member_status not in ("active", "suspended"):
        raise StateError("member_id", f"a member whose status is {member_status} cannot transfer")
    if from_org_id == to_org_id:
        raise DomainError("to_org_id", "the member already belongs to this organisation")
    if open_transfer:
        raise StateError("member_id", f"transfer {open_transfer} is already waiting for an answer")


def expires_at(requested_at: datetime, days: int) -> datetime:
    return requested_at + timedelta(days=days)


def check_decision(status: str, expires: datetime, now: datetime) -> None:
    if status != "requested":
        raise StateError("status", f"the transfer is already {status}")
    if now >= expires:
        raise StateError("status", "the transfer request has expired")
