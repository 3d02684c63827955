"""The welfare service's read models seeded directly, as its worker would keep them from the members
topic, the welfare app fixtures (assign them in a test module: ``welfare_app, wf = seed.welfare_app, seed.wf``)
and bodies for its routes."""
from __future__ import annotations

import pytest
from bson import ObjectId

from shared.events.envelope import utcnow
from tests.helpers import seed_member_view, seed_org_views

YEAR = utcnow().year


@pytest.fixture
def welfare_app(settings_for):
    from services.welfare import create_app

    return create_app(settings_for("welfare"))


@pytest.fixture
def wf(welfare_app):
    return welfare_app.test_client()


def org_views(names=("fed", "a", "b")) -> dict:
    from services.welfare.documents import OrgView

    return seed_org_views(OrgView, names)


def member_view(org_path, **overrides) -> str:
    from services.welfare.documents import MemberView

    return seed_member_view(MemberView, org_path, **overrides)


def budget(wf, headers, org_id, budget_fen, category="assistance", year=YEAR) -> dict:
    response = wf.post("/api/v1/budgets", json={"org_id": org_id, "year": year, "category": category,
                                                 "budget_fen": budget_fen}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def apply(wf, headers, member_id=None, kind="living_subsidy", amount_fen=100_000, **extra) -> dict:
    body = {"kind": kind, "amount_fen": amount_fen, "reason": "家庭成员重病，收入骤减", **extra}
    if member_id:
        body["member_id"] = member_id
    response = wf.post("/api/v1/assistance", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def reviewed(wf, headers, member_id, **kwargs) -> dict:
    application = apply(wf, headers, member_id, **kwargs)
    response = wf.post(f"/api/v1/assistance/{application['id']}/review", json={}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


DETAILS = {"causes": ["illness", "schooling"], "household_size": 4, "income_per_head_fen": 52_000,
           "local_minimum_fen": 93_000, "health": "配偶尿毒症，每周透析三次", "circumstances": "独子在读高中，住房为租赁"}


def hardship_file(wf, headers, member_id, category="deep", details=None) -> dict:
    body = {"category": category, "details": details or DETAILS, **({"member_id": member_id} if member_id else {})}
    response = wf.post("/api/v1/hardship-files", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def end_notice(file_id: str) -> None:
    """The notice has run its days (moved into the past, as time would)."""
    from datetime import timedelta

    from services.welfare.documents import HardshipFile

    HardshipFile.objects(pk=ObjectId(file_id)).update_one(
        set__notice_closes_at=utcnow() - timedelta(seconds=1))


def file_on_notice(wf, staff, member_id) -> dict:
    f = hardship_file(wf, staff, member_id)
    assert wf.post(f"/api/v1/hardship-files/{f['id']}/visit", headers=staff, json={
        "visited_by": "王主席、李干事", "visited_on": utcnow().date().isoformat(),
        "findings": "家中仅有基本家具，药费单据齐全"}).status_code == 200
    opened = wf.post(f"/api/v1/hardship-files/{f['id']}/notice", headers=staff)
    assert opened.status_code == 200, opened.json
    return opened.json


def events_of(document, pk) -> list[tuple[str, dict]]:
    """The events a document has waiting for the relay, oldest first: (type without the prefix, data)."""
    from shared.events.outbox import pending_events

    return [(e.type.removeprefix("gonghui.welfare."), dict(e.data))
            for e in pending_events(document, ObjectId(pk) if isinstance(pk, str) else pk)]
