"""Back office, identity: find a subscriber, audited card view, verify an organization, switch off."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from kabinet.backoffice.tests.test_access import staff_with_totp
from kabinet.core.models import AuditEvent
from kabinet.customers.models import Customer
from kabinet.identity.models import User
from kabinet.identity.tests.security_helpers import make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> tuple[Client, User]:
    staff, _secret = staff_with_totp()
    client = Client()
    client.force_login(staff)
    return client, staff


@pytest.mark.parametrize("typed", ["8 917 123-45-67", "+7 (917) 1234567", "79171234567", "9171234567"])
def test_find_by_phone_in_any_form(staff_client: tuple[Client, User], typed: str) -> None:
    client, _ = staff_client
    user = make_subscriber(phone="+79171234567")
    make_subscriber(phone="+79171234568")
    page = client.get(reverse("backoffice:user_search"), {"q": typed}).content.decode()
    assert reverse("backoffice:user_detail", args=[user.pk]) in page
    assert {int(pk) for pk in re.findall(r'href="/backoffice/users/(\d+)/"', page)} == {user.pk}


def test_find_by_email_and_nothing_for_junk(staff_client: tuple[Client, User]) -> None:
    client, _ = staff_client
    user = make_subscriber(email="Ivan@Example.ru")
    page = client.get(reverse("backoffice:user_search"), {"q": "ivan@example.RU"}).content.decode()
    assert reverse("backoffice:user_detail", args=[user.pk]) in page
    junk = client.get(reverse("backoffice:user_search"), {"q": "12-34"}).content.decode()
    assert "Никого не найдено" in junk


def test_opening_a_card_shows_state_and_is_audited(staff_client: tuple[Client, User]) -> None:
    client, staff = staff_client
    user = make_subscriber(email="ivan@example.ru", phone="+79171234567")
    page = client.get(reverse("backoffice:user_detail", args=[user.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "ivan@example.ru" in html and "+79171234567" in html
    assert "подтверждена" in html
    event = AuditEvent.objects.get(action="personal_data.view")
    assert event.actor_id == staff.pk
    assert event.target_id == str(user.pk)


def test_verify_and_reject_an_organization_audited(staff_client: tuple[Client, User]) -> None:
    client, staff = staff_client
    org = Customer.objects.create(
        kind=Customer.Kind.ORGANIZATION,
        organization_name="ООО Ромашка",
        inn="7707083893",
        verification=Customer.Verification.PENDING,
    )
    user = make_subscriber(email="buh@romashka.example", customer=org)
    url = reverse("backoffice:customer_verify", args=[org.pk])
    # a refusal needs a reason
    client.post(url, {"decision": "reject", "reason": ""})
    org.refresh_from_db()
    assert org.verification == Customer.Verification.PENDING
    # verify
    response = client.post(url, {"decision": "verify", "user_id": user.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:user_detail", args=[user.pk])
    org.refresh_from_db()
    assert org.verification == Customer.Verification.VERIFIED
    event = AuditEvent.objects.get(action="customer.verify")
    assert event.actor_id == staff.pk
    assert event.old == {"verification": "pending"} and event.new == {"verification": "verified"}
    # reject later, with a reason
    client.post(url, {"decision": "reject", "reason": "ИНН не совпадает с выпиской"})
    org.refresh_from_db()
    assert org.verification == Customer.Verification.REJECTED
    assert AuditEvent.objects.get(action="customer.reject").reason == "ИНН не совпадает с выпиской"


def test_staff_switches_a_cabinet_off_with_a_reason(staff_client: tuple[Client, User]) -> None:
    client, staff = staff_client
    user = make_subscriber(email="ivan@example.ru")
    victim_client = Client()
    victim_client.force_login(user)
    url = reverse("backoffice:user_deactivate", args=[user.pk])
    # without a reason nothing happens
    client.post(url, {"reason": ""})
    user.refresh_from_db()
    assert user.is_active is True
    # with a reason
    response = client.post(url, {"reason": "Звонок на горячую линию, паспорт сверен"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    assert user.deactivation_reason == "Звонок на горячую линию, паспорт сверен"
    event = AuditEvent.objects.get(action="identity.cabinet_deactivate")
    assert event.actor_id == staff.pk and event.actor_is_staff is True
    assert victim_client.get(reverse("identity:profile")).status_code == 302


def test_switching_a_cabinet_off_keeps_billing_records(staff_client: tuple[Client, User]) -> None:
    from kabinet.billing.models import LedgerTransfer, PersonalAccount
    from kabinet.billing.tests.factories import PersonalAccountFactory

    # given a subscriber with a funded personal account
    client, _staff = staff_client
    user = make_subscriber(email="ivan@example.ru")
    account: PersonalAccount = PersonalAccountFactory(customer=user.customer, balance_kopecks=50000)  # type: ignore[assignment]
    transfers_before = LedgerTransfer.objects.count()
    # when staff switch the cabinet off
    client.post(reverse("backoffice:user_deactivate", args=[user.pk]), {"reason": "Заявление в офисе"})
    # then the account, its balance and its ledger are untouched
    user.refresh_from_db()
    assert user.is_active is False
    kept = PersonalAccount.objects.select_related("ledger_account").get(pk=account.pk)
    assert kept.status == PersonalAccount.Status.ACTIVE
    assert kept.ledger_account.balance_kopecks == 50000
    assert LedgerTransfer.objects.count() == transfers_before
