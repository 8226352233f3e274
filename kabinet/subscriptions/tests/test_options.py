import datetime as dt

import pytest
from django.utils import translation

from kabinet.billing.models import LedgerTransfer, SubscriptionOption
from kabinet.core.exceptions import DomainError
from kabinet.subscriptions.models import ConsentRecord
from kabinet.subscriptions.selectors import subscription_options_available
from kabinet.subscriptions.services import (
    subscription_connect,
    subscription_disconnect,
    subscription_option_disable,
    subscription_option_enable,
    subscription_option_quote,
)
from kabinet.subscriptions.tests.conftest import account_for, balance, make_option, make_tariff, transfer_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def internet(subscriber, travel):
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    account = account_for(subscriber, service_kind="internet", balance_kopecks=100000)
    travel(dt.date(2026, 11, 1))
    sub = subscription_connect(
        actor=subscriber, personal_account=account, tariff=tariff, consent_given=True, consent_text="Да"
    )
    return account, sub


def test_once_only_option_is_charged_immediately(internet, subscriber, travel) -> None:
    # given
    account, sub = internet
    boost = make_option(name="Турбо на сутки", period="once", price_kopecks=5000)
    travel(dt.date(2026, 11, 12))
    quote = subscription_option_quote(subscription=sub, option=boost)
    # when
    so = subscription_option_enable(
        actor=subscriber, subscription=sub, option=boost, consent_given=True, consent_text=quote.consent_text
    )
    # then
    charge = LedgerTransfer.objects.get(key=f"charge:opt:{so.pk}:once")
    assert charge.amount_kopecks == 5000
    assert charge.description == "Опция «Турбо на сутки», разово"
    assert quote.explanation == "Опция «Турбо на сутки»: 50\u00a0₽ разово, спишется сразу."
    assert balance(account) == 100000 - 41500 - 5000
    consent = ConsentRecord.objects.get(action=ConsentRecord.Action.OPTION_ENABLE)
    assert consent.price_kopecks == 5000
    assert consent.target == f"option:{so.pk}"


def test_monthly_option_disable_refunds_unused_days(internet, subscriber, travel) -> None:
    # given: a 150 ₽/month static IP from the 1st
    account, sub = internet
    static_ip = make_option(name="Статический IP", price_kopecks=15000)
    so = subscription_option_enable(
        actor=subscriber, subscription=sub, option=static_ip, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 20))
    # when: switched off on the 20th, the last day of use; 10 days are unused
    subscription_option_disable(actor=subscriber, subscription_option=so)
    # then: 150 * 10 / 30 = 50 ₽
    so.refresh_from_db()
    assert so.status == SubscriptionOption.Status.ENDED
    assert so.ended_on == dt.date(2026, 11, 20)
    assert LedgerTransfer.objects.get(key=f"refund:opt:{so.pk}:2026-11").amount_kopecks == 5000
    assert balance(account) == 100000 - 41500 - 15000 + 5000


def test_disconnect_ends_options_too(internet, subscriber, travel) -> None:
    # given
    _account, sub = internet
    static_ip = make_option(name="Статический IP", price_kopecks=15000)
    so = subscription_option_enable(
        actor=subscriber, subscription=sub, option=static_ip, consent_given=True, consent_text="Да"
    )
    travel(dt.date(2026, 11, 30))
    # when: the last day of the month, nothing to refund
    subscription_disconnect(actor=subscriber, subscription=sub)
    # then
    so.refresh_from_db()
    assert so.status == SubscriptionOption.Status.ENDED
    assert not LedgerTransfer.objects.filter(key__startswith="refund:").exists()


def _refused(call, code: str, message: str) -> None:
    keys, consents, options = (
        transfer_keys(),
        ConsentRecord.objects.count(),
        SubscriptionOption.objects.count(),
    )
    with pytest.raises(DomainError) as excinfo:
        call()
    assert excinfo.value.code == code
    assert excinfo.value.message == message
    assert transfer_keys() == keys
    assert ConsentRecord.objects.count() == consents
    assert SubscriptionOption.objects.count() == options


def test_option_of_another_service_is_refused(internet, subscriber) -> None:
    # given
    _account, sub = internet
    package = make_option(name="Кино и сериалы", service_kind="tv", kind="tv_package", price_kopecks=19900)
    # when / then
    _refused(
        lambda: subscription_option_enable(
            actor=subscriber, subscription=sub, option=package, consent_given=True, consent_text="Да"
        ),
        "wrong_service",
        "Опция «Кино и сериалы» относится к другой услуге.",
    )


def test_option_incompatible_with_the_tariff_is_refused(internet, subscriber) -> None:
    # given
    _account, sub = internet
    other = make_tariff(name="Домашний 500", price_kopecks=79000)
    boost = make_option(name="Ускорение до 1 Гбит/с", price_kopecks=20000)
    boost.compatible_tariffs.set([other])
    # when / then
    _refused(
        lambda: subscription_option_enable(
            actor=subscriber, subscription=sub, option=boost, consent_given=True, consent_text="Да"
        ),
        "option_incompatible",
        "Опция «Ускорение до 1 Гбит/с» не подключается на тарифе «Домашний 100».",
    )
    assert list(subscription_options_available(subscription=sub)) == []


def test_paid_option_without_consent_is_refused(internet, subscriber) -> None:
    _account, sub = internet
    static_ip = make_option(name="Статический IP", price_kopecks=15000)
    _refused(
        lambda: subscription_option_enable(
            actor=subscriber, subscription=sub, option=static_ip, consent_given=False, consent_text=""
        ),
        "consent_required",
        "Подтвердите согласие с изменением и его стоимостью.",
    )


def test_the_same_monthly_option_twice_is_refused(internet, subscriber) -> None:
    _account, sub = internet
    static_ip = make_option(name="Статический IP", price_kopecks=15000)
    subscription_option_enable(
        actor=subscriber, subscription=sub, option=static_ip, consent_given=True, consent_text="Да"
    )
    _refused(
        lambda: subscription_option_enable(
            actor=subscriber, subscription=sub, option=static_ip, consent_given=True, consent_text="Да"
        ),
        "option_active",
        "Опция «Статический IP» уже подключена.",
    )


def test_a_tatar_subscriber_gets_tatar_messages_and_russian_ledger_lines(
    internet, subscriber, travel
) -> None:
    # given a subscriber whose interface is in Tatar
    _account, sub = internet
    static_ip = make_option(name="Статический IP", price_kopecks=15000)
    travel(dt.date(2026, 11, 20))
    with translation.override("tt"):
        # when they switch an option on, then off in the same month
        so = subscription_option_enable(
            actor=subscriber, subscription=sub, option=static_ip, consent_given=True, consent_text="Әйе"
        )
        travel(dt.date(2026, 11, 25))
        subscription_option_disable(actor=subscriber, subscription_option=so)
        # and an error is still told in their language
        with pytest.raises(DomainError) as excinfo:
            subscription_option_disable(actor=subscriber, subscription_option=so)
        refused = excinfo.value.message
    # then the ledger (history, statements, the operator's screens) reads in Russian
    charge = LedgerTransfer.objects.get(key=f"charge:opt:{so.pk}:2026-11")
    refund = LedgerTransfer.objects.get(key=f"refund:opt:{so.pk}:2026-11")
    assert charge.description == "Опция «Статический IP» за ноябрь 2026 (с 20.11)"
    assert refund.description.startswith("Перерасчёт платы за опцию «Статический IP» за ноябрь 2026")
    with translation.override("ru"):
        with pytest.raises(DomainError) as russian:
            subscription_option_disable(actor=subscriber, subscription_option=so)
    assert refused != russian.value.message
