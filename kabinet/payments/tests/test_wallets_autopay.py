"""E-wallets (linked through the acquirer's wallet method) and autopay (a saved card), end to end
through the sandbox acquirer over HTTP (see acquirer_fixtures)."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kabinet.billing.models import LedgerAccount, PersonalAccount
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory, SubscriptionFactory
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.payments.autopay import (
    autopay_days_left,
    autopay_run_due,
    autopay_set_enabled,
    autopay_setup_start,
    autopay_sync,
)
from kabinet.payments.models import AutopaySetting, Payment, WalletLink
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms
from kabinet.payments.wallets import wallet_links_sync, wallet_pay_start, wallet_topup, wallet_unlink

pytestmark = pytest.mark.django_db

TEST_WALLET = "410011758831136"


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


@pytest.fixture
def owner() -> User:
    return User.objects.create_user(email="wallet@example.test", password="x", customer=CustomerFactory())


@pytest.fixture
def account(owner: User) -> PersonalAccount:
    return PersonalAccountFactory(customer=owner.customer)  # type: ignore[return-value]


def wallet_payer_confirms(payment: Payment, capture_callbacks: object, wallet: str = TEST_WALLET) -> object:
    """The payer on the sandbox's wallet page: wallet number, confirm."""
    browser = Client()
    path = urlsplit(payment.confirmation_url).path
    with capture_callbacks(execute=True):  # type: ignore[operator]
        response = browser.post(path, {"wallet": wallet})
    assert response.status_code == 302, response.content[:500]
    return response


def test_wallet_is_linked_by_a_first_payment_and_then_tops_up_without_redirect(
    acquirer, django_capture_on_commit_callbacks, owner, account
) -> None:
    # given: a first payment from YooMoney with "link the wallet"
    payment = wallet_pay_start(
        user=owner,
        personal_account_id=account.pk,
        wallet_type="yoo_money",
        amount="300",
        idempotency_key="w-1",
    )
    assert payment.method == Payment.Method.WALLET
    assert payment.confirmation_url.startswith("http://testserver/sandbox-acquirer/checkout/")
    # when the payer confirms in the wallet
    wallet_payer_confirms(payment, django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    # then it is credited and, once the profile looks, the wallet is linked (masked)
    assert payment.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 30000
    assert wallet_links_sync(user=owner) == 1
    link = WalletLink.objects.get(user=owner, is_active=True)
    assert (link.wallet_type, link.masked_id) == ("yoo_money", "4100 **** 1136")
    assert link.payment_method_id
    assert AuditEvent.objects.filter(action="payments.wallet_link", actor=owner).count() == 1
    # when: a top-up from the linked wallet (no redirect), twice with the same key
    with django_capture_on_commit_callbacks(execute=True):
        topup = wallet_topup(
            user=owner, link_id=link.pk, personal_account_id=account.pk, amount="200", idempotency_key="w-2"
        )
    again = wallet_topup(
        user=owner, link_id=link.pk, personal_account_id=account.pk, amount="200", idempotency_key="w-2"
    )
    # then
    assert topup.status == Payment.Status.SUCCEEDED
    assert again.pk == topup.pk
    assert _balance(account) == 50000


def test_wallet_payment_follows_the_operator_rules(acquirer, owner, account) -> None:
    with pytest.raises(DomainError):
        wallet_pay_start(
            user=owner,
            personal_account_id=account.pk,
            wallet_type="yoo_money",
            amount="15001",
            idempotency_key="r",
        )
    with pytest.raises(DomainError):
        wallet_pay_start(
            user=owner,
            personal_account_id=account.pk,
            wallet_type="yoo_money",
            amount="157.50",
            idempotency_key="s",
        )
    assert Payment.objects.count() == 0


def test_others_cannot_use_or_unlink_my_wallet(
    acquirer, django_capture_on_commit_callbacks, owner, account
) -> None:
    payment = wallet_pay_start(
        user=owner,
        personal_account_id=account.pk,
        wallet_type="yoo_money",
        amount="100",
        idempotency_key="o-1",
    )
    wallet_payer_confirms(payment, django_capture_on_commit_callbacks)
    wallet_links_sync(user=owner)
    link = WalletLink.objects.get(user=owner, is_active=True)
    stranger = User.objects.create_user(
        email="stranger@example.test", password="x", customer=CustomerFactory()
    )
    stranger_account: PersonalAccount = PersonalAccountFactory(customer=stranger.customer)  # type: ignore[assignment]
    with pytest.raises(NotFound):
        wallet_topup(
            user=stranger,
            link_id=link.pk,
            personal_account_id=stranger_account.pk,
            amount="100",
            idempotency_key="x",
        )
    with pytest.raises(NotFound):
        wallet_unlink(user=stranger, link_id=link.pk)
    link.refresh_from_db()
    assert link.is_active is True
    wallet_unlink(user=owner, link_id=link.pk)
    link.refresh_from_db()
    assert link.is_active is False


def test_wallet_pages_link_and_list(acquirer, django_capture_on_commit_callbacks, owner, account) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("payments:wallets"))
    assert page.status_code == 200
    response = client.post(
        reverse("payments:wallet_pay"),
        {
            "personal_account": account.pk,
            "wallet_type": "yoo_money",
            "amount": "250",
            "remember": "on",
            "token": "t1",
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert response["Location"] == payment.confirmation_url
    wallet_payer_confirms(payment, django_capture_on_commit_callbacks)
    html = client.get(reverse("payments:wallets")).content.decode()
    assert "ЮMoney 4100 **** 1136" in html
    bad = client.post(
        reverse("payments:wallet_pay"),
        {"personal_account": account.pk, "wallet_type": "yoo_money", "amount": "abc", "token": "t2"},
    )
    assert bad.status_code == 400
    assert Payment.objects.count() == 1


def _setup_autopay(
    owner: User, account: PersonalAccount, callbacks: object, **kwargs: object
) -> AutopaySetting:
    options: dict = {"amount": "500", "trigger": "low_balance", "days_left_threshold": 3}
    options.update(kwargs)
    payment = autopay_setup_start(
        user=owner, personal_account_id=account.pk, idempotency_key="a-1", **options
    )
    payer_confirms(payment, capture_callbacks=callbacks)
    assert autopay_sync(user=owner) == 1
    return AutopaySetting.objects.get(user=owner, personal_account=account)


def test_autopay_saves_card_and_tops_up_when_few_days_left_within_limits(
    acquirer, django_capture_on_commit_callbacks, owner, account
) -> None:
    # given a 30 ₽/day tariff and autopay of 500 ₽ below 3 days, at most 1 000 ₽ a month
    SubscriptionFactory(
        personal_account=account,
        tariff__period="day",
        tariff__price_kopecks=3000,
        period="day",
        price_kopecks=3000,
    )
    setting = _setup_autopay(owner, account, django_capture_on_commit_callbacks, max_per_month="1000")
    assert setting.enabled is True
    assert setting.card_mask == "220000******0004"
    assert _balance(account) == 50000  # the first payment: 500 ₽ -> 16 days at 30 ₽
    assert autopay_days_left(personal_account=account) == 16
    # when: enough money -> nothing happens
    assert autopay_run_due(today=dt.date(2026, 11, 25)) == {
        "checked": 1,
        "charged": 0,
        "skipped": 1,
        "failed": 0,
    }
    # when: the money lasts 2 days
    from kabinet.billing.tests.factories import personal_account_fund

    personal_account_fund(personal_account=account, amount_kopecks=-44000)  # 60 ₽ left
    # (an hour later: the operator's rule allows one payment order per card per 30 minutes)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        with django_capture_on_commit_callbacks(execute=True):
            first = autopay_run_due(today=dt.date(2026, 11, 25))
        rerun = autopay_run_due(today=dt.date(2026, 11, 25))
    # then one charge of 500 ₽ (a rerun the same day charges nothing more)
    assert first["charged"] == 1
    assert rerun["charged"] in (0, 1)
    autopays = Payment.objects.filter(method=Payment.Method.AUTOPAY)
    assert [p.amount_kopecks for p in autopays] == [50000]
    assert autopays[0].status == Payment.Status.SUCCEEDED
    assert _balance(account) == 6000 + 50000
    # when: the next day it is due again but the monthly limit (1 000 ₽) allows only one more
    for day in (26, 27):
        personal_account_fund(personal_account=account, amount_kopecks=-50000)  # 60 ₽ left again
        with time_machine.travel(timezone.now() + dt.timedelta(days=day - 24)):
            with django_capture_on_commit_callbacks(execute=True):
                autopay_run_due(today=dt.date(2026, 11, day))
    assert Payment.objects.filter(method=Payment.Method.AUTOPAY, status="succeeded").count() == 2
    setting.refresh_from_db()
    assert setting.last_error == "Автоплатёж не выполнен: достигнут лимит 1\u202f000\u00a0₽ в месяц."


def test_autopay_on_day_of_month_and_switch_off(
    acquirer, django_capture_on_commit_callbacks, owner, account
) -> None:
    setting = _setup_autopay(
        owner, account, django_capture_on_commit_callbacks, trigger="day_of_month", day_of_month=5
    )
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert autopay_run_due(today=dt.date(2026, 12, 4))["charged"] == 0
            assert autopay_run_due(today=dt.date(2026, 12, 5))["charged"] == 1
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("payments:autopay")).content.decode()
    assert "5-го числа каждого месяца" in page
    assert "Включён" in page
    response = client.post(reverse("payments:autopay_switch", args=[setting.pk]), {"enabled": "0"})
    assert response.status_code == 302
    setting.refresh_from_db()
    assert setting.enabled is False
    autopay_set_enabled(user=owner, setting_id=setting.pk, enabled=True)
    autopay_set_enabled(user=owner, setting_id=setting.pk, enabled=False)
    assert autopay_run_due(today=dt.date(2027, 1, 5))["checked"] == 0
    assert Payment.objects.filter(method=Payment.Method.AUTOPAY).count() == 1
    assert AuditEvent.objects.filter(action="payments.autopay_switch", actor=owner).count() == 3


def test_autopay_limits_are_validated(acquirer, owner, account) -> None:
    for kwargs, field in (
        ({"amount": "16000", "max_per_payment": "16000"}, "max_per_payment"),
        ({"amount": "600", "max_per_payment": "500"}, "amount"),
        ({"amount": "500", "max_per_month": "400"}, "max_per_month"),
        ({"amount": "500.50"}, None),
    ):
        options: dict = {"amount": "500", "trigger": "low_balance"}
        options.update(kwargs)
        with pytest.raises(DomainError) as exc:
            autopay_setup_start(user=owner, personal_account_id=account.pk, idempotency_key="v", **options)
        if field:
            assert exc.value.field == field
    assert Payment.objects.count() == 0
    assert AutopaySetting.objects.count() == 0


def test_profile_links_to_wallets_and_autopay(owner) -> None:
    client = Client()
    client.force_login(owner)
    html = client.get(reverse("identity:profile")).content.decode()
    assert f'href="{reverse("payments:wallets")}"' in html
    assert f'href="{reverse("payments:autopay")}"' in html
    assert client.get(reverse("payments:autopay")).status_code == 200
