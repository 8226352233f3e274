import datetime as dt

import pytest

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.billing.numbers import personal_account_number_from_base, personal_account_number_is_valid
from kabinet.billing.services import (
    CLEARING_ACQUIRER,
    ledger_account_system,
    ledger_transfer_post,
    ledger_transfer_reverse,
    personal_account_open,
)
from kabinet.core.exceptions import Conflict, DomainError
from kabinet.customers.models import Customer


@pytest.fixture
def account():
    return personal_account_open(customer=Customer.objects.create(), service_kind="internet")


@pytest.mark.django_db
def test_transfer_moves_money_once_per_key(account) -> None:
    # given
    clearing = ledger_account_system(code=CLEARING_ACQUIRER)
    # when
    first = ledger_transfer_post(
        key="payment:1",
        debit=clearing,
        credit=account.ledger_account,
        amount_kopecks=50000,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=dt.date(2026, 11, 25),
    )
    replay = ledger_transfer_post(
        key="payment:1",
        debit=clearing,
        credit=account.ledger_account,
        amount_kopecks=50000,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=dt.date(2026, 11, 25),
    )
    # then
    assert first.created is True
    assert replay.created is False
    assert replay.transfer.pk == first.transfer.pk
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 50000
    assert LedgerAccount.objects.get(pk=clearing.pk).balance_kopecks == -50000


@pytest.mark.django_db
def test_replay_with_other_amount_is_refused(account) -> None:
    clearing = ledger_account_system(code=CLEARING_ACQUIRER)
    ledger_transfer_post(
        key="payment:2",
        debit=clearing,
        credit=account.ledger_account,
        amount_kopecks=100,
        kind="payment",
        value_date=dt.date(2026, 11, 25),
    )
    with pytest.raises(Conflict):
        ledger_transfer_post(
            key="payment:2",
            debit=clearing,
            credit=account.ledger_account,
            amount_kopecks=200,
            kind="payment",
            value_date=dt.date(2026, 11, 25),
        )
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 100


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -5])
def test_non_positive_amount_refused(account, amount: int) -> None:
    clearing = ledger_account_system(code=CLEARING_ACQUIRER)
    with pytest.raises(DomainError):
        ledger_transfer_post(
            key="x",
            debit=clearing,
            credit=account.ledger_account,
            amount_kopecks=amount,
            kind="payment",
            value_date=dt.date(2026, 11, 25),
        )
    assert LedgerTransfer.objects.count() == 0


@pytest.mark.django_db
def test_reversal_restores_balances_and_happens_once(account) -> None:
    clearing = ledger_account_system(code=CLEARING_ACQUIRER)
    original = ledger_transfer_post(
        key="payment:3",
        debit=clearing,
        credit=account.ledger_account,
        amount_kopecks=700,
        kind="payment",
        value_date=dt.date(2026, 11, 25),
    ).transfer
    ledger_transfer_reverse(transfer=original, reason="ошибка")
    again = ledger_transfer_reverse(transfer=original, reason="ошибка")
    assert again.created is False
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 0
    assert LedgerAccount.objects.get(pk=clearing.pk).balance_kopecks == 0


def test_account_number_check_digit_catches_typos() -> None:
    number = personal_account_number_from_base(123456789)
    assert personal_account_number_is_valid(number)
    typo = number[:3] + str((int(number[3]) + 1) % 10) + number[4:]
    assert not personal_account_number_is_valid(typo)
    swapped = number[1] + number[0] + number[2:]
    assert not personal_account_number_is_valid(swapped) or number[0] == number[1]
    assert not personal_account_number_is_valid("12345")


def _payment_transfer(key: str, debit: LedgerAccount, credit: LedgerAccount, amount: int) -> LedgerTransfer:
    return LedgerTransfer(
        key=key,
        debit_account=debit,
        credit_account=credit,
        amount_kopecks=amount,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=dt.date(2026, 11, 26),
    )


@pytest.mark.django_db
def test_many_transfers_post_once_each_with_exact_balances(account) -> None:
    from kabinet.billing.services import ledger_transfers_post

    # given: two subscribers, one already paid by key "payment:b"
    clearing = ledger_account_system(code=CLEARING_ACQUIRER)
    other = personal_account_open(customer=Customer.objects.create(), service_kind="tv")
    ledger_transfers_post(transfers=[_payment_transfer("payment:b", clearing, other.ledger_account, 700)])
    # when: one call posts three transfers, one of them that replay
    results = ledger_transfers_post(
        transfers=[
            _payment_transfer("payment:a", clearing, account.ledger_account, 100),
            _payment_transfer("payment:b", clearing, other.ledger_account, 700),
            _payment_transfer("payment:c", clearing, account.ledger_account, 250),
        ]
    )
    # then: the new ones are created, the replay returns the first transfer, balances move once each
    assert [r.created for r in results] == [True, False, True]
    assert results[1].transfer.pk == LedgerTransfer.objects.get(key="payment:b").pk
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 350
    assert LedgerAccount.objects.get(pk=other.ledger_account_id).balance_kopecks == 700
    assert LedgerAccount.objects.get(pk=clearing.pk).balance_kopecks == -1050
    assert LedgerTransfer.objects.count() == 3


@pytest.mark.django_db
def test_many_transfers_with_a_conflicting_replay_write_nothing(account) -> None:
    from django.db import transaction

    from kabinet.billing.services import ledger_transfers_post

    clearing = ledger_account_system(code=CLEARING_ACQUIRER)
    ledger_transfers_post(transfers=[_payment_transfer("payment:x", clearing, account.ledger_account, 100)])
    with pytest.raises(Conflict), transaction.atomic():
        ledger_transfers_post(
            transfers=[
                _payment_transfer("payment:y", clearing, account.ledger_account, 300),
                _payment_transfer("payment:x", clearing, account.ledger_account, 999),
            ]
        )
    assert not LedgerTransfer.objects.filter(key="payment:y").exists()
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 100
    with pytest.raises(ValueError, match="keys must differ"):
        ledger_transfers_post(
            transfers=[
                _payment_transfer("payment:z", clearing, account.ledger_account, 1),
                _payment_transfer("payment:z", clearing, account.ledger_account, 1),
            ]
        )
    assert LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks == 100
