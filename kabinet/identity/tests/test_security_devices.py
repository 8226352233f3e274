"""Notice on a login from a new device (browser user agent + IP address, kept as a keyed hash)."""

from __future__ import annotations

import pytest
from django.test import Client

from kabinet.identity.devices import KnownDevice, device_fingerprint
from kabinet.identity.tests.security_helpers import (
    BROWSER_A,
    BROWSER_B,
    logged_in_user_id,
    login,
    make_subscriber,
)
from kabinet.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _notices(to: str) -> list[OutboxMessage]:
    return [m for m in OutboxMessage.objects.filter(to=to) if "нового устройства" in (m.subject + m.body)]


def test_first_login_from_a_new_device_sends_email_notice_once() -> None:
    # given the subscriber's usual browser is known
    user = make_subscriber(email="ivan@example.ru")
    login(Client(), "ivan@example.ru", user_agent=BROWSER_A, ip="10.0.0.1")
    assert KnownDevice.objects.filter(user=user).count() == 1
    assert _notices("ivan@example.ru") == []
    # when they log in from another device
    client = Client()
    response = login(client, "ivan@example.ru", user_agent=BROWSER_B, ip="10.0.0.2")
    # then one notice names the device and the address
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)
    notices = _notices("ivan@example.ru")
    assert len(notices) == 1
    assert notices[0].channel == "email"
    assert "TestBrowserB" in notices[0].body
    assert "10.0.0.2" in notices[0].body
    # and the same device again sends nothing
    login(Client(), "ivan@example.ru", user_agent=BROWSER_B, ip="10.0.0.2")
    assert len(_notices("ivan@example.ru")) == 1
    assert KnownDevice.objects.filter(user=user).count() == 2


def test_same_browser_from_another_address_is_a_new_device() -> None:
    user = make_subscriber(email="ivan@example.ru")
    login(Client(), "ivan@example.ru", user_agent=BROWSER_A, ip="10.0.0.1")
    login(Client(), "ivan@example.ru", user_agent=BROWSER_A, ip="192.0.2.7")
    assert len(_notices("ivan@example.ru")) == 1
    assert KnownDevice.objects.filter(user=user).count() == 2


def test_phone_only_subscriber_gets_sms_notice() -> None:
    make_subscriber(phone="+79171234567")
    login(Client(), "+79171234567", user_agent=BROWSER_A)
    login(Client(), "8 917 123-45-67", user_agent=BROWSER_B)
    sms = [
        m
        for m in OutboxMessage.objects.filter(to="+79171234567", channel="sms")
        if "нового устройства" in m.body
    ]
    assert len(sms) == 1


def test_failed_login_remembers_no_device() -> None:
    user = make_subscriber(email="ivan@example.ru")
    login(Client(), "ivan@example.ru", "Wrong12345x", user_agent=BROWSER_A)
    assert KnownDevice.objects.filter(user=user).count() == 0


def test_fingerprint_does_not_store_the_ip() -> None:
    fp = device_fingerprint(user_agent=BROWSER_A, ip="10.0.0.1")
    assert len(fp) == 64
    assert "10.0.0.1" not in fp
    assert fp != device_fingerprint(user_agent=BROWSER_A, ip="10.0.0.2")
