from __future__ import annotations

import re

import pytest
from django.test import Client

from kabinet.identity.models import User
from kabinet.identity.tests.factories import PASSWORD, EmailUserFactory, PhoneUserFactory
from kabinet.identity.tests.helpers import comparable_page, emails_to, last_code, sms_to

pytestmark = pytest.mark.django_db

PHONE = "+79171234567"
ACCOUNT_NUMBER_MESSAGE = (
    "Вход по номеру лицевого счёта не поддерживается: войдите по номеру телефона или электронной почте."
)


def _login(client: Client, login: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


@pytest.mark.parametrize(
    "typed", ["8 917 123-45-67", "+7 (917) 1234567", "79171234567", "9171234567", "8(917)123 45 67"]
)
def test_login_by_phone_in_any_usual_spelling(client: Client, typed: str) -> None:
    # given
    user = PhoneUserFactory.create(phone=PHONE)
    # when
    response = _login(client, typed)
    # then
    assert response.status_code == 302
    assert response["Location"] == "/cabinet/"
    assert int(client.session["_auth_user_id"]) == user.pk


def test_login_by_email_ignores_case(client: Client) -> None:
    # given
    user = EmailUserFactory.create(email="ivan@example.ru")
    # when
    response = _login(client, "Ivan@Example.RU")
    # then
    assert response["Location"] == "/cabinet/"
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.parametrize("typed", ["ЛС 1234567", "лс123456789", "1600012345", "123456789012", "5100 2233 44"])
def test_account_number_login_gets_the_unsupported_message(client: Client, typed: str) -> None:
    # when
    response = _login(client, typed)
    # then
    assert response.status_code == 200
    assert f"<li>{ACCOUNT_NUMBER_MESSAGE}</li>" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_mistyped_phone_gets_a_phone_message_not_the_account_number_one(client: Client) -> None:
    # when
    page = _login(client, "8 917 123-45").content.decode()
    # then
    assert ACCOUNT_NUMBER_MESSAGE not in page
    assert "Номер телефона указан неверно" in page


def test_wrong_password_answer_is_the_same_for_registered_and_unknown_numbers(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone=PHONE)
    # when
    registered = _login(client, "8 917 123-45-67", "Wrong12345")
    unknown = _login(Client(), "8 917 765-43-21", "Wrong12345")
    # then
    assert registered.status_code == unknown.status_code == 200
    assert comparable_page(registered.content, "8 917 123-45-67") == comparable_page(
        unknown.content, "8 917 765-43-21"
    )
    assert "Номер телефона и/или пароль неверны." in registered.content.decode()


def test_failed_logins_are_rate_limited_per_number(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone=PHONE)
    for _ in range(5):
        _login(client, "8 917 123-45-67", "Wrong12345")
    # when: even the right password is refused for a while
    response = _login(client, "+7 917 123 45 67", PASSWORD)
    # then
    assert response.status_code == 200
    assert "Слишком много неудачных попыток входа" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_by_sms_code(client: Client) -> None:
    # given
    user = PhoneUserFactory.create(phone=PHONE)
    # when
    requested = client.post("/accounts/login/code/", {"phone": "8 917 123-45-67"})
    code = last_code(PHONE)
    confirmed = client.post("/accounts/login/code/confirm/", {"code": code})
    # then
    assert requested["Location"] == "/accounts/login/code/confirm/"
    assert len(code) == 6
    assert confirmed["Location"] == "/cabinet/"
    assert int(client.session["_auth_user_id"]) == user.pk


def test_login_code_for_unknown_number_looks_the_same_and_sends_nothing(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone=PHONE)
    # when
    registered = client.post("/accounts/login/code/", {"phone": "8 917 123-45-67"})
    unknown = client.post("/accounts/login/code/", {"phone": "8 917 765-43-21"})
    # then
    assert registered["Location"] == unknown["Location"] == "/accounts/login/code/confirm/"
    assert sms_to("+79177654321") == []


def test_login_code_requests_are_rate_limited_per_number(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone=PHONE)
    client.post("/accounts/login/code/", {"phone": "8 917 123-45-67"})
    # when
    again = Client().post("/accounts/login/code/", {"phone": "+79171234567"})
    # then
    assert again.status_code == 200
    assert "Слишком много" in again.content.decode()
    assert len(sms_to(PHONE)) == 1


def test_five_wrong_login_codes_end_the_attempt(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone=PHONE)
    client.post("/accounts/login/code/", {"phone": "8 917 123-45-67"})
    code = last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    # when
    for _ in range(5):
        client.post("/accounts/login/code/confirm/", {"code": wrong})
    final = client.post("/accounts/login/code/confirm/", {"code": code})
    # then
    assert final.status_code == 302
    assert final["Location"] != "/cabinet/"
    assert "_auth_user_id" not in client.session


def test_login_page_mentions_code_login_and_both_recoveries(client: Client) -> None:
    # when
    page = client.get("/accounts/login/").content.decode()
    # then
    assert "Телефон или электронная почта" in page
    assert 'href="/accounts/login/code/"' in page
    assert 'href="/accounts/password/reset/"' in page
    assert 'href="/password/reset/sms/"' in page


def test_deactivated_user_cannot_log_in_by_password(client: Client) -> None:
    # given
    user = PhoneUserFactory.create(phone=PHONE)
    User.objects.filter(pk=user.pk).update(is_active=False)
    # when
    _login(client, "8 917 123-45-67")
    # then
    assert "_auth_user_id" not in client.session


def test_login_by_code_with_an_account_number_gets_the_unsupported_message(client: Client) -> None:
    # when
    response = client.post("/accounts/login/code/", {"phone": "ЛС 1600012345"})
    # then
    assert response.status_code == 200
    assert f"<li>{ACCOUNT_NUMBER_MESSAGE}</li>" in response.content.decode()


def test_login_code_sent_to_an_unconfirmed_email_confirms_it(client: Client) -> None:
    # given
    user = EmailUserFactory.create(email="ivan@example.ru", verified=False)
    # when
    client.post("/accounts/login/code/", {"email": "ivan@example.ru"})
    code = re.search(r"\b(\d{6})\b", emails_to("ivan@example.ru")[-1].body)
    assert code is not None
    confirmed = client.post("/accounts/login/code/confirm/", {"code": code.group(1)})
    # then
    assert confirmed["Location"] == "/cabinet/"
    user.refresh_from_db()
    assert user.email_verified is True


def test_login_errors_and_help_are_tied_to_the_input(client: Client) -> None:
    # when
    page = _login(client, "ЛС 1600012345").content.decode()
    # then: every id the input points to exists on the page
    field = re.search(r'<input[^>]*name="login"[^>]*>', page)
    assert field is not None
    described = re.search(r'aria-describedby="([^"]+)"', field.group(0))
    assert described is not None
    assert described.group(1).split() == ["id_login_helptext", "id_login_error"]
    assert 'aria-invalid="true"' in field.group(0)
    for element_id in described.group(1).split():
        assert f'id="{element_id}"' in page


def test_staff_made_by_an_administrator_logs_in_without_email_confirmation(client: Client) -> None:
    # given
    User.objects.create_user(email="operator@letai.example", password=PASSWORD, is_staff=True)
    # when
    response = _login(client, "operator@letai.example")
    # then
    assert response.status_code == 302
    assert response["Location"] != "/accounts/confirm-email/"
    assert "_auth_user_id" in client.session
