"""Russian phone numbers: any usual spelling to E.164 (+79171234567)."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _

from kabinet.core.exceptions import DomainError


class PhoneInputError(DomainError):
    code = "invalid_phone"


_ALLOWED = re.compile(r"^[\d\s()+\-.]+$")


def normalize_phone(text: str) -> str:
    """'8 917 123-45-67', '+7 (917) 1234567', '79171234567', '9171234567' -> '+79171234567'.

    ``phonenumbers.parse`` accepts junk, so the result is checked with ``is_valid_number``.
    """
    raw = (text or "").strip()
    if not raw or not _ALLOWED.match(raw):
        raise PhoneInputError(_("Укажите номер телефона, например +7 917 123-45-67."))
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits[0] == "8" and not raw.startswith("+"):
        digits = "7" + digits[1:]
    if len(digits) == 10:
        digits = "7" + digits
    if len(digits) != 11 or digits[0] != "7":
        raise PhoneInputError(_("Номер телефона указан неверно: нужен российский номер из 10 цифр после +7."))
    try:
        parsed = phonenumbers.parse("+" + digits, "RU")
    except phonenumbers.NumberParseException as exc:
        raise PhoneInputError(_("Номер телефона указан неверно.")) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneInputError(_("Такого номера телефона не существует: проверьте цифры."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    return bool(text) and bool(_ALLOWED.match(text.strip())) and len(re.sub(r"\D", "", text)) >= 10


def format_phone(e164: str) -> str:
    """'+79171234567' -> '+7 917 123-45-67' for display."""
    if not e164 or len(e164) != 12:
        return e164 or ""
    d = e164[2:]
    return f"+7 {d[0:3]} {d[3:6]}-{d[6:8]}-{d[8:10]}"
