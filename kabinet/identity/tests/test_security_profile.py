"""The profile page: personal data, contacts with their verified state, links to security pages."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from kabinet.customers.models import Customer
from kabinet.identity.tests.security_helpers import make_subscriber

pytestmark = pytest.mark.django_db


def test_profile_shows_contacts_verification_and_security_links() -> None:
    # given
    user = make_subscriber(phone="+79171234567")
    user.email = "ivan@example.ru"
    user.email_verified = False
    user.save()
    SocialAccount.objects.create(user=user, provider="vk", uid="1", extra_data={})
    client = Client()
    client.force_login(user)
    # when
    html = client.get(reverse("identity:profile")).content.decode()
    # then
    assert "+79171234567" in html and "подтверждён" in html
    assert "ivan@example.ru" in html and "не подтверждена" in html
    assert "Иванов Иван" in html
    for name in (
        "account_change_password",
        "mfa_index",
        "mfa_list_webauthn",
        "socialaccount_connections",
        "usersessions_list",
        "identity:data_export",
        "identity:deactivate",
    ):
        assert f'href="{reverse(name)}"' in html, name
    assert "VK" in html


def test_profile_of_an_organization_shows_its_verification_status() -> None:
    org = Customer.objects.create(
        kind=Customer.Kind.ORGANIZATION,
        organization_name="ООО Ромашка",
        verification=Customer.Verification.PENDING,
    )
    user = make_subscriber(email="buh@romashka.example", customer=org)
    client = Client()
    client.force_login(user)
    html = client.get(reverse("identity:profile")).content.decode()
    assert "ООО Ромашка" in html
    assert "Ожидает проверки" in html


def test_profile_needs_login() -> None:
    response = Client().get(reverse("identity:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
