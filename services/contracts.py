"""The platform's event contracts as one AsyncAPI 3.0 document, assembled from each service's own
declarations (its published event types and its worker's handlers): ``gonghui asyncapi`` writes it,
deploy/asyncapi.json is the copy the gateway serves, and a test keeps that copy equal to this."""
from __future__ import annotations

import json

from shared.config import Settings
from shared.events.asyncapi import ServiceContract, document

from .events import published as events_published
from .events import worker as events_worker
from .members import published as members_published
from .members import worker as members_worker
from .notify import published as notify_published
from .notify import worker as notify_worker
from .welfare import published as welfare_published
from .welfare import worker as welfare_worker

VERSION = "1.0.0"

DESCRIPTION = """\
The integration events of gonghui (工会), the platform of a trade-union federation and the unions
below it. Every record is a CloudEvent 1.0 in Kafka's binary content mode: the attributes are `ce_`
headers, the value is the event's data as JSON, and the key is the subject (the id of the object the
event is about), so the records of one object keep their order.

Delivery is at least once: a consumer drops an event whose `ce_source` and `ce_id` it has handled
before. Data is versioned by event type (`ce_dataschema` names the schema); a new version of a type is
a new message beside the old one, and fields may be added to a version, so consumers ignore fields
they do not know. No event carries an ID number or a phone number; contact details travel sealed on
their own topic, which only the notify service reads. Topics keep records for 7 days. With
`GONGHUI_TOPIC_PREFIX` set, every address below starts with that prefix."""

SERVERS = {
    "compose": {"host": "kafka:9092", "protocol": "kafka",
                "description": "The broker of the docker compose deployment (inside its network)."},
    "local": {"host": "127.0.0.1:9092", "protocol": "kafka",
              "description": "The broker `make run` starts on this machine."},
}

SERVICES = (
    ("members", members_published, members_worker.SPEC),
    ("events", events_published, events_worker.SPEC),
    ("welfare", welfare_published, welfare_worker.SPEC),
    ("notify", notify_published, notify_worker.SPEC),
)


def contracts() -> list[ServiceContract]:
    return [ServiceContract(name=name, source=published.SOURCE, topic=published.TOPIC, publishes=list(published.ALL),
                            routes=dict(spec.routes), consumes=spec.handled_types,
                            group=Settings(service=name).group_id)
            for name, published, spec in SERVICES]


def asyncapi() -> dict:
    return document("gonghui integration events", VERSION, DESCRIPTION, SERVERS, contracts())


def asyncapi_json() -> str:
    return json.dumps(asyncapi(), ensure_ascii=False, indent=2) + "\n"
