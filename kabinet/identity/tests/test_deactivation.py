"""Switching the cabinet off: data download, confirmation, login refused, sessions ended, records kept;
by staff (audited); by a terminated contract."""

from __future__ import annotations

import datetime
import json

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.customers.models import Contract, Customer
from kabinet.customers.services import customer_contract_terminate
from kabinet.identity.deactivation import (
    deactivation_code_send,
    deactivation_confirm,
    user_deactivate,
)
from kabinet.identity.exporters import exporter_register, exporter_sections, user_data_export
from kabinet.identity.models import User
from kabinet.identity.tests.security_helpers import (
    BROWSER_B,
    PASSWORD,
    logged_in_user_id,
    login,
    make_subscriber,
)
from kabinet.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _contract(customer: Customer | None, number: str) -> Contract:
    assert customer is not None
    return Contract.objects.create(
        customer=customer, number=number, signed_at=datetime.date(2024, 3, 1), phone="+79171234567"
    )


def test_data_download_is_json_with_user_customer_contacts() -> None:
    # given
    user = make_subscriber(email="ivan@example.ru", phone="+79171234567")
    _contract(user.customer, "16-000123")
    SocialAccount.objects.create(user=user, provider="vk", uid="777", extra_data={})
    client = Client()
    login(client, "ivan@example.ru")
    # when
    response = client.get(reverse("identity:data_export"))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="letai-kabinet-data-')
    data = json.loads(response.content)
    assert data["user"]["id"] == user.pk
    assert data["user"]["email"] == "ivan@example.ru"
    assert data["user"]["phone"] == "+79171234567"
    assert data["user"]["phone_verified"] is True
    assert data["customer"]["last_name"] == "Иванов"
    assert data["customer"]["kind"] == "individual"
    assert data["contacts"] == [
        {"kind": "phone", "value": "+79171234567", "verified": True},
        {"kind": "email", "value": "ivan@example.ru", "verified": True},
    ]
    assert data["contracts"][0]["number"] == "16-000123"
    assert data["social_accounts"][0]["provider"] == "vk"
    assert len(data["known_devices"]) == 1


def test_data_download_contains_only_own_data() -> None:
    me = make_subscriber(email="me@example.ru")
    make_subscriber(email="other@example.ru")
    client = Client()
    client.force_login(me)
    body = client.get(reverse("identity:data_export")).content.decode()
    assert "me@example.ru" in body
    assert "other@example.ru" not in body


def test_higher_apps_extend_the_export_through_the_registry() -> None:
    user = make_subscriber(email="ivan@example.ru")
    exporter_register("test_section", lambda u: {"owner": u.pk})
    try:
        assert user_data_export(user=user)["test_section"] == {"owner": user.pk}
        assert exporter_sections()[:3] == ["user", "customer", "contacts"]
    finally:
        from kabinet.identity import exporters

        exporters._EXPORTERS.pop("test_section")


def test_switch_off_with_password_ends_sessions_and_refuses_login() -> None:
    # given the subscriber is logged in from two browsers and has a contract
    user = make_subscriber(email="ivan@example.ru")
    contract = _contract(user.customer, "16-000124")
    a, b = Client(), Client()
    login(a, "ivan@example.ru")
    login(b, "ivan@example.ru", user_agent=BROWSER_B)
    b.get(reverse("identity:profile"))
    assert UserSession.objects.filter(user=user).count() == 2
    page = a.get(reverse("identity:deactivate")).content.decode()
    assert reverse("identity:data_export") in page
    # a wrong password changes nothing
    wrong = a.post(reverse("identity:deactivate"), {"password": "Wrong12345x", "confirm": "on"})
    assert wrong.status_code == 200
    assert "Неверный пароль." in wrong.content.decode()
    user.refresh_from_db()
    assert user.is_active is True
    # when
    response = a.post(reverse("identity:deactivate"), {"password": PASSWORD, "confirm": "on"})
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("identity:deactivated")
    user.refresh_from_db()
    assert user.is_active is False
    assert user.deactivation_reason == "по желанию абонента"
    assert user.deactivated_at is not None
    assert UserSession.objects.filter(user=user).count() == 0
    assert logged_in_user_id(a) is None
    assert b.get(reverse("identity:profile")).status_code == 302
    # login is refused afterwards
    c = Client()
    refused = login(c, "ivan@example.ru")
    assert logged_in_user_id(c) is None
    assert refused.status_code == 302
    assert refused["Location"] == reverse("account_inactive")
    # billing records stay
    assert Contract.objects.filter(pk=contract.pk, status=Contract.Status.ACTIVE).exists()
    assert Customer.objects.filter(pk=user.customer_id).exists()
    event = AuditEvent.objects.get(action="identity.cabinet_deactivate")
    assert event.actor_id == user.pk
    assert event.actor_is_staff is False


def test_switch_off_needs_the_checkbox() -> None:
    user = make_subscriber(email="ivan@example.ru")
    client = Client()
    client.force_login(user)
    response = client.post(reverse("identity:deactivate"), {"password": PASSWORD})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.is_active is True


def test_phone_only_subscriber_without_password_confirms_by_sms_code() -> None:
    # given a USSD-registered subscriber: phone only, no password
    user = make_subscriber(phone="+79171234567", password=None)
    client = Client()
    client.force_login(user)
    page = client.get(reverse("identity:deactivate")).content.decode()
    assert reverse("identity:deactivate_code") in page
    # when the code is requested and typed
    client.post(reverse("identity:deactivate_code"))
    sms = OutboxMessage.objects.filter(to="+79171234567", channel="sms").first()
    assert sms is not None
    code = sms.body.split()[-1].rstrip(".")
    assert len(code) == 6 and code.isdigit()
    wrong = "000000" if code != "000000" else "111111"
    assert client.post(reverse("identity:deactivate"), {"code": wrong, "confirm": "on"}).status_code == 200
    user.refresh_from_db()
    assert user.is_active is True
    response = client.post(reverse("identity:deactivate"), {"code": code, "confirm": "on"})
    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False


def test_sms_code_attempts_and_resend_limits() -> None:
    user = make_subscriber(phone="+79171234567", password=None)
    deactivation_code_send(user=user)
    with pytest.raises(DomainError) as resend:
        deactivation_code_send(user=user)
    assert resend.value.code == "code_resend_too_soon"
    for _ in range(5):
        with pytest.raises(DomainError) as wrong:
            deactivation_confirm(user=user, code="999999x")
        assert wrong.value.code == "code_wrong"
    with pytest.raises(DomainError) as blocked:
        deactivation_confirm(user=user, code="123456")
    assert blocked.value.code == "code_attempts"


def test_staff_switch_off_is_audited_with_reason() -> None:
    # given
    staff = make_subscriber(email="op@letai.example", is_staff=True)
    user = make_subscriber(email="ivan@example.ru")
    # when
    user_deactivate(user=user, actor=staff, reason="Заявление абонента по телефону")
    # then
    user.refresh_from_db()
    assert user.is_active is False
    event = AuditEvent.objects.get(action="identity.cabinet_deactivate")
    assert event.actor_id == staff.pk
    assert event.actor_is_staff is True
    assert event.target_type == "identity.user"
    assert event.target_id == str(user.pk)
    assert event.reason == "Заявление абонента по телефону"
    assert event.old == {"is_active": True}
    with pytest.raises(Conflict):
        user_deactivate(user=user, actor=staff, reason="ещё раз")


def test_staff_switch_off_needs_a_reason_and_subscribers_cannot_switch_off_others() -> None:
    staff = make_subscriber(email="op@letai.example", is_staff=True)
    other = make_subscriber(email="other@example.ru")
    user = make_subscriber(email="ivan@example.ru")
    with pytest.raises(DomainError):
        user_deactivate(user=user, actor=staff, reason="  ")
    with pytest.raises(PermissionDenied):
        user_deactivate(user=user, actor=other, reason="хочу")
    user.refresh_from_db()
    assert user.is_active is True
    assert AuditEvent.objects.filter(action="identity.cabinet_deactivate").count() == 0


def test_terminating_the_last_contract_suspends_cabinet_access() -> None:
    # given a customer with two contracts and two users, both logged in
    customer = Customer.objects.create(kind=Customer.Kind.INDIVIDUAL, display_name="Ивановы")
    first = _contract(customer, "16-000200")
    second = _contract(customer, "16-000201")
    u1 = make_subscriber(email="a@example.ru", customer=customer)
    u2 = make_subscriber(phone="+79171234568", customer=customer)
    c1 = Client()
    login(c1, "a@example.ru")
    # when one contract ends, access stays
    customer_contract_terminate(contract=first, actor=None, reason="переезд")
    first.refresh_from_db()
    assert first.status == Contract.Status.TERMINATED
    assert User.objects.filter(customer=customer, is_active=True).count() == 2
    # when the last one ends
    customer_contract_terminate(contract=second, actor=None, reason="переезд")
    # then both cabinets are off and the session ended
    for u in (u1, u2):
        u.refresh_from_db()
        assert u.is_active is False
        assert u.deactivation_reason == "contract terminated"
    assert c1.get(reverse("identity:profile")).status_code == 302
    assert AuditEvent.objects.filter(action="contract.terminate").count() == 2
    assert AuditEvent.objects.filter(action="identity.cabinet_deactivate").count() == 2
    with pytest.raises(Conflict):
        customer_contract_terminate(contract=second, actor=None)
