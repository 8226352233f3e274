"""Two-factor authentication (TOTP) and active sessions with "sign out everywhere"."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from kabinet.identity.tests.security_helpers import (
    BROWSER_A,
    BROWSER_B,
    PASSWORD,
    logged_in_user_id,
    login,
    make_subscriber,
    totp_code,
)

pytestmark = pytest.mark.django_db


def test_enable_totp_then_login_requires_the_code() -> None:
    # given a logged-in subscriber
    user = make_subscriber(email="ivan@example.ru")
    client = Client()
    assert login(client, "ivan@example.ru").status_code == 302
    # allauth asks for the password again before security changes
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(reverse("account_reauthenticate"))
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    # a wrong code does not enable it
    wrong = client.post(
        reverse("mfa_activate_totp"), {"code": "000000" if totp_code(secret) != "000000" else "111111"}
    )
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=user).exists()
    # when the right code is typed
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    # then TOTP is on
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1
    # and the next login stops at the code step
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=90)
    with time_machine.travel(later, tick=True):
        other = Client()
        response = login(other, "ivan@example.ru")
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")
        assert logged_in_user_id(other) is None
        bad = other.post(reverse("mfa_authenticate"), {"code": "12345"})
        assert bad.status_code == 200
        assert logged_in_user_id(other) is None
        response = other.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert response.status_code == 302
        assert logged_in_user_id(other) == str(user.pk)


def test_mfa_pages_use_the_cabinet_layout() -> None:
    make_subscriber(email="ivan@example.ru")
    client = Client()
    login(client, "ivan@example.ru")
    html = client.get(reverse("mfa_index")).content.decode()
    assert 'class="site-header"' in html
    assert "kabinet/css/app.css" in html


def test_sessions_list_and_sign_out_other_sessions() -> None:
    # given the subscriber is logged in from two browsers
    user = make_subscriber(email="ivan@example.ru")
    a, b = Client(), Client()
    login(a, "ivan@example.ru", user_agent=BROWSER_A)
    login(b, "ivan@example.ru", user_agent=BROWSER_B, ip="10.0.0.2")
    a.get(reverse("identity:profile"), HTTP_USER_AGENT=BROWSER_A)
    b.get(reverse("identity:profile"), HTTP_USER_AGENT=BROWSER_B)
    assert UserSession.objects.filter(user=user).count() == 2
    page = a.get(reverse("usersessions_list"), HTTP_USER_AGENT=BROWSER_A).content.decode()
    assert page.count('class="session-row"') == 2
    assert "TestBrowserB" in page
    # when browser A signs out the others
    response = a.post(reverse("usersessions_list"), HTTP_USER_AGENT=BROWSER_A)
    # then B is out and A stays in
    assert response.status_code == 302
    assert b.get(reverse("identity:profile")).status_code == 302
    assert a.get(reverse("identity:profile"), HTTP_USER_AGENT=BROWSER_A).status_code == 200
    assert UserSession.objects.filter(user=user).count() == 1


def test_sign_out_everywhere_ends_this_session_too() -> None:
    user = make_subscriber(email="ivan@example.ru")
    a, b = Client(), Client()
    login(a, "ivan@example.ru", user_agent=BROWSER_A)
    login(b, "ivan@example.ru", user_agent=BROWSER_B)
    b.get(reverse("identity:profile"))
    response = a.post(reverse("identity:sessions_end_all"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert a.get(reverse("identity:profile")).status_code == 302
    assert b.get(reverse("identity:profile")).status_code == 302
    assert UserSession.objects.filter(user=user).count() == 0


def test_passkey_pages_open_after_reauthentication() -> None:
    make_subscriber(email="ivan@example.ru")
    client = Client()
    login(client, "ivan@example.ru")
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_add_webauthn"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="site-header"' in html
    assert "webauthn" in html
    assert client.get(reverse("mfa_list_webauthn")).status_code == 200
