"""«Летай Бонус» points are taken back when a card payment is refunded (kabinet.payments.hooks)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Sum
from django.utils import translation

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount, PersonalAccountLink
from kabinet.billing.services import ledger_account_system
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.bonus.models import BonusLot, BonusMember
from kabinet.bonus.services import BONUS_ISSUED, bonus_redeem, bonus_reversal_points
from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.payments.models import Payment, PaymentEvent, Refund
from kabinet.payments.office import payment_office_create
from kabinet.payments.services import (
    payment_initiate,
    payment_notification_handle,
    payment_refund,
    refund_sync,
)
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user(email="owner@example.test", password="x", customer=CustomerFactory())


@pytest.fixture
def account(owner: User) -> PersonalAccount:
    account: PersonalAccount = PersonalAccountFactory(customer=owner.customer)  # type: ignore[assignment]
    PersonalAccountLink.objects.get_or_create(user=owner, personal_account=account)
    return account


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(email="staff@letai.test", password="x", is_staff=True)


def _points(user: User) -> int:
    return LedgerAccount.objects.get(pk=BonusMember.objects.get(user=user).ledger_account_id).balance_kopecks


def _assert_ledger_invariants() -> None:
    assert LedgerAccount.objects.aggregate(s=Sum("balance_kopecks"))["s"] == 0
    for member in BonusMember.objects.all():
        lots = BonusLot.objects.filter(member=member, expired_at__isnull=True).aggregate(s=Sum("remaining"))
        assert LedgerAccount.objects.get(pk=member.ledger_account_id).balance_kopecks == (lots["s"] or 0)
        assert LedgerAccount.objects.get(pk=member.ledger_account_id).balance_kopecks >= 0
    members = BonusMember.objects.aggregate(s=Sum("ledger_account__balance_kopecks"))["s"] or 0
    assert members == -ledger_account_system(code=BONUS_ISSUED).balance_kopecks


def _paid(account: PersonalAccount, capture: Any, *, rubles: str = "1000", key: str = "p1") -> Payment:
    payment = payment_initiate(personal_account=account, amount=rubles, idempotency_key=key)
    payer_confirms(payment, capture_callbacks=capture)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def _refund(payment: Payment, staff: User, capture: Any, kopecks: int | None = None) -> Refund:
    # execute=True also delivers the acquirer's refund.succeeded notification (a replay of the apply)
    with capture(execute=True):
        refund = payment_refund(
            payment=payment, actor=staff, reason="Ошибочный платёж", amount_kopecks=kopecks
        )
    assert refund.status == Refund.Status.SUCCEEDED
    return refund


@pytest.mark.parametrize(
    ("accrued", "payment", "before", "after", "points"),
    [
        (1000, 100_000, 0, 100_000, 1000),  # full refund: everything
        (1000, 100_000, 0, 33_333, 333),  # a third, rounded down in the subscriber's favour
        (1000, 100_000, 33_333, 100_000, 667),  # the rest: the parts add up to the accrued points
        (157, 15_700, 0, 1, 0),  # one kopeck of 157 ₽ is worth less than a point
        (157, 15_700, 0, 15_699, 156),
        (0, 15_700, 0, 15_700, 0),
    ],
)
def test_reversal_points_are_proportional_and_rounded_down(accrued, payment, before, after, points) -> None:
    assert (
        bonus_reversal_points(
            accrued=accrued,
            payment_kopecks=payment,
            refunded_before_kopecks=before,
            refunded_after_kopecks=after,
        )
        == points
    )


def test_full_refund_takes_back_the_points_once_and_shows_why(
    acquirer, client, django_capture_on_commit_callbacks, owner, account, staff
) -> None:
    # given a 1 000 ₽ card payment that earned 1 000 points
    payment = _paid(account, django_capture_on_commit_callbacks)
    assert _points(owner) == 1000
    # when staff refund all of it (the acquirer's notification arrives too)
    refund = _refund(payment, staff, django_capture_on_commit_callbacks)
    # then the points go back to the programme with the refund's key, once
    assert _points(owner) == 0
    reversal = LedgerTransfer.objects.get(key=f"bonus-reversal:{refund.public_id}")
    assert reversal.amount_kopecks == 1000
    assert reversal.description == "Возврат платежа 1\u202f000\u00a0₽: списаны начисленные за него баллы"
    assert reversal.credit_account_id == ledger_account_system(code=BONUS_ISSUED).pk
    assert list(BonusLot.objects.values_list("points", "remaining")) == [(1000, 0)]
    events = list(payment.events.filter(kind=PaymentEvent.Kind.BONUS_REVERSED).values_list("message", "data"))
    assert events == [
        (
            "Списано бонусных баллов за возврат: 1000.",
            {"refund": str(refund.public_id), "due": 1000, "taken": 1000, "shortfall": 0},
        )
    ]
    audit = AuditEvent.objects.get(action="bonus.refund_reversal")
    assert (audit.target_type, audit.target_id, audit.actor_id) == (
        "payments.refund",
        str(refund.pk),
        staff.pk,
    )
    assert audit.new is not None and audit.new["shortfall"] == 0
    # and replays of the notification and of the sync change nothing
    refund_sync(refund=refund)
    payment_notification_handle(
        body={
            "type": "notification",
            "event": "refund.succeeded",
            "object": {"id": refund.acquirer_refund_id, "payment_id": payment.acquirer_payment_id},
        }
    )
    assert LedgerTransfer.objects.filter(key__startswith="bonus-reversal:").count() == 1
    assert payment.events.filter(kind=PaymentEvent.Kind.BONUS_REVERSED).count() == 1
    assert AuditEvent.objects.filter(action="bonus.refund_reversal").count() == 1
    assert _points(owner) == 0
    _assert_ledger_invariants()
    # the subscriber sees it in the bonus history
    client.force_login(owner)
    page = client.get("/bonus/").content.decode()
    assert "Возврат платежа 1\u202f000\u00a0₽: списаны начисленные за него баллы" in page
    assert "−1000" in page


def test_partial_refunds_take_back_their_share_and_add_up_to_the_accrual(
    acquirer, django_capture_on_commit_callbacks, owner, account, staff
) -> None:
    # given a 1 000 ₽ card payment (1 000 points) and a 500 ₽ office payment (500 points) kept whole
    payment = _paid(account, django_capture_on_commit_callbacks)
    payment_office_create(actor=staff, account_number=account.number, amount="500", idempotency_key="o1")
    assert _points(owner) == 1500
    # when a third is refunded
    first = _refund(payment, staff, django_capture_on_commit_callbacks, kopecks=33_333)
    # then 333 points go (not 333.33), taken from this payment's own lot
    assert LedgerTransfer.objects.get(key=f"bonus-reversal:{first.public_id}").amount_kopecks == 333
    assert _points(owner) == 1167
    assert sorted(BonusLot.objects.values_list("points", "remaining")) == [(500, 500), (1000, 667)]
    # when the rest is refunded
    second = _refund(payment, staff, django_capture_on_commit_callbacks)
    # then 667 more: together exactly what the payment earned
    assert LedgerTransfer.objects.get(key=f"bonus-reversal:{second.public_id}").amount_kopecks == 667
    assert _points(owner) == 500
    assert sorted(BonusLot.objects.values_list("points", "remaining")) == [(500, 500), (1000, 0)]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    _assert_ledger_invariants()


def test_points_already_spent_are_not_taken_and_the_shortfall_is_recorded(
    acquirer, django_capture_on_commit_callbacks, owner, account, staff
) -> None:
    # given 1 000 points earned, 800 of them already spent on services
    payment = _paid(account, django_capture_on_commit_callbacks)
    bonus_redeem(user=owner, personal_account_id=account.pk, points=800, idempotency_key="spend")
    assert _points(owner) == 200
    # when the payment is refunded in full
    refund = _refund(payment, staff, django_capture_on_commit_callbacks)
    # then only the 200 left are taken: the balance stops at zero, never below
    assert _points(owner) == 0
    reversal = LedgerTransfer.objects.get(key=f"bonus-reversal:{refund.public_id}")
    assert reversal.amount_kopecks == 200
    assert reversal.description == (
        "Возврат платежа 1\u202f000\u00a0₽: списаны начисленные за него баллы, кроме уже потраченных (800)"
    )
    event = payment.events.get(kind=PaymentEvent.Kind.BONUS_REVERSED)
    assert event.message == "Списано бонусных баллов за возврат: 200 из 1000 (остальные уже потрачены)."
    assert event.data["shortfall"] == 800
    audit = AuditEvent.objects.get(action="bonus.refund_reversal")
    assert audit.new is not None
    assert {k: audit.new[k] for k in ("accrued", "due", "taken", "shortfall")} == {
        "accrued": 1000,
        "due": 1000,
        "taken": 200,
        "shortfall": 800,
    }
    _assert_ledger_invariants()


def test_refund_when_every_point_is_spent_records_the_shortfall_without_a_transfer(
    acquirer, django_capture_on_commit_callbacks, owner, account, staff
) -> None:
    # given all 1 000 points spent
    payment = _paid(account, django_capture_on_commit_callbacks)
    bonus_redeem(user=owner, personal_account_id=account.pk, points=1000, idempotency_key="all")
    # when refunded, and the refund's notification replayed
    refund = _refund(payment, staff, django_capture_on_commit_callbacks)
    refund_sync(refund=refund)
    # then nothing can be taken: no transfer, one event and one audit row with the shortfall
    assert _points(owner) == 0
    assert not LedgerTransfer.objects.filter(key__startswith="bonus-reversal:").exists()
    assert list(
        payment.events.filter(kind=PaymentEvent.Kind.BONUS_REVERSED).values_list("message", flat=True)
    ) == ["Списано бонусных баллов за возврат: 0 из 1000 (остальные уже потрачены)."]
    assert AuditEvent.objects.get(action="bonus.refund_reversal").new == {
        "member": owner.pk,
        "payment": str(payment.public_id),
        "accrued": 1000,
        "due": 1000,
        "taken": 0,
        "shortfall": 1000,
    }
    _assert_ledger_invariants()


def test_refund_of_a_payment_that_earned_no_points_changes_no_points(
    acquirer, django_capture_on_commit_callbacks, owner, account, staff
) -> None:
    # given a 50 ₽ payment, below the programme's 100 ₽ minimum
    payment = _paid(account, django_capture_on_commit_callbacks, rubles="50")
    # when refunded
    _refund(payment, staff, django_capture_on_commit_callbacks)
    # then no reversal, no timeline line, no audit row
    assert not LedgerTransfer.objects.filter(key__startswith="bonus-reversal:").exists()
    assert not payment.events.filter(kind=PaymentEvent.Kind.BONUS_REVERSED).exists()
    assert not AuditEvent.objects.filter(action="bonus.refund_reversal").exists()


def test_a_refund_by_staff_working_in_english_is_recorded_in_russian(
    acquirer, django_capture_on_commit_callbacks, owner, account, staff
) -> None:
    # given a 1 000 ₽ card payment that earned 1 000 points
    payment = _paid(account, django_capture_on_commit_callbacks)
    # when staff refund it with the interface in English
    with translation.override("en"):
        refund = _refund(payment, staff, django_capture_on_commit_callbacks)
    # then the ledger and the payment's timeline read in the operator's language
    assert LedgerTransfer.objects.get(key=f"refund:{refund.public_id}").description.startswith(
        "Возврат платежа на карту"
    )
    assert LedgerTransfer.objects.get(key=f"bonus-reversal:{refund.public_id}").description == (
        "Возврат платежа 1\u202f000\u00a0₽: списаны начисленные за него баллы"
    )
    messages = dict(payment.events.values_list("kind", "message"))
    assert messages[PaymentEvent.Kind.REFUNDED] == "Возвращено 1000,00 ₽"
    assert messages[PaymentEvent.Kind.BONUS_REVERSED] == "Списано бонусных баллов за возврат: 1000."
