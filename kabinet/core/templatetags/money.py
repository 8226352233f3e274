from django import template

from kabinet.core.money import format_kopecks

register = template.Library()


@register.filter
def rub(kopecks: int | None) -> str:
    """Render integer kopecks as rubles: {{ balance_kopecks|rub }}."""
    if kopecks is None:
        return "—"
    return format_kopecks(int(kopecks))


@register.filter
def rub_signed(kopecks: int | None) -> str:
    if kopecks is None:
        return "—"
    return format_kopecks(int(kopecks), sign=True)
