"""Spending points while a refund takes points back, on PostgreSQL: the two lock in the same order (the
account's ledger row, then the bonus member), so neither is broken off as a deadlock."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models import F

from kabinet.billing.models import LedgerAccount, PersonalAccount, PersonalAccountLink
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.bonus.models import BonusMember
from kabinet.bonus.services import bonus_redeem
from kabinet.identity.models import User
from kabinet.payments.office import payment_office_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def test_redeem_waits_behind_a_refund_instead_of_deadlocking() -> None:
    # given a subscriber with 1000 points on an account
    owner = User.objects.create_user(email="owner@example.test", password="x", customer=CustomerFactory())
    account: PersonalAccount = PersonalAccountFactory(customer=owner.customer)  # type: ignore[assignment]
    PersonalAccountLink.objects.get_or_create(user=owner, personal_account=account)
    staff = User.objects.create_user(email="staff@letai.test", password="x", is_staff=True)
    payment_office_create(actor=staff, account_number=account.number, amount="1000")
    member = BonusMember.objects.get(user=owner)
    refund_has_ledger_row = threading.Event()
    errors: list[BaseException] = []

    def refund_like() -> None:
        # what a refund does, in its order: the money leaves the account (its ledger row is updated),
        # then the bonus hook locks the member to take the points back
        try:
            with transaction.atomic():
                LedgerAccount.objects.filter(pk=account.ledger_account_id).update(
                    balance_kopecks=F("balance_kopecks") + 0
                )
                refund_has_ledger_row.set()
                time.sleep(0.5)  # the redemption starts meanwhile and takes what it can
                BonusMember.objects.select_for_update().get(pk=member.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def redeem() -> None:
        refund_has_ledger_row.wait(5)
        try:
            bonus_redeem(user=owner, personal_account_id=account.pk, points=300, idempotency_key="k1")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # when both run at once
    threads = [threading.Thread(target=refund_like), threading.Thread(target=redeem)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # then neither was broken off (with the member locked first, PostgreSQL detected a deadlock here)
    assert errors == []
    assert LedgerAccount.objects.get(pk=member.ledger_account_id).balance_kopecks == 700
