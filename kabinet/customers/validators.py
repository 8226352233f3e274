"""Checksums of Russian organization identifiers: ИНН (tax number), КПП, ОГРН / ОГРНИП (state register).

ИНН of an organization has 10 digits (one check digit), of an individual entrepreneur 12 (two). ОГРН has
13 digits, ОГРНИП 15; the last digit is the remainder of the rest (as a number) modulo 11 or 13, and a
remainder of 10 is written as 0.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def is_valid_inn(value: str) -> bool:
    if not re.fullmatch(r"\d{10}|\d{12}", value or ""):
        return False
    if len(value) == 10:
        return _check_digit(value[:9], _INN10_WEIGHTS) == int(value[9])
    return _check_digit(value[:10], _INN12_WEIGHTS_1) == int(value[10]) and _check_digit(
        value[:11], _INN12_WEIGHTS_2
    ) == int(value[11])


def is_valid_ogrn(value: str) -> bool:
    """ОГРН (13 digits, modulo 11) or ОГРНИП (15 digits, modulo 13)."""
    if not re.fullmatch(r"\d{13}|\d{15}", value or ""):
        return False
    body, check = value[:-1], int(value[-1])
    modulus = 11 if len(value) == 13 else 13
    return int(body) % modulus % 10 == check


def is_valid_kpp(value: str) -> bool:
    # 4 digits of the tax office, 2 of the reason (digits or capital Latin letters), 3 digits of a number.
    return bool(re.fullmatch(r"\d{4}[\dA-Z]{2}\d{3}", value or ""))


def validate_inn(value: str) -> None:
    if not re.fullmatch(r"\d{10}|\d{12}", value or ""):
        raise ValidationError(_("ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."), code="inn_format")
    if not is_valid_inn(value):
        raise ValidationError(_("ИНН указан с ошибкой: не сходится контрольная цифра."), code="inn_checksum")


def validate_ogrn(value: str) -> None:
    if not re.fullmatch(r"\d{13}|\d{15}", value or ""):
        raise ValidationError(_("ОГРН состоит из 13 цифр, ОГРНИП — из 15 цифр."), code="ogrn_format")
    if not is_valid_ogrn(value):
        raise ValidationError(
            _("ОГРН указан с ошибкой: не сходится контрольная цифра."), code="ogrn_checksum"
        )


def validate_kpp(value: str) -> None:
    if not is_valid_kpp(value):
        raise ValidationError(_("КПП состоит из 9 знаков, например 165501001."), code="kpp_format")
