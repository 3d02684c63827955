from datetime import date

import pytest

from services.members import domain
from tests.helpers import id_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("number", ["11010519491231002X", "110101199003074477", "11010519491231002x"])
def test_valid_id_numbers_give_their_birth_date(number):
    assert isinstance(domain.validate_id_number(number), date)


@pytest.mark.parametrize("number,reason", [
    ("110105194912310021", "check digit"),
    ("11010519491231002", "18 characters"),
    ("1101051949123100ZX", "18 characters"),
    ("440524188001010014", "plausible"),       # born 1880
    (id_number(1, birth="19900230"), "real date"),
    (id_number(1, birth="20990101"), "plausible"),
])
def test_invalid_id_numbers_are_refused_naming_the_field(number, reason):
    with pytest.raises(domain.DomainError) as err:
        domain.validate_id_number(number, today=date(2026, 11, 22))
    assert err.value.field == "id_number"
    assert reason in err.value.message


def test_masks_keep_only_the_ends():
    assert domain.mask_id_number("11010519491231002X") == "**************002X"
    assert domain.mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("raw,clean", [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678")])
def test_mobile_numbers_are_normalised(raw, clean):
    assert domain.validate_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "02312345678", "abc"])
def test_bad_mobile_numbers_are_refused(raw):
    with pytest.raises(domain.DomainError) as err:
        domain.validate_phone(raw)
    assert err.value.field == "phone"


def test_only_a_federation_stands_at_the_root():
    domain.check_placement("federation", None)
    with pytest.raises(domain.DomainError) as err:
        domain.check_placement("grassroots", None)
    assert err.value.field == "parent_id"


@pytest.mark.parametrize("kind,parent", [("grassroots", "federation"), ("sub_union", "grassroots"),
                                         ("group", "sub_union"), ("industry", "federation")])
def test_allowed_placements(kind, parent):
    domain.check_placement(kind, parent)


@pytest.mark.parametrize("kind,parent", [("federation", "grassroots"), ("grassroots", "group"),
                                         ("group", "group"), ("industry", "grassroots")])
def test_refused_placements_name_the_kind(kind, parent):
    with pytest.raises(domain.DomainError) as err:
        domain.check_placement(kind, parent)
    assert err.value.field == "kind"


def test_members_belong_to_active_grassroots_level_organisations():
    domain.check_can_hold_members("grassroots", "active")
    domain.check_can_hold_members("group", "active")
    for kind, status in [("federation", "active"), ("industry", "active"), ("grassroots", "closed")]:
        with pytest.raises(domain.DomainError):
            domain.check_can_hold_members(kind, status)


def test_path_ends_with_the_organisation_itself():
    assert domain.org_path(None, "a") == ["a"]
    assert domain.org_path(["a", "b"], "c") == ["a", "b", "c"]


def test_card_numbers_are_fixed_width():
    assert domain.card_number(2026, 42) == "GH202600000042"
