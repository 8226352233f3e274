"""Notification preferences: defaults on first read, updates persisted and audited, the profile page."""

from __future__ import annotations

import pytest
from django.test import Client

from kabinet.core.models import AuditEvent
from kabinet.identity.tests.security_helpers import make_subscriber
from kabinet.notifications.models import NotificationPreference
from kabinet.notifications.selectors import notification_allowed
from kabinet.notifications.services import notification_preferences_get, notification_preferences_update

pytestmark = pytest.mark.django_db


def test_first_read_creates_the_defaults() -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    assert not NotificationPreference.objects.filter(user=user).exists()
    # when
    prefs = notification_preferences_get(user=user)
    # then
    assert prefs.as_dict() == {
        "news_opt_in": True,
        "offers_opt_in": False,
        "channel_email": True,
        "channel_sms": True,
        "channel_push": False,
    }
    assert NotificationPreference.objects.filter(user=user).count() == 1
    assert notification_preferences_get(user=user).pk == prefs.pk


def test_update_persists_only_given_flags_and_is_audited() -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    # when
    notification_preferences_update(user=user, offers_opt_in=True, channel_sms=False, news_opt_in=True)
    # then
    stored = NotificationPreference.objects.get(user=user)
    assert stored.as_dict() == {
        "news_opt_in": True,
        "offers_opt_in": True,
        "channel_email": True,
        "channel_sms": False,
        "channel_push": False,
    }
    event = AuditEvent.objects.get(action="notifications.preferences_update")
    assert event.actor_id == user.pk
    assert event.old == {"offers_opt_in": False, "channel_sms": True}
    assert event.new == {"offers_opt_in": True, "channel_sms": False}


def test_update_without_changes_writes_no_audit_row() -> None:
    user = make_subscriber(phone="+79171234567")
    notification_preferences_update(user=user, news_opt_in=True, offers_opt_in=False)
    assert not AuditEvent.objects.filter(action="notifications.preferences_update").exists()


def test_preferences_page_shows_and_saves_the_flags(client: Client) -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    client.force_login(user)
    # when
    page = client.get("/profile/notifications/")
    response = client.post("/profile/notifications/", {"news_opt_in": "on", "channel_push": "on"})
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert '<label class="checkbox" for="id_news_opt_in">' in html
    assert "Специальные предложения и акции" in html
    assert response.status_code == 302
    assert response["Location"] == "/profile/notifications/"
    assert NotificationPreference.objects.get(user=user).as_dict() == {
        "news_opt_in": True,
        "offers_opt_in": False,
        "channel_email": False,
        "channel_sms": False,
        "channel_push": True,
    }
    assert "Настройки уведомлений сохранены." in client.get("/profile/notifications/").content.decode()


def test_preferences_page_needs_login(client: Client) -> None:
    response = client.get("/profile/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_links_to_the_preferences(client: Client) -> None:
    user = make_subscriber(phone="+79171234567")
    client.force_login(user)
    html = client.get("/profile/").content.decode()
    assert 'href="/profile/notifications/"' in html
    assert 'href="/profile/phone/"' in html
    assert 'href="/accounts/email/"' in html


def test_data_download_includes_the_preferences(client: Client) -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    notification_preferences_update(user=user, offers_opt_in=True)
    client.force_login(user)
    # when
    data = client.get("/profile/data.json").json()
    # then
    assert data["notification_preferences"] == {
        "news_opt_in": True,
        "offers_opt_in": True,
        "channel_email": True,
        "channel_sms": True,
        "channel_push": False,
    }


def test_senders_ask_whether_a_topic_may_go_through_a_channel() -> None:
    # given one subscriber on the defaults, another who wants offers by push only
    plain = make_subscriber(phone="+79171234567")
    keen = make_subscriber(phone="+79171234568")
    notification_preferences_update(
        user=keen, offers_opt_in=True, channel_email=False, channel_sms=False, channel_push=True
    )
    # when / then
    assert notification_allowed(user=plain, topic="news", channel="sms") is True
    assert notification_allowed(user=plain, topic="news", channel="push") is False
    assert notification_allowed(user=plain, topic="offers", channel="email") is False
    assert notification_allowed(user=keen, topic="offers", channel="push") is True
    assert notification_allowed(user=keen, topic="offers", channel="sms") is False
    assert not NotificationPreference.objects.filter(user=plain).exists()
