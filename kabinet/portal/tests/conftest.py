"""Fixtures of the portal tests: subscribers with accounts and services, built through the billing
factories and services (never raw ledger rows)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kabinet.billing.models import LedgerTransfer
from kabinet.billing.services import CLEARING_ACQUIRER, ledger_account_system, ledger_transfer_post
from kabinet.billing.tests.factories import (
    CustomerFactory,
    OptionFactory,
    PersonalAccountFactory,
    SubscriptionFactory,
    SubscriptionOptionFactory,
    TariffFactory,
)
from kabinet.identity.models import User

PASSWORD = "Secret-pass-2026"
_payments = itertools.count(1)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test gets its own cache key prefix: rate-limit counters and SMS challenges never leak between
    tests, nor between parallel workers sharing one Redis (whose user ids repeat)."""
    default = {**settings.CACHES["default"], "KEY_PREFIX": f"portal-test-{uuid.uuid4().hex}"}
    settings.CACHES = {**settings.CACHES, "default": default}
    yield
    cache.close()


def make_subscriber(email: str, **extra) -> User:
    customer = CustomerFactory()
    return User.objects.create_user(
        email=email, password=PASSWORD, customer=customer, email_verified=True, **extra
    )


def pay(account: Any, amount_kopecks: int, day: dt.date = dt.date(2026, 11, 1)) -> LedgerTransfer:
    return ledger_transfer_post(
        key=f"payment:portal-test-{next(_payments)}",
        debit=ledger_account_system(code=CLEARING_ACQUIRER),
        credit=account.ledger_account,
        amount_kopecks=amount_kopecks,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=day,
        description="Оплата банковской картой",
    ).transfer


def form_token_for(html: str, action: str) -> str:
    """The one-time form token of the form posting to ``action`` on a rendered page."""
    start = html.find(f'action="{action}"')
    start = html.index(f'action="{action}?') if start < 0 else start
    match = re.search(r'name="form_token" value="([^"]+)"', html[start:])
    assert match is not None
    return match.group(1)


def first_form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner() -> User:
    return make_subscriber("owner@example.com")


@pytest.fixture
def other() -> User:
    return make_subscriber("other@example.com")


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(email="staff@example.com", password=PASSWORD, is_staff=True)


@pytest.fixture
def catalog():
    """An internet tariff that may switch to a faster one, an option, a TV tariff with a package."""
    home100 = TariffFactory(code="home-100", name="Домашний 100", period="month", price_kopecks=41500)
    home300 = TariffFactory(code="home-300", name="Домашний 300", period="month", price_kopecks=59000)
    archived = TariffFactory(
        code="home-old", name="Домашний старый", period="month", price_kopecks=30000, status="archived"
    )
    home100.switchable_to.add(home300, archived)
    static_ip = OptionFactory(
        code="static-ip", name="Статический IP", service_kind="internet", price_kopecks=15000
    )
    tv = TariffFactory(
        code="tv-base", name="Базовый ТВ", service_kind="tv", period="month", price_kopecks=11900
    )
    kino = OptionFactory(
        code="kino", name="Кино", service_kind="tv", kind="tv_package", period="month", price_kopecks=19900
    )
    return {
        "home100": home100,
        "home300": home300,
        "archived": archived,
        "static_ip": static_ip,
        "tv": tv,
        "kino": kino,
    }


@pytest.fixture
def owner_account(owner, catalog) -> Any:
    account = PersonalAccountFactory(customer=owner.customer, service_kind="internet")
    pay(account, 100000)
    SubscriptionFactory(personal_account=account, tariff=catalog["home100"], started_on=dt.date(2026, 11, 1))
    return account


@pytest.fixture
def other_account(other, catalog) -> Any:
    account = PersonalAccountFactory(customer=other.customer, service_kind="internet")
    pay(account, 20000)
    SubscriptionFactory(personal_account=account, tariff=catalog["home100"], started_on=dt.date(2026, 11, 1))
    return account


__all__ = ["SubscriptionOptionFactory"]
