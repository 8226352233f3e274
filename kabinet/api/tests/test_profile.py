"""/api/v1/profile and /api/v1/profile/notifications."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.identity.tests.helpers import last_code, sms_to
from kabinet.identity.tests.security_helpers import fresh_login, make_subscriber
from kabinet.notifications.models import NotificationPreference

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "Войдите в личный кабинет."}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/profile"),
        ("get", "/api/v1/profile/notifications"),
        ("put", "/api/v1/profile/notifications"),
    ],
)
def test_anonymous_gets_401_in_the_common_format(method: str, path: str) -> None:
    response = getattr(Client(), method)(path, data={"offers_opt_in": True}, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert not NotificationPreference.objects.exists()


def test_profile_shows_contacts_language_and_customer() -> None:
    # given
    user = make_subscriber(phone="+79171234567", email="ivan@example.com", language="tt")
    client = Client()
    client.force_login(user)
    # when
    response = client.get("/api/v1/profile")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "phone": "+79171234567",
        "phone_verified": True,
        "email": "ivan@example.com",
        "email_verified": True,
        "language": "tt",
        "customer_kind": "individual",
        "customer_verification": "not_required",
    }


def test_notifications_defaults_then_put_persists_and_is_audited() -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    client = Client()
    client.force_login(user)
    # when
    before = client.get("/api/v1/profile/notifications").json()
    put = client.put(
        "/api/v1/profile/notifications",
        data={"offers_opt_in": True, "channel_email": False},
        content_type="application/json",
    )
    # then
    assert before == {
        "news_opt_in": True,
        "offers_opt_in": False,
        "channel_email": True,
        "channel_sms": True,
        "channel_push": False,
    }
    expected = {**before, "offers_opt_in": True, "channel_email": False}
    assert put.status_code == 200
    assert put.json() == expected
    assert client.get("/api/v1/profile/notifications").json() == expected
    assert NotificationPreference.objects.get(user=user).as_dict() == expected
    assert AuditEvent.objects.get(action="notifications.preferences_update").new == {
        "offers_opt_in": True,
        "channel_email": False,
    }


def test_put_with_a_wrong_type_is_422_and_changes_nothing() -> None:
    user = make_subscriber(phone="+79171234567")
    client = Client()
    client.force_login(user)
    response = client.put(
        "/api/v1/profile/notifications", data={"offers_opt_in": "maybe"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert NotificationPreference.objects.filter(user=user, offers_opt_in=True).count() == 0
    assert not AuditEvent.objects.filter(action="notifications.preferences_update").exists()


def test_each_subscriber_changes_only_their_own_preferences() -> None:
    alice = make_subscriber(phone="+79171234567")
    bob = make_subscriber(phone="+79171234568")
    client = Client()
    client.force_login(bob)
    client.put(
        f"/api/v1/profile/notifications?user_id={alice.pk}",
        data={"channel_sms": False},
        content_type="application/json",
    )
    assert NotificationPreference.objects.get(user=bob).channel_sms is False
    assert not NotificationPreference.objects.filter(user=alice).exists()


NEW = "+79172223344"


def _logged_in() -> tuple[Client, User]:
    user = make_subscriber(phone="+79171234567")
    client = Client()
    fresh_login(client, user)  # changing the phone needs a recent login (kabinet.identity.reauth)
    return client, user


def test_phone_change_through_the_api() -> None:
    # given
    client, user = _logged_in()
    # when
    sent = client.post("/api/v1/profile/phone", {"phone": "8 917 222-33-44"}, content_type="application/json")
    done = client.post(
        "/api/v1/profile/phone/confirm",
        {"phone": NEW, "code": last_code(NEW)},
        content_type="application/json",
    )
    # then
    assert sent.status_code == 202
    assert sent.json() == {"phone": NEW, "resend_after_seconds": 60}
    assert done.status_code == 200
    assert done.json()["phone"] == NEW
    assert done.json()["phone_verified"] is True
    user.refresh_from_db()
    assert user.phone == NEW
    assert AuditEvent.objects.filter(action="identity.phone_change").count() == 1


def test_api_phone_change_with_a_wrong_code_changes_nothing() -> None:
    client, user = _logged_in()
    client.post("/api/v1/profile/phone", {"phone": NEW}, content_type="application/json")
    wrong = "000000" if last_code(NEW) != "000000" else "111111"
    response = client.post(
        "/api/v1/profile/phone/confirm", {"phone": NEW, "code": wrong}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_code", "message": "Неверный код. Осталось попыток: 4.", "field": "code"}
    }
    user.refresh_from_db()
    assert user.phone == "+79171234567"
    assert not AuditEvent.objects.filter(action="identity.phone_change").exists()


def test_api_refuses_a_taken_number_neutrally_and_sends_nothing() -> None:
    make_subscriber(phone=NEW)
    client, user = _logged_in()
    response = client.post("/api/v1/profile/phone", {"phone": NEW}, content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "phone_not_allowed",
            "message": "Этот номер нельзя привязать к вашему кабинету.",
            "field": "phone",
        }
    }
    assert sms_to(NEW) == []
    user.refresh_from_db()
    assert user.phone == "+79171234567"


def test_api_refuses_an_invalid_number_and_a_second_request_within_60_seconds() -> None:
    client, _user = _logged_in()
    bad = client.post("/api/v1/profile/phone", {"phone": "12345"}, content_type="application/json")
    client.post("/api/v1/profile/phone", {"phone": NEW}, content_type="application/json")
    again = client.post("/api/v1/profile/phone", {"phone": NEW}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_phone"
    assert bad.json()["error"]["field"] == "phone"
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "too_soon"
    assert len(sms_to(NEW)) == 1
