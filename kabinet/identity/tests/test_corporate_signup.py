from __future__ import annotations

import pytest
from django.test import Client

from kabinet.customers.models import Customer
from kabinet.identity.models import User
from kabinet.identity.tests.factories import EmailUserFactory
from kabinet.identity.tests.helpers import emails_to, link_in

pytestmark = pytest.mark.django_db

FORM = {
    "organization_name": "ООО «Ромашка»",
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
    "legal_address": "Казань, ул. Баумана, 1",
    "contact_person": "Иванов Иван Иванович",
    "contact_position": "Директор",
    "contact_phone": "8 917 123-45-67",
    "contact_email": "office@romashka.example",
    "password1": "Romashka2026",
    "password2": "Romashka2026",
    "consent": "on",
}


def test_questionnaire_creates_an_organization_awaiting_verification(client: Client) -> None:
    # when
    response = client.post("/register/business/", FORM)
    # then
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="office@romashka.example")
    customer = user.customer
    assert customer is not None
    assert customer.kind == Customer.Kind.ORGANIZATION
    assert customer.verification == Customer.Verification.PENDING
    assert (customer.inn, customer.kpp, customer.ogrn) == ("7707083893", "773601001", "1027700132195")
    assert customer.contact_phone == "+79171234567"
    assert customer.display_name == "ООО «Ромашка»"
    assert "_auth_user_id" not in client.session


def test_organization_user_logs_in_after_confirming_email_and_sees_the_pending_status(client: Client) -> None:
    # given
    client.post("/register/business/", FORM)
    link = link_in(emails_to("office@romashka.example")[-1].body, "/accounts/confirm-email/")
    client.post(link)
    # when
    login = client.post("/accounts/login/", {"login": "office@romashka.example", "password": "Romashka2026"})
    profile = client.get("/profile/").content.decode()
    # then
    assert login["Location"] == "/cabinet/"
    assert "Ожидает проверки" in profile


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("inn", "7707083894", "ИНН указан с ошибкой: не сходится контрольная цифра."),
        ("inn", "77070838", "ИНН состоит из 10 цифр (организация) или 12 цифр (ИП)."),
        ("ogrn", "1027700132196", "ОГРН указан с ошибкой: не сходится контрольная цифра."),
        ("ogrn", "304500116000157", "У организации ОГРН из 13 цифр."),
        ("kpp", "77360100", "КПП состоит из 9 знаков, например 165501001."),
        ("kpp", "", "Укажите КПП организации."),
        ("consent", "", "Без согласия на обработку персональных данных регистрация невозможна."),
        ("contact_phone", "12345", "Номер телефона указан неверно"),
    ],
)
def test_questionnaire_errors_change_nothing(client: Client, field: str, value: str, message: str) -> None:
    # given
    data = {**FORM, field: value}
    if not value:
        data.pop(field)
    # when
    response = client.post("/register/business/", data)
    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert not Customer.objects.exists()


def test_individual_entrepreneur_with_12_digit_inn_and_ogrnip_needs_no_kpp(client: Client) -> None:
    # given
    data = {**FORM, "inn": "500100732259", "ogrn": "304500116000157", "kpp": ""}
    # when
    response = client.post("/register/business/", data)
    # then
    assert response.status_code == 302
    assert Customer.objects.get().kpp == ""


def test_questionnaire_with_a_registered_email_gets_the_same_answer(client: Client) -> None:
    # given
    EmailUserFactory.create(email="office@romashka.example")
    # when
    response = client.post("/register/business/", FORM)
    # then
    assert response["Location"] == "/accounts/confirm-email/"
    assert User.objects.count() == 1
    assert not Customer.objects.filter(kind=Customer.Kind.ORGANIZATION).exists()
