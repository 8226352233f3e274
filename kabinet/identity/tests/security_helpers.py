"""Helpers for the security tests (helper ID-B): subscribers with confirmed contacts, real logins."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client

from kabinet.customers.models import Customer
from kabinet.identity.models import User

PASSWORD = "Kabinet2026x"
BROWSER_A = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 TestBrowserA"
BROWSER_B = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1 TestBrowserB"


def totp_code(secret: str, *, margin_s: int = 5) -> str:
    """The current TOTP code, never one about to roll over.

    The server accepts only the current 30-second step, so a code read in the last seconds of a
    step can expire before the request arrives; wait for the next step instead.
    """
    if 30 - time.time() % 30 < margin_s:
        time.sleep(30 - time.time() % 30 + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def make_subscriber(
    *, email: str | None = None, phone: str | None = None, password: str | None = PASSWORD, **extra: Any
) -> User:
    customer = extra.pop("customer", None) or Customer.objects.create(
        kind=Customer.Kind.INDIVIDUAL,
        display_name=email or phone or "",
        last_name="Иванов",
        first_name="Иван",
    )
    user = User.objects.create_user(
        email=email,
        password=password,
        phone=phone,
        phone_verified=bool(phone),
        email_verified=bool(email),
        customer=customer,
        **extra,
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if email:
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def login(
    client: Client, login: str, password: str = PASSWORD, *, user_agent: str = BROWSER_A, ip: str = "10.0.0.1"
) -> Any:
    return client.post(
        "/accounts/login/",
        {"login": login, "password": password},
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def fresh_login(client: Client, user: User, password: str = PASSWORD) -> None:
    """Log in through the login page, as a person does: the session counts as freshly authenticated
    (kabinet.identity.reauth), which changing contacts and social links need; force_login does not."""
    response = login(client, user.phone or user.email or "", password)
    assert response.status_code == 302, response
    assert logged_in_user_id(client) == str(user.pk)
