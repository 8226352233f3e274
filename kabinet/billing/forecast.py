"""Forecast of a personal account: its daily rate, the next charge and how long the money lasts.

It follows the billing run's calendar (daily fees every day, monthly fees in advance on the 1st; a charge
that takes the available money, balance plus credit limit, below zero stops the service). The dashboard,
the account page and autopay ("top up when fewer than N days are left") all use this one computation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from kabinet.billing.models import PersonalAccount, Subscription, SubscriptionOption
from kabinet.billing.selectors import ledger_account_balance
from kabinet.catalog.models import Period
from kabinet.core.dates import days_in_month, next_month_start


@dataclass(frozen=True)
class Forecast:
    """What the current services cost and how long the money lasts."""

    # Charges per day at the current rate, rounded up to a kopeck (monthly fees spread over the month).
    daily_rate_kopecks: int
    # Whole days the available money (balance + credit limit) covers at that rate; None: no charges.
    days_left: int | None
    enough_until: dt.date | None
    next_charge_date: dt.date | None
    next_charge_kopecks: int


FORECAST_HORIZON_DAYS = 730


def days_covered(*, available: int, daily_kopecks: int, monthly_kopecks: int, today: dt.date) -> int:
    """Whole days from today the money lasts, following the billing run's calendar: daily fees every
    day, monthly fees in advance on the 1st; service stops on the first day a charge takes the
    available money (balance + credit limit) below zero. Capped at FORECAST_HORIZON_DAYS.

    Walks month by month (at most 25 steps), not day by day: the dashboard computes this for every
    account on every view."""
    if available < 0:
        return 0
    if not daily_kopecks:
        # Monthly fees only: the money lasts until the day before the first 1st it does not cover.
        first = next_month_start(today)
        covered_firsts = available // monthly_kopecks if monthly_kopecks else FORECAST_HORIZON_DAYS
        day = first
        for _month in range(min(covered_firsts, FORECAST_HORIZON_DAYS // 28 + 1)):
            day = next_month_start(day)
        return min((day - today).days - 1, FORECAST_HORIZON_DAYS)
    covered = 0  # days after today already paid for
    day = today  # the last covered day
    while covered < FORECAST_HORIZON_DAYS:
        first = next_month_start(day)
        plain_days = (first - day).days - 1  # days before the next 1st: the daily fee only
        affordable = available // daily_kopecks
        if affordable < plain_days:
            return min(covered + affordable, FORECAST_HORIZON_DAYS)
        available -= plain_days * daily_kopecks
        covered += plain_days
        available -= daily_kopecks + monthly_kopecks  # the 1st: daily and monthly fees
        if available < 0:
            return min(covered, FORECAST_HORIZON_DAYS)
        covered += 1
        day = first
    return FORECAST_HORIZON_DAYS


def forecast_compute(
    *,
    status: str,
    balance_kopecks: int,
    credit_limit_kopecks: int,
    charges: Iterable[tuple[str, int]],
    today: dt.date,
) -> Forecast:
    """Forecast of an account from its recurring charges ((period, price) of active subscriptions and
    their active day/month options): no queries.

    Daily rate (shown) = the sum of daily prices + the sum of monthly prices / days in the current month.
    Days left follow the run's calendar: daily fees every day (next: tomorrow), monthly fees in advance
    on the first of the month. An account that is not active is not charged.
    """
    if status != PersonalAccount.Status.ACTIVE:
        return Forecast(0, None, None, None, 0)
    month_days = days_in_month(today)
    rate = Fraction(0)
    daily_sum = monthly_sum = 0
    for period, price in charges:
        if period == Period.DAY:
            rate += price
            daily_sum += price
        else:
            rate += Fraction(price, month_days)
            monthly_sum += price
    if rate == 0:
        return Forecast(0, None, None, None, 0)
    available = balance_kopecks + credit_limit_kopecks
    days_left = days_covered(
        available=available, daily_kopecks=daily_sum, monthly_kopecks=monthly_sum, today=today
    )
    tomorrow = today + dt.timedelta(days=1)
    first_next = next_month_start(today)
    if daily_sum:
        next_date = tomorrow
        next_amount = daily_sum + (monthly_sum if tomorrow == first_next else 0)
    else:
        next_date, next_amount = first_next, monthly_sum
    return Forecast(
        daily_rate_kopecks=-((-rate.numerator) // rate.denominator),
        days_left=days_left,
        enough_until=today + dt.timedelta(days=days_left),
        next_charge_date=next_date,
        next_charge_kopecks=next_amount,
    )


def personal_account_forecast(*, personal_account: PersonalAccount, today: dt.date) -> Forecast:
    """The forecast of one account from the database (two queries): for autopay and single-account reads;
    the dashboard computes it from its own one-statement read."""
    active = Subscription.Status.ACTIVE
    charges: list[tuple[str, int]] = list(
        Subscription.objects.filter(personal_account=personal_account, status=active).values_list(
            "period", "price_kopecks"
        )
    )
    charges += SubscriptionOption.objects.filter(
        subscription__personal_account=personal_account,
        subscription__status=active,
        status=SubscriptionOption.Status.ACTIVE,
        period__in=(Period.DAY, Period.MONTH),
    ).values_list("period", "price_kopecks")
    return forecast_compute(
        status=personal_account.status,
        balance_kopecks=ledger_account_balance(ledger_account_id=personal_account.ledger_account_id),
        credit_limit_kopecks=personal_account.credit_limit_kopecks,
        charges=charges,
        today=today,
    )
