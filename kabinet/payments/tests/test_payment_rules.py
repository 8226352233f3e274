"""The operator's rules (terms, section 3): each on both sides of its boundary; staff edit them."""

from __future__ import annotations

from typing import Any

import pytest

from kabinet.billing.models import PersonalAccount
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.core.exceptions import DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.identity.tests.factories import EmailUserFactory
from kabinet.payments.models import Payment
from kabinet.payments.rules import payment_rules_describe, payment_rules_get
from kabinet.payments.services import payment_initiate, payment_rules_update
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.sandbox_acquirer.models import SandboxPayment

pytestmark = pytest.mark.django_db


def _account(**kwargs: object) -> PersonalAccount:
    return PersonalAccountFactory(**kwargs)  # type: ignore[return-value]


def _staff() -> Any:
    user: Any = EmailUserFactory()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _start(account: PersonalAccount, amount: str, key: str = "key-1") -> Payment:
    return payment_initiate(
        personal_account=account, amount=amount, idempotency_key=key, receipt_email="a@b.ru"
    )


@pytest.mark.parametrize(
    ("amount", "kopecks"),
    [("157", 15700), ("1", 100), ("14999", 1499900), ("15000", 1500000), ("15 000", 1500000)],
)
def test_accepted_amounts(acquirer, amount, kopecks) -> None:
    payment = _start(_account(), amount)
    assert payment.amount_kopecks == kopecks
    assert payment.status == Payment.Status.PENDING
    assert SandboxPayment.objects.get(pk=payment.acquirer_payment_id).amount_kopecks == kopecks


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("157.50", "Сумма должна быть в целых рублях, без копеек (например, 157)."),
        ("157,50", "Сумма должна быть в целых рублях, без копеек (например, 157)."),
        ("0", "Сумма должна быть больше нуля."),
        ("-5", "Сумма должна быть больше нуля."),
        ("1e3", "Сумма указана неверно: введите число, например 157."),
        ("abc", "Сумма указана неверно: введите число, например 157."),
        ("", "Укажите сумму."),
        ("15001", "Сумма одного платежа — не более 15\u202f000\u00a0₽."),
        ("0.50", "Сумма должна быть в целых рублях, без копеек (например, 157)."),
    ],
)
def test_refused_amounts_change_nothing(acquirer, amount, message) -> None:
    account = _account()
    with pytest.raises(DomainError) as exc:
        _start(account, amount)
    assert exc.value.message == message
    assert exc.value.field == "amount"
    assert not Payment.objects.exists()
    assert not SandboxPayment.objects.exists()


def test_minimum_amount_boundary_when_staff_raise_it(acquirer) -> None:
    staff = _staff()
    payment_rules_update(actor=staff, min_amount_kopecks=10000, reason="тест")
    with pytest.raises(DomainError) as exc:
        _start(_account(), "99")
    assert exc.value.message == "Минимальная сумма платежа — 100\u00a0₽."
    assert _start(_account(), "100", key="k2").amount_kopecks == 10000


def test_cash_payment_ban_refuses(acquirer) -> None:
    account = _account()
    PersonalAccount.objects.filter(pk=account.pk).update(cash_payment_ban=True)
    account.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        _start(account, "157")
    assert exc.value.code == "cash_payment_ban"
    assert exc.value.field == "personal_account"
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "status",
    [
        PersonalAccount.Status.BLOCKED_VOLUNTARY,
        PersonalAccount.Status.BLOCKED_OPERATOR,
        PersonalAccount.Status.TERMINATED,
    ],
)
def test_service_stopped_not_for_debt_refuses(acquirer, status) -> None:
    account = _account(status=status)
    with pytest.raises(DomainError) as exc:
        _start(account, "157")
    assert exc.value.code == "account_stopped"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("status", [PersonalAccount.Status.ACTIVE, PersonalAccount.Status.BLOCKED_DEBT])
def test_active_or_blocked_for_debt_may_pay(acquirer, status) -> None:
    payment = _start(_account(status=status), "157")
    assert payment.status == Payment.Status.PENDING


def test_period_limit_boundary(acquirer) -> None:
    staff = _staff()
    payment_rules_update(actor=staff, period_limit_kopecks=2000000, period_days=30)
    account = _account()
    _start(account, "15000", key="a")
    # 15 000 + 5 000 = 20 000: exactly the limit
    _start(account, "5000", key="b")
    with pytest.raises(DomainError) as exc:
        _start(account, "1", key="c")
    assert exc.value.code == "period_limit"
    assert exc.value.message.endswith("Сейчас можно внести не более 0\u00a0₽.")
    assert Payment.objects.count() == 2


def test_same_idempotency_key_returns_the_same_payment(acquirer) -> None:
    account = _account()
    first = _start(account, "157", key="same")
    second = _start(account, "157", key="same")
    assert first.pk == second.pk
    assert SandboxPayment.objects.count() == 1
    with pytest.raises(DomainError) as exc:
        _start(account, "158", key="same")
    assert exc.value.code == "idempotency_key_reused"


def test_rules_update_is_audited_and_applies_to_new_payments(acquirer) -> None:
    staff = _staff()
    rules = payment_rules_update(
        actor=staff, reason="Снижаем лимит", max_amount_kopecks=1000000, allowed_issuer_countries="ru, by"
    )
    assert rules.max_amount_kopecks == 1000000
    assert rules.allowed_issuer_countries == "RU,BY"
    event = AuditEvent.objects.get(action="payment_rules.update")
    assert event.actor == staff
    assert event.old == {"max_amount_kopecks": 1500000, "allowed_issuer_countries": "RU"}
    assert event.new == {"max_amount_kopecks": 1000000, "allowed_issuer_countries": "RU,BY"}
    assert event.reason == "Снижаем лимит"
    with pytest.raises(DomainError):
        _start(_account(), "10001")


def test_rules_update_by_a_subscriber_is_refused_and_changes_nothing() -> None:
    user: Any = EmailUserFactory()
    with pytest.raises(PermissionDenied):
        payment_rules_update(actor=user, max_amount_kopecks=100)
    assert payment_rules_get().max_amount_kopecks == 1500000
    assert not AuditEvent.objects.filter(action="payment_rules.update").exists()


def test_rules_update_refuses_max_below_min() -> None:
    staff = _staff()
    with pytest.raises(DomainError) as exc:
        payment_rules_update(actor=staff, max_amount_kopecks=50)
    assert exc.value.field == "max_amount_kopecks"
    assert payment_rules_get().max_amount_kopecks == 1500000


def test_rules_are_described_in_plain_russian() -> None:
    lines = payment_rules_describe()
    assert lines[:3] == [
        "Сумма — только целое число рублей, без копеек (например, 157 ₽).",
        "Сумма одного платежа — от 1\u00a0₽ до 15\u202f000\u00a0₽.",
        "С одной карты можно платить не чаще одного раза в 30 минут: более ранний повторный платёж с той же "
        "карты будет отменён до списания денег.",
    ]
    assert "Принимаются только карты, выпущенные российскими банками." in lines
    assert "Комиссия не взимается." in lines


def test_a_bad_receipt_email_is_refused(acquirer) -> None:
    with pytest.raises(DomainError) as exc:
        payment_initiate(
            personal_account=_account(), amount="157", idempotency_key="e", receipt_email="not-mail"
        )
    assert (exc.value.field, exc.value.message) == (
        "receipt_email",
        "Проверьте адрес электронной почты для квитанции.",
    )
    assert not Payment.objects.exists()
