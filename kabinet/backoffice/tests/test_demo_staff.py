"""The demo staff member: idempotent loader, and the printed TOTP secret really logs in."""

from __future__ import annotations

import io
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from kabinet.demo.staff import STAFF_EMAIL, STAFF_PASSWORD, STAFF_TOTP_SECRET, load_staff
from kabinet.identity.models import User

pytestmark = pytest.mark.django_db


def test_demo_staff_logs_in_to_the_back_office_with_the_printed_secret() -> None:
    # given the loader ran twice
    lines = load_staff()
    assert load_staff() == lines
    assert User.objects.filter(email=STAFF_EMAIL, is_staff=True).count() == 1
    assert Authenticator.objects.filter(user__email=STAFF_EMAIL).count() == 1
    assert any(STAFF_TOTP_SECRET in line for line in lines)
    # when a person logs in with the password and the authenticator code
    client = Client()
    response = client.post(reverse("backoffice:login"), {"login": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    out = io.StringIO()
    before = int(time.time()) // 30
    call_command("totp_code", STAFF_EMAIL, stdout=out)
    after = int(time.time()) // 30
    code = out.getvalue().strip()
    assert code in {format_hotp_value(hotp_value(STAFF_TOTP_SECRET, c)) for c in (before, after)}
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    # then the back office opens
    assert response["Location"] == reverse("backoffice:home")
    assert client.get(reverse("backoffice:user_search")).status_code == 200
