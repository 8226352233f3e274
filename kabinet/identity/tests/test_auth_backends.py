"""The backends' hand-written get_user returns what the ORM returns, in one statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kabinet.identity.auth_backends import AuthenticationBackend, ModelBackend, user_by_pk
from kabinet.identity.models import User
from kabinet.identity.tests.security_helpers import make_subscriber

pytestmark = pytest.mark.django_db


def _field_values(user: User) -> dict[str, object]:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def test_user_by_pk_is_the_orm_user_field_for_field() -> None:
    # given a user with every kind of field set: text, booleans, datetimes, a foreign key, null
    user = make_subscriber(email="ivan@example.ru", phone="+79171234567", language="tt")
    User.objects.filter(pk=user.pk).update(
        last_login=timezone.now() - dt.timedelta(hours=3), deactivation_reason="", deactivated_at=None
    )
    # when it is read by the backend
    fast = user_by_pk(user.pk)
    # then it is the same object the ORM builds, with types converted the same way
    orm = User.objects.get(pk=user.pk)
    assert fast is not None
    assert _field_values(fast) == _field_values(orm)
    assert [type(v) for v in _field_values(fast).values()] == [type(v) for v in _field_values(orm).values()]
    assert fast._state.adding is False
    assert fast._state.db == "default"
    assert fast.customer == orm.customer


def test_user_by_pk_is_one_statement_and_none_for_unknown_or_malformed_ids() -> None:
    user = make_subscriber(email="ivan@example.ru")
    with CaptureQueriesContext(connection) as queries:
        assert user_by_pk(user.pk) is not None
    assert len(queries) == 1
    assert user_by_pk(user.pk + 1000) is None
    assert user_by_pk("not-a-number") is None


@pytest.mark.parametrize("backend", [ModelBackend, AuthenticationBackend])
def test_get_user_refuses_an_inactive_user(backend: type) -> None:
    user = make_subscriber(email="ivan@example.ru")
    assert backend().get_user(user.pk) == user
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend().get_user(user.pk) is None


def test_a_logged_in_session_is_served_by_the_fast_backend() -> None:
    # given a subscriber logged in through the real login form
    make_subscriber(email="ivan@example.ru")
    client = Client()
    response = client.post(reverse("account_login"), {"login": "ivan@example.ru", "password": "Kabinet2026x"})
    assert response.status_code == 302
    # then the session names one of our backends, and the dashboard knows the user
    assert client.session["_auth_user_backend"].startswith("kabinet.identity.auth_backends.")
    assert client.get(reverse("portal:dashboard")).status_code == 200
