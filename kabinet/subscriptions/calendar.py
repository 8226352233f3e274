"""Billing-calendar arithmetic shared by the subscription services: months, proration, Russian dates.

Proration rule (the same one the billing run uses, see docs/billing.md and docs/services.md): a
monthly fee for ``days`` days of a month with ``days_in_month`` days is ``price * days / days_in_month``
rounded down to a whole kopeck.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from kabinet.core.dates import days_in_month, month_end, next_month_start

__all__ = ["days_in_month", "month_end", "next_month_start"]  # re-exported: month arithmetic lives in core

_MONTHS_GENITIVE = [
    _("января"),
    _("февраля"),
    _("марта"),
    _("апреля"),
    _("мая"),
    _("июня"),
    _("июля"),
    _("августа"),
    _("сентября"),
    _("октября"),
    _("ноября"),
    _("декабря"),
]
_MONTHS_NOMINATIVE = [
    _("январь"),
    _("февраль"),
    _("март"),
    _("апрель"),
    _("май"),
    _("июнь"),
    _("июль"),
    _("август"),
    _("сентябрь"),
    _("октябрь"),
    _("ноябрь"),
    _("декабрь"),
]


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def prorate_kopecks(*, price_kopecks: int, days: int, days_in_month: int) -> int:
    """``price * days / days_in_month`` rounded down, in integer arithmetic (the billing run's rule)."""
    if days <= 0:
        return 0
    if days >= days_in_month:
        return price_kopecks
    return price_kopecks * days // days_in_month


def days_to_month_end(day: dt.date) -> int:
    """Days from ``day`` to the end of its month, both inclusive."""
    return days_in_month(day) - day.day + 1


def date_words(day: dt.date, *, today: dt.date | None = None) -> str:
    """«12 декабря» (the year only when it is not the current one: «12 января 2027 г.»)."""
    text = f"{day.day} {_MONTHS_GENITIVE[day.month - 1]}"
    if today is not None and day.year != today.year:
        text += f" {day.year} г."
    return text


def month_words(day: dt.date) -> str:
    """«ноябрь 2026»."""
    return f"{_MONTHS_NOMINATIVE[day.month - 1]} {day.year}"
