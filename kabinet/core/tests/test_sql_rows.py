import datetime as dt

import pytest
from django.db import transaction

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import CLEARING_ACQUIRER, ledger_account_system, personal_account_open
from kabinet.core.sql_rows import (
    insert,
    insert_unless_conflict,
    instance_by,
    instance_get_or_create,
    update_fields,
)
from kabinet.customers.models import Customer


@pytest.fixture
def account():
    return personal_account_open(customer=Customer.objects.create(), service_kind="internet")


def _values(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.django_db
def test_instance_by_builds_what_the_orm_builds(account) -> None:
    by_orm = PersonalAccount.objects.get(pk=account.pk)

    by_sql = instance_by(PersonalAccount, pk=account.pk)

    assert _values(by_sql) == _values(by_orm)
    assert instance_by(PersonalAccount, number=account.number).pk == account.pk
    assert instance_by(PersonalAccount, pk=account.pk, number="0000000000") is None
    assert by_sql._state.adding is False


@pytest.mark.django_db
def test_instance_by_with_lock_reads_the_row_inside_a_transaction(account) -> None:
    with transaction.atomic():
        locked = instance_by(LedgerAccount, lock=True, pk=account.ledger_account_id)
    assert locked.code == account.ledger_account.code


def _transfer(account, key: str, amount: int = 100) -> LedgerTransfer:
    return LedgerTransfer(
        key=key,
        debit_account=ledger_account_system(code=CLEARING_ACQUIRER),
        credit_account=account.ledger_account,
        amount_kopecks=amount,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=dt.date(2026, 11, 26),
    )


@pytest.mark.django_db
def test_insert_unless_conflict_inserts_once_and_leaves_the_transaction_usable(account) -> None:
    first, second = _transfer(account, "payment:x"), _transfer(account, "payment:x", amount=200)

    with transaction.atomic():
        inserted = insert_unless_conflict(first)
        conflicted = insert_unless_conflict(second)
        # PostgreSQL aborts a transaction on a unique violation; ON CONFLICT never raises one
        count_in_transaction = LedgerTransfer.objects.filter(key="payment:x").count()

    assert (inserted, conflicted) == (True, False)
    assert count_in_transaction == 1
    stored = LedgerTransfer.objects.get(key="payment:x")
    assert stored.pk == first.pk and stored.amount_kopecks == 100
    assert stored.created_at is not None and first._state.adding is False
    assert second.pk is None


@pytest.mark.django_db
def test_update_fields_writes_only_the_named_fields_and_refreshes_auto_now(account) -> None:
    before = PersonalAccount.objects.get(pk=account.pk)
    account.status = PersonalAccount.Status.BLOCKED_DEBT
    account.status_reason = "долг"
    account.cash_payment_ban = True  # changed in memory, not named: stays as stored

    update_fields(account, ["status", "status_reason", "updated_at"])

    after = PersonalAccount.objects.get(pk=account.pk)
    assert after.status == PersonalAccount.Status.BLOCKED_DEBT
    assert after.status_reason == "долг"
    assert after.cash_payment_ban is before.cash_payment_ban
    assert after.updated_at > before.updated_at


@pytest.mark.django_db
def test_insert_stores_what_create_would_json_and_auto_now_included(account) -> None:
    from kabinet.core.models import AuditEvent

    event = insert(
        AuditEvent(action="test.insert", target_type="x", target_id="1", new={"a": [1, "б"], "n": None})
    )

    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.new == {"a": [1, "б"], "n": None}
    assert stored.old is None
    assert stored.created_at == event.created_at is not None
    assert event._state.adding is False


@pytest.mark.django_db
def test_instance_get_or_create_creates_once_with_the_defaults_then_reads() -> None:
    first = instance_get_or_create(LedgerAccount, code="adjustments:test", defaults={"kind": "adjustment"})
    again = instance_get_or_create(LedgerAccount, code="adjustments:test", defaults={"kind": "revenue"})

    assert again.pk == first.pk
    assert again.kind == "adjustment"
    assert LedgerAccount.objects.filter(code="adjustments:test").count() == 1
