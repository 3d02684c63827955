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
    click.echo(auth.mint(secret, sub or f"{roles[0]}:{org or 'root'}", list(roles), org, timedelta(hours=hours)))


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


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@cli.command()
@click.option("--no-seed", is_flag=True, help="do not create the demo federation")
def run(no_seed):
    """Run everything locally: Kafka, FerretDB and the four services."""
    from .localinfra.seed import seed_demo
    from .localinfra.stack import DEFAULT_PORTS, SERVICES, Stack

    data_dir = Path(os.environ.get("GONGHUI_DATA_DIR") or ".data").resolve()
    stack = Stack(
        data_dir=data_dir,
        kafka_port=_port("GONGHUI_KAFKA_PORT", 9092),
        controller_port=_port("GONGHUI_KAFKA_CONTROLLER_PORT", 9093),
        mongo_port=_port("GONGHUI_MONGO_PORT", 27017),
        ports={s: _port(f"GONGHUI_{s.upper()}_PORT", p) for s, p in DEFAULT_PORTS.items()},
    )
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
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
        click.echo(f"mint more: GONGHUI_JWT_SECRET=$(python -c \"import json;print(json.load(open('{data_dir}/secrets.json'))['GONGHUI_JWT_SECRET'])\") "
                   ".venv/bin/gonghui token --org ORG --role admin")
        click.echo("Ctrl-C stops everything.")
        while not stopping:
            for child in [*stack.webs.values(), *stack.workers.values()]:
                if not child.alive():
                    raise click.ClickException(f"{child.name} exited:\n{child.tail()}")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("stopping ...")
        stack.stop()


if __name__ == "__main__":
    cli()
