from __future__ import annotations

import pytest
from django.test import Client

from kabinet.identity.models import User
from kabinet.identity.tests.factories import EmailUserFactory, PhoneUserFactory
from kabinet.identity.tests.helpers import comparable_page, emails_to, last_code, link_in, sms_to

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Fresh2026pass"


def test_password_recovery_by_email_link(client: Client) -> None:
    # given
    user = EmailUserFactory.create(email="ivan@example.ru")
    # when
    requested = client.post("/accounts/password/reset/", {"email": "Ivan@Example.ru"})
    link = link_in(emails_to("ivan@example.ru")[-1].body, "/accounts/password/reset/key/")
    form_page = client.get(link, follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    # then
    assert requested["Location"] == "/accounts/password/reset/done/"
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize("who", ["unconfirmed", "unknown"])
def test_email_recovery_goes_only_to_confirmed_addresses_with_the_same_answer(
    client: Client, who: str
) -> None:
    # given
    EmailUserFactory.create(email="ok@example.ru", verified=True)
    EmailUserFactory.create(email="unconfirmed@example.ru", verified=False)
    address = f"{who}@example.ru"
    other = Client()
    # when
    confirmed = client.post("/accounts/password/reset/", {"email": "ok@example.ru"}, follow=True)
    answer = other.post("/accounts/password/reset/", {"email": address}, follow=True)
    # then
    assert confirmed.redirect_chain == answer.redirect_chain == [("/accounts/password/reset/done/", 302)]
    assert comparable_page(confirmed.content) == comparable_page(answer.content)
    assert len(emails_to("ok@example.ru")) == 1
    assert not any("/password/reset/key/" in m.body for m in emails_to(address))


def test_password_recovery_by_sms_code(client: Client) -> None:
    # given
    user = PhoneUserFactory.create(phone="+79171234567")
    # when
    requested = client.post("/password/reset/sms/", {"phone": "8 917 123-45-67"})
    verified = client.post("/sms-code/", {"phone": "+7 917 123-45-67", "code": last_code("+79171234567")})
    done = client.post("/sms-code/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    login = client.post("/accounts/login/", {"login": "89171234567", "password": NEW_PASSWORD})
    # then
    assert requested["Location"] == "/sms-code/"
    assert verified["Location"] == "/sms-code/password/"
    assert done["Location"] == "/accounts/login/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert login["Location"] == "/cabinet/"


def test_sms_recovery_for_an_unknown_number_looks_the_same_and_sends_nothing(client: Client) -> None:
    # given
    PhoneUserFactory.create(phone="+79172223344")
    other = Client()
    # when
    registered = client.post("/password/reset/sms/", {"phone": "8 917 222-33-44"}, follow=True)
    unknown = other.post("/password/reset/sms/", {"phone": "8 917 555-66-77"}, follow=True)
    # then
    assert registered.redirect_chain == unknown.redirect_chain == [("/sms-code/", 302)]
    assert comparable_page(registered.content, "222-33-44") == comparable_page(unknown.content, "555-66-77")
    assert len(sms_to("+79172223344")) == 1
    assert sms_to("+79175556677") == []
    # a guessed code for the unknown number leads nowhere
    guess = other.post("/sms-code/", {"phone": "+79175556677", "code": "123456"})
    assert guess.status_code == 400
    assert not User.objects.filter(phone="+79175556677").exists()


def test_sms_recovery_refuses_an_unconfirmed_number(client: Client) -> None:
    # given: a phone stored but never confirmed by a code
    user = EmailUserFactory.create(email="ivan@example.ru")
    User.objects.filter(pk=user.pk).update(phone="+79171234567", phone_verified=False)
    # when
    client.post("/password/reset/sms/", {"phone": "8 917 123-45-67"})
    # then
    assert sms_to("+79171234567") == []
