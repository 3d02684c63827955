"""Transfer steps that must also run outside a request: completing an
accepted transfer (idempotent; the worker finishes any a crash left half
done) and expiring requests nobody answered."""
from __future__ import annotations

import logging

from shared import versioned
from shared.events.envelope import utcnow

from .documents import HistoryEntry, Member, Organisation, Transfer
from .published import MEMBER_UPDATED, TRANSFER_EXPIRED, member_updated, transfer_data
from .tree import PathResolver

log = logging.getLogger(__name__)


def complete(transfer: Transfer, by: str) -> bool:
    """Move the member to the new organisation, once, and free its claim. The transfer is marked
    completed only once the member has moved; if the member kept changing meanwhile, the worker's
    ``finish_accepted`` tries again."""
    moved = False
    for _ in range(5):
        member = Member.objects(pk=transfer.member_id).first()
        if member is None or member.open_transfer_id != str(transfer.pk):
            moved = True  # completed before (the claim is gone), or nobody left to move
            break
        org = Organisation.objects(pk=transfer.to_org_id).first()
        sets = {"org_id": str(org.pk), "org_path": PathResolver().current(org.path) or list(org.path)}
        entry = HistoryEntry(at=utcnow(), action="transfer_in", by=by, from_status=member.status,
                             to_status=member.status, org_id=sets["org_id"], reason=transfer.reason,
                             changed=["org_id", "org_path"])
        if versioned.write(member, [(MEMBER_UPDATED, lambda m: member_updated(m, ["org_id", "org_path"]))],
                           conditions={"open_transfer_id": str(transfer.pk)}, sets=sets,
                           unset__open_transfer_id=True, push__history=entry):
            moved = True
            break
    if not moved:
        log.warning("transfer not completed yet: the member kept changing", extra={"transfer": str(transfer.pk)})
        return False
    return bool(Transfer.objects(pk=transfer.pk, completed=False).update_one(set__completed=True))


def release_claim(transfer: Transfer) -> None:
    Member.objects(pk=transfer.member_id, open_transfer_id=str(transfer.pk)).update_one(unset__open_transfer_id=True)


def finish_accepted() -> int:
    """Complete accepted transfers a crash left half done."""
    done = 0
    for transfer in Transfer.objects(status="accepted", completed=False):
        done += complete(transfer, transfer.decided_by or "system")
    return done


def expire_due(now=None) -> int:
    now = now or utcnow()
    expired = 0
    for transfer in Transfer.objects(status="requested", expires_at__lte=now):
        if versioned.write(transfer, [(TRANSFER_EXPIRED, transfer_data)], conditions={"status": "requested"},
                           sets={"status": "expired", "decided_at": now}):
            release_claim(transfer)
            expired += 1
    return expired
