"""Card payments through the sandbox acquirer: initiate, confirm with card and SMS code, notifications,
capture/cancel under the operator's card rules, crediting exactly once."""

from __future__ import annotations

import datetime as dt

import pytest

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import CLEARING_ACQUIRER, ledger_account_system
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.notifications.models import OutboxMessage
from kabinet.payments.models import Payment
from kabinet.payments.services import payment_initiate
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms
from kabinet.sandbox_acquirer.models import SandboxPayment

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def _account(**kwargs: object) -> PersonalAccount:
    return PersonalAccountFactory(**kwargs)  # type: ignore[return-value]


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def _start(
    account: PersonalAccount, amount: str = "157", key: str = "k-1", email: str = "payer@example.ru"
) -> Payment:
    return payment_initiate(personal_account=account, amount=amount, idempotency_key=key, receipt_email=email)


def test_card_payment_is_credited_once_with_timeline_and_receipt(
    acquirer, django_capture_on_commit_callbacks
) -> None:
    # given
    account = _account(balance_kopecks=1000)
    payment = _start(account)
    # when
    response = payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/pay/status/{payment.public_id}/"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.card_mask == "220000******0004"
    assert payment.card_brand == "MIR"
    assert payment.card_issuer_country == "RU"
    assert _balance(account) == 1000 + 15700
    assert LedgerTransfer.objects.get(key=f"payment:{payment.public_id}").amount_kopecks == 15700
    assert ledger_account_system(code=CLEARING_ACQUIRER).balance_kopecks == -15700
    kinds = list(payment.events.values_list("kind", flat=True))
    assert kinds == ["accepted", "paid", "credited", "receipt_sent"]
    assert payment.paid_at is not None and payment.credited_at is not None
    assert SandboxPayment.objects.get(pk=payment.acquirer_payment_id).status == "succeeded"
    email = OutboxMessage.objects.get(channel="email", to="payer@example.ru")
    assert account.number in email.subject
