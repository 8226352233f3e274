"""The mobile app's auth: allauth headless (app client, session token) and /api/v1/me."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from kabinet.customers.models import Customer
from kabinet.identity.deactivation import user_deactivate
from kabinet.identity.tests.security_helpers import PASSWORD, make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Iterator[None]:
    # allauth's login rate limits live in the cache: start each test clean.
    cache.clear()
    yield
    cache.clear()


def app_login(client: Client, **credentials: str) -> Any:
    return client.post(
        "/_allauth/app/v1/auth/login", {**credentials, "password": PASSWORD}, content_type="application/json"
    )


def test_app_logs_in_by_phone_and_calls_me_with_session_token() -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    client = Client()
    # when
    response = app_login(client, phone="+79171234567")
    # then
    assert response.status_code == 200
    body = response.json()
    token = body["meta"]["session_token"]
    assert body["data"]["user"]["id"] == user.pk
    assert Client().get("/api/v1/health").json() == {"status": "ok"}
    me = Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token)
    assert me.status_code == 200
    assert me.json() == {
        "id": user.pk,
        "phone": "+79171234567",
        "phone_verified": True,
        "email": None,
        "email_verified": False,
        "customer": {
            "id": user.customer_id,
            "kind": "individual",
            "verification": "not_required",
            "display_name": "+79171234567",
        },
    }


def test_me_without_credentials_is_401_in_the_api_error_format() -> None:
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": "Войдите в личный кабинет."}}


def test_me_with_a_forged_token_is_401() -> None:
    make_subscriber(phone="+79171234567")
    response = Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN="not-a-token")
    assert response.status_code == 401


def test_me_with_the_browser_session() -> None:
    customer = Customer.objects.create(
        kind=Customer.Kind.ORGANIZATION,
        display_name="ООО Ромашка",
        verification=Customer.Verification.PENDING,
    )
    user = make_subscriber(email="buh@romashka.example", customer=customer)
    client = Client()
    client.force_login(user)
    data = client.get("/api/v1/me").json()
    assert data["email"] == "buh@romashka.example"
    assert data["customer"]["kind"] == "organization"
    assert data["customer"]["verification"] == "pending"


def test_a_subscriber_sees_only_their_own_data() -> None:
    # given two subscribers with app tokens
    alice = make_subscriber(phone="+79171234567")
    bob = make_subscriber(phone="+79171234568")
    token_bob = app_login(Client(), phone="+79171234568").json()["meta"]["session_token"]
    # when Bob asks for /me, with any attempt to name Alice
    plain = Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token_bob).json()
    probing = (
        Client().get(f"/api/v1/me?id={alice.pk}&user_id={alice.pk}", HTTP_X_SESSION_TOKEN=token_bob).json()
    )
    # then he sees himself only
    assert plain["id"] == bob.pk
    assert probing["id"] == bob.pk
    assert probing["phone"] == "+79171234568"


def test_token_stops_working_after_the_cabinet_is_switched_off() -> None:
    user = make_subscriber(phone="+79171234567")
    token = app_login(Client(), phone="+79171234567").json()["meta"]["session_token"]
    assert Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 200
    user_deactivate(user=user, actor=user, reason="по желанию абонента")
    assert Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert app_login(Client(), phone="+79171234567").status_code != 200
