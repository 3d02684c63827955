"""The local database engine (FerretDB patched to push filters, sorts and limits
down to PostgreSQL's indexes) must give MongoDB's answers, and must answer the
services' queries from indexes rather than by reading the collection.

The oracle is FerretDB's own evaluation in Go: an aggregation whose first
``$match`` is empty pushes nothing down, so its second ``$match``, ``$sort`` and
``$limit`` run over every document exactly as before the patch.
"""
from __future__ import annotations

import base64
import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from bson import Binary, Int64, ObjectId, Regex, Timestamp
from pymongo import ASCENDING, DESCENDING, MongoClient

pytestmark = pytest.mark.integration

OID = ObjectId("65a000000000000000000001")
WHEN = datetime(2024, 3, 1, tzinfo=timezone.utc)
WHEN_MS = int(WHEN.timestamp() * 1000)

# One value per document for the field "v": every BSON type the pushdown handles, their lookalikes in
# other types (a string with an ObjectId's hex, a number with a date's milliseconds), arrays, nulls
# and a missing field.
V_VALUES = [
    "a", "ab", "abc", "abd", "b", "B", "b中", "中文", "a.c", "a|x", "", " a",
    str(OID), OID, ObjectId("65a000000000000000000002"),
    5, 5.0, Int64(5), 7, -1, 2.5, Int64(2 ** 60),
    WHEN, WHEN + timedelta(days=1), WHEN_MS,
    True, False, None,
    Regex("^ab"), Regex("^ab", "i"), ["a", "x"], ["x", "y"], [OID, "a"], [5, "ab"], [WHEN], [Regex("^ab")], [],
    {"a": 1},
    "MISSING",
]

QUERIES = [
    {"v": "a"}, {"v": "ab"}, {"v": str(OID)}, {"v": OID}, {"v": 5}, {"v": 5.0}, {"v": WHEN},
    {"v": WHEN_MS}, {"v": True}, {"v": "中文"}, {"v": ""},
    {"v": {"$eq": "a"}}, {"v": {"$ne": "a"}}, {"v": {"$ne": 5}},
    {"v": {"$in": ["a", 5, OID]}}, {"v": {"$in": []}}, {"v": {"$in": ["zz"]}},
    {"v": {"$gt": "a"}}, {"v": {"$gte": "ab", "$lt": "b"}}, {"v": {"$lte": "ab"}},
    {"v": {"$gt": 2}}, {"v": {"$lt": 5}}, {"v": {"$gte": 5, "$lte": 5}},
    {"v": {"$gt": WHEN}}, {"v": {"$lte": WHEN}}, {"v": {"$gt": OID}},
    {"v": {"$exists": True}}, {"v": {"$exists": False}},
    {"v": {"$regex": "^a"}}, {"v": {"$regex": "^ab"}}, {"v": {"$regex": "^a.c"}}, {"v": {"$regex": r"^a\.c"}},
    {"v": {"$regex": r"^a\|x"}}, {"v": {"$regex": "^a|x"}}, {"v": {"$regex": "^ab?"}}, {"v": {"$regex": "^b中"}},
    {"v": {"$regex": "^A", "$options": "i"}}, {"v": {"$regex": Regex("^ab")}}, {"v": {"$regex": "b"}},
    {"$or": [{"v": "a"}, {"v": {"$gt": 6}}]}, {"$or": [{"v": "a"}, {"w": 1}]},
    {"$and": [{"v": {"$gte": "a"}}, {"v": {"$lt": "b"}}]},
    {"v": "a", "w": {"$exists": True}}, {"w": 1}, {"s": {"$gt": "k"}}, {"s": None},
    {"v": "a\x00b"}, {"v": {"$ne": "a\x00b"}}, {"v": {"$in": ["a\x00b", "a"]}}, {"v": {"$regex": "^a\x00"}},
    # a value that is not pushed down after some that are: the ones before take back their arguments
    {"v": {"$in": ["a", 5, None]}}, {"v": {"$in": ["a", OID, Regex("^ab")]}}, {"$or": [{"v": "a"}, {"v": None}]},
    {"$or": [{"v": "a"}, {"v": {"$in": [5, None]}}], "w": 1}, {"s": {"$in": ["k00", None]}, "v": "a"},
]

# every sort ends with _id: MongoDB leaves the order of equal keys open
SORTS = [None, [("s", ASCENDING), ("_id", ASCENDING)], [("s", DESCENDING), ("_id", DESCENDING)],
         [("s", ASCENDING), ("_id", DESCENDING)], [("v", ASCENDING), ("_id", ASCENDING)], [("_id", DESCENDING)]]


@contextmanager
def _filled(infra, database: str, indexes: list, docs: list):
    """A collection with these indexes and documents, dropped afterwards."""
    client = MongoClient(infra.ferret.url, tz_aware=True)
    coll = client[database]["things"]
    for index in indexes:
        coll.create_index(index)
    coll.insert_many(docs)
    try:
        yield coll
    finally:
        client.drop_database(database)
        client.close()


@pytest.fixture
def collection(infra, namespace):
    docs = []
    for i, value in enumerate(V_VALUES):
        doc = {"_id": ObjectId(f"{i + 1:024x}"), "w": i % 3}
        if value != "MISSING":
            doc["v"] = value
        if i % 5:
            doc["s"] = f"{'kmzabq'[i % 6]}{i:02d}"
        elif i % 10:
            doc["s"] = None
        docs.append(doc)
    with _filled(infra, namespace + "engine", [[("v", ASCENDING)], [("s", ASCENDING), ("_id", ASCENDING)]],
                 docs) as coll:
        yield coll


def _oracle(coll, query, sort, limit):
    stages = [{"$match": {}}, {"$match": query}]
    if sort:
        stages.append({"$sort": dict(sort)})
    if limit:
        stages.append({"$limit": limit})
    return list(coll.aggregate(stages))


def _ids(docs):
    return [d["_id"] for d in docs]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: json.dumps(q, default=str, ensure_ascii=False))
def test_filters_match_what_mongodb_semantics_give(collection, query):
    expected = sorted(_ids(_oracle(collection, query, None, None)))
    assert sorted(_ids(collection.find(query))) == expected


@pytest.mark.parametrize("sort", SORTS, ids=str)
@pytest.mark.parametrize("query", [{}, {"w": 1}, {"s": {"$gte": "k"}}, {"v": {"$exists": True}},
                                   {"$or": [{"s": {"$lt": "m"}}, {"s": "m10", "_id": {"$lt": OID}}]}], ids=str)
def test_sorted_limited_pages_are_the_same(collection, query, sort):
    for limit in (1, 3, 7, 100):
        expected = _ids(_oracle(collection, query, sort, limit))
        got = _ids(collection.find(query, sort=sort, limit=limit))
        if sort:
            assert got == expected, (query, sort, limit)
        else:
            assert len(got) == len(expected)


def test_skip_with_a_pushed_down_limit(collection):
    sort = [("s", ASCENDING), ("_id", ASCENDING)]
    everything = _ids(_oracle(collection, {"w": {"$in": [0, 1]}}, sort, None))
    assert _ids(collection.find({"w": {"$in": [0, 1]}}, sort=sort, skip=4, limit=5)) == everything[4:9]


def _plan(coll, query, sort=None, limit=0) -> str:
    command = {"find": coll.name, "filter": query, "limit": limit}
    if sort:
        command["sort"] = dict(sort)
    return json.dumps(coll.database.command("explain", command)["queryPlanner"])


@pytest.fixture
def big(infra, namespace):
    """5,000 members in 50 branches, with the indexes the members service declares."""
    client = MongoClient(infra.ferret.url, tz_aware=True)
    coll = client[namespace + "big"]["members"]
    coll.create_index([("org_path", ASCENDING)])
    coll.create_index([("card_no", ASCENDING)], unique=True, sparse=True)
    coll.create_index([("org_path", ASCENDING), ("joined_at", DESCENDING)])
    coll.create_index([("name", ASCENDING)])
    coll.insert_many([{"name": f"会员{i:05d}", "org_path": ["fed", f"b{i % 50}"], "card_no": f"GH{i:08d}",
                       "status": "active" if i % 7 else "left", "joined_at": WHEN + timedelta(minutes=i)}
                      for i in range(5000)])
    coll.database.command("explain", {"find": coll.name, "filter": {}})  # the collection exists
    yield coll
    client.drop_database(namespace + "big")
    client.close()


@pytest.mark.parametrize("query, sort", [
    ({"card_no": "GH00001234"}, None),
    ({"org_path": "b7", "status": "active"}, [("joined_at", DESCENDING), ("_id", DESCENDING)]),
    ({"name": {"$regex": "^会员012"}}, [("name", ASCENDING), ("_id", ASCENDING)]),
    ({"_id": {"$in": [ObjectId(), ObjectId()]}}, None),
])
def test_service_queries_are_answered_from_indexes(big, infra, query, sort):
    if infra.ferret.backend != "postgresql":
        pytest.skip(f"FerretDB runs on {infra.ferret.backend} here: PostgreSQL could not start (see the log)")
    infra.ferret.postgres.analyze()
    plan = _plan(big, query, sort, 21)
    assert "Index" in plan and "Seq Scan" not in plan, plan
    assert len(list(big.find(query, sort=sort, limit=21))) == len(_oracle(big, query, sort, 21))


def test_one_update_command_may_hold_more_statements_than_the_pool_has_connections(infra, namespace):
    """FerretDB kept each statement's query open until the command ended: 120 statements waited
    forever for the 51st connection."""
    from pymongo import UpdateOne

    client = MongoClient(infra.ferret.url, socketTimeoutMS=30_000)
    coll = client[namespace + "bulk"]["things"]
    coll.insert_many([{"_id": i, "n": 0} for i in range(120)])
    result = coll.bulk_write([UpdateOne({"_id": i}, {"$inc": {"n": 1}}) for i in range(120)], ordered=False)
    assert result.modified_count == 120
    client.drop_database(namespace + "bulk")
    client.close()


def test_a_unique_index_refuses_a_second_explicit_null(infra, namespace):
    from pymongo.errors import DuplicateKeyError

    client = MongoClient(infra.ferret.url)
    coll = client[namespace + "unique"]["things"]
    coll.create_index("u", unique=True)
    coll.insert_many([{"_id": 1, "u": None}, {"_id": 2}, {"_id": 3}])  # missing values do not conflict
    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"_id": 4, "u": None})
    client.drop_database(namespace + "unique")
    client.close()


def test_an_update_refused_by_a_unique_index_is_a_duplicate_key(infra, namespace):
    """FerretDB's PostgreSQL backend answered such an update with InternalError (code 1), so a service
    could not tell it from a crash (PATCH of a credit code already used answered 500)."""
    from pymongo.errors import DuplicateKeyError

    client = MongoClient(infra.ferret.url)
    coll = client[namespace + "unique"]["things"]
    coll.create_index("u", unique=True, sparse=True)
    coll.insert_many([{"_id": 1, "u": "a"}, {"_id": 2, "u": "b"}])
    with pytest.raises(DuplicateKeyError) as refused:
        coll.update_one({"_id": 2}, {"$set": {"u": "a"}})
    assert refused.value.code == 11000
    assert coll.find_one({"_id": 2})["u"] == "b"
    client.drop_database(namespace + "unique")
    client.close()


# (FerretDB refuses a string _id equal to an ObjectId's hex beside that ObjectId: both are the same JSON)
ID_VALUES = [OID, ObjectId("65a000000000000000000002"), 5, 5.0, Int64(7), 2.5, "x", "y", WHEN, {"k": 1},
             True, None, Binary(b"\x01\x02"), Timestamp(1700000000, 1)]
ID_QUERIES = [{}, {"_id": OID}, {"_id": str(OID)}, {"_id": 5}, {"_id": {"$in": [OID, 7, "x", "nope"]}},
              {"_id": {"$in": [OID, 7, None]}}, {"_id": None},
              {"_id": {"$gt": 4}}, {"_id": {"$ne": OID}}, {"_id": {"k": 1}}, {"_id": {"$exists": True}}]


@pytest.fixture
def by_id(infra, namespace):
    """Documents of every type an _id takes, with bodies that must not matter to reads of _id alone."""
    client = MongoClient(infra.ferret.url, tz_aware=True)
    coll = client[namespace + "ids"]["things"]
    coll.insert_many([{"_id": value, "body": "x" * 3000, "n": n} for n, value in enumerate(ID_VALUES)
                      if not (isinstance(value, float) and value == 5)])  # 5.0 is the _id 5 already
    yield coll
    client.drop_database(namespace + "ids")
    client.close()


@pytest.mark.parametrize("query", ID_QUERIES, ids=str)
def test_reads_of_ids_alone_give_what_reading_whole_documents_gives(by_id, query):
    """Finds that name only _id read only _id from PostgreSQL (the patch); the answer is the same,
    types included."""
    whole = [d["_id"] for d in _oracle(by_id, query, [("_id", ASCENDING)], None)]
    alone = [d["_id"] for d in by_id.find(query, {"_id": 1}, sort=[("_id", ASCENDING)])]
    assert [(type(v), v) for v in alone] == [(type(v), v) for v in whole]
    unsorted = list(by_id.find(query, {"_id": True}))
    assert all(list(d) == ["_id"] for d in unsorted)
    assert sorted(repr(d["_id"]) for d in unsorted) == sorted(repr(v) for v in whole)


@pytest.mark.parametrize("query", ID_QUERIES, ids=str)
def test_deletes_by_id_delete_exactly_what_the_filter_matches(by_id, query):
    expected = {str(d["_id"]) + type(d["_id"]).__name__ for d in _oracle(by_id, query, None, None)}
    assert by_id.delete_many(query).deleted_count == len(expected)
    left = {str(d["_id"]) + type(d["_id"]).__name__ for d in by_id.find()}
    assert not left & expected
    assert len(left) == len(ID_VALUES) - 1 - len(expected)


# (filter, projection, sort, comment): the first ones read only _id from PostgreSQL, the rest must not
READS_OF_IDS_ALONE = [
    ({}, {"_id": 1}, None, None), ({"_id": {"$in": [OID, 7, None]}}, {"_id": True}, [("_id", DESCENDING)], None),
    ({"_id": {"$gte": 5}}, {"_id": 1}, None, "a comment"),
]
READS_OF_MORE = [
    ({"n": 1}, {"_id": 1}, None, None), ({}, {"_id": 1}, [("n", DESCENDING)], None),
    ({"_id": {"$gte": 5}, "n": {"$gte": 3}}, {"_id": 1}, None, None), ({"_id": {"$gte": 5}}, {"_id": 0}, None, None),
    ({"_id": {"$gte": 5}}, None, None, None), ({}, {"_id": 1, "n": 1}, [("_id", ASCENDING)], None),
    ({"_id.k": 1}, {"_id": 1}, None, None),
]


def _projected(doc, projection):
    if projection is None:
        return doc
    if projection == {"_id": 0}:
        return {k: v for k, v in doc.items() if k != "_id"}
    return {k: v for k, v in doc.items() if k in projection}


@pytest.mark.parametrize("query, projection, sort, comment", READS_OF_IDS_ALONE + READS_OF_MORE, ids=str)
def test_only_finds_that_name_nothing_but_id_read_ids_alone(by_id, infra, query, projection, sort, comment):
    expected = [_projected(d, projection) for d in _oracle(by_id, query, sort, None)]
    found = list(by_id.find(query, projection, sort=sort, comment=comment))
    if sort is None:
        found, expected = sorted(found, key=repr), sorted(expected, key=repr)
    assert found == expected and all("body" in d for d in found) == (projection in (None, {"_id": 0}))
    if infra.ferret.backend == "postgresql":
        command = {"find": by_id.name, "filter": query, "projection": projection or {}}
        if sort:
            command["sort"] = dict(sort)
        plan = json.dumps(by_id.database.command("explain", command)["queryPlanner"])
        assert ("jsonb_build_object" in plan) == ((query, projection, sort, comment) in READS_OF_IDS_ALONE), plan


def test_a_delete_by_another_field_deletes_that_document_only(by_id):
    assert by_id.delete_many({"n": 4}).deleted_count == 1
    assert by_id.count_documents({"n": 4}) == 0 and by_id.count_documents({}) == len(ID_VALUES) - 2


# Position indexes: MongoDB's multikey compound index (org_path, status, -joined_at) read as one ordered
# range per array position, merged (see createPositionIndexes in the patch).
OID_B = ObjectId("65a0000000000000000000bb")
PATHS = [["f", "i1", "b1"], ["f", "i1", "b1", "g1"], ["f", "i2", "b2"], ["x", "b1"], ["b1", "y", "b1"], "b1",
         ["f", "i1", OID_B], ["f", "i1", str(OID_B)], ["f", OID_B, "z"], [5, "b1"], ["f", 5.0, Int64(5)],
         [WHEN, "b1"], [WHEN_MS, "b1"], [], None, "MISSING", [{"b": "b1"}, "b1"], ["f", "i1", "b1", True],
         # stored in JSON like a string (a pattern, base64) or like a number (a date, a timestamp)
         [Regex("b1"), "x"], ["f", Binary(base64.b64decode("b1b1"))], ["g", "b1b1"], [Timestamp(0, 5), "z"],
         [Timestamp(WHEN_MS >> 32, WHEN_MS & 0xFFFFFFFF), "z"]]
POSITION_QUERIES = [
    ({"p": "b1", "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1", "s": "a"}, [("t", ASCENDING), ("_id", ASCENDING)], True),
    ({"p": "b1", "s": "a", "t": {"$exists": True}}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1", "s": "a", "$or": [{"t": {"$lt": WHEN + timedelta(days=3)}},
                                   {"t": WHEN + timedelta(days=3), "_id": {"$lt": ObjectId(f"{40:024x}")}}]},
     [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1"}, [("s", ASCENDING), ("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1"}, [("s", ASCENDING), ("t", DESCENDING), ("_id", ASCENDING)], False),  # _id against the index
    ({"p": "b1", "n": {"$regex": "^n1"}}, [("n", ASCENDING), ("_id", ASCENDING)], True),
    ({"p": "b1"}, [("n", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "f", "s": "b"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": str(OID_B), "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": OID_B, "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": 5, "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": WHEN, "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": True, "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1", "s": "a", "w": 1}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1b1", "s": "a"}, [("t", DESCENDING), ("_id", DESCENDING)], True),
    ({"p": "b1", "w": 1}, [("t", DESCENDING), ("_id", DESCENDING)], False),  # w follows p in no index
]


@pytest.fixture
def paths(infra, namespace):
    """Documents whose field p is an array (an ancestors' path), a scalar, or missing; status-like s, a
    date t with ties and gaps, a name n."""
    docs = []
    for i in range(400):
        doc = {"_id": ObjectId(f"{i + 1:024x}"), "s": "ab"[i % 2 if i % 7 else 0], "w": i % 3, "n": f"n{i % 23}"}
        if PATHS[i % len(PATHS)] != "MISSING":
            doc["p"] = PATHS[i % len(PATHS)]
        if i % 11:
            doc["t"] = WHEN + timedelta(days=i % 6)
        elif i % 22:
            doc["t"] = None
        docs.append(doc)
    with _filled(infra, namespace + "paths", [[("p", ASCENDING), ("s", ASCENDING), ("t", DESCENDING)],
                                              [("p", ASCENDING), ("n", ASCENDING)]], docs) as coll:
        yield coll


@pytest.mark.parametrize("query, sort, merges", POSITION_QUERIES, ids=str)
def test_sorted_pages_of_an_array_field_holding_a_value_are_mongodbs(paths, infra, query, sort, merges):
    for limit, skip in ((1, 0), (5, 0), (17, 3), (1000, 0)):
        assert _ids(paths.find(query, sort=sort, skip=skip, limit=limit)) == \
            _ids(_oracle(paths, query, sort, skip + limit))[skip:], (limit, skip)
    if infra.ferret.backend == "postgresql":  # one limited range per position, merged
        assert bool(re.search(r'"Node Type": "(Merge )?Append"', _plan(paths, query, sort, 5))) == merges


def test_such_a_page_reads_one_ordered_range_per_position_until_an_array_is_too_long(paths, infra):
    if infra.ferret.backend != "postgresql":
        pytest.skip(f"FerretDB runs on {infra.ferret.backend} here: PostgreSQL could not start (see the log)")
    query, sort, _ = POSITION_QUERIES[0]
    assert "_p2" in _plan(paths, query, sort, 5)
    paths.insert_one({"_id": ObjectId(), "p": [*"abcdefgh", "b1"], "s": "a", "t": WHEN})
    assert "_p2" not in _plan(paths, query, sort, 5)
    assert _ids(paths.find(query, sort=sort, limit=50)) == _ids(_oracle(paths, query, sort, 50))


def test_dropping_the_index_drops_its_position_indexes(paths, infra):
    if infra.ferret.backend != "postgresql":
        pytest.skip(f"FerretDB runs on {infra.ferret.backend} here: PostgreSQL could not start (see the log)")
    schema = paths.database.name
    count = f"SELECT count(*) FROM pg_indexes WHERE schemaname = '{schema}' AND indexname ~ '_p[0-9]$'"
    assert int(infra.ferret.postgres.sql(count)) == 16
    paths.drop_index("p_1_s_1_t_-1")
    assert int(infra.ferret.postgres.sql(count)) == 8
    query, sort, _ = POSITION_QUERIES[0]
    assert _ids(paths.find(query, sort=sort, limit=5)) == _ids(_oracle(paths, query, sort, 5))


def test_an_index_made_before_position_indexes_gets_them_when_it_is_created_again(paths, infra):
    if infra.ferret.backend != "postgresql":
        pytest.skip(f"FerretDB runs on {infra.ferret.backend} here: PostgreSQL could not start (see the log)")
    schema = paths.database.name
    names = infra.ferret.postgres.sql(f"SELECT indexname FROM pg_indexes WHERE schemaname = '{schema}' "
                                      "AND indexname ~ '_(p[0-9]|long)$'").split()
    infra.ferret.postgres.sql("DROP INDEX " + ", ".join(f'"{schema}"."{name}"' for name in names))
    paths.create_index([("p", ASCENDING), ("s", ASCENDING), ("t", DESCENDING)])  # as a service starting does
    paths.create_index([("p", ASCENDING), ("n", ASCENDING)])
    again = infra.ferret.postgres.sql(f"SELECT indexname FROM pg_indexes WHERE schemaname = '{schema}' "
                                      "AND indexname ~ '_(p[0-9]|long)$'").split()
    assert sorted(again) == sorted(names) and len(names) == 18


def test_an_index_name_that_another_collection_has_too_is_created_once(infra, namespace):
    client = MongoClient(infra.ferret.url)
    db = client[namespace + "names"]
    for name in ("one", "two"):
        db[name].create_index([("status", ASCENDING), ("at", ASCENDING)])
    for _ in range(2):
        db["one"].create_index([("status", ASCENDING), ("at", ASCENDING)])
    assert [i["name"] for i in db["one"].list_indexes()] == ["_id_", "status_1_at_1"]
    client.drop_database(namespace + "names")
    client.close()
