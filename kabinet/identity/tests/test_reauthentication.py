"""Sensitive profile changes need a recent authentication (kabinet.identity.reauth, 10 minutes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.test import Client

from kabinet.core.models import AuditEvent
from kabinet.identity.tests.helpers import last_code, sms_to
from kabinet.identity.tests.security_helpers import PASSWORD, fresh_login, make_subscriber

pytestmark = pytest.mark.django_db

OLD = "+79171234567"
NEW = "+79172223344"
LATER = dt.timedelta(minutes=11)


def _later() -> Any:
    return time_machine.travel(dt.datetime.now(tz=dt.UTC) + LATER, tick=False)


def _send(client: Client) -> Any:
    return client.post("/profile/phone/", {"action": "send", "phone": NEW})


def _verify(client: Client) -> Any:
    return client.post("/profile/phone/", {"action": "verify", "code": last_code(NEW)})


def test_a_fresh_login_changes_the_phone_without_asking_again() -> None:
    # given
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    # when
    page = client.get("/profile/phone/")
    sent = _send(client)
    done = _verify(client)
    # then
    assert page.status_code == 200
    assert sent["Location"] == "/profile/phone/"
    assert done["Location"] == "/profile/"
    user.refresh_from_db()
    assert user.phone == NEW


def test_a_stale_session_is_sent_to_reauthenticate_and_nothing_changes() -> None:
    # given
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    with _later():
        # when
        page = client.get("/profile/phone/")
        sent = _send(client)
    # then
    assert page.status_code == 302
    assert page["Location"] == "/accounts/reauthenticate/?next=%2Fprofile%2Fphone%2F"
    assert sent.status_code == 302
    assert sent["Location"] == "/accounts/reauthenticate/?next=%2Fprofile%2Fphone%2F"
    assert sms_to(NEW) == []
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (OLD, True)
    assert not AuditEvent.objects.filter(action="identity.phone_change").exists()


def test_after_reauthenticating_the_suspended_request_goes_on_and_the_change_works() -> None:
    # given a stale session whose "send a code" was suspended
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    with _later():
        suspended = _send(client)
        wrong = client.post(suspended["Location"], {"password": "not-the-password"})
        assert wrong.status_code == 200
        assert sms_to(NEW) == []
        # when the password is typed again
        reauth = client.post(suspended["Location"], {"password": PASSWORD})
        done = _verify(client)
    # then the POST was replayed (the code went out) and the code changes the phone
    assert reauth.status_code == 302
    assert reauth["Location"] == "/profile/phone/"
    assert len(sms_to(NEW)) == 1
    assert done["Location"] == "/profile/"
    user.refresh_from_db()
    assert user.phone == NEW


def test_the_reauthentication_page_is_in_russian() -> None:
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    with _later():
        page = client.get("/accounts/reauthenticate/?next=/profile/phone/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Подтвердите, что это вы" in html
    assert "Для изменения контактов и настроек безопасности введите пароль ещё раз." in html


def test_a_subscriber_without_a_password_reauthenticates_with_an_sms_code() -> None:
    # given a phone-only subscriber without a password (e.g. registered by USSD), session gone stale
    user = make_subscriber(phone=OLD, password=None)
    client = Client()
    client.force_login(user)
    session = client.session
    with _later():
        # when
        page = client.get("/profile/phone/")
        # then the SMS method is offered, not a password
        assert page["Location"] == "/profile/reauthenticate/sms/?next=%2Fprofile%2Fphone%2F"
        client.post(page["Location"], {"action": "send", "next": "/profile/phone/"})
        code = last_code(OLD)
        wrong = "000000" if code != "000000" else "111111"
        refused = client.post(
            page["Location"], {"action": "verify", "code": wrong, "next": "/profile/phone/"}
        )
        assert refused.status_code == 400
        assert "Неверный код." in refused.content.decode()
        accepted = client.post(
            page["Location"], {"action": "verify", "code": code, "next": "/profile/phone/"}
        )
        assert accepted["Location"] == "/profile/phone/"
        assert client.get("/profile/phone/").status_code == 200
    assert session.session_key == client.session.session_key


def test_adding_an_email_in_a_stale_session_asks_to_reauthenticate_first() -> None:
    # given
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    with _later():
        # when
        response = client.post("/accounts/email/", {"action_add": "", "email": "new@example.ru"})
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not EmailAddress.objects.filter(user=user).exists()


def test_adding_an_email_right_after_login_works() -> None:
    # given
    user = make_subscriber(phone=OLD)
    client = Client()
    fresh_login(client, user)
    # when
    response = client.post("/accounts/email/", {"action_add": "", "email": "new@example.ru"})
    # then
    assert response.status_code == 302
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [
        ("new@example.ru", False)
    ]


def test_setting_a_first_password_in_a_stale_session_asks_for_an_sms_code() -> None:
    # given
    user = make_subscriber(phone=OLD, password=None)
    client = Client()
    client.force_login(user)
    # when
    page = client.get("/accounts/password/set/")
    posted = client.post(
        "/accounts/password/set/", {"password1": "Nov-Parol-2026", "password2": "Nov-Parol-2026"}
    )
    # then
    assert page["Location"] == "/profile/reauthenticate/sms/?next=%2Faccounts%2Fpassword%2Fset%2F"
    assert posted.status_code == 302
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_turning_two_factor_off_needs_a_reauthentication_within_the_window() -> None:
    # given a subscriber with TOTP who reauthenticated 11 minutes ago
    user = make_subscriber(phone=OLD)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client = Client()
    client.force_login(user)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.get("/accounts/2fa/totp/deactivate/").status_code == 200
    with _later():
        # when
        response = client.post("/accounts/2fa/totp/deactivate/")
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1
