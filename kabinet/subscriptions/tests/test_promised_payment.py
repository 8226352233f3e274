import datetime as dt

import pytest

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.tests.factories import SubscriptionFactory, personal_account_fund
from kabinet.core.exceptions import DomainError
from kabinet.subscriptions.models import ConsentRecord, PromisedPayment, PromisedPaymentRule
from kabinet.subscriptions.services import (
    promised_payment_expire,
    promised_payment_quote,
    promised_payment_take,
)
from kabinet.subscriptions.tests.conftest import account_for, balance, make_tariff, transfer_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(db) -> PromisedPaymentRule:
    return PromisedPaymentRule.objects.create(
        name="Обещанный платёж",
        max_amount_kopecks=50000,
        term_days=5,
        interval_days=30,
        min_account_age_days=30,
    )


@pytest.fixture
def debtor(subscriber, rule):
    """Blocked for debt with -100 ₽, a subscriber since 1 October."""
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    account = account_for(subscriber, service_kind="internet")
    SubscriptionFactory(personal_account=account, tariff=tariff, started_on=dt.date(2026, 10, 1))
    personal_account_fund(personal_account=account, amount_kopecks=-10000)
    PersonalAccount.objects.filter(pk=account.pk).update(status=PersonalAccount.Status.BLOCKED_DEBT)
    account.refresh_from_db()
    return account


def test_take_credits_and_unblocks_then_expiry_takes_it_back_and_blocks(debtor, subscriber, travel) -> None:
    # given
    travel(dt.date(2026, 11, 10))
    quote = promised_payment_quote(personal_account=debtor)
    # when
    promised = promised_payment_take(
        actor=subscriber, personal_account=debtor, consent_given=True, consent_text=quote.consent_text
    )
    # then
    debtor.refresh_from_db()
    assert quote.allowed is True
    assert promised.amount_kopecks == 50000
    assert promised.due_on == dt.date(2026, 11, 14)
    assert balance(debtor) == 40000
    assert debtor.status == PersonalAccount.Status.ACTIVE
    credit = LedgerTransfer.objects.get(key=f"promised:{promised.pk}")
    assert credit.debit_account.code == "credit:promised"
    assert credit.kind == LedgerTransfer.Kind.PROMISED_PAYMENT
    assert ConsentRecord.objects.get(action=ConsentRecord.Action.PROMISED_PAYMENT).text == quote.consent_text
    # when: the last day of the term passes nothing; the day after, it is taken back
    travel(dt.date(2026, 11, 14))
    assert promised_payment_expire() == 0
    travel(dt.date(2026, 11, 15))
    assert promised_payment_expire() == 1
    assert promised_payment_expire() == 0
    # then
    promised.refresh_from_db()
    debtor.refresh_from_db()
    assert promised.status == PromisedPayment.Status.RETURNED
    assert promised.returned_on == dt.date(2026, 11, 15)
    assert LedgerTransfer.objects.get(key=f"promised-return:{promised.pk}").amount_kopecks == 50000
    assert balance(debtor) == -10000
    assert debtor.status == PersonalAccount.Status.BLOCKED_DEBT
    assert LedgerAccount.objects.get(code="credit:promised").balance_kopecks == 0


def test_paid_in_time_stays_active_after_return(debtor, subscriber, travel) -> None:
    # given
    travel(dt.date(2026, 11, 10))
    promised_payment_take(actor=subscriber, personal_account=debtor, consent_given=True, consent_text="Да")
    personal_account_fund(personal_account=debtor, amount_kopecks=70000)
    # when
    travel(dt.date(2026, 11, 15))
    promised_payment_expire()
    # then
    debtor.refresh_from_db()
    assert balance(debtor) == -10000 + 70000
    assert debtor.status == PersonalAccount.Status.ACTIVE


def test_at_most_once_per_30_days(debtor, subscriber, travel) -> None:
    # given: taken on 10 November, returned on the 15th
    travel(dt.date(2026, 11, 10))
    promised_payment_take(actor=subscriber, personal_account=debtor, consent_given=True, consent_text="Да")
    travel(dt.date(2026, 11, 15))
    promised_payment_expire()
    # when
    travel(dt.date(2026, 12, 9))
    refused = promised_payment_quote(personal_account=debtor)
    travel(dt.date(2026, 12, 10))
    allowed = promised_payment_quote(personal_account=debtor)
    # then
    assert refused.allowed is False
    assert refused.reason == "Обещанный платёж можно взять снова с 10 декабря."
    assert refused.available_from == dt.date(2026, 12, 10)
    assert allowed.allowed is True


def test_while_one_is_active_another_is_refused(debtor, subscriber, travel) -> None:
    travel(dt.date(2026, 11, 10))
    promised_payment_take(actor=subscriber, personal_account=debtor, consent_given=True, consent_text="Да")
    keys = transfer_keys()
    with pytest.raises(DomainError) as excinfo:
        promised_payment_take(
            actor=subscriber, personal_account=debtor, consent_given=True, consent_text="Да"
        )
    assert excinfo.value.message == "Обещанный платёж уже взят и действует до 14 ноября включительно."
    assert transfer_keys() == keys
    assert PromisedPayment.objects.count() == 1


def test_new_subscriber_must_wait(subscriber, rule, travel) -> None:
    # given: a subscriber since 1 November
    tariff = make_tariff(name="Домашний 100", price_kopecks=41500)
    account = account_for(subscriber, service_kind="internet")
    SubscriptionFactory(personal_account=account, tariff=tariff, started_on=dt.date(2026, 11, 1))
    travel(dt.date(2026, 11, 10))
    # when
    quote = promised_payment_quote(personal_account=account)
    # then
    assert quote.allowed is False
    assert quote.reason == (
        "Обещанный платёж станет доступен с 1 декабря: нужно пользоваться услугами не меньше 30 дн."
    )


def test_refused_when_blocked_by_operator(debtor, subscriber, travel) -> None:
    PersonalAccount.objects.filter(pk=debtor.pk).update(status=PersonalAccount.Status.BLOCKED_OPERATOR)
    travel(dt.date(2026, 11, 10))
    keys = transfer_keys()
    with pytest.raises(DomainError) as excinfo:
        promised_payment_take(
            actor=subscriber, personal_account=debtor, consent_given=True, consent_text="Да"
        )
    assert excinfo.value.message == (
        "Обещанный платёж недоступен: лицевой счёт заблокирован оператором или закрыт."
    )
    assert transfer_keys() == keys
    assert PromisedPayment.objects.count() == 0


@pytest.mark.parametrize("amount", [99, 50001])
def test_amount_out_of_range_is_refused(debtor, subscriber, travel, amount: int) -> None:
    travel(dt.date(2026, 11, 10))
    with pytest.raises(DomainError) as excinfo:
        promised_payment_take(
            actor=subscriber,
            personal_account=debtor,
            amount_kopecks=amount,
            consent_given=True,
            consent_text="Да",
        )
    assert excinfo.value.message == "Сумма обещанного платежа — от 1 ₽ до 500\u00a0₽."
    assert PromisedPayment.objects.count() == 0
    assert ConsentRecord.objects.count() == 0


def test_rule_in_plain_words(debtor, travel) -> None:
    travel(dt.date(2026, 11, 10))
    quote = promised_payment_quote(personal_account=debtor)
    assert quote.rule_text == (
        "Обещанный платёж — до 500\u00a0₽ на 5 дн., бесплатно, не чаще одного раза в 30 дн. "
        "По окончании срока сумма списывается со счёта. "
        "Доступен абонентам, которые пользуются услугами не меньше 30 дн."
    )
