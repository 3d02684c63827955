"""Roster rows (会员名册) as branches hand them over: headers and values in
Chinese or English, validated row by row. Plain Python, no I/O.

Error messages name the field and the rule, never the cell's value: a roster is
full of ID numbers and phones, and a column put in the wrong place (an ID number
under 性别) must not copy them into the job's report, the API or the CLI."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .errors import DomainError
from .identity import normalise_id_number, validate_id_number, validate_phone
from .membership import EMPLOYMENT_TYPES, GENDERS

HEADERS = {
    "name": ("name", "姓名"),
    "gender": ("gender", "性别"),
    "id_number": ("id_number", "身份证号", "身份证号码", "公民身份号码"),
    "phone": ("phone", "手机号", "手机号码", "联系电话"),
    "employment_type": ("employment_type", "用工形式", "用工类型"),
    "job": ("job", "岗位", "职务"),
    "education": ("education", "学历"),
}
REQUIRED = ("name", "gender", "id_number", "phone", "employment_type")
# The most one roster file may hold. A roster is one organisation's membership: the largest employers'
# unions have tens of thousands of members, 200,000 rows (the benchmark's whole federation, about 13 MiB
# of CSV) leaves room above them, and bounds the work a single upload can ask of a worker. A larger roster
# is refused before any row is registered, to be split. Only the first 64 columns are read (a roster has
# 7 known columns; branches add 序号, 部门, 民族, 备注 ...).
MAX_ROWS = 200_000
MAX_COLUMNS = 64
GENDER_WORDS = {"男": "male", "女": "female", "male": "male", "female": "female"}
EMPLOYMENT_WORDS = {
    "正式": "permanent", "固定": "permanent", "合同": "contract", "合同制": "contract", "劳务派遣": "dispatched",
    "派遣": "dispatched", "农民工": "migrant", "返聘": "rehired", "临时": "temporary", "临时工": "temporary",
    "新就业形态": "gig", **{e: e for e in EMPLOYMENT_TYPES},
}
EMPLOYMENT_HINT = ("正式", "合同", "劳务派遣", "农民工", "返聘", "临时", "新就业形态")


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    gender: str
    id_number: str
    birth: date
    phone: str
    employment_type: str
    job: str | None
    education: str | None


def column_map(header: list[str]) -> dict[str, int]:
    """Which column holds which field; raises naming the missing columns."""
    found = {}
    cleaned = [str(h or "").strip().lower() for h in header]
    for field, names in HEADERS.items():
        for i, cell in enumerate(cleaned):
            if cell in names:
                found[field] = i
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        message = "missing columns: " + ", ".join(f"{f} ({HEADERS[f][1]})" for f in missing)
        if len(header) >= MAX_COLUMNS:
            message += f" (only the first {MAX_COLUMNS} columns are read)"
        raise DomainError("file", message)
    return found


def too_many_rows() -> DomainError:
    """A roster over MAX_ROWS: refused as a whole, to be split."""
    return DomainError("file", f"the roster has more than {MAX_ROWS:,} rows (not counting the header), the most "
                               f"one file may hold: split it into files of at most {MAX_ROWS:,} rows")


def parse_row(line: int, cells: list, columns: dict[str, int]) -> RosterRow:
    """One validated row, or a DomainError naming the field at fault."""
    def cell(field):
        i = columns.get(field)
        value = cells[i] if i is not None and i < len(cells) else None
        return str(value).strip() if value is not None else ""

    values = {f: cell(f) for f in HEADERS}
    for field in REQUIRED:
        if not values[field]:
            raise DomainError(field, "is empty")
    if len(values["name"]) > 100:
        raise DomainError("name", "is longer than 100 characters")
    gender = GENDER_WORDS.get(values["gender"].lower())
    if gender not in GENDERS:
        raise DomainError("gender", "is not 男/女 (male/female)")
    employment = EMPLOYMENT_WORDS.get(values["employment_type"].lower())
    if employment is None:
        raise DomainError("employment_type", "is not a known employment type (" + "/".join(EMPLOYMENT_HINT) + ")")
    id_number = normalise_id_number(values["id_number"])
    birth = validate_id_number(id_number)
    phone = validate_phone(values["phone"])
    return RosterRow(line=line, name=values["name"], gender=gender, id_number=id_number, birth=birth, phone=phone,
                     employment_type=employment, job=values["job"] or None, education=values["education"] or None)
