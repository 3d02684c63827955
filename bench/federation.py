"""A federation at real size, built the way users build one: organisations over
HTTP, members from roster files uploaded to the import API (and the CLI)."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.helpers import credit_code

from .load import Client

HEADER = ["姓名", "性别", "身份证号", "手机号", "用工形式", "岗位"]
EMPLOYMENT = ["农民工", "合同", "劳务派遣", "正式", "返聘", "临时", "新就业形态"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def id_number(k: int) -> str:
    """A valid GB 11643 number, distinct for every k below 10,000,000 (the sequence code and birth
    date vary; the region code is fixed)."""
    from services.members.domain import id_check_char

    day = k // 1000
    birth = f"19{60 + day // 336 % 40:02d}{1 + day // 28 % 12:02d}{1 + day % 28:02d}"
    first17 = f"110101{birth}{k % 1000:03d}"
    return first17 + id_check_char(first17)


def roster_csv(first: int, count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for k in range(first, first + count):
        writer.writerow([f"{SURNAMES[k % len(SURNAMES)]}职工{k}", "女" if k % 2 else "男", id_number(k),
                         f"13{k % 10}{k:08d}"[:11], EMPLOYMENT[k % len(EMPLOYMENT)], "操作工"])
    return out.getvalue().encode("utf-8")


@dataclass
class Federation:
    members_url: str
    operator: dict
    federation: str = ""
    industries: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)

    def create(self, body: dict) -> str:
        response = requests.post(f"{self.members_url}/api/v1/orgs", json=body, headers=self.operator, timeout=30)
        response.raise_for_status()
        return response.json()["id"]

    def build(self, industries: int, branches: int) -> "Federation":
        self.federation = self.create({"name": "示范市总工会", "kind": "federation"})
        self.industries = [self.create({"name": f"示范市第{i}产业工会", "kind": "industry",
                                        "parent_id": self.federation}) for i in range(industries)]
        with ThreadPoolExecutor(4) as pool:
            self.branches = list(pool.map(lambda b: self.create({
                "name": f"示范企业{b}工会", "kind": "grassroots", "parent_id": self.industries[b % industries],
                "credit_code": credit_code(b), "headcount": 100_000 if b < 2 else 400}), range(branches)))
        return self

    def upload(self, org_id: str, content: bytes, name: str = "roster.csv") -> tuple[str, float]:
        """POST the roster to the import API; returns (job id, seconds the upload took)."""
        started = time.perf_counter()
        response = requests.post(f"{self.members_url}/api/v1/imports", data={"org_id": org_id},
                                 files={"file": (name, content)}, headers=self.operator, timeout=300)
        if response.status_code != 202:
            raise RuntimeError(f"upload refused: {response.status_code} {response.text[:300]}")
        return response.json()["id"], time.perf_counter() - started

    def wait_imported(self, job_ids: list[str], timeout: float = 1800) -> list[dict]:
        client = Client(self.members_url, self.operator)
        deadline = time.monotonic() + timeout
        jobs = {}
        while time.monotonic() < deadline:
            for job_id in job_ids:
                if jobs.get(job_id, {}).get("status") in ("done", "failed"):
                    continue
                jobs[job_id] = client.request("GET", f"/api/v1/imports/{job_id}")[1]
            if all(job["status"] in ("done", "failed") for job in jobs.values()) and len(jobs) == len(job_ids):
                failed = [job for job in jobs.values() if job["status"] != "done" or job["error_count"]]
                if failed:
                    raise RuntimeError(f"imports failed: {failed[:2]}")
                return list(jobs.values())
            time.sleep(0.25)
        raise TimeoutError("imports did not finish")

    def import_with_cli(self, org_id: str, path: Path, token: str) -> float:
        """The documented path for staff: ``gonghui members import FILE --org ID``; seconds to done."""
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("gonghui")), "members", "import", str(path), "--org", org_id,
                        "--url", self.members_url, "--token", token], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - started
