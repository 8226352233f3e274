"""Staff actions on personal accounts: manual adjustments, flags and status changes."""

from __future__ import annotations

import datetime as dt

import pytest

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount, Subscription
from kabinet.billing.selectors import ledger_transfers_for_account
from kabinet.billing.services import (
    ADJUSTMENTS,
    AdjustmentDirection,
    StaffStatusAction,
    contract_terminate_with_accounts,
    ledger_account_system,
    ledger_adjustment_post,
    personal_account_staff_status_change,
    personal_account_update_flags,
)
from kabinet.billing.tests.factories import PersonalAccountFactory, SubscriptionFactory
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.customers.models import Contract
from kabinet.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(email="operator@example.com", password="x", is_staff=True)


@pytest.fixture
def subscriber() -> User:
    return User.objects.create_user(email="abonent@example.com", password="x")


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def test_credit_adjustment_moves_money_from_adjustments_and_is_audited(staff):
    # given
    account = PersonalAccountFactory(balance_kopecks=10000)
    adjustments_before = ledger_account_system(code=ADJUSTMENTS).balance_kopecks
    # when
    result = ledger_adjustment_post(
        personal_account=account,
        direction=AdjustmentDirection.CREDIT,
        amount_kopecks=15050,
        reason="Компенсация за аварию 12 ноября",
        actor=staff,
        token="tok-1",
    )
    # then
    transfer = result.transfer
    assert result.created is True
    assert transfer.key == "adjustment:tok-1"
    assert transfer.kind == LedgerTransfer.Kind.ADJUSTMENT
    assert transfer.amount_kopecks == 15050
    assert transfer.credit_account_id == account.ledger_account_id
    assert transfer.debit_account.code == ADJUSTMENTS
    assert transfer.actor == staff
    assert transfer.reason == "Компенсация за аварию 12 ноября"
    assert transfer.description == "Зачисление оператором: Компенсация за аварию 12 ноября"
    assert _balance(account) == 25050
    assert ledger_account_system(code=ADJUSTMENTS).balance_kopecks == adjustments_before - 15050
    event = AuditEvent.objects.get(action="ledger.adjustment")
    assert event.actor == staff
    assert event.actor_is_staff is True
    assert event.target_type == "billing.personalaccount"
    assert event.target_id == str(account.pk)
    assert event.reason == "Компенсация за аварию 12 ноября"
    assert event.new == {
        "direction": "credit",
        "amount_kopecks": 15050,
        "transfer_id": transfer.pk,
        "key": "adjustment:tok-1",
    }
    # and the subscriber's history shows it first, in plain words
    assert ledger_transfers_for_account(personal_account=account).first() == transfer


def test_debit_adjustment_takes_money_off_the_account(staff):
    # given
    account = PersonalAccountFactory(balance_kopecks=10000)
    # when
    result = ledger_adjustment_post(
        personal_account=account,
        direction=AdjustmentDirection.DEBIT,
        amount_kopecks=2500,
        reason="Ошибочное зачисление",
        actor=staff,
        token="tok-2",
    )
    # then
    assert result.transfer.debit_account_id == account.ledger_account_id
    assert result.transfer.description == "Списание оператором: Ошибочное зачисление"
    assert _balance(account) == 7500


def test_adjustment_replay_with_the_same_token_moves_money_once(staff):
    # given
    account = PersonalAccountFactory()
    kwargs = dict(
        personal_account=account,
        direction=AdjustmentDirection.CREDIT,
        amount_kopecks=5000,
        reason="Перерасчёт",
        actor=staff,
        token="same-token",
    )
    first = ledger_adjustment_post(**kwargs)  # type: ignore[arg-type]
    # when
    replay = ledger_adjustment_post(**kwargs)  # type: ignore[arg-type]
    # then
    assert replay.created is False
    assert replay.transfer.pk == first.transfer.pk
    assert _balance(account) == 5000
    assert AuditEvent.objects.filter(action="ledger.adjustment").count() == 1


def test_adjustment_replay_with_another_amount_is_a_conflict(staff):
    # given
    account = PersonalAccountFactory()
    ledger_adjustment_post(
        personal_account=account, direction="credit", amount_kopecks=5000, reason="р", actor=staff, token="t"
    )
    # when / then
    with pytest.raises(Conflict):
        ledger_adjustment_post(
            personal_account=account,
            direction="credit",
            amount_kopecks=6000,
            reason="р",
            actor=staff,
            token="t",
        )
    assert _balance(account) == 5000


@pytest.mark.parametrize(
    ("direction", "amount", "reason", "token", "message"),
    [
        ("credit", 100, "   ", "t1", "Укажите причину."),
        ("credit", 0, "Причина", "t2", "Сумма должна быть больше нуля."),
        ("debit", -100, "Причина", "t3", "Сумма должна быть больше нуля."),
        ("sideways", 100, "Причина", "t4", "Выберите: зачисление или списание."),
        ("credit", 100, "Причина", "", "Форма устарела, откройте её заново."),
    ],
)
def test_bad_adjustment_is_refused_and_changes_nothing(staff, direction, amount, reason, token, message):
    # given
    account = PersonalAccountFactory(balance_kopecks=1000)
    transfers_before = LedgerTransfer.objects.count()
    # when
    with pytest.raises(DomainError) as exc:
        ledger_adjustment_post(
            personal_account=account,
            direction=direction,
            amount_kopecks=amount,
            reason=reason,
            actor=staff,
            token=token,
        )
    # then
    assert exc.value.message == message
    assert LedgerTransfer.objects.count() == transfers_before
    assert _balance(account) == 1000
    assert not AuditEvent.objects.filter(action="ledger.adjustment").exists()


def test_subscriber_cannot_post_an_adjustment(subscriber):
    # given
    account = PersonalAccountFactory()
    # when
    with pytest.raises(PermissionDenied):
        ledger_adjustment_post(
            personal_account=account,
            direction="credit",
            amount_kopecks=100,
            reason="р",
            actor=subscriber,
            token="x",
        )
    # then
    assert _balance(account) == 0
    assert not LedgerTransfer.objects.filter(key="adjustment:x").exists()


def test_credit_adjustment_restores_an_account_blocked_for_debt(staff):
    # given
    account = PersonalAccountFactory(balance_kopecks=-3000, status=PersonalAccount.Status.BLOCKED_DEBT)
    # when
    ledger_adjustment_post(
        personal_account=account,
        direction="credit",
        amount_kopecks=3000,
        reason="Перерасчёт",
        actor=staff,
        token="u",
    )
    # then
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
    assert _balance(account) == 0


def test_flags_change_is_audited_with_old_and_new_values(staff):
    # given
    account = PersonalAccountFactory(credit_limit_kopecks=0)
    # when
    personal_account_update_flags(
        personal_account=account,
        actor=staff,
        reason="Решение суда",
        cash_payment_ban=True,
        credit_limit_kopecks=50000,
    )
    # then
    account.refresh_from_db()
    assert account.cash_payment_ban is True
    assert account.credit_limit_kopecks == 50000
    event = AuditEvent.objects.get(action="personal_account.flags")
    assert event.old == {"cash_payment_ban": False, "credit_limit_kopecks": 0}
    assert event.new == {"cash_payment_ban": True, "credit_limit_kopecks": 50000}
    assert event.reason == "Решение суда"
    assert event.actor == staff


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": "", "cash_payment_ban": True}, "Укажите причину."),
        ({"reason": "р", "credit_limit_kopecks": -1}, "Кредитный лимит не может быть отрицательным."),
        ({"reason": "р", "cash_payment_ban": False, "credit_limit_kopecks": 0}, "Значения не изменились."),
    ],
)
def test_bad_flags_change_is_refused_and_changes_nothing(staff, kwargs, message):
    # given
    account = PersonalAccountFactory()
    # when
    with pytest.raises(DomainError) as exc:
        personal_account_update_flags(personal_account=account, actor=staff, **kwargs)
    # then
    assert exc.value.message == message
    account.refresh_from_db()
    assert (account.cash_payment_ban, account.credit_limit_kopecks) == (False, 0)
    assert not AuditEvent.objects.filter(action="personal_account.flags").exists()


def test_subscriber_cannot_change_flags(subscriber):
    account = PersonalAccountFactory()
    with pytest.raises(PermissionDenied):
        personal_account_update_flags(
            personal_account=account, actor=subscriber, reason="р", cash_payment_ban=True
        )
    account.refresh_from_db()
    assert account.cash_payment_ban is False


def test_operator_block_suspends_and_unblock_resumes_subscriptions(staff):
    # given
    account = PersonalAccountFactory(balance_kopecks=100)
    subscription = SubscriptionFactory(personal_account=account)
    # when
    personal_account_staff_status_change(
        personal_account=account, action=StaffStatusAction.BLOCK, reason="Заявка из полиции", actor=staff
    )
    # then
    account.refresh_from_db()
    subscription.refresh_from_db()
    assert account.status == PersonalAccount.Status.BLOCKED_OPERATOR
    assert account.status_reason == "Заявка из полиции"
    assert subscription.status == Subscription.Status.SUSPENDED
    # when
    personal_account_staff_status_change(
        personal_account=account, action=StaffStatusAction.UNBLOCK, reason="Проверка закончена", actor=staff
    )
    # then
    account.refresh_from_db()
    subscription.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE
    assert subscription.status == Subscription.Status.ACTIVE
    events = list(AuditEvent.objects.filter(action="personal_account.status").order_by("id"))
    assert [(e.old, e.new, e.reason) for e in events] == [
        ({"status": "active"}, {"status": "blocked_operator"}, "Заявка из полиции"),
        ({"status": "blocked_operator"}, {"status": "active"}, "Проверка закончена"),
    ]


def test_unblock_of_an_account_in_debt_leaves_it_blocked_for_debt(staff):
    # given
    account = PersonalAccountFactory(balance_kopecks=-500, status=PersonalAccount.Status.BLOCKED_OPERATOR)
    # when
    personal_account_staff_status_change(personal_account=account, action="unblock", reason="р", actor=staff)
    # then
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.BLOCKED_DEBT


def test_terminate_ends_open_subscriptions_and_is_final(staff):
    # given
    account = PersonalAccountFactory()
    subscription = SubscriptionFactory(personal_account=account, started_on=dt.date(2026, 1, 1))
    # when
    personal_account_staff_status_change(
        personal_account=account, action="terminate", reason="Расторжение договора", actor=staff
    )
    # then
    account.refresh_from_db()
    subscription.refresh_from_db()
    assert account.status == PersonalAccount.Status.TERMINATED
    assert account.status_reason == "Расторжение договора"
    assert subscription.status == Subscription.Status.ENDED
    assert subscription.ended_on is not None
    with pytest.raises(Conflict) as exc:
        personal_account_staff_status_change(
            personal_account=account, action="unblock", reason="р", actor=staff
        )
    assert exc.value.message == "Лицевой счёт закрыт, его статус больше не меняется."


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (PersonalAccount.Status.ACTIVE, "unblock"),
        (PersonalAccount.Status.BLOCKED_VOLUNTARY, "block"),
        (PersonalAccount.Status.BLOCKED_OPERATOR, "block"),
        (PersonalAccount.Status.ACTIVE, "explode"),
    ],
)
def test_impossible_status_change_is_refused_and_changes_nothing(staff, status, action):
    # given
    account = PersonalAccountFactory(status=status)
    # when
    with pytest.raises(DomainError):
        personal_account_staff_status_change(personal_account=account, action=action, reason="р", actor=staff)
    # then
    account.refresh_from_db()
    assert account.status == status
    assert not AuditEvent.objects.filter(action="personal_account.status").exists()


def test_status_change_needs_a_reason_and_staff(staff, subscriber):
    account = PersonalAccountFactory()
    with pytest.raises(DomainError) as exc:
        personal_account_staff_status_change(
            personal_account=account, action="block", reason=" ", actor=staff
        )
    assert exc.value.message == "Укажите причину."
    with pytest.raises(PermissionDenied):
        personal_account_staff_status_change(
            personal_account=account, action="block", reason="р", actor=subscriber
        )
    account.refresh_from_db()
    assert account.status == PersonalAccount.Status.ACTIVE


def test_subscriber_cannot_terminate_a_contract(subscriber):
    # given
    account = PersonalAccountFactory()
    contract = Contract.objects.create(customer=account.customer, number="D-9", signed_at=dt.date(2025, 1, 1))
    PersonalAccount.objects.filter(pk=account.pk).update(contract=contract)
    # when
    with pytest.raises(PermissionDenied):
        contract_terminate_with_accounts(contract=contract, reason="р", actor=subscriber)
    # then
    contract.refresh_from_db()
    account.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert account.status == PersonalAccount.Status.ACTIVE


def test_terminating_an_already_terminated_contract_changes_nothing(staff):
    # given
    account = PersonalAccountFactory()
    contract = Contract.objects.create(
        customer=account.customer, number="D-10", signed_at=dt.date(2025, 1, 1)
    )
    PersonalAccount.objects.filter(pk=account.pk).update(contract=contract)
    contract_terminate_with_accounts(contract=contract, reason="Заявление", actor=staff)
    events = AuditEvent.objects.count()
    # when / then
    with pytest.raises(Conflict):
        contract_terminate_with_accounts(contract=contract, reason="Ещё раз", actor=staff)
    assert AuditEvent.objects.count() == events
    account.refresh_from_db()
    assert account.status_reason == "Заявление"
