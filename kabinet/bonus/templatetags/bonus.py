from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import ngettext

from kabinet.bonus.selectors import bonus_balance_for_user
from kabinet.core.plurals import interface_is_russian, russian_plural

register = template.Library()


@register.inclusion_tag("bonus/_balance_card.html", takes_context=True)
def bonus_balance_card(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"balance": bonus_balance_for_user(user=user) if user is not None else None}


@register.filter
def points_word(n: int) -> str:
    """«балл» agreeing with n: 1 балл, 2 балла, 5 баллов (1 point, 2 points)."""
    if interface_is_russian():
        return russian_plural(int(n), "балл", "балла", "баллов")
    return ngettext("балл", "баллов", abs(int(n)))
