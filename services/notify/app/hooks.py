"""Which webhooks hear of an event: every active hook subscribed to its type whose organisation lies on
the path of an organisation or member the event concerns. Each gets one delivery (the event as a
CloudEvent in structured mode, JSON), queued like any other (``outgoing.queue``), once per event × hook."""
from __future__ import annotations

import json

from shared.events.envelope import SPECVERSION, CloudEvent

from ..documents import Webhook
from .outgoing import delivery_document

CHANNEL = "webhook"


def structured(event: CloudEvent) -> str:
    """The event as one JSON object (CloudEvents 1.0 JSON format, structured content mode)."""
    doc = {"specversion": SPECVERSION, "id": event.id, "source": event.source, "type": event.type,
           "subject": event.subject, "time": event.time, "datacontenttype": "application/json",
           "data": event.data}
    if event.dataschema:
        doc["dataschema"] = event.dataschema
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def hook_deliveries(items: list[tuple[CloudEvent, list[list[str]]]]) -> list[dict]:
    """The webhook deliveries (``delivery_document`` dicts, for ``outgoing.queue``) of a batch of events,
    each with the organisation paths it concerns (a member's, an organisation's). One query for the hooks
    of all the batch's types."""
    types = sorted({event.type for event, _ in items})
    if not types:
        return []
    hooks = list(Webhook._get_collection().find(
        {"status": "active", "event_types": {"$in": types}}, {"org_id": 1, "org_path": 1, "event_types": 1}))
    if not hooks:
        return []
    docs = []
    for event, paths in items:
        on_paths = {org for path in paths or () for org in path or ()}
        listening = [hook for hook in hooks if event.type in (hook.get("event_types") or ())
                     and hook.get("org_id") in on_paths]
        if not listening:
            continue
        body = structured(event)
        for hook in listening:
            hook_id = str(hook["_id"])
            docs.append(delivery_document(event_type=event.type, event_id=event.id, channel=CHANNEL,
                                          recipient=hook_id, hook_id=hook_id, org_path=list(hook.get("org_path") or []),
                                          body=body))
    return docs
