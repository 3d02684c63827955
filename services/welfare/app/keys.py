"""Sensitive details sealed at rest and opened for whoever may read them (JSON under the vault)."""
from __future__ import annotations

import json

from .. import keys
from .context import Context


def _vault(ctx: Context):
    if "vault" not in ctx.cache:
        ctx.cache["vault"] = keys.pii_vault(ctx.settings)
    return ctx.cache["vault"]


def seal(ctx: Context, value: dict) -> str:
    return _vault(ctx).encrypt(json.dumps(value, ensure_ascii=False))


def unseal(ctx: Context, token: str | None) -> dict | None:
    return json.loads(_vault(ctx).decrypt(token)) if token else None
