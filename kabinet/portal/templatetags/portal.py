from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kabinet.core.plurals import interface_is_russian, russian_plural
from kabinet.portal.services import form_token_new

register = template.Library()


@register.simple_tag
def form_token() -> SafeString:
    """A one-time token that makes a POST form safe against double submit."""
    return format_html('<input type="hidden" name="form_token" value="{}">', form_token_new())


@register.filter
def days_word(n: int | None) -> str:
    """«день» agreeing with n: 1 день, 2 дня, 5 дней (1 day, 2 days; 5 көн)."""
    if n is None:
        return ""
    if interface_is_russian():
        return russian_plural(int(n), "день", "дня", "дней")
    return ngettext("день", "дней", abs(int(n)))


_PARAM_FORMATS = {
    "speed_mbps": _("{} Мбит/с"),
    "data_gb": _("{} ГБ"),
    "minutes": _("{} мин"),
    "sms": _("{} SMS"),
    "channels": _("{} каналов"),
    "hd_channels": _("{} HD"),
    "cameras": _("{} камер"),
    "archive_days": _("архив {} дн."),
}


@register.filter
def tariff_params(params: dict | None) -> str:
    """A tariff's parameters in words: "100 Мбит/с", "10 ГБ · 300 мин"; unknown keys are skipped."""
    parts = [str(fmt).format(params[key]) for key, fmt in _PARAM_FORMATS.items() if params and key in params]
    return " · ".join(parts)
