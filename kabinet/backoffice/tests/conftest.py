from __future__ import annotations

from collections.abc import Iterator

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache
from django.test import Client

from kabinet.identity.models import User


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> Iterator[None]:
    # Logins here go through allauth, whose rate limits live in the cache: start each test clean.
    cache.clear()
    yield
    cache.clear()


# A cashier with TOTP (modules that need another kind of staff define their own `staff`).
@pytest.fixture
def staff() -> User:
    user = User.objects.create_user(email="kassir@letai.test", password="x", is_staff=True)
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client
