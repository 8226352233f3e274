"""/api/v1/profile and /api/v1/profile/notifications."""

from __future__ import annotations

import pytest
from django.test import Client

from kabinet.core.models import AuditEvent
from kabinet.identity.tests.security_helpers import make_subscriber
from kabinet.notifications.models import NotificationPreference

pytestmark = pytest.mark.django_db

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
