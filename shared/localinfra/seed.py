"""A small demo federation for ``make run``, created once over HTTP."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import requests

from shared import auth


def seed_demo(members_url: str, secret: str, data_dir: Path) -> dict:
    marker = data_dir / "demo.json"
    if marker.exists():
        demo = json.loads(marker.read_text())
    else:
        operator = auth.mint(secret, "operator:seed", ["operator"], ttl=timedelta(minutes=10))
        headers = {"Authorization": f"Bearer {operator}"}

        def create(body):
            r = requests.post(f"{members_url}/api/v1/orgs", json=body, headers=headers, timeout=10)
            r.raise_for_status()
            return r.json()["id"]

        federation = create({"name": "示范市总工会", "kind": "federation"})
        industry = create({"name": "示范市教育工会", "kind": "industry", "parent_id": federation})
        branch = create({"name": "示范市第一中学工会", "kind": "grassroots", "parent_id": industry,
                         "credit_code": "12350100MB0000000U", "headcount": 180})
        create({"name": "语文教研组工会小组", "kind": "group", "parent_id": branch})
        demo = {"federation_id": federation, "branch_id": branch}
        marker.write_text(json.dumps(demo))
    demo["admin_token"] = auth.mint(secret, "admin:demo", ["admin"], demo["federation_id"], ttl=timedelta(hours=12))
    return demo
