"""Money at the edges. Storage and arithmetic use integer kopecks; rubles appear only here.

Every conversion between user text / wire formats and kopecks goes through this module, so that
rounding and parsing rules live in one place.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kabinet.core.exceptions import DomainError

KOPECKS_PER_RUBLE = 100
_AMOUNT_RE = re.compile(r"^\s*(\d{1,12})(?:[.,](\d{1,2}))?\s*$")


class MoneyInputError(DomainError):
    code = "invalid_amount"


def rubles_to_kopecks(text: str | int | Decimal, *, whole_rubles: bool = False) -> int:
    """Parse a positive ruble amount typed by a person ("157", "157,50", "1 500") into kopecks.

    Refuses exponents, signs, more than two decimals and anything not a plain number; with
    ``whole_rubles`` refuses kopecks too (the operator's card payment rule).
    """
    if isinstance(text, int):
        if text <= 0:
            raise MoneyInputError(_("Сумма должна быть больше нуля."))
        return text * KOPECKS_PER_RUBLE
    if isinstance(text, Decimal):
        text = format(text, "f")
    cleaned = (text or "").replace("\u00a0", "").replace(" ", "").replace("₽", "")
    if cleaned == "":
        raise MoneyInputError(_("Укажите сумму."))
    if cleaned.startswith("-"):
        raise MoneyInputError(_("Сумма должна быть больше нуля."))
    match = _AMOUNT_RE.match(cleaned)
    if not match:
        raise MoneyInputError(_("Сумма указана неверно: введите число, например 157."))
    rubles, kopecks = match.group(1), (match.group(2) or "")
    kopecks_value = int(kopecks.ljust(2, "0")) if kopecks else 0
    if whole_rubles and kopecks_value:
        raise MoneyInputError(_("Сумма должна быть в целых рублях, без копеек (например, 157)."))
    total = int(rubles) * KOPECKS_PER_RUBLE + kopecks_value
    if total <= 0:
        raise MoneyInputError(_("Сумма должна быть больше нуля."))
    return total


def kopecks_to_decimal(kopecks: int) -> Decimal:
    """Kopecks to a Decimal of rubles with two places (for wire formats such as "157.00")."""
    return (Decimal(kopecks) / KOPECKS_PER_RUBLE).quantize(Decimal("0.01"))


def decimal_to_kopecks(value: str | Decimal) -> int:
    """A wire-format ruble amount ("157.00") to kopecks; refuses fractions of a kopeck."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise MoneyInputError(_("Сумма указана неверно.")) from exc
    kopecks = amount * KOPECKS_PER_RUBLE
    if kopecks != kopecks.to_integral_value():
        raise MoneyInputError(_("Сумма указана неверно."))
    return int(kopecks)


def format_kopecks(kopecks: int, *, sign: bool = False) -> str:
    """1234550 -> "12 345,50 ₽" (narrow no-break space between thousands, as Russian typography wants)."""
    negative = kopecks < 0
    rubles, rest = divmod(abs(kopecks), KOPECKS_PER_RUBLE)
    whole = f"{rubles:,}".replace(",", "\u202f")
    text = f"{whole},{rest:02d}\u00a0₽" if rest else f"{whole}\u00a0₽"
    if negative:
        return f"−{text}"
    if sign and kopecks > 0:
        return f"+{text}"
    return text
