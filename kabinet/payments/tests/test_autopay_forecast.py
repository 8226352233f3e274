"""Autopay's "fewer than N days left" uses the dashboard's forecast (kabinet.billing.forecast)."""

import datetime as dt

import pytest

from kabinet.billing.models import PersonalAccount
from kabinet.billing.tests.factories import (
    PersonalAccountFactory,
    SubscriptionFactory,
    TariffFactory,
    personal_account_fund,
)
from kabinet.payments.autopay import autopay_days_left

pytestmark = pytest.mark.django_db


def test_days_left_counts_a_monthly_fee_on_the_first_of_the_month():
    # given: 415 ₽ a month and 900 ₽ on 25 November
    account = PersonalAccountFactory(service_kind="internet")
    SubscriptionFactory(personal_account=account, tariff=TariffFactory(period="month", price_kopecks=41500))
    personal_account_fund(personal_account=account, amount_kopecks=90000)
    # when
    days = autopay_days_left(personal_account=account, today=dt.date(2026, 11, 25))
    # then: December and January are paid on the 1st (70 ₽ left), February is not: the money lasts until
    # 31 January, 67 days (900 ₽ at 415 ₽ / 30 days a day would have said 65)
    assert days == 67


def test_days_left_is_none_when_nothing_is_charged_or_the_account_is_blocked():
    # given
    idle = PersonalAccountFactory()
    blocked = PersonalAccountFactory(status=PersonalAccount.Status.BLOCKED_DEBT)
    SubscriptionFactory(personal_account=blocked, tariff=TariffFactory(period="day", price_kopecks=800))
    # when / then
    assert autopay_days_left(personal_account=idle, today=dt.date(2026, 11, 25)) is None
    assert autopay_days_left(personal_account=blocked, today=dt.date(2026, 11, 25)) is None
