import datetime as dt

import pytest
import time_machine
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kabinet.identity.models import User

START = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def logged_in(client):
    user = User.objects.create_user(email="a@example.com", password="Abcdef12", email_verified=True)
    with time_machine.travel(START, tick=False):
        client.force_login(user)
        client.get("/news/")  # the first request records the session
    return user


@pytest.mark.django_db
def test_activity_is_written_at_most_every_five_minutes(client, logged_in) -> None:
    # given
    first_seen = UserSession.objects.get(user=logged_in).last_seen_at
    # when: a request a minute later
    with (
        time_machine.travel(START + dt.timedelta(minutes=1), tick=False),
        CaptureQueriesContext(connection) as ctx,
    ):
        client.get("/news/")
    # then: no write to the sessions table
    assert not [q for q in ctx.captured_queries if "usersessions_usersession" in q["sql"]]
    assert UserSession.objects.get(user=logged_in).last_seen_at == first_seen
    # when: six minutes later
    with time_machine.travel(START + dt.timedelta(minutes=6), tick=False):
        client.get("/news/")
    # then
    assert UserSession.objects.get(user=logged_in).last_seen_at == START + dt.timedelta(minutes=6)


@pytest.mark.django_db
def test_a_new_ip_is_recorded_at_once(client, logged_in) -> None:
    with time_machine.travel(START + dt.timedelta(minutes=1), tick=False):
        client.get("/news/", REMOTE_ADDR="10.1.2.3")
    session = UserSession.objects.get(user=logged_in)
    assert session.ip == "10.1.2.3"
    assert session.last_seen_at == START + dt.timedelta(minutes=1)
