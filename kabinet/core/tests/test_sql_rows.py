import datetime as dt

import pytest
from django.db import transaction

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import CLEARING_ACQUIRER, ledger_account_system, personal_account_open
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_rows import (
    in_list,
    in_list_params,
    in_list_size,
    insert,
    insert_many,
    insert_many_unless_conflict,
    insert_unless_conflict,
    instance_by,
    instance_get_or_create,
    instances_by_pks,
    update_fields,
    update_fields_many,
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


@pytest.mark.django_db
def test_insert_many_sets_each_primary_key_in_order_and_stores_each_row(account) -> None:
    from kabinet.core.models import AuditEvent

    events = [
        AuditEvent(action=f"test.many.{n}", target_type="x", target_id=str(n), new={"n": n, "б": [n]})
        for n in range(7)
    ]

    insert_many(events)

    for n, event in enumerate(events):
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.action, stored.new, stored.old) == (f"test.many.{n}", {"n": n, "б": [n]}, None)
        assert stored.created_at == event.created_at is not None
        assert event._state.adding is False
    insert_many([])  # nothing to do, no statement


@pytest.mark.django_db
def test_insert_many_unless_conflict_tells_which_rows_were_inserted(account) -> None:
    existing = _transfer(account, "payment:old")
    insert(existing)
    batch = [
        _transfer(account, "payment:new-1"),
        _transfer(account, "payment:old", 500),
        _transfer(account, "payment:new-2"),
    ]

    with transaction.atomic():
        inserted = insert_many_unless_conflict(batch, unique="key")
        # the transaction is still usable after the conflict (PostgreSQL aborts it on an error)
        assert LedgerTransfer.objects.filter(key__startswith="payment:").count() == 3

    assert inserted == [True, False, True]
    assert batch[1].pk is None and batch[1]._state.adding is True
    assert LedgerTransfer.objects.get(key="payment:new-2").pk == batch[2].pk
    assert LedgerTransfer.objects.get(key="payment:old").amount_kopecks == 100


@pytest.mark.django_db
def test_update_fields_many_writes_each_rows_own_values(account) -> None:
    other = personal_account_open(customer=Customer.objects.create(), service_kind="tv")
    account.status_reason, other.status_reason = "первый", "второй"
    account.cash_payment_ban = True  # not named: stays as stored

    update_fields_many([account, other], ["status_reason", "updated_at"])

    assert PersonalAccount.objects.get(pk=account.pk).status_reason == "первый"
    assert PersonalAccount.objects.get(pk=other.pk).status_reason == "второй"
    assert PersonalAccount.objects.get(pk=account.pk).cash_payment_ban is False


@pytest.mark.django_db
@pytest.mark.parametrize("values", [[1], [3, 1, 2], list(range(60))])
def test_in_list_matches_exactly_the_values_given(values) -> None:
    size = in_list_size(len(values))
    with hot_cursor() as cursor:
        cursor.execute(
            "SELECT n FROM (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 59 "
            "UNION ALL SELECT 60) AS t WHERE n" + in_list(size) + " ORDER BY n",
            in_list_params(values),
        )
        found = [row[0] for row in cursor.fetchall()]
    assert found == sorted({0, 1, 2, 59, 60} & set(values))


@pytest.mark.django_db
def test_insert_many_stores_every_field_type_as_the_orm_reads_it(account) -> None:
    import uuid

    from django.utils import timezone

    from kabinet.payments.models import Payment

    # given: payments with a UUID, datetimes, quotes, Cyrillic and empty values
    payments = [
        Payment(
            public_id=uuid.uuid4(),
            personal_account=account,
            amount_kopecks=15_700 * n + 1,
            method=Payment.Method.CARD,
            status=Payment.Status.PENDING,
            idempotency_key=f'k-"{n}"-ключ',
            receipt_email="" if n else "payer@example.ru",
            paid_at=timezone.now() - dt.timedelta(days=n, microseconds=n),
            card_mask="220000******0004",
        )
        for n in range(3)
    ]
    # when
    insert_many(payments)
    # then: read back by the ORM, every field is what was inserted
    for payment in payments:
        assert _values(Payment.objects.get(pk=payment.pk)) == _values(payment)
    transfers = [_transfer(account, "payment:d1"), _transfer(account, "payment:d2")]
    insert_many(transfers)
    assert LedgerTransfer.objects.get(pk=transfers[1].pk).value_date == dt.date(2026, 11, 26)


@pytest.mark.django_db
def test_instances_by_pks_reads_each_as_the_orm_does_and_leaves_out_missing_keys(account) -> None:
    other = personal_account_open(customer=Customer.objects.create(), service_kind="tv")

    with transaction.atomic():
        found = instances_by_pks(PersonalAccount, [other.pk, account.pk, 0, other.pk], lock=True)

    assert list(found) == sorted([account.pk, other.pk])
    for pk, instance in found.items():
        assert _values(instance) == _values(PersonalAccount.objects.get(pk=pk))
    assert instances_by_pks(PersonalAccount, []) == {}
