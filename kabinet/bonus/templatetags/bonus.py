from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import ngettext

from kabinet.bonus.selectors import bonus_balance_for_user
from kabinet.core.plurals import interface_is_russian, russian_plural
from kabinet.core.reverse_cache import reverse_memo

register = template.Library()


def bonus_balance_card_context(*, user: Any) -> dict[str, Any]:
    """What ``bonus/_balance_card.html`` shows: a view may pass it (the dashboard does), or use the tag."""
    return {
        "balance": bonus_balance_for_user(user=user) if user is not None else None,
        "rules_url": reverse_memo("bonus:rules"),
    }


@register.inclusion_tag("bonus/_balance_card.html", takes_context=True)
def bonus_balance_card(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    return bonus_balance_card_context(user=getattr(request, "user", None))


@register.filter
def points_word(n: int) -> str:
    """«балл» agreeing with n: 1 балл, 2 балла, 5 баллов (1 point, 2 points)."""
    if interface_is_russian():
        return russian_plural(int(n), "балл", "балла", "баллов")
    return ngettext("балл", "баллов", abs(int(n)))
