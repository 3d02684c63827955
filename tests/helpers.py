"""Small builders shared by the test tiers."""
from __future__ import annotations

import time

from services.members.domain import id_check_char


def id_number(n: int, birth: str = "19900101", region: str = "110101") -> str:
    """A valid GB 11643 ID number, distinct for each n below 1000 per birth date."""
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def member_body(org_id: str, n: int = 1, **overrides) -> dict:
    body = {"name": f"职工{n}", "gender": "female" if n % 2 else "male",
            "id_number": id_number(n, birth=f"19{80 + n // 1000 % 20}0101"),
            "phone": f"139{n:08d}", "org_id": org_id, "employment_type": "migrant"}
    body.update(overrides)
    return body


def eventually(check, timeout: float = 10.0, interval: float = 0.1, message: str = "condition"):
    """Poll ``check`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} not reached within {timeout}s (last: {last!r})")


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 20.0) -> list:
    """Every record on ``topic`` from the beginning, once at least ``expect`` are there."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while time.monotonic() < deadline and not partitions:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.2)
        if not partitions:
            raise AssertionError(f"topic {topic} does not exist")
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records = []
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            end = consumer.end_offsets(tps)
            if len(records) >= expect and all(consumer.position(tp) >= end[tp] for tp in tps):
                return records
        raise AssertionError(f"{topic}: {len(records)} records, expected {expect}")
    finally:
        consumer.close()


def credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015), distinct for each n."""
    from services.members.domain import credit_check_char

    first17 = f"91350100{n:09d}"
    return first17 + credit_check_char(first17)


def grassroots(name: str, parent_id: str, n: int = 1, headcount: int = 500) -> dict:
    return {"name": name, "kind": "grassroots", "parent_id": parent_id, "credit_code": credit_code(n),
            "headcount": headcount}


def use_case_context(app, roles, org=None, sub=None):
    """A members use-case Context for a caller, with the app's keys and a fresh view of the tree
    (what a request gets, without HTTP)."""
    from services.members.app.context import Context
    from services.members.tree import PathResolver
    from shared.auth import Caller

    roles = (roles,) if isinstance(roles, str) else tuple(roles)
    ext = app.extensions
    return Context(who=Caller(sub or roles[0], org, roles), tree=PathResolver(), vault=ext["gonghui.vault"],
                   contact_seal=ext["gonghui.contact_seal"], settings=ext["gonghui.settings"],
                   card_numbers=ext["gonghui.card_numbers"])


def seed_org_views(org_view, names=("fed", "a", "b")) -> dict:
    """A federation with grassroots unions below it, written straight into a service's organisation read
    model (as its worker would keep it from the members topic); returns {name: id}."""
    from bson import ObjectId

    ids = {name: str(ObjectId()) for name in names}
    root = ids[names[0]]
    org_view(id=root, name=names[0], kind="federation", path=[root], status="active", version=1).save()
    for name in names[1:]:
        org_view(id=ids[name], name=name, kind="grassroots", path=[root, ids[name]], status="active", version=1).save()
    return ids


def seed_member_view(member_view, org_path, **overrides) -> str:
    """An active member written straight into a service's member read model; returns its id."""
    from bson import ObjectId

    fields = {"status": "active", "gender": "female", "employment_type": "permanent", "kept": False, **overrides}
    return member_view(id=str(ObjectId()), org_path=list(org_path), version=1, **fields).save().pk


def fill_ids(value, ids: dict):
    """A request body or query with ``{name}`` placeholders filled from ``ids`` (scope walks)."""
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_ids(v, ids) for v in value]
    return value


def api_routes(app, skip_prefixes: tuple[str, ...] = ()):
    """(method, rule) of every API operation an app serves (scope walks), but its OpenAPI document."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json") \
                and not rule.rule.startswith(skip_prefixes or ("\0",)):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def call_route(client, method: str, rule, ids: dict, headers: dict, body=None, query: str = ""):
    """Call one route with its ``<arg>`` parts and the body's and query's ``{name}`` placeholders filled."""
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<{arg}>", ids[arg])
    return client.open(url + fill_ids(query, ids), method=method, json=fill_ids(body, ids), headers=headers)
