"""The API refuses a phone change in a stale session (kabinet.identity.reauth) and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from kabinet.core.models import AuditEvent
from kabinet.identity.tests.helpers import last_code, sms_to
from kabinet.identity.tests.security_helpers import PASSWORD, fresh_login, make_subscriber

pytestmark = pytest.mark.django_db

OLD = "+79171234567"
NEW = "+79172223344"
STALE = {
    "error": {
        "code": "reauthentication_required",
        "message": "Для этого действия подтвердите, что это вы: введите пароль ещё раз или войдите заново.",
    }
}


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _start(client: Client, **headers: str):
    return client.post(
        "/api/v1/profile/phone", {"phone": NEW}, content_type="application/json", headers=headers
    )


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)


def test_app_token_fresh_then_stale_then_reauthenticated() -> None:
    # given the app logged in with a session token
    user = make_subscriber(phone=OLD)
    client = Client()
    login = client.post(
        "/_allauth/app/v1/auth/login", {"phone": OLD, "password": PASSWORD}, content_type="application/json"
    )
    token = login.json()["meta"]["session_token"]
    # then a fresh login may start a phone change
    assert _start(client, X_Session_Token=token).status_code == 202
    with time_machine.travel(_now() + dt.timedelta(minutes=11), tick=False):
        # when the session is older than the window
        stale_start = _start(Client(), X_Session_Token=token)
        stale_confirm = Client().post(
            "/api/v1/profile/phone/confirm",
            {"phone": NEW, "code": last_code(NEW)},
            content_type="application/json",
            headers={"X-Session-Token": token},
        )
        # then both steps are refused and nothing changes
        assert stale_start.status_code == 403
        assert stale_start.json() == STALE
        assert stale_confirm.status_code == 403
        assert stale_confirm.json() == STALE
        user.refresh_from_db()
        assert (user.phone, user.phone_verified) == (OLD, True)
        assert len(sms_to(NEW)) == 1
        assert not AuditEvent.objects.filter(action="identity.phone_change").exists()
        # when the app reauthenticates with allauth's headless endpoint
        reauth = Client().post(
            "/_allauth/app/v1/auth/reauthenticate",
            {"password": PASSWORD},
            content_type="application/json",
            headers={"X-Session-Token": token},
        )
        restart = _start(Client(), X_Session_Token=token)  # the first code has expired (5 minutes)
        confirm = Client().post(
            "/api/v1/profile/phone/confirm",
            {"phone": NEW, "code": last_code(NEW)},
            content_type="application/json",
            headers={"X-Session-Token": token},
        )
        # then the change goes through
        assert reauth.status_code == 200
        assert restart.status_code == 202
        assert confirm.status_code == 200
        assert confirm.json()["phone"] == NEW
    user.refresh_from_db()
    assert user.phone == NEW


def test_a_stale_browser_session_is_refused_and_nothing_is_sent() -> None:
    # given
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    with time_machine.travel(_now() + dt.timedelta(minutes=10, seconds=5), tick=False):
        # when
        response = _start(client)
    # then
    assert response.status_code == 403
    assert response.json() == STALE
    assert sms_to(NEW) == []
    user.refresh_from_db()
    assert user.phone == OLD


def test_a_session_just_inside_the_window_is_accepted() -> None:
    # given
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    with time_machine.travel(_now() + dt.timedelta(minutes=9, seconds=50), tick=False):
        # when
        response = _start(client)
    # then
    assert response.status_code == 202
    assert len(sms_to(NEW)) == 1


def test_force_login_without_an_authentication_record_is_stale() -> None:
    # given a session with no recorded login (e.g. made by hand, not through a login flow)
    user = make_subscriber(phone=OLD)
    client = Client()
    client.force_login(user)
    # when
    response = _start(client)
    # then
    assert response.status_code == 403
    assert response.json() == STALE
