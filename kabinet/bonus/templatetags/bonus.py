from __future__ import annotations

from typing import Any

from django import template

from kabinet.bonus.selectors import bonus_balance_for_user

register = template.Library()


@register.inclusion_tag("bonus/_balance_card.html", takes_context=True)
def bonus_balance_card(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"balance": bonus_balance_for_user(user=user) if user is not None else None}


@register.filter
def points_word(n: int) -> str:
    """Russian plural of «балл»: 1 балл, 2 балла, 5 баллов."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return "балл"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "балла"
    return "баллов"
