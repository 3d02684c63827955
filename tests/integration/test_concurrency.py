"""Single-document writes are atomic under concurrent writers (as MongoDB
guarantees and the rules rely on), and parallel registrations stay correct."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from pymongo import MongoClient, ReturnDocument

from shared.localinfra.ferretdb import FerretDB
from shared.localinfra.process import free_port
from tests.helpers import member_body

pytestmark = pytest.mark.integration


def test_concurrent_increments_and_conditional_updates_are_atomic(infra, namespace):
    _race_increments_and_seats(MongoClient(infra.ferret.url, maxPoolSize=16)[f"{namespace}atomic"]["counters"])


def test_single_document_writes_are_atomic_on_the_sqlite_backend_too(tmp_path):
    ferret = FerretDB(tmp_path / "ferretdb", free_port(), backend="sqlite").start()
    try:
        with MongoClient(ferret.url, maxPoolSize=16) as client:
            _race_increments_and_seats(client["atomic"]["counters"])
    finally:
        ferret.stop()


def _race_increments_and_seats(collection) -> None:
    collection.insert_many([{"_id": "n", "v": 0}, {"_id": "seats", "left": 25}])
    values, wins = [], []

    def work():
        for _ in range(40):
            values.append(collection.find_one_and_update({"_id": "n"}, {"$inc": {"v": 1}},
                                                         return_document=ReturnDocument.AFTER)["v"])
            wins.append(collection.update_one({"_id": "seats", "left": {"$gt": 0}},
                                              {"$inc": {"left": -1}}).modified_count)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(values) == list(range(1, 241))  # no lost update, no duplicate value
    assert sum(wins) == 25 and collection.find_one({"_id": "seats"})["left"] == 0


def test_parallel_registrations_get_distinct_cards_and_one_wins_per_person(members_app, tree, bearer):
    headers = bearer("admin", tree["a"])

    def register(n):
        with members_app.test_client() as client:
            return client.post("/api/v1/members", json=member_body(tree["a"], n % 40), headers=headers)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(register, range(80)))  # every person twice, racing
    created = [r.json for r in responses if r.status_code == 201]
    assert sorted(r.status_code for r in responses) == [201] * 40 + [409] * 40
    assert len({m["card_no"] for m in created}) == 40


def test_racing_transfer_requests_and_approvals_each_have_one_winner(members_app, tree, bearer):
    admin_a = bearer("admin", tree["a"])
    client = members_app.test_client()
    member = client.post("/api/v1/members", json=member_body(tree["a"], 60), headers=admin_a).json["id"]
    applicant = client.post("/api/v1/applications", json=member_body(tree["a"], 61), headers=admin_a).json["id"]

    def request_transfer(_):
        with members_app.test_client() as c:
            return c.post("/api/v1/transfers", json={"member_id": member, "to_org_id": tree["b"]},
                          headers=admin_a).status_code

    def approve(_):
        with members_app.test_client() as c:
            return c.post(f"/api/v1/applications/{applicant}/approve", headers=admin_a)

    with ThreadPoolExecutor(8) as pool:
        transfer_codes = list(pool.map(request_transfer, range(8)))
        approvals = list(pool.map(approve, range(8)))
    assert sorted(transfer_codes) == [201] + [409] * 7
    winners = [r for r in approvals if r.status_code == 200]
    assert len(winners) == 1 and all(r.status_code in (409, 422) for r in approvals if r.status_code != 200)
    card = client.get(f"/api/v1/members/{applicant}", headers=admin_a).json["card_no"]
    assert card == winners[0].json["card_no"]


def test_card_numbers_reserved_a_block_at_a_time_are_never_handed_out_twice(members_app):
    from services.members import card_numbers
    from services.members.documents import Counter

    def counter():
        return Counter.objects.get(id=card_numbers.COUNTER).value

    first, second = card_numbers.CardSequence(3), card_numbers.CardSequence(3)  # two web processes
    taken = [first.next(), second.next(), first.next(), first.next(), first.next(), second.next()]
    assert taken == [1, 4, 2, 3, 7, 5]  # each in order within its block; one counter update per block
    assert counter() == 9
    first._owner = -1  # as in a forked copy of the first process: the block it holds is its parent's
    assert first.next() == 10  # not 8 or 9, which the parent may still hand out
    assert counter() == 12

    with ThreadPoolExecutor(8) as pool:  # threads of one process share its block
        shared = list(pool.map(lambda _: second.next(), range(60)))
    assert len(set(shared)) == 60 and set(shared).isdisjoint(taken + [10])
    assert counter() == 72  # 6, then 20 blocks of three: no thread reserved a block another one wasted
    assert card_numbers.CardSequence(0).next() == 73  # a block is at least one value
