"""An AsyncAPI 3.0 document built from what services declare: the event types they publish (with
their JSON Schemas), the topic each goes to, and the event types their consumers handle.

Generated, never written by hand, so it cannot drift from the code: a service that publishes or
consumes a new event type appears in the document the next time it is generated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .catalog import EventType
from .consumer import dlq_topic
from .envelope import CONTENT_TYPE, SPECVERSION
from .kafka_clients import TOPIC_CONFIGS

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
PARTITIONS = 6  # what ensure_topics creates


@dataclass(frozen=True)
class ServiceContract:
    name: str  # e.g. members
    source: str  # ce_source of what it publishes
    topic: str  # where its events go, unless routed
    publishes: list[EventType] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)  # event type -> topic
    consumes: list[str] = field(default_factory=list)  # event types its consumer handles
    group: str = ""  # its consumer group

    def topic_of(self, event_type: str) -> str:
        return self.routes.get(event_type, self.topic)


def message_id(event: EventType) -> str:
    return f"{event.name}.v{event.version}"


def _headers(source: str, event: EventType) -> dict:
    """CloudEvents 1.0 in Kafka binary mode: the attributes as ``ce_`` headers (UTF-8)."""
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
                     "ce_dataschema", "content-type"],
        "properties": {
            "ce_specversion": {"const": SPECVERSION},
            "ce_id": {"type": "string", "description": "unique per event; consumers drop a repeat of an id"},
            "ce_source": {"const": source},
            "ce_type": {"const": event.name},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {"type": "string", "description": "the id of the object the event is about; "
                                                            "also the record's key"},
            "ce_dataschema": {"const": event.dataschema},
            "content-type": {"const": CONTENT_TYPE},
        },
    }


def _message(source: str, event: EventType) -> dict:
    schema = {k: v for k, v in event.schema.items() if k not in ("$schema", "$id")}
    return {
        "name": event.name,
        "title": f"{event.name} v{event.version}",
        "summary": event.schema.get("description", ""),
        "contentType": CONTENT_TYPE,
        "headers": _headers(source, event),
        "payload": {"schemaFormat": "application/schema+json;version=draft-07", "schema": schema},
        "bindings": {"kafka": {"key": {"type": "string", "description": "ce_subject: records about one "
                                                                          "object keep their order"},
                               "bindingVersion": KAFKA_BINDING}},
    }


def _channel(address: str, description: str, messages: dict) -> dict:
    return {
        "address": address,
        "description": description,
        "messages": messages,
        "bindings": {"kafka": {"topic": address, "partitions": PARTITIONS,
                               "topicConfiguration": {"retention.ms": int(TOPIC_CONFIGS["retention.ms"])},
                               "bindingVersion": KAFKA_BINDING}},
    }


def _refs(channel: str, ids) -> list[dict]:
    return [{"$ref": f"#/channels/{channel}/messages/{mid}"} for mid in ids]


def document(title: str, version: str, description: str, servers: dict, services: list[ServiceContract]) -> dict:
    messages, channels, operations = {}, {}, {}
    published: dict[str, tuple[str, str]] = {}  # event type -> (topic, message id)
    for service in services:
        by_topic: dict[str, list[str]] = {}
        for event in service.publishes:
            mid = message_id(event)
            messages[mid] = _message(service.source, event)
            topic = service.topic_of(event.name)
            published[event.name] = (topic, mid)
            by_topic.setdefault(topic, []).append(mid)
        for topic in sorted({service.topic, *by_topic}):
            ids = by_topic.get(topic, [])
            channels[topic] = _channel(topic, f"Integration events of the {service.name} service.",
                                       {mid: {"$ref": f"#/components/messages/{mid}"} for mid in ids})
            if ids:
                operations[f"{service.name}.sends.{topic}"] = {
                    "action": "send", "channel": {"$ref": f"#/channels/{topic}"},
                    "summary": f"The {service.name} service's outbox relay publishes these (at least once; "
                               f"in order per subject).",
                    "messages": _refs(topic, ids)}
    for service in services:
        by_topic = {}
        for event_type in service.consumes:
            if event_type in published:
                topic, mid = published[event_type]
                by_topic.setdefault(topic, []).append(mid)
        for topic, ids in sorted(by_topic.items()):
            operations[f"{service.name}.receives.{topic}"] = {
                "action": "receive", "channel": {"$ref": f"#/channels/{topic}"},
                "summary": f"The {service.name} service's consumer (group {service.group}) handles these; "
                           f"it ignores every other type on the topic.",
                "messages": _refs(topic, ids),
                "bindings": {"kafka": {"groupId": {"type": "string", "enum": [service.group]},
                                       "bindingVersion": KAFKA_BINDING}}}
            dead = dlq_topic(topic, service.group)
            channels[dead] = _channel(dead, f"Dead letters of the {service.name} consumer: a record of {topic} "
                                            f"it could not handle, unchanged, with dlq_error, dlq_topic, "
                                            f"dlq_partition, dlq_offset and dlq_group headers added.",
                                      {mid: {"$ref": f"#/components/messages/{mid}"} for mid in ids})
            operations[f"{service.name}.dead-letters.{topic}"] = {
                "action": "send", "channel": {"$ref": f"#/channels/{dead}"},
                "messages": _refs(dead, ids)}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": CONTENT_TYPE,
        "servers": servers,
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items()))},
    }
