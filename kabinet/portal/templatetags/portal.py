from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from kabinet.portal.services import form_token_new

register = template.Library()


@register.simple_tag
def form_token() -> SafeString:
    """A one-time token that makes a POST form safe against double submit."""
    return format_html('<input type="hidden" name="form_token" value="{}">', form_token_new())


@register.filter
def days_word(n: int | None) -> str:
    """Russian plural of «день»: 1 день, 2 дня, 5 дней."""
    if n is None:
        return ""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return "день"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "дня"
    return "дней"
