import datetime as dt

import pytest

from kabinet.billing.models import LedgerTransfer, Subscription
from kabinet.catalog.services import bundle_create
from kabinet.core.exceptions import DomainError
from kabinet.identity.models import User
from kabinet.subscriptions.models import BundleMembership, ConsentRecord
from kabinet.subscriptions.selectors import consent_list_for_user
from kabinet.subscriptions.services import subscription_connect, subscription_connect_quote
from kabinet.subscriptions.tests.conftest import account_for, balance, make_tariff, transfer_keys

pytestmark = pytest.mark.django_db


def test_connect_quote_and_connect_mid_month(subscriber, travel) -> None:
    # given
    tariff = make_tariff(name="Домашний 300", price_kopecks=59000)
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 25))
    # when
    quote = subscription_connect_quote(personal_account=account, tariff=tariff)
    sub = subscription_connect(
        actor=subscriber,
        personal_account=account,
        tariff=tariff,
        consent_given=True,
        consent_text=quote.consent_text,
        ip="192.0.2.10",
        user_agent="KabinetApp/1.0 (Android 14)",
    )
    # then: 6 of 30 days of 590 ₽ = 118 ₽
    assert quote.charge_now_kopecks == 11800
    assert quote.explanation == (
        "Тариф «Домашний 300»: 590\u00a0₽ в месяц. Сегодня спишется 118\u00a0₽ — плата за 6 дн. до конца "
        "месяца; с 1 декабря — полная плата первого числа каждого месяца."
    )
    charge = LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11")
    assert charge.amount_kopecks == 11800
    assert charge.value_date == dt.date(2026, 11, 25)
    assert charge.description == "Абонентская плата по тарифу «Домашний 300» за ноябрь 2026 (с 25.11, 6 дн.)"
    assert balance(account) == 100000 - 11800
    record = ConsentRecord.objects.get()
    assert (record.action, record.price_kopecks, record.ip, record.user_agent) == (
        "connect",
        59000,
        "192.0.2.10",
        "KabinetApp/1.0 (Android 14)",
    )


def test_connect_in_a_bundle_takes_the_discount(subscriber, travel) -> None:
    # given
    internet = make_tariff(name="Домашний 100", price_kopecks=41500)
    tv = make_tariff(name="Базовый ТВ", service_kind="tv", price_kopecks=11900)
    bundle = bundle_create(code="inet-tv", name="Интернет + ТВ", tariffs=[internet, tv], discount_bp=1000)
    account = account_for(subscriber, service_kind="tv", balance_kopecks=50000)
    travel(dt.date(2026, 11, 1))
    # when
    sub = subscription_connect(
        actor=subscriber,
        personal_account=account,
        tariff=tv,
        bundle=bundle,
        consent_given=True,
        consent_text="Да",
    )
    # then: 119 ₽ − 10% = 107,10 ₽
    assert sub.price_kopecks == 10710
    assert BundleMembership.objects.get(subscription=sub).bundle == bundle
    assert LedgerTransfer.objects.get(key=f"charge:{sub.pk}:2026-11").amount_kopecks == 10710


def test_second_tariff_on_one_account_and_other_service_are_refused(subscriber, travel) -> None:
    # given
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    tv = make_tariff(name="Базовый ТВ", service_kind="tv", price_kopecks=11900)
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    keys, consents = transfer_keys(), ConsentRecord.objects.count()
    # when / then
    with pytest.raises(DomainError) as excinfo:
        subscription_connect(
            actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
        )
    assert excinfo.value.code == "already_connected"
    with pytest.raises(DomainError) as excinfo:
        subscription_connect(
            actor=subscriber, personal_account=account, tariff=tv, consent_given=True, consent_text="Да"
        )
    assert excinfo.value.message == (
        "Тариф «Базовый ТВ» относится к другой услуге и не подключается на этот лицевой счёт."
    )
    assert transfer_keys() == keys
    assert ConsentRecord.objects.count() == consents
    assert Subscription.objects.count() == 1


def test_consent_log_shows_only_the_users_own_accounts(subscriber, travel) -> None:
    # given
    other = User.objects.create_user(email="sosed@example.test", password="Secret12345")
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    mine = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    theirs = account_for(other, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    subscription_connect(
        actor=subscriber, personal_account=mine, tariff=tariff, consent_given=True, consent_text="Да"
    )
    subscription_connect(
        actor=other, personal_account=theirs, tariff=tariff, consent_given=True, consent_text="Да"
    )
    # when
    log = list(consent_list_for_user(user=subscriber))
    # then
    assert [(r.personal_account_id, r.user_id) for r in log] == [(mine.pk, subscriber.pk)]
    assert list(consent_list_for_user(user=None)) == []
