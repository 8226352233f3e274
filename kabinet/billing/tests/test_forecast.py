"""The account forecast shared by the dashboard, the account page and autopay."""

import datetime as dt

import pytest

from kabinet.billing.forecast import personal_account_forecast
from kabinet.billing.models import PersonalAccount
from kabinet.billing.tests.factories import (
    OptionFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    SubscriptionOptionFactory,
    TariffFactory,
    personal_account_fund,
)

pytestmark = pytest.mark.django_db


def test_forecast_follows_the_billing_calendar_with_daily_and_monthly_fees(django_assert_num_queries):
    # given: 415 ₽ a month, a 10 ₽/day option, an ended option and a one-off option; 500 ₽ on 25 November
    account = PersonalAccountFactory(service_kind="internet")
    sub = SubscriptionFactory(
        personal_account=account, tariff=TariffFactory(period="month", price_kopecks=41500)
    )
    SubscriptionOptionFactory(subscription=sub, option=OptionFactory(period="day", price_kopecks=1000))
    SubscriptionOptionFactory(
        subscription=sub, option=OptionFactory(period="month", price_kopecks=9900), status="ended"
    )
    SubscriptionOptionFactory(subscription=sub, option=OptionFactory(period="once", price_kopecks=5000))
    personal_account_fund(personal_account=account, amount_kopecks=50000)
    # when
    with django_assert_num_queries(3):  # subscriptions, options, balance
        forecast = personal_account_forecast(personal_account=account, today=dt.date(2026, 11, 25))
    # then: 26-30 Nov cost 50 ₽ (450 ₽ left), 1 Dec 425 ₽ (25 ₽ left), 2 and 3 Dec 10 ₽ each, not 4 Dec
    assert forecast.days_left == 8
    assert forecast.enough_until == dt.date(2026, 12, 3)
    assert forecast.daily_rate_kopecks == 2384  # 10 ₽ + 415 ₽ / 30 days, rounded up
    assert (forecast.next_charge_date, forecast.next_charge_kopecks) == (dt.date(2026, 11, 26), 1000)


def test_forecast_of_a_blocked_account_or_without_charges_is_empty():
    # given
    blocked = PersonalAccountFactory(status=PersonalAccount.Status.BLOCKED_DEBT)
    SubscriptionFactory(personal_account=blocked, tariff=TariffFactory(period="day", price_kopecks=800))
    idle = PersonalAccountFactory()
    # when / then
    for account in (blocked, idle):
        forecast = personal_account_forecast(personal_account=account, today=dt.date(2026, 11, 25))
        assert (forecast.days_left, forecast.next_charge_date, forecast.daily_rate_kopecks) == (None, None, 0)
