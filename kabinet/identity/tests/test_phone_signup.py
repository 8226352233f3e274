from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from kabinet.customers.models import Customer
from kabinet.identity.models import PhoneCode, User
from kabinet.identity.tests.factories import PhoneUserFactory
from kabinet.identity.tests.helpers import comparable_page, last_code, sms_to

pytestmark = pytest.mark.django_db

PHONE = "+79171234567"
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _start(client: Client, phone_text: str = "8 917 123-45-67"):
    return client.post("/register/phone/", {"phone-phone": phone_text})


def _verify(client: Client, code: str, phone_text: str = PHONE):
    return client.post("/sms-code/", {"phone": phone_text, "code": code, "action": "verify"})


@pytest.mark.parametrize("typed", ["8 917 123-45-67", "+7 (917) 1234567", "79171234567", "9171234567"])
def test_phone_signup_normalises_any_usual_spelling_and_sends_a_6_digit_code(
    client: Client, typed: str
) -> None:
    # when
    response = _start(client, typed)
    # then
    assert response.status_code == 302
    assert response["Location"] == "/sms-code/"
    assert list(PhoneCode.objects.values_list("phone", "purpose")) == [(PHONE, "signup")]
    assert len(sms_to(PHONE)) == 1
    assert len(last_code(PHONE)) == 6


@pytest.mark.parametrize("typed", ["8 917 123-45", "+1 212 555 0100", "телефон", "8 000 000-00-00"])
def test_phone_signup_refuses_invalid_numbers_and_sends_nothing(client: Client, typed: str) -> None:
    # when
    response = _start(client, typed)
    # then
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert PhoneCode.objects.count() == 0


def test_phone_signup_full_flow_creates_user_with_customer_and_logs_in(client: Client) -> None:
    # given
    _start(client)
    code = last_code(PHONE)
    # when
    verified = _verify(client, code)
    page = client.get("/sms-code/password/")
    done = client.post("/sms-code/password/", {"password1": "Letai2026x", "password2": "Letai2026x"})
    # then
    assert verified["Location"] == "/sms-code/password/"
    assert "Придумайте пароль" in page.content.decode()
    assert done.status_code == 302
    user = User.objects.get(phone=PHONE)
    assert user.phone_verified is True
    assert user.email is None
    assert user.check_password("Letai2026x")
    assert user.customer is not None
    assert user.customer.kind == Customer.Kind.INDIVIDUAL
    assert int(client.session["_auth_user_id"]) == user.pk


def test_password_step_refuses_weak_password_with_russian_reason(client: Client) -> None:
    # given
    _start(client)
    _verify(client, last_code(PHONE))
    # when
    response = client.post("/sms-code/password/", {"password1": "letaiabcd", "password2": "letaiabcd"})
    # then
    assert response.status_code == 200
    assert "Добавьте в пароль: заглавную латинскую букву, цифру." in response.content.decode()
    assert not User.objects.filter(phone=PHONE).exists()


def test_password_step_needs_a_verified_code(client: Client) -> None:
    # given: a code was sent but never typed
    _start(client)
    # when
    response = client.post("/sms-code/password/", {"password1": "Letai2026x", "password2": "Letai2026x"})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signup/"
    assert not User.objects.filter(phone=PHONE).exists()


def test_five_wrong_codes_then_even_the_right_code_is_refused(client: Client) -> None:
    # given
    _start(client)
    code = last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    # when
    answers = [_verify(client, wrong).content.decode() for _ in range(5)]
    final = _verify(client, code)
    # then
    assert "Осталось попыток: 4." in answers[0]
    assert "Осталась 1 попытка." in answers[3]
    assert "Попытки исчерпаны" in answers[4]
    assert final.status_code == 400
    assert "Попытки ввода кода исчерпаны. Запросите новый код." in final.content.decode()
    assert PhoneCode.objects.get().failed_attempts == 5
    assert "kabinet_verified_phone" not in client.session


def test_resend_is_refused_sooner_than_60_seconds_and_allowed_after(client: Client) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        _start(client)
        first = last_code(PHONE)
        # when
        traveller.shift(59)
        too_soon = client.post("/sms-code/", {"action": "resend"}, follow=True)
        sms_after_too_soon = len(sms_to(PHONE))
        traveller.shift(2)
        client.post("/sms-code/", {"action": "resend"})
        # then
        assert "Новый код можно запросить через 1 секунду." in too_soon.content.decode()
        assert sms_after_too_soon == 1
        assert len(sms_to(PHONE)) == 2
        second = last_code(PHONE)
        # only the latest code counts
        if first != second:
            assert _verify(client, first).status_code == 400
        assert _verify(client, second)["Location"] == "/sms-code/password/"


@pytest.mark.parametrize(("seconds", "accepted"), [(299, True), (301, False)])
def test_code_is_valid_for_5_minutes(client: Client, seconds: int, accepted: bool) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        _start(client)
        code = last_code(PHONE)
        # when
        traveller.shift(seconds)
        response = _verify(client, code)
        # then
        assert (response.status_code == 302) is accepted
        if not accepted:
            assert "Код устарел или не запрашивался. Запросите новый код." in response.content.decode()


def test_registered_number_gets_the_same_screen_and_a_reminder_instead_of_a_code(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone="+79172223344")
    other = Client()
    # when
    registered = client.post("/register/phone/", {"phone-phone": "8 917 222-33-44"}, follow=True)
    fresh = other.post("/register/phone/", {"phone-phone": "8 917 555-66-77"}, follow=True)
    # then: the same page and message shape; the owner of the registered number gets a reminder
    assert registered.redirect_chain == fresh.redirect_chain == [("/sms-code/", 302)]
    assert comparable_page(registered.content, "222-33-44") == comparable_page(fresh.content, "555-66-77")
    assert "уже зарегистрирован" in sms_to("+79172223344")[-1]
    assert "Код регистрации" in sms_to("+79175556677")[-1]
    # and nothing typed on the code page can take over the registered number
    assert "Неверный код. Осталось попыток: 4." in _verify(client, "123456", "+79172223344").content.decode()
    assert User.objects.filter(phone="+79172223344").count() == 1


def test_code_requests_for_one_number_are_rate_limited_per_hour(client: Client) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given: five requests, each after the 60-second interval
        for _ in range(5):
            _start(Client())
            traveller.shift(61)
        # when
        sixth = _start(Client())
        # then
        assert sixth.status_code == 400
        assert "Слишком много запросов. Попробуйте через несколько минут." in sixth.content.decode()
        assert len(sms_to(PHONE)) == 5


def test_resending_counts_towards_the_hourly_limit(client: Client) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given: a request and four resends, each after the 60-second interval
        _start(client)
        for _ in range(4):
            traveller.shift(61)
            client.post("/sms-code/", {"action": "resend"})
        traveller.shift(61)
        # when
        refused = client.post("/sms-code/", {"action": "resend"}, follow=True)
        # then
        assert "Слишком много запросов. Попробуйте через несколько минут." in refused.content.decode()
        assert len(sms_to(PHONE)) == 5
