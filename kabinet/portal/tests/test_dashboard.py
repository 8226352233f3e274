"""The dashboard: balances, statuses, forecasts, and a fixed number of queries whatever the accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from kabinet.billing.forecast import FORECAST_HORIZON_DAYS, days_covered
from kabinet.billing.models import PersonalAccount
from kabinet.billing.tests.factories import (
    OptionFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    SubscriptionOptionFactory,
    TariffFactory,
)
from kabinet.core.dates import next_month_start
from kabinet.portal.selectors import (
    dashboard_cards_for_user,
    forecast_for_account,
    personal_account_with_services_for_user,
)
from kabinet.portal.tests.conftest import logged_in, make_subscriber, pay

pytestmark = pytest.mark.django_db


def _accounts(user, n: int) -> None:
    daily = TariffFactory(service_kind="mobile", period="day", price_kopecks=800)
    monthly = TariffFactory(period="month", price_kopecks=41500)
    option = OptionFactory(period="month", price_kopecks=15000)
    for i in range(n):
        account = PersonalAccountFactory(customer=user.customer, service_kind="internet")
        pay(account, 10000 * (i + 1))
        sub = SubscriptionFactory(personal_account=account, tariff=monthly)
        SubscriptionOptionFactory(subscription=sub, option=option)
        SubscriptionFactory(personal_account=account, tariff=daily)


def _dashboard_client(n: int, email: str):
    user = make_subscriber(email)
    _accounts(user, n)
    client = logged_in(user)
    client.get(reverse("portal:dashboard"))  # the first visit also checks the verified phone
    return user, client


def test_dashboard_query_count_is_the_same_for_1_and_5_accounts(django_assert_num_queries):
    # given
    _user1, one = _dashboard_client(1, "one@example.com")
    _user5, five = _dashboard_client(5, "five@example.com")
    with CaptureQueriesContext(connection) as baseline:
        response = one.get(reverse("portal:dashboard"))
    assert response.content.decode().count('class="card account-card"') == 1
    # when / then
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = five.get(reverse("portal:dashboard"))
    assert response.content.decode().count('class="card account-card"') == 5


def test_dashboard_selector_runs_one_query(django_assert_num_queries):
    # given: 5 accounts with a monthly tariff, an option and a daily tariff each
    user = make_subscriber("fixed@example.com")
    _accounts(user, 5)
    # when / then: accounts, balances, subscriptions, tariffs and option sums in one statement
    with django_assert_num_queries(1):
        cards = dashboard_cards_for_user(user=user, today=dt.date(2026, 11, 25))
    assert [len(c.subscriptions) for c in cards] == [2, 2, 2, 2, 2]
    # 8 ₽/day + (415 ₽ + the 150 ₽ option) / 30 days: the option is counted
    assert [c.forecast.daily_rate_kopecks for c in cards] == [2684] * 5
    assert sorted(c.balance_kopecks for c in cards) == [10000, 20000, 30000, 40000, 50000]
    assert [c.account.number for c in cards] == sorted(c.account.number for c in cards)


def test_dashboard_selector_ignores_ended_and_one_off_options_and_other_users_accounts(owner):
    # given: an ended option, a one-off option, and another subscriber's account
    account = PersonalAccountFactory(customer=owner.customer, service_kind="internet")
    sub = SubscriptionFactory(
        personal_account=account, tariff=TariffFactory(period="month", price_kopecks=30000)
    )
    SubscriptionOptionFactory(subscription=sub, option=OptionFactory(period="day", price_kopecks=1000))
    SubscriptionOptionFactory(
        subscription=sub, option=OptionFactory(period="month", price_kopecks=5000), status="ended"
    )
    SubscriptionOptionFactory(subscription=sub, option=OptionFactory(period="once", price_kopecks=7000))
    other = make_subscriber("other-dashboard@example.com")
    PersonalAccountFactory(customer=other.customer)
    # when
    cards = dashboard_cards_for_user(user=owner, today=dt.date(2026, 11, 25))
    # then: 300 ₽ / 30 days + 10 ₽ a day; the ended and the one-off options cost nothing a day
    assert [c.account.pk for c in cards] == [account.pk]
    assert cards[0].forecast.daily_rate_kopecks == 2000
    assert cards[0].subscriptions[0].options_daily_kopecks == 1000
    assert cards[0].subscriptions[0].options_monthly_kopecks == 0


def test_dashboard_shows_each_account_balance_and_status(owner, owner_account):
    # given
    blocked = PersonalAccountFactory(customer=owner.customer, service_kind="tv", status="blocked_debt")
    pay(blocked, 100)
    from kabinet.billing.tests.factories import personal_account_fund

    personal_account_fund(personal_account=blocked, amount_kopecks=-5100)
    # when
    response = logged_in(owner).get(reverse("portal:dashboard"))
    # then
    html = response.content.decode()
    assert owner_account.number in html
    assert blocked.number in html
    assert "1\u202f000\u00a0₽" in html
    assert "−50\u00a0₽" in html
    assert "Заблокирован за неуплату" in html
    assert "Пополните счёт хотя бы на 50\u00a0₽" in html


def test_dashboard_of_a_user_without_accounts_offers_to_attach_one():
    # given
    user = make_subscriber("empty@example.com")
    # when
    response = logged_in(user).get(reverse("portal:dashboard"))
    # then
    assert "В кабинете пока нет лицевых счетов" in response.content.decode()


def test_dashboard_requires_login(client):
    # when
    response = client.get(reverse("portal:dashboard"))
    # then
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_forecast_sums_daily_prices_and_spreads_monthly_ones_over_the_month(owner):
    # given: 8 ₽/day + (415 ₽ + 150 ₽)/30 days a month = 26.8333 ₽/day; 100 ₽ balance + 50 ₽ credit
    account = PersonalAccountFactory(
        customer=owner.customer, service_kind="internet", credit_limit_kopecks=5000
    )
    pay(account, 10000)
    sub = SubscriptionFactory(
        personal_account=account, tariff=TariffFactory(period="month", price_kopecks=41500)
    )
    SubscriptionOptionFactory(subscription=sub, option=OptionFactory(period="month", price_kopecks=15000))
    SubscriptionFactory(
        personal_account=account, tariff=TariffFactory(service_kind="mobile", period="day", price_kopecks=800)
    )
    # an ended subscription costs nothing
    SubscriptionFactory(
        personal_account=account,
        tariff=TariffFactory(period="month", price_kopecks=99900),
        status="ended",
    )
    card = dashboard_cards_for_user(user=owner, today=dt.date(2026, 11, 25))[0]
    # then: 150 ₽ pays 8 ₽ a day until 30 November (110 ₽ left); on 1 December the monthly 565 ₽
    # is due in advance and not covered
    assert card.forecast.daily_rate_kopecks == 2684
    assert card.forecast.days_left == 5
    assert card.forecast.enough_until == dt.date(2026, 11, 30)
    assert card.forecast.next_charge_date == dt.date(2026, 11, 26)
    assert card.forecast.next_charge_kopecks == 800


def test_forecast_next_charge_of_monthly_only_is_the_first_of_next_month(owner):
    # given
    account = PersonalAccountFactory(customer=owner.customer, service_kind="internet")
    pay(account, 100000)
    SubscriptionFactory(personal_account=account, tariff=TariffFactory(period="month", price_kopecks=41500))
    card = dashboard_cards_for_user(user=owner, today=dt.date(2026, 12, 10))[0]
    # then: 1000 ₽ pays January (585 ₽ left) and February (170 ₽ left) in advance, not March:
    # service stops on 1 March, the money lasts until 28 February
    assert card.forecast.next_charge_date == dt.date(2027, 1, 1)
    assert card.forecast.next_charge_kopecks == 41500
    assert card.forecast.days_left == 80
    assert card.forecast.enough_until == dt.date(2027, 2, 28)


def test_forecast_of_a_blocked_account_or_negative_balance(owner):
    # given
    blocked = PersonalAccountFactory(customer=owner.customer, status=PersonalAccount.Status.BLOCKED_VOLUNTARY)
    SubscriptionFactory(personal_account=blocked, tariff=TariffFactory(period="day", price_kopecks=800))
    debtor = PersonalAccountFactory(customer=owner.customer)
    SubscriptionFactory(personal_account=debtor, tariff=TariffFactory(period="day", price_kopecks=800))
    cards = {c.account.pk: c for c in dashboard_cards_for_user(user=owner, today=dt.date(2026, 11, 25))}
    # then
    assert cards[blocked.pk].forecast.days_left is None
    assert cards[blocked.pk].forecast.next_charge_date is None
    assert cards[debtor.pk].forecast.days_left == 0
    assert cards[debtor.pk].forecast.enough_until == dt.date(2026, 11, 25)
    debtor_with_services = personal_account_with_services_for_user(user=owner, personal_account_id=debtor.pk)
    assert (
        forecast_for_account(
            personal_account=debtor_with_services, balance_kopecks=1600, today=dt.date(2026, 11, 25)
        ).days_left
        == 2
    )


def _days_covered_day_by_day(*, available: int, daily: int, monthly: int, today: dt.date) -> int:
    """The billing calendar walked one day at a time: the reference for the month-by-month walk."""
    if available < 0:
        return 0
    day = today
    for _step in range(FORECAST_HORIZON_DAYS):
        day += dt.timedelta(days=1)
        available -= daily + (monthly if day.day == 1 else 0)
        if available < 0:
            return (day - today).days - 1
        if not daily and available < monthly:
            return min((next_month_start(day) - today).days - 1, FORECAST_HORIZON_DAYS)
    return FORECAST_HORIZON_DAYS


@settings(max_examples=400, deadline=None)
@given(
    available=st.integers(min_value=-1000, max_value=5_000_000),
    daily=st.integers(min_value=0, max_value=5000),
    monthly=st.integers(min_value=0, max_value=200_000),
    today=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31)),
)
def test_days_covered_matches_the_day_by_day_calendar(available, daily, monthly, today):
    if daily == 0 and monthly == 0:
        return  # no charges: no forecast
    assert days_covered(
        available=available, daily_kopecks=daily, monthly_kopecks=monthly, today=today
    ) == _days_covered_day_by_day(available=available, daily=daily, monthly=monthly, today=today)


def test_dashboard_quick_actions_link_to_pay_promised_payment_and_tariff(owner, owner_account):
    # when
    html = logged_in(owner).get(reverse("portal:dashboard")).content.decode()
    # then
    assert f'href="{reverse("payments:cabinet_pay")}?account={owner_account.number}"' in html
    assert f'href="{reverse("portal:promised_payment", args=[owner_account.pk])}"' in html
    assert f'href="{reverse("portal:account", args=[owner_account.pk])}"' in html


def test_dashboard_shows_only_the_notices_that_concern_the_subscriber(owner, owner_account, staff):
    # given: maintenance for TV subscribers, and one for internet subscribers
    from kabinet.news.services import news_publish

    news_publish(
        actor=staff,
        title="Работы на сети ТВ",
        body="Перерывы в вещании.",
        kind="maintenance",
        target_service_kinds=["tv"],
    )
    internet = news_publish(
        actor=staff,
        title="Работы на сети интернета",
        body="Перерывы до 30 минут.",
        kind="maintenance",
        target_service_kinds=["internet"],
    )
    # when
    html = logged_in(owner).get(reverse("portal:dashboard")).content.decode()
    # then: the notice with its kind and its link, and nothing for TV
    assert (
        '<span class="badge badge-warn">Плановые работы</span> \n'
        f'        <a href="{reverse("news:detail", args=[internet.pk])}">Работы на сети интернета</a>'
    ) in html
    assert "Работы на сети ТВ" not in html
    # and the bonus card links to the programme's rules
    assert f'<a href="{reverse("bonus:rules")}">Как копить и тратить баллы</a>' in html


def test_dashboard_explains_how_to_end_a_voluntary_block_and_an_operator_block(owner):
    # given
    voluntary = PersonalAccountFactory(
        customer=owner.customer, status=PersonalAccount.Status.BLOCKED_VOLUNTARY
    )
    operator = PersonalAccountFactory(customer=owner.customer, status=PersonalAccount.Status.BLOCKED_OPERATOR)
    PersonalAccount.objects.filter(pk=operator.pk).update(status_reason="Проверка документов")
    # when
    html = logged_in(owner).get(reverse("portal:dashboard")).content.decode()
    # then
    assert "Действует добровольная блокировка." in html
    assert f'href="{reverse("portal:voluntary_block", args=[voluntary.pk])}"' in html
    assert "Счёт заблокирован оператором.</strong> Проверка документов" in html
    assert "позвоните на горячую линию 8-843-222-22-22" in html
