import pytest

from services.members import domain
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
