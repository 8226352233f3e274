"""Social networks (VK, Yandex): the redirect to the provider and the callback with the provider's
responses, as allauth's own provider tests do (the providers cannot be reached here)."""

from __future__ import annotations

import datetime
import json
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import time_machine
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from kabinet.identity.models import User
from kabinet.identity.tests.security_helpers import fresh_login, logged_in_user_id, make_subscriber

pytestmark = pytest.mark.django_db

PROVIDERS = {
    "vk": {"APPS": [{"client_id": "vk-app-id", "secret": "vk-secret"}]},
    "yandex": {"APPS": [{"client_id": "yandex-app-id", "secret": "yandex-secret"}]},
    "mailru": {"APPS": [{"client_id": "mailru-app-id", "secret": "mailru-secret"}]},
    "odnoklassniki": {"APPS": [{"client_id": "ok-app-id", "secret": "ok-secret", "key": "ok-public"}]},
}

VK_TOKEN = {
    "access_token": "vk-access",
    "refresh_token": "vk-refresh",
    "expires_in": 3600,
    "user_id": 1234567890,
}
VK_USER = {
    "user": {
        "user_id": "1234567890",
        "first_name": "Иван",
        "last_name": "Иванов",
        "phone": "79171234567",
        "email": "ivan_vk@example.ru",
        "sex": 2,
        "verified": False,
    }
}
YANDEX_TOKEN = {"access_token": "ya-access", "token_type": "bearer", "expires_in": 3600}
YANDEX_USER = {
    "id": "1000034426",
    "login": "ivan.ivanov",
    "client_id": "yandex-app-id",
    "display_name": "Иван",
    "real_name": "Иван Иванов",
    "first_name": "Иван",
    "last_name": "Иванов",
    "default_email": "ivan@yandex.ru",
    "emails": ["ivan@yandex.ru"],
}


@pytest.fixture(autouse=True)
def _social_apps(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = PROVIDERS


class ProviderStandIn:
    """Answers the provider's token and user-info URLs like the provider does; records the calls."""

    def __init__(self, routes: dict[str, dict]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, str, dict]] = []

    def __call__(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls.append((method.upper(), url, kwargs))
        response = requests.Response()
        body = self.routes.get(url.split("?")[0])
        response.status_code = 200 if body is not None else 404
        response._content = json.dumps(body or {"error": "not found"}).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


def _start(client: Client, provider: str, process: str = "login") -> dict[str, list[str]]:
    response = client.post(f"/accounts/{provider}/login/", {"process": process})
    assert response.status_code == 302
    return {"_location": [response["Location"]], **parse_qs(urlparse(response["Location"]).query)}


def test_vk_redirect_carries_client_id_state_and_callback() -> None:
    # given
    client = Client()
    # when
    params = _start(client, "vk")
    # then
    location = params["_location"][0]
    assert location.startswith("https://id.vk.ru/authorize?")
    assert params["client_id"] == ["vk-app-id"]
    assert params["response_type"] == ["code"]
    assert params["redirect_uri"] == ["http://testserver/accounts/vk/login/callback/"]
    assert len(params["state"][0]) >= 12
    assert params["code_challenge_method"] == ["S256"]


def test_yandex_redirect_carries_client_id_and_state() -> None:
    client = Client()
    params = _start(client, "yandex")
    assert params["_location"][0].startswith("https://oauth.yandex.com/authorize?")
    assert params["client_id"] == ["yandex-app-id"]
    assert params["redirect_uri"] == ["http://testserver/accounts/yandex/login/callback/"]
    assert params["state"][0]


@pytest.mark.parametrize(
    ("provider", "authorize_url", "client_id"),
    [
        ("mailru", "https://connect.mail.ru/oauth/authorize?", "mailru-app-id"),
        ("odnoklassniki", "https://www.odnoklassniki.ru/oauth/authorize?", "ok-app-id"),
    ],
)
def test_mailru_and_ok_redirects(provider: str, authorize_url: str, client_id: str) -> None:
    params = _start(Client(), provider)
    assert params["_location"][0].startswith(authorize_url)
    assert params["client_id"] == [client_id]
    assert params["state"][0]


def _callback(client: Client, provider: str, state: str, stand_in: ProviderStandIn, **extra: str) -> Any:
    with mock.patch.object(requests.Session, "request", new=stand_in):
        return client.get(
            f"/accounts/{provider}/login/callback/", {"code": "auth-code", "state": state, **extra}
        )


def test_vk_linked_in_profile_then_logs_in_with_one_click() -> None:
    # given a subscriber who links VK in the profile
    user = make_subscriber(email="ivan@example.ru")
    client = Client()
    fresh_login(client, user)
    vk = ProviderStandIn(
        {"https://id.vk.ru/oauth2/auth": VK_TOKEN, "https://id.vk.ru/oauth2/user_info": VK_USER}
    )
    state = _start(client, "vk", process="connect")["state"][0]
    response = _callback(client, "vk", state, vk, device_id="device-1")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/"
    account = SocialAccount.objects.get(provider="vk")
    assert account.user_id == user.pk
    assert account.uid == "1234567890"
    token_call = vk.calls[0]
    assert token_call[0] == "POST" and token_call[1] == "https://id.vk.ru/oauth2/auth"
    assert token_call[2]["data"]["code"] == "auth-code"
    assert token_call[2]["data"]["device_id"] == "device-1"
    assert token_call[2]["data"]["code_verifier"]
    # when the subscriber later logs in with VK from another browser
    other = Client()
    state = _start(other, "vk")["state"][0]
    response = _callback(other, "vk", state, vk, device_id="device-2")
    # then they are in their own cabinet
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert logged_in_user_id(other) == str(user.pk)
    assert SocialAccount.objects.count() == 1


def test_yandex_linked_account_logs_in() -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    SocialAccount.objects.create(user=user, provider="yandex", uid="1000034426", extra_data={})
    yandex = ProviderStandIn(
        {"https://oauth.yandex.ru/token": YANDEX_TOKEN, "https://login.yandex.ru/info": YANDEX_USER}
    )
    client = Client()
    state = _start(client, "yandex")["state"][0]
    # when
    response = _callback(client, "yandex", state, yandex)
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert logged_in_user_id(client) == str(user.pk)
    info_call = yandex.calls[1]
    assert info_call[0] == "GET" and info_call[1] == "https://login.yandex.ru/info"
    assert info_call[2]["headers"]["Authorization"] == "OAuth ya-access"


def test_unlinked_social_account_does_not_register_or_log_in() -> None:
    # given nobody linked this Yandex account
    users_before = User.objects.count()
    yandex = ProviderStandIn(
        {"https://oauth.yandex.ru/token": YANDEX_TOKEN, "https://login.yandex.ru/info": YANDEX_USER}
    )
    client = Client()
    state = _start(client, "yandex")["state"][0]
    # when
    response = _callback(client, "yandex", state, yandex)
    # then: signup by social network is closed
    assert response.status_code == 200
    assert logged_in_user_id(client) is None
    assert User.objects.count() == users_before
    assert SocialAccount.objects.count() == 0


def test_callback_with_forged_state_is_refused() -> None:
    user = make_subscriber(email="ivan@example.ru")
    SocialAccount.objects.create(user=user, provider="yandex", uid="1000034426", extra_data={})
    yandex = ProviderStandIn(
        {"https://oauth.yandex.ru/token": YANDEX_TOKEN, "https://login.yandex.ru/info": YANDEX_USER}
    )
    client = Client()
    _start(client, "yandex")
    response = _callback(client, "yandex", "forged-state", yandex)
    assert response.status_code == 401
    assert logged_in_user_id(client) is None
    assert yandex.calls == []


def test_unlink_in_profile() -> None:
    # given
    user = make_subscriber(email="ivan@example.ru")
    account = SocialAccount.objects.create(user=user, provider="vk", uid="1234567890", extra_data={})
    client = Client()
    fresh_login(client, user)
    page = client.get("/accounts/3rdparty/")
    assert page.status_code == 200
    assert "Социальные сети" in page.content.decode()
    # when
    response = client.post("/accounts/3rdparty/", {"account": account.pk})
    # then
    assert response.status_code == 302
    assert SocialAccount.objects.filter(user=user).count() == 0


def test_unlink_in_a_stale_session_asks_to_reauthenticate_and_keeps_the_link() -> None:
    # given a login 11 minutes ago
    user = make_subscriber(email="ivan@example.ru")
    account = SocialAccount.objects.create(user=user, provider="vk", uid="1234567890", extra_data={})
    client = Client()
    fresh_login(client, user)
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=11)
    with time_machine.travel(later, tick=False):
        # when
        response = client.post("/accounts/3rdparty/", {"account": account.pk})
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert SocialAccount.objects.filter(user=user).count() == 1


def test_login_page_shows_buttons_of_configured_providers() -> None:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/accounts/login/")
    html = render_to_string("identity/_social_buttons.html", request=request)
    assert 'action="/accounts/vk/login/?process=login"' in html
    assert 'action="/accounts/yandex/login/?process=login"' in html
    assert 'action="/accounts/mailru/login/?process=login"' in html
    assert 'action="/accounts/odnoklassniki/login/?process=login"' in html


def test_no_buttons_when_no_provider_is_configured(settings: Any) -> None:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    settings.SOCIALACCOUNT_PROVIDERS = {}
    html = render_to_string("identity/_social_buttons.html", request=RequestFactory().get("/accounts/login/"))
    assert "<form" not in html


def test_connections_page_survives_a_provider_switched_off_later(settings: Any) -> None:
    # given VK was linked, then the operator removed VK_CLIENT_ID
    user = make_subscriber(email="ivan@example.ru")
    SocialAccount.objects.create(user=user, provider="vk", uid="1234567890", extra_data={})
    settings.SOCIALACCOUNT_PROVIDERS = {}
    client = Client()
    fresh_login(client, user)
    # when / then
    assert client.get("/accounts/3rdparty/").status_code == 200
    assert client.get(reverse("identity:profile")).status_code == 200
