"""/api/v1/accounts: the authorization matrix (anonymous / other subscriber / owner / staff) and values."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kabinet.billing.models import LedgerTransfer, PersonalAccount, PersonalAccountLink
from kabinet.billing.services import (
    CLEARING_ACQUIRER,
    ledger_account_system,
    ledger_adjustment_post,
    ledger_transfer_post,
    revenue_account_code,
)
from kabinet.billing.tests.factories import CustomerFactory, PersonalAccountFactory
from kabinet.identity.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Secret-pass-2026"


def _subscriber(email: str) -> User:
    customer = CustomerFactory()
    return User.objects.create_user(email=email, password=PASSWORD, customer=customer, email_verified=True)


@pytest.fixture
def owner() -> User:
    return _subscriber("owner@example.com")


@pytest.fixture
def other() -> User:
    return _subscriber("other@example.com")


@pytest.fixture
def owner_account(owner):
    account = PersonalAccountFactory(
        customer=owner.customer, service_kind="internet", credit_limit_kopecks=30000
    )
    PersonalAccount.objects.filter(pk=account.pk).update(
        cash_payment_ban=True, status=PersonalAccount.Status.BLOCKED_OPERATOR, status_reason="Проверка"
    )
    # A payment of 500 ₽ on 1 Nov, then a charge of 4.15 ₽ on 2 Nov.
    ledger_transfer_post(
        key="payment:api-1",
        debit=ledger_account_system(code=CLEARING_ACQUIRER),
        credit=account.ledger_account,
        amount_kopecks=50000,
        kind=LedgerTransfer.Kind.PAYMENT,
        value_date=dt.date(2026, 11, 1),
        description="Оплата картой",
    )
    ledger_transfer_post(
        key="charge:api-1",
        debit=account.ledger_account,
        credit=ledger_account_system(code=revenue_account_code("internet")),
        amount_kopecks=415,
        kind=LedgerTransfer.Kind.CHARGE,
        value_date=dt.date(2026, 11, 2),
        description="Абонентская плата «Домашний 100» за 2 ноября",
    )
    account.refresh_from_db()
    return account


@pytest.fixture
def other_account(other):
    account = PersonalAccountFactory(customer=other.customer, service_kind="tv", balance_kopecks=777700)
    return account


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_gets_401_in_the_single_error_format(owner_account):
    client = Client()
    for url in ("/api/v1/accounts", f"/api/v1/accounts/{owner_account.pk}/history"):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json() == {"error": {"code": "unauthorized", "message": "Войдите в личный кабинет."}}


def test_owner_sees_own_accounts_with_exact_values(owner, owner_account, other_account):
    # when
    response = _logged_in(owner).get("/api/v1/accounts")
    # then
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": owner_account.pk,
            "number": owner_account.number,
            "service_kind": "internet",
            "service_kind_name": "Домашний интернет",
            "status": "blocked_operator",
            "status_name": "Заблокирован оператором",
            "status_reason": "Проверка",
            "balance_kopecks": 49585,
            "credit_limit_kopecks": 30000,
            "cash_payment_ban": True,
        }
    ]


def test_owner_history_is_signed_newest_first_and_paginated(owner, owner_account):
    client = _logged_in(owner)
    # when
    first = client.get(f"/api/v1/accounts/{owner_account.pk}/history?limit=1")
    second = client.get(f"/api/v1/accounts/{owner_account.pk}/history?limit=1&offset=1")
    # then
    assert first.status_code == 200
    body = first.json()
    assert (body["count"], body["limit"], body["offset"], body["next_offset"]) == (2, 1, 0, 1)
    [line] = body["items"]
    assert {k: v for k, v in line.items() if k not in ("id", "created_at")} == {
        "date": "2026-11-02",
        "kind": "charge",
        "kind_name": "Списание",
        "amount_kopecks": -415,
        "description": "Абонентская плата «Домашний 100» за 2 ноября",
    }
    body = second.json()
    assert (body["count"], body["offset"], body["next_offset"]) == (2, 1, None)
    [line] = body["items"]
    assert (line["date"], line["kind"], line["amount_kopecks"], line["description"]) == (
        "2026-11-01",
        "payment",
        50000,
        "Оплата картой",
    )


def test_staff_adjustment_appears_in_the_subscriber_history_with_its_reason(owner, owner_account):
    # given
    staff = User.objects.create_user(email="op@example.com", password=PASSWORD, is_staff=True)
    ledger_adjustment_post(
        personal_account=owner_account,
        direction="credit",
        amount_kopecks=10000,
        reason="Компенсация за аварию",
        actor=staff,
        token="api-adj",
    )
    # when
    body = _logged_in(owner).get(f"/api/v1/accounts/{owner_account.pk}/history").json()
    # then
    top = body["items"][0]
    assert (top["kind"], top["amount_kopecks"], top["description"]) == (
        "adjustment",
        10000,
        "Зачисление оператором: Компенсация за аварию",
    )


def test_another_subscriber_gets_404_and_nothing_leaks(other, owner_account):
    client = _logged_in(other)
    not_found = {"error": {"code": "not_found", "message": "Лицевой счёт не найден."}}
    # when
    listing = client.get("/api/v1/accounts")
    detail = client.get(f"/api/v1/accounts/{owner_account.pk}")
    history = client.get(f"/api/v1/accounts/{owner_account.pk}/history")
    missing = client.get("/api/v1/accounts/999999/history")
    # then
    assert listing.status_code == 200
    assert listing.json() == []
    assert (detail.status_code, detail.json()) == (404, not_found)
    assert (history.status_code, history.json()) == (404, not_found)
    # a foreign id answers exactly like an id that does not exist
    assert (missing.status_code, missing.json()) == (404, not_found)
    for response in (listing, detail, history):
        assert owner_account.number.encode() not in response.content
        assert b"49585" not in response.content


def test_staff_through_the_subscriber_api_sees_only_own_links(owner_account, other_account):
    # given: a staff member with their own home account, linked to nothing else
    staff_customer = CustomerFactory()
    staff = User.objects.create_user(
        email="staff@example.com", password=PASSWORD, is_staff=True, customer=staff_customer
    )
    own = PersonalAccountFactory(customer=staff_customer, service_kind="mobile")
    client = _logged_in(staff)
    # when
    listing = client.get("/api/v1/accounts")
    foreign = client.get(f"/api/v1/accounts/{owner_account.pk}/history")
    # then
    assert [a["id"] for a in listing.json()] == [own.pk]
    assert foreign.status_code == 404


def test_an_account_shown_through_a_link_is_visible_and_unlinking_hides_it(other, owner_account):
    # given
    link = PersonalAccountLink.objects.create(
        user=other, personal_account=owner_account, method=PersonalAccountLink.Method.SMS_CODE
    )
    client = _logged_in(other)
    assert [a["id"] for a in client.get("/api/v1/accounts").json()] == [owner_account.pk]
    # when
    link.delete()
    # then
    assert client.get("/api/v1/accounts").json() == []
    assert client.get(f"/api/v1/accounts/{owner_account.pk}/history").status_code == 404


def test_session_token_of_the_app_client_authenticates(owner, owner_account, other_account):
    # given: the mobile app logs in through allauth headless and gets a session token
    login = Client().post(
        "/_allauth/app/v1/auth/login",
        {"email": owner.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert login.status_code == 200, login.content
    token = login.json()["meta"]["session_token"]
    app = Client()
    # when
    listing = app.get("/api/v1/accounts", HTTP_X_SESSION_TOKEN=token)
    foreign = app.get(f"/api/v1/accounts/{other_account.pk}/history", HTTP_X_SESSION_TOKEN=token)
    bad = app.get("/api/v1/accounts", HTTP_X_SESSION_TOKEN="not-a-token")
    # then
    assert [a["id"] for a in listing.json()] == [owner_account.pk]
    assert foreign.status_code == 404
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "offset=-1", "offset=10000000000000000000000", "limit=abc"]
)
def test_bad_pagination_is_a_validation_error(owner, owner_account, query):
    response = _logged_in(owner).get(f"/api/v1/accounts/{owner_account.pk}/history?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_accounts_list_query_count_does_not_grow_with_accounts(owner):
    # given
    client = _logged_in(owner)
    PersonalAccountFactory(customer=owner.customer, service_kind="internet")
    client.get("/api/v1/accounts")  # warm up the session bookkeeping of the middleware
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/accounts")
    for kind in ("tv", "mobile", "landline", "wifi"):
        PersonalAccountFactory(customer=owner.customer, service_kind=kind)
    # when
    with CaptureQueriesContext(connection) as five:
        response = client.get("/api/v1/accounts")
    # then
    assert len(response.json()) == 5
    assert len(five) == len(one)
