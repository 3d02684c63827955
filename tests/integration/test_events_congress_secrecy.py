"""Secret ballots (无记名投票) are secret in storage: what is stored, and what is published, links no delegate
to a choice (by a field, an id, a timestamp or an order). The test reads the raw database and the topic."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from bson import ObjectId
from mongoengine.connection import get_db

from tests.helpers import read_topic
from tests.integration import test_events_congress as base
from tests.integration.test_events_congress import DELEGATES, check_in, ok, vote

pytestmark = pytest.mark.integration

cg = base.cg  # the same union, congress and delegates

BALLOT_KEYS = {"_id", "session_id", "term_id", "congress_id", "org_id", "org_path", "kind", "title", "candidates",
               "status", "delegates", "voters", "tally", "cast", "result", "created_by", "created_at", "opened_at",
               "closed_at", "version", "outbox", "seats"}


def snapshot() -> dict:
    """Every document of every collection of the events database, raw."""
    db = get_db("events")
    return {name: {repr(doc["_id"]): doc for doc in db[name].find()} for name in db.list_collection_names()}


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *strings_in(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return [str(value)]


def test_nothing_stored_or_published_links_a_delegate_to_a_choice(ev, cg, workers, infra):
    d, staff = cg["delegates"], cg["staff"]
    check_in(ev, cg, d)

    def motion(title):
        bid = ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/ballots", json={"kind": "motion", "title": title},
                         headers=staff), 201)["id"]
        ok(ev.post(f"/api/v1/ballots/{bid}/open", headers=staff))
        return bid

    x, y = motion("表决甲"), motion("表决乙")
    before = snapshot()
    # the same delegates vote in the same order on both ballots, with the choices of the first two swapped
    choices_x = ["yes", "no"] + ["yes", "abstain", "no", "yes", "yes", "no"]
    choices_y = ["no", "yes"] + choices_x[2:]
    for member, cx, cy in zip(d[:8], choices_x, choices_y, strict=True):
        ok(vote(ev, cg, x, member, choice=cx))
        ok(vote(ev, cg, y, member, choice=cy))
    after = snapshot()

    # 1. casting wrote no document anywhere (no ballot record, no outbox pointer, no log entry) ...
    assert {name: set(docs) for name, docs in after.items()} == {name: set(docs) for name, docs in before.items()}
    # ... and changed nothing but the two ballot documents
    changed = {(name, key) for name, docs in after.items() for key, doc in docs.items() if before[name][key] != doc}
    assert changed == {("congress_ballots", repr(ObjectId(x))), ("congress_ballots", repr(ObjectId(y)))}

    # 2. a ballot document holds the register (ids only) and counters (integers only): nothing per vote
    raw_x, raw_y = (after["congress_ballots"][repr(ObjectId(b))] for b in (x, y))
    for raw in (raw_x, raw_y):
        assert set(raw) <= BALLOT_KEYS
        assert raw["voters"] == d[:8] and all(isinstance(v, str) for v in raw["voters"])
        assert all(type(n) is int for n in raw["tally"].values()) and raw["cast"] == 8
        assert not raw.get("outbox")
        ids = [v for v in strings_in(raw) if ObjectId.is_valid(v)]
        assert set(ids) <= {str(raw["_id"]), cg["session"], cg["term"], cg["congress"], *cg["orgs"].values(), *d[:8]}
        times = [k for k, v in raw.items() if isinstance(v, datetime)]
        assert sorted(times) == ["created_at", "opened_at"]  # the ballot's own times, none per vote
    # 3. two ballots where the first two delegates' choices are swapped are stored identically: what is stored
    #    cannot tell who chose what
    own = {"_id", "title", "created_at", "opened_at"}
    assert {k: v for k, v in raw_x.items() if k not in own} == {k: v for k, v in raw_y.items() if k not in own}

    # 4. what is published: nothing about a cast ballot; its closing carries counts, never a voter
    for bid in (x, y):
        ok(ev.post(f"/api/v1/ballots/{bid}/close", headers=staff))
    worker = workers("events")
    while worker.relay.run_once():
        pass
    topic = worker.settings.topic(worker.spec.publishes)
    records = read_topic(infra.kafka.bootstrap, topic, expect=1 + DELEGATES + 2)
    types = [dict(r.headers)["ce_type"].decode() for r in records]
    assert sorted(types) == sorted(["gonghui.events.congress.session_called"]
                                   + ["gonghui.events.attendance.recorded"] * DELEGATES
                                   + ["gonghui.events.ballot.closed"] * 2)
    closed = [json.loads(r.value) for r, t in zip(records, types, strict=True) if t.endswith("ballot.closed")]
    assert [c["tally"] for c in closed] == [{"yes": 4, "no": 3, "abstain": 1}] * 2
    for event in closed:
        assert not set(strings_in(event)) & set(d)
    # the stored result of a closed ballot is counts too
    final = get_db("events")["congress_ballots"].find_one({"_id": ObjectId(x)})
    assert final["result"]["tally"] == {"yes": 4, "no": 3, "abstain": 1} and not set(strings_in(final["result"])) & set(d)


def test_the_api_shows_no_counts_while_open_and_never_the_register(ev, cg):
    d, staff = cg["delegates"], cg["staff"]
    check_in(ev, cg, d)
    bid = ok(ev.post(f"/api/v1/congress-sessions/{cg['session']}/ballots", json={"kind": "motion", "title": "t"},
                     headers=staff), 201)["id"]
    ok(ev.post(f"/api/v1/ballots/{bid}/open", headers=staff))
    ok(vote(ev, cg, bid, d[0], choice="no"))
    for response in (ev.get(f"/api/v1/ballots/{bid}", headers=staff),
                     ev.get(f"/api/v1/ballots/{bid}", headers=cg["as"](d[0])),
                     ev.get(f"/api/v1/congress-sessions/{cg['session']}/ballots", headers=staff)):
        body = json.dumps(response.json)
        assert d[0] not in body and '"no"' not in body and "tally" not in body
    closed = ok(ev.post(f"/api/v1/ballots/{bid}/close", headers=staff))
    assert closed["result"]["tally"] == {"yes": 0, "no": 1, "abstain": 0} and d[0] not in json.dumps(closed)
