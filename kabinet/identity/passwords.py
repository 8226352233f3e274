"""Password rules of the operator: Latin letters of both cases and a digit."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class LatinMixedCaseDigitValidator:
    def validate(self, password: str, user: Any = None) -> None:
        missing = []
        if not re.search(r"[a-z]", password):
            missing.append(_("строчную латинскую букву"))
        if not re.search(r"[A-Z]", password):
            missing.append(_("заглавную латинскую букву"))
        if not re.search(r"\d", password):
            missing.append(_("цифру"))
        if re.search(r"[А-Яа-яЁё]", password):
            raise ValidationError(
                _("Пароль должен состоять из латинских букв и цифр, без русских букв."),
                code="password_cyrillic",
            )
        if missing:
            raise ValidationError(
                _("Добавьте в пароль: %(missing)s.") % {"missing": ", ".join(missing)},
                code="password_weak",
            )

    def get_help_text(self) -> str:
        return _("Не короче 8 символов: латинские заглавные и строчные буквы и хотя бы одна цифра.")
