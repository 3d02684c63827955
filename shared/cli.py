"""``gonghui`` commands: token, run, worker, infra."""
from __future__ import annotations

import importlib
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import click

from . import auth
from .config import Settings


@click.group()
def cli():
    """gonghui: the trade-union federation platform."""


@cli.command()
@click.option("--org", "org", help="organisation id the token is bound to")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(auth.ROLES))
@click.option("--sub", default=None, help="subject (a member id for member tokens); defaults to the role")
@click.option("--hours", default=12, show_default=True, type=int, help="lifetime")
def token(org, roles, sub, hours):
    """Mint a bearer token signed with GONGHUI_JWT_SECRET."""
    secret = os.environ.get("GONGHUI_JWT_SECRET")
    if not secret:
        raise click.ClickException("GONGHUI_JWT_SECRET is not set")
    if org is None and "operator" not in roles:
        raise click.ClickException("--org is required for admin and member tokens")
    settings = Settings.from_env("cli")  # the services' issuer, audience and maximum lifetime
    if hours * 3600 > settings.jwt_max_ttl_seconds:
        raise click.ClickException(f"--hours: at most {settings.jwt_max_ttl_seconds / 3600:g} "
                                   "(GONGHUI_JWT_MAX_TTL_SECONDS); the services refuse longer-lived tokens")
    click.echo(auth.mint(secret, sub or f"{roles[0]}:{org or 'root'}", list(roles), org, timedelta(hours=hours),
                         issuer=settings.jwt_issuer, audience=settings.jwt_audience))


@cli.command()
@click.argument("service", type=click.Choice(["members", "events", "welfare", "notify"]))
def worker(service):
    """Run a service's worker: outbox relay and consumer."""
    from .worker import main

    main(service, importlib.import_module(f"services.{service}.worker").SPEC)


@cli.command()
def infra():
    """Fetch Kafka's jars and build FerretDB into the cache (idempotent)."""
    from .localinfra import ferretdb, kafka

    click.echo(f"kafka jars: {kafka.jars_dir()}")
    click.echo(f"ferretdb:   {ferretdb.binary()}")


def _int_env(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _worker_counts(values: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for value in values:
        service, _, count = value.partition("=")
        if service not in ("members", "events", "welfare", "notify") or not count.isdigit() or not 1 <= int(count) <= 6:
            raise click.BadParameter(f"{value!r}: expected SERVICE=N with N from 1 to 6 (topics have 6 partitions)")
        counts[service] = int(count)
    return counts


@cli.command()
@click.option("--no-seed", is_flag=True, help="do not create the demo federation")
@click.option("--workers", "workers", multiple=True, metavar="SERVICE=N",
              default=lambda: [v for v in os.environ.get("GONGHUI_WORKERS", "").split(",") if v],
              help="worker processes of a service, e.g. --workers notify=2 ($GONGHUI_WORKERS, comma-separated)")
@click.option("--web-workers", default=lambda: _int_env("GONGHUI_WEB_WORKERS", 2 * (os.cpu_count() or 1)),
              type=click.IntRange(1, 16), show_default="$GONGHUI_WEB_WORKERS or two per core",
              help="gunicorn workers per service")
def run(no_seed, workers, web_workers):
    """Run everything locally: Kafka, FerretDB and the four services."""
    from .localinfra.seed import seed_demo
    from .localinfra.stack import DEFAULT_PORTS, SERVICES, Stack

    data_dir = Path(os.environ.get("GONGHUI_DATA_DIR") or ".data").resolve()
    stack = Stack(
        data_dir=data_dir,
        kafka_port=_int_env("GONGHUI_KAFKA_PORT", 9092),
        controller_port=_int_env("GONGHUI_KAFKA_CONTROLLER_PORT", 9093),
        mongo_port=_int_env("GONGHUI_MONGO_PORT", 27017),
        ports={s: _int_env(f"GONGHUI_{s.upper()}_PORT", p) for s, p in DEFAULT_PORTS.items()},
        web_workers=web_workers,
        worker_counts=_worker_counts(tuple(workers)),
    )
    stopping = []

    def on_signal(*_):
        # Explicit, so Ctrl-C works even when the shell started us with SIGINT ignored.
        if not stopping:
            stopping.append(True)
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    try:
        click.echo(f"data directory: {data_dir}")
        stack.start_infra()
        click.echo(f"kafka on {stack.kafka.bootstrap}, ferretdb on {stack.ferret.url}")
        stack.start_services()
        env = stack.env()
        demo = None if no_seed else seed_demo(stack.url("members"), env["GONGHUI_JWT_SECRET"], data_dir)
        click.echo(f"\ngonghui is up in {time.monotonic() - started:.1f}s")
        for service in SERVICES:
            click.echo(f"  {service:8} {stack.url(service)}   (OpenAPI: {stack.url(service)}/api/v1/openapi.json)")
        if demo:
            click.echo(f"\ndemo federation {demo['federation_id']}, branch {demo['branch_id']}")
            click.echo(f"admin token (federation):\n{demo['admin_token']}\n")
        secret = f"json.load(open('{data_dir}/secrets.json'))['GONGHUI_JWT_SECRET']"
        click.echo(f"mint more: GONGHUI_JWT_SECRET=$(python -c \"import json;print({secret})\") "
                   ".venv/bin/gonghui token --org ORG --role admin")
        click.echo("Ctrl-C stops everything.")
        while True:
            for child in [*stack.webs.values(), *stack.workers.values()]:
                if not child.alive():
                    raise click.ClickException(f"{child.name} exited:\n{child.tail()}")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        click.echo("stopping ...")
        stack.stop()


@cli.group()
def members():
    """The members service."""


@members.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_id", required=True, help="organisation the roster belongs to")
@click.option("--url", default=lambda: os.environ.get("GONGHUI_MEMBERS_URL", "http://127.0.0.1:8001"),
              show_default="$GONGHUI_MEMBERS_URL or http://127.0.0.1:8001")
@click.option("--token", default=lambda: os.environ.get("GONGHUI_TOKEN"), help="bearer token ($GONGHUI_TOKEN)")
def import_roster(file, org_id, url, token):
    """Upload a roster (CSV or XLSX) and follow the import with a progress bar."""
    import requests
    from tqdm import tqdm

    if not token:
        raise click.ClickException("a token is needed: --token or GONGHUI_TOKEN (gonghui token --org ID --role admin)")
    headers = {"Authorization": f"Bearer {token}"}
    with open(file, "rb") as handle:
        response = requests.post(f"{url}/api/v1/imports", data={"org_id": org_id}, headers=headers, timeout=300,
                                 files={"file": (Path(file).name, handle)})
    if response.status_code != 202:
        raise click.ClickException(f"upload refused ({response.status_code}): {response.text}")
    job = response.json()
    with tqdm(desc="importing", unit="rows") as bar:
        while job["status"] in ("queued", "running"):
            time.sleep(0.5)
            job = requests.get(f"{url}/api/v1/imports/{job['id']}", headers=headers, timeout=30).json()
            bar.update(job["rows_done"] - bar.n)
    click.echo(f"{job['status']}: {job['imported']} imported, {job['already_registered']} already registered, "
               f"{job['error_count']} rows with errors")
    for error in job["errors"]:
        click.echo(f"  line {error['line']}: {error['field']}: {error['reason']}")
    if job["status"] != "done":
        raise click.ClickException(job.get("failure") or "the import failed")


@cli.command("rotate-keys")
@click.argument("service", type=click.Choice(["members", "welfare", "notify"]))
def rotate_keys(service):
    """Re-encrypt a service's personal data with the first of its GONGHUI_PII_KEYS.

    Rotation: put a new key first in GONGHUI_PII_KEYS (old ones after it; every key decrypts),
    restart the service, run this, then drop the old key. Safe to interrupt and run again."""
    from . import db
    from .pii import rotate_collection

    keys = importlib.import_module(f"services.{service}.keys")
    settings = Settings.from_env(service)
    db.connect(settings)
    vault = keys.pii_vault(settings)
    for document, fields in keys.ENCRYPTED:
        name = document._get_collection_name()
        done = rotate_collection(document._get_collection(), fields, vault,
                                 progress=lambda n, name=name: click.echo(f"\r{name}: {n:,} re-encrypted", nl=False))
        click.echo(f"\r{name}: {done:,} re-encrypted")


@cli.command("asyncapi")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-", show_default=True,
              help="file to write (- for standard output)")
def asyncapi(output):
    """Write the AsyncAPI 3.0 document of the platform's topics, generated from the event catalogue."""
    from services.contracts import asyncapi_json

    with click.open_file(output, "w", encoding="utf-8") as handle:
        handle.write(asyncapi_json())


if __name__ == "__main__":
    cli()
