import datetime as dt

import pytest
from django.db.models import Sum

from kabinet.billing.ledger_bulk import TransferSpec, ledger_transfers_post_many
from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import CLEARING_BANK_REGISTRY, ledger_account_system
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.core.exceptions import DomainError


def _spec(key: str, debit: int, credit: int, amount: int) -> TransferSpec:
    return TransferSpec(
        key=key,
        debit_account_id=debit,
        credit_account_id=credit,
        amount_kopecks=amount,
        kind="payment",
        value_date=dt.date(2026, 11, 25),
    )


@pytest.mark.django_db
def test_many_transfers_post_once_per_key_and_keep_the_ledger_balanced() -> None:
    # given
    a: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    b: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    clearing = ledger_account_system(code=CLEARING_BANK_REGISTRY)
    specs = [
        _spec("k1", clearing.pk, a.ledger_account_id, 100),
        _spec("k2", clearing.pk, a.ledger_account_id, 250),
        _spec("k3", clearing.pk, b.ledger_account_id, 700),
        _spec("k1", clearing.pk, a.ledger_account_id, 100),  # the same key twice in one batch
    ]
    # when
    first = ledger_transfers_post_many(transfers=specs)
    again = ledger_transfers_post_many(transfers=specs)
    # then
    assert sorted(first) == ["k1", "k2", "k3"]
    assert again == {}
    assert LedgerTransfer.objects.count() == 3
    assert LedgerAccount.objects.get(pk=a.ledger_account_id).balance_kopecks == 350
    assert LedgerAccount.objects.get(pk=b.ledger_account_id).balance_kopecks == 700
    assert LedgerAccount.objects.get(pk=clearing.pk).balance_kopecks == -1050
    assert LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"] == 0


@pytest.mark.django_db
def test_bad_transfer_in_a_batch_refuses_the_whole_batch() -> None:
    a: PersonalAccount = PersonalAccountFactory()  # type: ignore[assignment]
    clearing = ledger_account_system(code=CLEARING_BANK_REGISTRY)
    for bad in (_spec("x", clearing.pk, a.ledger_account_id, 0), _spec("y", clearing.pk, clearing.pk, 5)):
        with pytest.raises(DomainError):
            ledger_transfers_post_many(transfers=[_spec("ok", clearing.pk, a.ledger_account_id, 1), bad])
    assert LedgerTransfer.objects.count() == 0
    assert LedgerAccount.objects.get(pk=a.ledger_account_id).balance_kopecks == 0
