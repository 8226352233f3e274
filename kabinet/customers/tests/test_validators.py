from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kabinet.customers.validators import (
    is_valid_inn,
    is_valid_kpp,
    is_valid_ogrn,
    validate_inn,
    validate_kpp,
    validate_ogrn,
)

# Real published identifiers (Sberbank, Gazprom, Tattelecom, an individual entrepreneur).
VALID_INN = ["7707083893", "7736050003", "1681000024", "500100732259", "773370857141"]
VALID_OGRN = ["1027700132195", "1027700070518", "304500116000157", "313132804400022"]


@pytest.mark.parametrize("inn", VALID_INN)
def test_valid_inn(inn: str) -> None:
    assert is_valid_inn(inn) is True
    validate_inn(inn)


@pytest.mark.parametrize(
    "inn",
    [
        "7707083894",
        "500100732258",
        "500100732269",
        "770708389",
        "77070838931",
        "770708389X",
        "",
        "0000000001",
    ],
)
def test_invalid_inn(inn: str) -> None:
    assert is_valid_inn(inn) is False
    with pytest.raises(ValidationError):
        validate_inn(inn)


@pytest.mark.parametrize("ogrn", VALID_OGRN)
def test_valid_ogrn_and_ogrnip(ogrn: str) -> None:
    assert is_valid_ogrn(ogrn) is True
    validate_ogrn(ogrn)


@pytest.mark.parametrize(
    "ogrn", ["1027700132194", "304500116000158", "102770013219", "30450011600015", "abc"]
)
def test_invalid_ogrn(ogrn: str) -> None:
    assert is_valid_ogrn(ogrn) is False
    with pytest.raises(ValidationError):
        validate_ogrn(ogrn)


def test_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError) as length:
        validate_inn("123")
    with pytest.raises(ValidationError) as checksum:
        validate_inn("7707083894")
    assert length.value.code == "inn_format"
    assert checksum.value.code == "inn_checksum"


@pytest.mark.parametrize(
    ("kpp", "valid"), [("773601001", True), ("1655AB001", True), ("77360100", False), ("77360100a", False)]
)
def test_kpp_format(kpp: str, valid: bool) -> None:
    assert is_valid_kpp(kpp) is valid
    if not valid:
        with pytest.raises(ValidationError):
            validate_kpp(kpp)


@given(st.sampled_from(VALID_INN), st.integers(min_value=1, max_value=9))
def test_changing_the_last_digit_of_an_inn_breaks_the_checksum(inn: str, delta: int) -> None:
    broken = inn[:-1] + str((int(inn[-1]) + delta) % 10)
    assert is_valid_inn(broken) is False


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_ogrn_built_with_its_check_digit_is_valid(body: str) -> None:
    # given: a 12-digit body and the rule "remainder modulo 11, 10 written as 0"
    ogrn = body + str(int(body) % 11 % 10)
    # then
    assert is_valid_ogrn(ogrn) is True


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_inn10_built_with_its_check_digit_is_valid(body: str) -> None:
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10
    assert is_valid_inn(body + str(check)) is True
