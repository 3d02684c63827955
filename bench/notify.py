"""notify at the size of a big announcement (issue 10): one grassroots union of 10,000 members, a fifth of
whom gave an email address and chose email for announcements (quiet hours off); staff post one
announcement and the bench measures the time to the last of the 10,000 inbox messages and to the last
email the SMTP server received (each chosen member exactly one), beside raw pymongo inserting 10,000
inbox messages in batches of 1,000.

Part of ``python -m bench``; alone, for a quick look (FerretDB, Kafka, members and notify only):

    python -m bench.notify                # 10,000 members, 20 % by email
    python -m bench.notify --members 2000
"""
from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone

from bson import ObjectId
from pymongo import MongoClient

from shared import auth

from .federation import Federation, roster_csv
from .load import Client, Run, closed_loop, in_parallel

ORG_CREDIT = 900_000  # the announcement's union gets a credit code no federation union uses
FIRST = 7_000_000  # its roster's ID numbers: past every other roster and registration of the suite


def smtp_env(port: int) -> dict:
    """What notify needs to send email to a local SMTP server (plain, no credentials)."""
    return {"GONGHUI_SMTP_HOST": "127.0.0.1", "GONGHUI_SMTP_PORT": str(port), "GONGHUI_SMTP_TLS": "none"}


def timed_mailbox():
    """tests/receivers.py's Mailbox (aiosmtpd) that also notes when each mail arrived (time.time())."""
    from tests.receivers import Mailbox

    box = Mailbox()
    box.arrived = []

    def on_receive(count):
        box.arrived.append(time.time())

    box.on_receive = on_receive
    return box


def raw_inbox_inserts(mongo_url: str, n: int = 10_000, batch: int = 1000) -> float:
    """Baseline: raw pymongo inserting ``n`` documents of an announcement's inbox message's shape (with the
    inbox's indexes, dedupe key unique) in batches of ``batch``, into a scratch database; documents/s."""
    client = MongoClient(mongo_url)
    db = client[f"bench_rawinbox_{uuid.uuid4().hex[:8]}"]
    db.inbox_messages.create_index("dedupe_key", unique=True)
    db.inbox_messages.create_index([("member_id", 1), ("_id", -1)])
    db.inbox_messages.create_index([("member_id", 1), ("read_at", 1)])
    db.inbox_messages.create_index([("org_id", 1), ("_id", -1)])
    announcement_id, org_path = str(ObjectId()), [str(ObjectId()), str(ObjectId()), str(ObjectId())]
    body = "本季度厂务公开：" + "生产经营、劳动保护与职工福利情况说明。" * 10
    try:
        started = time.perf_counter()
        for first in range(0, n, batch):
            now = datetime.now(timezone.utc)
            docs = []
            for k in range(first, min(n, first + batch)):
                member_id = f"{k:024x}"
                docs.append({"_id": ObjectId(), "outbox": [], "dedupe_key": f"announcement|{announcement_id}|"
                             f"{member_id}|inbox", "member_id": member_id, "org_path": org_path,
                             "category": "announcements", "title": "厂务公开", "body": body, "created_at": now,
                             "announcement_id": announcement_id})
            db.inbox_messages.insert_many(docs, ordered=False)
        return n / (time.perf_counter() - started)
    finally:
        client.drop_database(db.name)
        client.close()


def build_union(fed: Federation, parent_id: str, members: int, first: int = FIRST) -> tuple[str, float]:
    """A grassroots union under ``parent_id`` with ``members`` members from one roster over HTTP;
    (its id, seconds the upload and import took)."""
    union = fed.create({"name": "公告示范企业工会", "kind": "grassroots", "parent_id": parent_id,
                        "credit_code": _credit_code(ORG_CREDIT), "headcount": members + 2000})
    started = time.perf_counter()
    job, _ = fed.upload(union, roster_csv(first, members), name="announcement-roster.csv")
    fed.wait_imported([job])
    return union, time.perf_counter() - started


def _credit_code(n: int) -> str:
    from tests.helpers import credit_code

    return credit_code(n)


def _wait(what: str, check, timeout: float, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(every)


def choose_email(stack, secret: str, union: str, chosen: list[str], threads: int = 16) -> tuple[Run, Run]:
    """The way users do it: staff give each chosen member an email (PATCH in members), then each member
    switches email on for announcements with quiet hours off (PUT its preferences in notify, with its own
    token). Returns the two runs."""
    staff = {"Authorization": "Bearer " + auth.mint(secret, "admin:bench", ["admin"], union, ttl=timedelta(hours=2))}

    def patch_email(i):
        return "PATCH", f"/api/v1/members/{chosen[i]}", {"email": email_of(chosen[i])}

    patched = closed_loop(stack.url("members"), staff, threads, len(chosen), patch_email)
    tokens = ["Bearer " + auth.mint(secret, m, ["member"], union, ttl=timedelta(hours=2)) for m in chosen]

    def make_worker():
        client = Client(stack.url("notify"), {})

        def call(i):
            client.headers = {"Authorization": tokens[i]}
            started = time.perf_counter()
            status, _ = client.request("PUT", f"/api/v1/preferences/{chosen[i]}", {
                "channels": {"announcements": {"email": True}}, "quiet_start": "00:00", "quiet_end": "00:00"})
            return time.perf_counter() - started, status != 200
        return call

    chose = in_parallel(threads, len(chosen), make_worker)
    return patched, chose


def email_of(member_id: str) -> str:
    return f"m{member_id}@bench.example"


def announcement(stack, ferret, secret: str, operator: dict, mailbox, parent_id: str, members: int = 10_000,
                 email_share: float = 0.2, log=print) -> list[dict]:
    """The whole measurement; returns the report's rows (Row's fields)."""
    mongo = MongoClient(ferret.url, tz_aware=True)
    members_db, notify_db = mongo["gonghui_members"], mongo["gonghui_notify"]
    fed = Federation(stack.url("members"), operator)
    log(f"announcement: a union of {members:,} members (roster over HTTP) ...")
    union, import_s = build_union(fed, parent_id, members)
    ids = sorted(str(m["_id"]) for m in members_db.members.find({"org_path": union}, {"_id": 1}))
    assert len(ids) == members, f"{len(ids)} members imported, {members} expected"
    _wait("notify's recipients of the union", lambda: notify_db.recipients.count_documents(
        {"org_path": union, "status": "active"}) >= members, 900, 1)
    _wait("notify's copy of the union", lambda: notify_db.org_views.count_documents({"_id": union}) == 1, 120)
    every = max(1, round(1 / email_share)) if email_share else 0
    chosen = ids[::every] if every else []
    log(f"announcement: {len(chosen):,} members get an email and choose it for announcements ...")
    started = time.perf_counter()
    patched, chose = choose_email(stack, secret, union, chosen)
    if patched.errors or chose.errors:
        raise RuntimeError(f"choosing email: {patched.errors} PATCH and {chose.errors} PUT errors")
    _wait("notify's contacts with an email", lambda: notify_db.contacts.count_documents(
        {"_id": {"$in": chosen}, "email_encrypted": {"$exists": True, "$ne": None}}) >= len(chosen), 600, 1)
    setup_s = time.perf_counter() - started
    log(f"announcement: set up in {import_s:.0f} s import + {setup_s:.0f} s email and preferences "
        f"(PATCH {patched.rate:,.0f}/s, PUT {chose.rate:,.0f}/s, 16 clients each); posting ...")

    # --- the announcement ------------------------------------------------------------------------------
    with mailbox.lock:
        mailbox.received.clear()
        mailbox.kept.clear()
        mailbox.arrived.clear()
    staff = Client(stack.url("notify"), {"Authorization": "Bearer " + auth.mint(
        secret, "admin:bench", ["admin"], union, ttl=timedelta(hours=1))})
    posted_wall, posted = time.time(), time.perf_counter()
    status, created = staff.request("POST", "/api/v1/announcements", {
        "org_id": union, "kind": "factory_affairs", "title": "2026年第四季度厂务公开",
        "body": "本季度厂务公开：" + "生产经营、劳动保护与职工福利情况说明。" * 10})
    if status != 201:
        raise RuntimeError(f"announcement refused: {status} {created}")
    announcement_id = created["id"]
    inbox_done = email_done = None
    deadline = posted + 900
    while (inbox_done is None or email_done is None) and time.perf_counter() < deadline:
        # the announcement's own counter is cheap to read; the messages are counted once it says all
        if inbox_done is None and (staff.request("GET", f"/api/v1/announcements/{announcement_id}")[1] or {}).get(
                "recipients", 0) >= members and notify_db.inbox_messages.count_documents(
                {"announcement_id": announcement_id}) >= members:
            inbox_done = time.perf_counter()
        if email_done is None and len(mailbox.received) >= len(chosen):
            email_done = time.perf_counter()
        time.sleep(0.5)
    time.sleep(5)  # any repeat would come now
    in_inbox = notify_db.inbox_messages.count_documents({"announcement_id": announcement_id})
    last = notify_db.inbox_messages.find({"announcement_id": announcement_id}, {"created_at": 1}) \
        .sort("created_at", -1).limit(1)
    last_message = next(iter(last), None)
    inbox_s = last_message["created_at"].timestamp() - posted_wall if last_message else float("inf")
    with mailbox.lock:
        received, arrived = list(mailbox.received), list(mailbox.arrived)
    per_address: dict[str, int] = {}
    for mail in received:
        address = mail["To"].addresses[0].addr_spec
        per_address[address] = per_address.get(address, 0) + 1
    wanted = {email_of(m) for m in chosen}
    missing = len(wanted - set(per_address))
    extra = sum(1 for a in per_address if a not in wanted)
    repeated = sum(1 for a, c in per_address.items() if a in wanted and c > 1)
    email_s = (max(arrived) - posted_wall) if arrived else float("inf")
    first_email_s = (min(arrived) - posted_wall) if arrived else float("inf")
    deliveries: dict[str, int] = {}  # channel:status -> how many (FerretDB's $group has no $concat)
    for row in notify_db.deliveries.find({"event_id": f"announcement:{announcement_id}"}, {"channel": 1, "status": 1}):
        key = f"{row['channel']}:{row['status']}"
        deliveries[key] = deliveries.get(key, 0) + 1
    _, shown = staff.request("GET", f"/api/v1/announcements/{announcement_id}")
    log(f"announcement: {in_inbox:,} in inboxes (announcement says {shown.get('recipients')}, {shown.get('status')}); "
        f"{len(received):,} emails received; deliveries {deliveries}; polled done at "
        f"{(inbox_done or float('nan')) - posted:.1f} s (inbox), {(email_done or float('nan')) - posted:.1f} s (email)")
    mongo.close()

    raw = raw_inbox_inserts(ferret.url, members)
    inbox_rate = members / inbox_s
    all_in = in_inbox == members and shown.get("recipients") == members
    emails_ok = not missing and not extra and not repeated and len(received) == len(chosen)
    return [
        {"what": f"announcement to a union of {members:,} members: POST to the last inbox message",
         "figure": f"{inbox_s:.1f} s ({inbox_rate:,.0f} messages/s); {in_inbox:,} delivered",
         "baseline": f"raw pymongo, {members:,} inbox documents in batches of 1,000: {raw:,.0f}/s",
         "ratio": f"{inbox_rate / raw:.2f}× raw", "goal": f"all {members:,} within 60 s",
         "met": all_in and inbox_s <= 60},
        {"what": f"the same announcement by email to the {len(chosen):,} members who chose it "
                 "(SMTP to a local aiosmtpd, 8 sending threads)",
         "figure": f"last email {email_s:.1f} s after the POST ({len(received) / email_s:,.0f} emails/s; the first "
                   f"at {first_email_s:.1f} s, {len(received) / max(email_s - first_email_s, 1e-3):,.0f}/s from then); "
                   f"{len(received):,} received, {len(wanted) - missing:,} members reached"
                   + (f", {missing} missing" if missing else "") + (f", {repeated} twice" if repeated else "")
                   + (f", {extra} to members who did not choose email" if extra else ""),
         "goal": "every chosen member exactly one", "met": emails_ok},
    ]


def main() -> None:
    import tempfile
    from pathlib import Path

    from shared.localinfra.ferretdb import FerretDB
    from shared.localinfra.kafka import KafkaNode
    from shared.localinfra.process import free_port
    from shared.localinfra.stack import SERVICES, Stack

    from .__main__ import Report, Row, _keep_logs

    parser = argparse.ArgumentParser(prog="python -m bench.notify")
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--email-share", type=float, default=0.2)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    report = Report()
    mailbox = timed_mailbox().start()
    with tempfile.TemporaryDirectory(prefix="gonghui-bench-notify-") as tmp:
        data = Path(tmp)
        ferret = kafka = stack = None
        try:
            ferret = FerretDB(data / "ferretdb", free_port()).start()
            kafka = KafkaNode(data / "kafka", free_port(), free_port()).start()
            stack = Stack(data_dir=data / "stack", kafka_port=kafka.port, mongo_port=ferret.port,
                          ports={s: free_port() for s in SERVICES}, web_workers=args.web_workers,
                          extra_env={"GONGHUI_LOG_LEVEL": "WARNING", **smtp_env(mailbox.port)})
            stack.start_services(services=("members", "notify"))
            secret = stack.env()["GONGHUI_JWT_SECRET"]
            operator = {"Authorization": "Bearer " + auth.mint(secret, "op", ["operator"], ttl=timedelta(hours=2))}
            fed = Federation(stack.url("members"), operator)
            federation = fed.create({"name": "示范市总工会", "kind": "federation"})
            industry = fed.create({"name": "示范市第一产业工会", "kind": "industry", "parent_id": federation})
            for row in announcement(stack, ferret, secret, operator, mailbox, industry, args.members,
                                    args.email_share, log=lambda text: print(text, flush=True)):
                report.add(Row(**row))
        finally:
            for thing in (stack, kafka, ferret):
                if thing is not None:
                    thing.stop()
            mailbox.stop()
            _keep_logs(data)
    print("\n" + report.markdown(f"`python -m bench.notify` on {datetime.now(timezone.utc):%Y-%m-%d}, "
                                 f"{args.members:,} members, {args.email_share:.0%} by email"))


if __name__ == "__main__":
    main()
