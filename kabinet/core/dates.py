"""Month arithmetic of the billing calendar (monthly fees are charged in advance on the 1st)."""

from __future__ import annotations

import calendar
import datetime as dt


def days_in_month(day: dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=days_in_month(day))


def next_month_start(day: dt.date) -> dt.date:
    return month_end(day) + dt.timedelta(days=1)
