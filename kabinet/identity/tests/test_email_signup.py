from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.test import Client

from kabinet.customers.models import Customer
from kabinet.identity.models import PhoneCode, User
from kabinet.identity.tasks import purge_expired_registrations
from kabinet.identity.tests.factories import EmailUserFactory
from kabinet.identity.tests.helpers import comparable_page, emails_to, link_in

pytestmark = pytest.mark.django_db

EMAIL = "ivan@example.ru"
PASSWORD = "Letai2026x"
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _signup(client: Client, email: str = EMAIL, password: str = PASSWORD):
    return client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password})


def _confirmation_link(email: str = EMAIL) -> str:
    return link_in(emails_to(email)[-1].body, "/accounts/confirm-email/")


def test_signup_page_offers_phone_or_email(client: Client) -> None:
    # when
    page = client.get("/accounts/signup/").content.decode()
    # then
    assert "По номеру телефона" in page
    assert "По электронной почте" in page
    assert 'action="/register/phone/"' in page
    assert 'action="/accounts/signup/"' in page


def test_email_signup_sends_link_creates_customer_and_keeps_cabinet_closed(client: Client) -> None:
    # when
    response = _signup(client)
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email=EMAIL)
    assert user.email_verified is False
    assert user.customer is not None and user.customer.kind == Customer.Kind.INDIVIDUAL
    assert "/accounts/confirm-email/" in emails_to(EMAIL)[-1].body
    assert "_auth_user_id" not in client.session
    assert client.get("/cabinet/").status_code == 302


def test_unconfirmed_email_user_cannot_log_in_and_is_sent_to_confirm_page(client: Client) -> None:
    # given
    EmailUserFactory.create(email=EMAIL, password=PASSWORD, verified=False)
    # when
    response = client.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert "Подтвердите электронную почту" in client.get("/accounts/confirm-email/").content.decode()


def test_confirmation_link_opens_the_cabinet(client: Client) -> None:
    # given
    _signup(client)
    link = _confirmation_link()
    # when
    page = client.get(link)
    client.post(link)
    login = client.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    # then
    assert "Подтвердите, что адрес ivan@example.ru принадлежит вам." in page.content.decode()
    user = User.objects.get(email=EMAIL)
    assert user.email_verified is True
    assert EmailAddress.objects.get(email=EMAIL).verified is True
    assert login["Location"] == "/cabinet/"
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.parametrize(("days", "works"), [(6, True), (8, False)])
def test_confirmation_link_is_valid_for_7_days(client: Client, days: int, works: bool) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        _signup(client)
        link = _confirmation_link()
        # when
        traveller.shift(dt.timedelta(days=days))
        page = client.get(link).content.decode()
        client.post(link)
        # then
        assert User.objects.get(email=EMAIL).email_verified is works
        assert ("Срок действия ссылки истёк" in page) is not works


def test_after_expiry_the_same_email_can_register_again(client: Client) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        _signup(client)
        old_pk = User.objects.get(email=EMAIL).pk
        traveller.shift(dt.timedelta(days=8))
        # when
        response = _signup(Client(), password="Another2026y")
        # then
        assert response["Location"] == "/accounts/confirm-email/"
        user = User.objects.get(email=EMAIL)
        assert user.pk != old_pk
        assert user.check_password("Another2026y")
        link = _confirmation_link()
        client.post(link)
        assert User.objects.get(email=EMAIL).email_verified is True


def test_registered_email_gets_the_same_answer_and_no_new_account(client: Client) -> None:
    # given
    EmailUserFactory.create(email=EMAIL, password=PASSWORD)
    # when
    registered = _signup(client, EMAIL, "Whatever2026z")
    other = Client()
    fresh = _signup(other, "new@example.ru", "Whatever2026z")
    # then
    assert registered.status_code == fresh.status_code == 302
    assert registered["Location"] == fresh["Location"] == "/accounts/confirm-email/"
    assert comparable_page(client.get(registered["Location"]).content, EMAIL) == comparable_page(
        other.get(fresh["Location"]).content, "new@example.ru"
    )
    assert User.objects.filter(email=EMAIL).count() == 1
    assert User.objects.get(email=EMAIL).check_password(PASSWORD)
    assert "/accounts/confirm-email/" not in emails_to(EMAIL)[-1].body


def test_cleanup_task_removes_only_expired_unconfirmed_registrations() -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        expired = EmailUserFactory.create(email="old@example.ru", verified=False)
        confirmed = EmailUserFactory.create(email="ok@example.ru", verified=True)
        traveller.shift(dt.timedelta(days=2))
        recent = EmailUserFactory.create(email="recent@example.ru", verified=False)
        traveller.shift(dt.timedelta(days=6))
        assert expired.customer is not None
        expired_customer_pk = expired.customer.pk
        # when
        removed = purge_expired_registrations.delay().get()
        # then
        assert removed == 1
        assert set(User.objects.values_list("email", flat=True)) == {"ok@example.ru", "recent@example.ru"}
        assert not Customer.objects.filter(pk=expired_customer_pk).exists()
        assert not EmailAddress.objects.filter(email="old@example.ru").exists()
        assert {confirmed.pk, recent.pk} == set(User.objects.values_list("pk", flat=True))


def test_cleanup_task_is_scheduled_in_celery_beat() -> None:
    # when
    from config.celery import app

    entry = app.conf.beat_schedule["identity-purge-expired-registrations"]
    # then
    assert entry["task"] == "kabinet.identity.tasks.purge_expired_registrations"


def test_cleanup_task_also_drops_phone_codes_older_than_a_day(client: Client) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        # given
        client.post("/register/phone/", {"phone-phone": "8 917 123-45-67"})
        traveller.shift(dt.timedelta(hours=23))
        Client().post("/register/phone/", {"phone-phone": "8 917 765-43-21"})
        traveller.shift(dt.timedelta(hours=2))
        # when
        purge_expired_registrations.delay().get()
        # then
        assert list(PhoneCode.objects.values_list("phone", flat=True)) == ["+79177654321"]
