"""Who gets into the back office: staff with two-factor only; subscribers never (and nothing changes)."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import URLPattern, reverse

from kabinet.backoffice import urls as backoffice_urls
from kabinet.core.models import AuditEvent
from kabinet.customers.models import Customer
from kabinet.identity.models import User
from kabinet.identity.tests.security_helpers import PASSWORD, logged_in_user_id, make_subscriber, totp_code

pytestmark = pytest.mark.django_db


def staff_with_totp(email: str = "op@letai.example") -> tuple[User, str]:
    staff = make_subscriber(email=email, is_staff=True)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return staff, secret


def _protected_urls(subject: User, customer: Customer) -> list[str]:
    """Every back-office URL (other helpers' sections included), filled with plausible ids."""
    known = {"user_id": subject.pk, "customer_id": customer.pk}
    urls = []
    for pattern in backoffice_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        if pattern.name in ("login", "logout"):
            continue
        kwargs: dict[str, object] = {}
        for name, converter in pattern.pattern.converters.items():
            is_int = type(converter).__name__ == "IntConverter"
            kwargs[name] = known.get(name, 1) if is_int else "x"
        urls.append(reverse(f"backoffice:{pattern.name}", kwargs=kwargs))
    return urls


def test_subscribers_cannot_reach_any_backoffice_page_and_nothing_changes() -> None:
    # given a logged-in subscriber and another subscriber of an organization awaiting verification
    org = Customer.objects.create(
        kind=Customer.Kind.ORGANIZATION,
        display_name="ООО Ромашка",
        verification=Customer.Verification.PENDING,
    )
    victim = make_subscriber(email="buh@romashka.example", customer=org)
    attacker = make_subscriber(email="ivan@example.ru")
    client = Client()
    client.force_login(attacker)
    urls = _protected_urls(victim, org)
    assert len(urls) >= 5
    # when they try every page with GET and POST
    for url in urls:
        got = client.get(url)
        posted = client.post(url, {"reason": "взлом", "decision": "verify", "q": "buh@romashka.example"})
        # then every one is refused with the clear message
        assert got.status_code == 403, url
        assert posted.status_code in (403, 405), url
        assert "только для сотрудников" in got.content.decode()
    victim.refresh_from_db()
    org.refresh_from_db()
    assert victim.is_active is True
    assert org.verification == Customer.Verification.PENDING
    assert AuditEvent.objects.count() == 0


def test_anonymous_visitors_are_sent_to_the_staff_login() -> None:
    response = Client().get(reverse("backoffice:user_search"))
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/login/?next=%2Fbackoffice%2Fusers%2F"


def test_subscriber_is_refused_at_the_staff_login_with_a_clear_message() -> None:
    make_subscriber(email="ivan@example.ru")
    client = Client()
    response = client.post(reverse("backoffice:login"), {"login": "ivan@example.ru", "password": PASSWORD})
    assert response.status_code == 403
    assert "Вход в бэк-офис только для сотрудников оператора" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_staff_login_requires_the_totp_code() -> None:
    # given
    staff, secret = staff_with_totp()
    client = Client()
    # when
    response = client.post(reverse("backoffice:login"), {"login": "op@letai.example", "password": PASSWORD})
    # then the second factor is asked before anything else
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert logged_in_user_id(client) is None
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:home")
    assert logged_in_user_id(client) == str(staff.pk)
    assert client.get(reverse("backoffice:home")).status_code == 200


def test_staff_without_two_factor_are_sent_to_set_it_up_first() -> None:
    staff = make_subscriber(email="new-op@letai.example", is_staff=True)
    client = Client()
    response = client.post(
        reverse("backoffice:login"), {"login": "new-op@letai.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(staff.pk)
    for url in (reverse("backoffice:home"), reverse("backoffice:user_search")):
        page = client.get(url)
        assert page.status_code == 302
        assert page["Location"] == reverse("mfa_activate_totp")


def test_staff_sets_up_two_factor_then_enters_the_back_office() -> None:
    # given a new staff member logged in without two-factor
    staff = make_subscriber(email="new-op@letai.example", is_staff=True)
    client = Client()
    client.post(reverse("backoffice:login"), {"login": "new-op@letai.example", "password": PASSWORD})
    assert client.get(reverse("backoffice:home"))["Location"] == reverse("mfa_activate_totp")
    # when they confirm the password and activate TOTP
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    activated = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert activated.status_code == 302
    codes_page = client.get(activated["Location"]).content.decode()
    assert reverse("backoffice:home") in codes_page
    # then the back office opens
    assert client.get(reverse("backoffice:home")).status_code == 200
    assert logged_in_user_id(client) == str(staff.pk)
