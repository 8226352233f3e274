"""Property: whatever sequence of charges, payments, adjustments, reversals, replays and billing runs
happens, every cached balance equals the sum of its transfers and all balances sum to zero."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.billing.run import billing_run
from kabinet.billing.services import (
    ADJUSTMENTS,
    CLEARING_ACQUIRER,
    ledger_account_system,
    ledger_transfer_post,
    ledger_transfer_reverse,
    revenue_account_code,
)
from kabinet.billing.tests.factories import PersonalAccountFactory, SubscriptionFactory, TariffFactory
from kabinet.billing.verify import ledger_verify

amounts = st.integers(min_value=1, max_value=500_000)
account_index = st.integers(min_value=0, max_value=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("charge"), account_index, amounts),
        st.tuples(st.just("payment"), account_index, amounts),
        st.tuples(st.just("adjustment"), account_index, amounts, st.booleans()),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=40)),
        st.tuples(st.just("replay"), st.integers(min_value=0, max_value=40)),
        st.tuples(st.just("run"), st.integers(min_value=0, max_value=40)),
    ),
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_balances_always_equal_the_sum_of_transfers(ops: list[tuple]) -> None:
    with transaction.atomic():
        # given: three accounts with daily and monthly tariffs, some with a credit limit
        daily = TariffFactory.create(period="day", price_kopecks=800, service_kind="mobile")
        monthly = TariffFactory.create(period="month", price_kopecks=41500, service_kind="internet")
        accounts = [
            PersonalAccountFactory.create(service_kind="mobile", balance_kopecks=3000),
            PersonalAccountFactory.create(service_kind="internet", credit_limit_kopecks=10000),
            PersonalAccountFactory.create(service_kind="internet", balance_kopecks=100000),
        ]
        SubscriptionFactory.create(
            personal_account=accounts[0], tariff=daily, started_on=dt.date(2026, 11, 1)
        )
        SubscriptionFactory.create(
            personal_account=accounts[1], tariff=monthly, started_on=dt.date(2026, 11, 10)
        )
        SubscriptionFactory.create(
            personal_account=accounts[2], tariff=monthly, started_on=dt.date(2026, 10, 1)
        )
        SubscriptionFactory.create(
            personal_account=accounts[2], tariff=daily, started_on=dt.date(2026, 11, 1)
        )
        clearing = ledger_account_system(code=CLEARING_ACQUIRER)
        adjustments = ledger_account_system(code=ADJUSTMENTS)
        revenue = ledger_account_system(code=revenue_account_code("internet"))
        posted: list[LedgerTransfer] = []
        # when
        for n, op in enumerate(ops):
            kind = op[0]
            if kind in ("charge", "payment", "adjustment"):
                ledger = accounts[op[1]].ledger_account
                if kind == "charge":
                    debit, credit = ledger, revenue
                elif kind == "payment":
                    debit, credit = clearing, ledger
                else:
                    debit, credit = (adjustments, ledger) if op[3] else (ledger, adjustments)
                result = ledger_transfer_post(
                    key=f"prop:{n}",
                    debit=debit,
                    credit=credit,
                    amount_kopecks=op[2],
                    kind="adjustment" if kind == "adjustment" else kind,
                    value_date=dt.date(2026, 11, 1),
                )
                posted.append(result.transfer)
            elif kind == "reverse" and posted:
                ledger_transfer_reverse(transfer=posted[op[1] % len(posted)], reason="проверка")
            elif kind == "replay" and posted:
                original = posted[op[1] % len(posted)]
                replay = ledger_transfer_post(
                    key=original.key,
                    debit=original.debit_account,
                    credit=original.credit_account,
                    amount_kopecks=original.amount_kopecks,
                    kind=original.kind,
                    value_date=original.value_date,
                )
                assert replay.created is False
            elif kind == "run":
                billing_run(run_date=dt.date(2026, 11, 1) + dt.timedelta(days=op[1]))
        # then
        report = ledger_verify()
        assert report.mismatch_count == 0, report.mismatches
        assert report.total_kopecks == 0
        for account in LedgerAccount.objects.all():
            debits = sum(t.amount_kopecks for t in LedgerTransfer.objects.filter(debit_account=account))
            credits = sum(t.amount_kopecks for t in LedgerTransfer.objects.filter(credit_account=account))
            assert account.balance_kopecks == credits - debits
        transaction.set_rollback(True)
