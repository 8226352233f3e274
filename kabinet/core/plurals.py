"""Plural words after numbers. Source strings are Russian, whose three plural forms gettext cannot
derive from a two-form msgid, so Russian is chosen here and other languages go through ngettext."""

from __future__ import annotations

from django.utils.translation import get_language


def interface_is_russian() -> bool:
    return (get_language() or "ru").startswith("ru")


def russian_plural(n: int, one: str, few: str, many: str) -> str:
    """1 день, 2 дня, 5 дней; 21 день, 11 дней."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
