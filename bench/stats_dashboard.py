"""Dashboard statistics for a federation of N members (default 200,000).

    .venv/bin/python bench/stats_dashboard.py [N]

Starts its own FerretDB, loads a federation (20 industry unions, 400
grassroots unions, N members) straight into the members database, rebuilds
the per-organisation counts as the worker does, and times GET /api/v1/stats
for the whole federation. Baseline in the same run: the same numbers computed
by scanning the members directly.
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bson import ObjectId

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.members import create_app, stats  # noqa: E402
from services.members.documents import Member, Organisation  # noqa: E402
from services.members.domain import EMPLOYMENT_TYPES  # noqa: E402
from shared import auth  # noqa: E402
from shared.config import Settings  # noqa: E402
from shared.localinfra.ferretdb import FerretDB  # noqa: E402
from shared.localinfra.process import free_port  # noqa: E402
from shared.pii import new_key  # noqa: E402
from tests.helpers import credit_code  # noqa: E402

SECRET = "bench-" + "s" * 40


def load(n: int) -> str:
    rng = random.Random(7)
    orgs = Organisation._get_collection()
    fed = ObjectId()
    docs = [{"_id": fed, "name": "市总工会", "kind": "federation", "path": [str(fed)], "status": "active", "version": 1}]
    branches = []
    for i in range(20):
        ind = ObjectId()
        docs.append({"_id": ind, "name": f"产业工会{i}", "kind": "industry", "parent_id": str(fed),
                     "path": [str(fed), str(ind)], "status": "active", "version": 1})
        for j in range(20):
            g = ObjectId()
            path = [str(fed), str(ind), str(g)]
            docs.append({"_id": g, "name": f"基层工会{i}-{j}", "kind": "grassroots", "parent_id": str(ind),
                         "path": path, "status": "active", "credit_code": credit_code(i * 100 + j),
                         "headcount": rng.randint(400, 800), "version": 1})
            branches.append((str(g), path))
    orgs.insert_many(docs)
    members = Member._get_collection()
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    batch = []
    for k in range(n):
        org_id, path = branches[k % len(branches)]
        status = "active" if k % 50 else "left"
        batch.append({"_id": ObjectId(), "name": f"职工{k}", "gender": "female" if k % 2 else "male",
                      "birth_date": datetime(1960 + k % 45, 1 + k % 12, 1, tzinfo=timezone.utc),
                      "id_number_fingerprint": f"fp{k}", "id_number_encrypted": "x", "id_number_masked": "x",
                      "phone_encrypted": "x", "phone_masked": "x", "org_id": org_id, "org_path": path,
                      "employment_type": EMPLOYMENT_TYPES[k % len(EMPLOYMENT_TYPES)], "status": status,
                      "card_no": f"GH2026{k:08d}", "joined_at": start + timedelta(days=k % 4000),
                      "left_at": start + timedelta(days=4000) if status == "left" else None, "version": 1})
        if len(batch) == 5000:
            members.insert_many(batch, ordered=False)
            batch = []
    if batch:
        members.insert_many(batch, ordered=False)
    return str(fed)


def naive(fed: str) -> dict:
    """The baseline: count by scanning every member of the subtree."""
    by = Counter()
    for raw in Member._get_collection().find({"org_path": fed}, {"status": 1, "gender": 1, "employment_type": 1,
                                                                  "birth_date": 1, "joined_at": 1}):
        by[("status", raw["status"])] += 1
        by[("gender", raw["gender"])] += 1
        by[("employment", raw["employment_type"])] += 1
    return by


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ferret = FerretDB(Path(tmp) / "ferretdb", free_port()).start()
        try:
            settings = Settings(service="members", mongo_url=ferret.url, jwt_secret=SECRET, pii_key=new_key(),
                                kafka_bootstrap="127.0.0.1:9", log_level="WARNING")
            client = create_app(settings).test_client()
            t = time.perf_counter()
            fed = load(n)
            print(f"loaded {n} members into FerretDB:                 {time.perf_counter() - t:8.1f} s")
            t = time.perf_counter()
            stats.refresh()
            print(f"worker rebuild of per-organisation counts:   {time.perf_counter() - t:8.1f} s")
            headers = {"Authorization": "Bearer " + auth.mint(SECRET, "op", ["operator"])}
            timings = []
            for _ in range(20):
                t = time.perf_counter()
                body = client.get(f"/api/v1/stats?org_id={fed}&from=2020-01&to=2025-12", headers=headers).json
                timings.append(time.perf_counter() - t)
            assert body["members"] == sum(1 for k in range(n) if k % 50), body["members"]
            p50, p95 = statistics.median(timings), sorted(timings)[int(len(timings) * 0.95) - 1]
            print(f"GET /api/v1/stats, whole federation:         p50 {p50 * 1000:6.0f} ms, p95 {p95 * 1000:6.0f} ms")
            t = time.perf_counter()
            naive(fed)
            base = time.perf_counter() - t
            print(f"baseline, scanning the members per call:         {base * 1000:6.0f} ms")
            print(f"ratio baseline / dashboard call (p50):           {base / p50:6.1f}x")
        finally:
            ferret.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
