import io
import time
import zipfile

import pytest

from services.members import domain, imports
from services.members.domain.roster import MAX_COLUMNS, MAX_ROWS
from tests.helpers import id_number

pytestmark = pytest.mark.unit

HEADER = ["姓名", "性别", "身份证号", "手机号", "用工形式", "岗位"]


def test_chinese_and_english_headers_are_understood():
    assert domain.column_map(HEADER)["id_number"] == 2
    assert domain.column_map(["name", "gender", "id_number", "phone", "employment_type"])["phone"] == 3


def test_missing_columns_are_named():
    with pytest.raises(domain.DomainError) as err:
        domain.column_map(["姓名", "性别"])
    assert err.value.field == "file" and "id_number" in err.value.message and "手机号" in err.value.message


def test_a_good_row_in_chinese():
    row = domain.parse_row(2, ["张三", "男", id_number(1), "13800000001", "农民工", "焊工"], domain.column_map(HEADER))
    assert (row.gender, row.employment_type, row.job, row.line) == ("male", "migrant", "焊工", 2)


@pytest.mark.parametrize("cells,field", [
    (["", "男", id_number(1), "13800000001", "合同"], "name"),
    (["张三", "未知", id_number(1), "13800000001", "合同"], "gender"),
    (["张三", "男", "110101199001010010", "13800000001", "合同"], "id_number"),
    (["张三", "男", id_number(1), "1380000", "合同"], "phone"),
    (["张三", "男", id_number(1), "13800000001", "老板"], "employment_type"),
    (["张三", "男", id_number(1)], "phone"),
])
def test_bad_rows_name_their_field(cells, field):
    with pytest.raises(domain.DomainError) as err:
        domain.parse_row(7, cells, domain.column_map(HEADER))
    assert err.value.field == field


# --- personal data never in the error report ---------------------------------------------------------------

ID, PHONE = id_number(7), "13800000007"


@pytest.mark.parametrize("cells,field", [
    (["张三", "男", PHONE, ID, "合同"], "id_number"),  # ID number and phone swapped
    (["张三", ID, "男", PHONE, "合同"], "gender"),  # gender and ID number swapped
    (["张三", "男", ID, "合同", PHONE], "employment_type"),  # phone and employment type swapped
    (["张三", "男", ID, PHONE, PHONE], "employment_type"),
    (["张三", PHONE, ID, PHONE, "合同"], "gender"),
])
def test_error_messages_never_echo_a_cell(cells, field):
    with pytest.raises(domain.DomainError) as err:
        domain.parse_row(7, cells, domain.column_map(HEADER))
    assert err.value.field == field and err.value.message
    for value in (ID, PHONE, ID[:6], PHONE[-4:]):
        assert value not in err.value.message and value not in str(err.value)


# --- bounded reading of roster files (imports.read_rows) ---------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def handmade_xlsx(sheet_xml: str, shared_strings: bytes | None = None) -> bytes:
    """A workbook written part by part, as an attacker would: nothing openpyxl would not write checked."""
    strings_type = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.sharedStrings+xml"/>') if shared_strings else ""
    strings_rel = (f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                   if shared_strings else "")
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            f'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{strings_type}</Types>'),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
                        f'Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                            '<sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>{strings_rel}</Relationships>'),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_strings:
        parts["xl/sharedStrings.xml"] = shared_strings
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def sheet(rows: dict[int, list[str]], dimension: str | None = None) -> str:
    from openpyxl.utils import get_column_letter

    body = "".join(f'<row r="{r}">' + "".join(
        f'<c r="{get_column_letter(c)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
        for c, v in enumerate(cells, start=1) if v) + "</row>" for r, cells in sorted(rows.items()))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{dim}<sheetData>{body}</sheetData></worksheet>'


# 1.6 KB: the dimension claims every cell of a sheet, and there are cells in its first and last rows.
# openpyxl's read-only mode, trusting it, made 1,048,576 rows of 16,384 cells (about 20 minutes of CPU).
BOMB = handmade_xlsx(sheet({1: HEADER[:5], 1048576: ["x"]}, dimension="A1:XFD1048576"))


def read_all(content, file_format="xlsx"):
    return list(imports.read_rows(content, file_format))


def test_a_sheet_that_claims_a_million_rows_is_refused_in_a_moment():
    assert len(BOMB) < 2000
    started = time.monotonic()
    rows = imports.read_rows(BOMB, "xlsx")
    assert next(rows) == (1, HEADER[:5] + [""] * (MAX_COLUMNS - 5))
    with pytest.raises(domain.DomainError) as err:
        next(rows)  # no row after the header is ever made
    assert time.monotonic() - started < 5
    assert err.value.field == "file" and f"{MAX_ROWS:,} rows" in err.value.message


def test_only_the_first_columns_are_read_and_blank_rows_skipped():
    rows = read_all(handmade_xlsx(sheet({1: ["姓名"] + [""] * 98 + ["远处"], 3: ["张三"], 9: [""]},
                                        dimension="A1:XFD9")))
    assert [(line, len(cells)) for line, cells in rows] == [(1, MAX_COLUMNS), (3, MAX_COLUMNS)]
    assert "远处" not in rows[0][1]
    csv_rows = read_all(("姓名" + ",x" * 200 + "\n\n张三\n").encode(), "csv")
    assert [(line, len(cells)) for line, cells in csv_rows] == [(1, MAX_COLUMNS), (3, 1)]


def test_a_roster_over_the_row_limit_is_refused_before_its_first_row(monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    six = {r: [f"职工{r}"] for r in range(1, 8)}  # a header and six rows
    for content, file_format in ((handmade_xlsx(sheet(six)), "xlsx"),
                                 ("\n".join(f"职工{r}" for r in range(7)).encode(), "csv")):
        with pytest.raises(domain.DomainError) as err:
            next(imports.read_rows(content, file_format))  # refused before even the header
        assert err.value.field == "file" and "split it" in err.value.message
    # blank lines are not rows, and a sheet without <dimension> is read all the same
    assert len(read_all("\n\n".join(f"职工{r}" for r in range(6)).encode(), "csv")) == 6
    assert len(read_all(handmade_xlsx(sheet({r: [f"职工{r}"] for r in range(1, 7)})))) == 6


def test_the_real_row_limit_on_a_csv():
    content = ("姓名\n" + "x\n" * (MAX_ROWS + 1)).encode()
    with pytest.raises(domain.DomainError):
        next(imports.read_rows(content, "csv"))
    assert len(read_all(("姓名\n" + "x\n" * MAX_ROWS + "\n\n").encode(), "csv")) == MAX_ROWS + 1


def test_a_csv_row_of_millions_of_cells_is_refused_before_it_is_split():
    with pytest.raises(domain.DomainError) as err:
        read_all(("姓名\n张三" + "," * (8 * 2**20) + "\n").encode(), "csv")
    assert err.value.field == "file" and "line 2" in err.value.message
    with pytest.raises(domain.DomainError):  # one row spread over many lines inside quotes
        read_all(("姓名\n" + '"a\n",' * 200_000).encode(), "csv")


def test_a_shared_strings_bomb_is_refused_before_openpyxl_opens_it():
    strings = (f'<sst xmlns="{MAIN}">'.encode() + b"<si><t>a</t></si>" * 2_000_000 + b"</sst>")  # 34 MB, 1000:1
    bomb = handmade_xlsx(sheet({1: ["姓名"]}), shared_strings=strings)
    assert len(bomb) < 200_000
    with pytest.raises(domain.DomainError) as err:
        imports.inspect_xlsx(bomb)
    assert err.value.field == "file" and "sharedStrings.xml" in err.value.message and "200:1" in err.value.message
    with pytest.raises(domain.DomainError):
        read_all(bomb)


def test_a_workbook_that_unpacks_too_large_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED", 2**20)
    wide = handmade_xlsx(sheet({r: [f"{r:x}" * 40, id_number(r)] for r in range(1, 8000)}))
    with pytest.raises(domain.DomainError) as err:
        imports.inspect_xlsx(wide)
    assert "MAX_XLSX_UNPACKED" in err.value.message
    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED", 256 * 2**20)
    imports.inspect_xlsx(wide)
    for junk in (b"PK\x03\x04 not a zip", b"\x00" * 100):
        with pytest.raises(domain.DomainError) as err:
            imports.inspect_xlsx(junk)
        assert err.value.field == "file"
