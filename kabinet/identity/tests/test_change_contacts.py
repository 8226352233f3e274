"""Changing the phone (SMS code to the new number) and email (allauth's /accounts/email/) from the profile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.identity.tests.helpers import emails_to, last_code, link_in, sms_to
from kabinet.identity.tests.security_helpers import fresh_login, make_subscriber

pytestmark = pytest.mark.django_db

OLD = "+79171234567"
NEW = "+79172223344"
NOT_ALLOWED = "Этот номер нельзя привязать к вашему кабинету."


def _send(client: Client, phone_text: str) -> Any:
    return client.post("/profile/phone/", {"action": "send", "phone": phone_text})


def _verify(client: Client, code: str) -> Any:
    return client.post("/profile/phone/", {"action": "verify", "code": code})


def _logged_in(client: Client) -> User:
    user = make_subscriber(phone=OLD)
    fresh_login(client, user)
    return user


def test_phone_change_with_the_right_code_changes_verifies_and_audits(client: Client) -> None:
    # given
    user = _logged_in(client)
    # when
    sent = _send(client, "8 (917) 222-33-44")
    page = client.get("/profile/phone/")
    done = _verify(client, last_code(NEW))
    # then
    assert sent.status_code == 302
    assert "+7 917 222-33-44" in page.content.decode()
    assert len(sms_to(NEW)) == 1
    assert sms_to(OLD) == []
    assert done.status_code == 302
    assert done["Location"] == "/profile/"
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (NEW, True)
    event = AuditEvent.objects.get(action="identity.phone_change")
    assert event.actor_id == user.pk
    assert event.old == {"phone": OLD, "phone_verified": True}
    assert event.new == {"phone": NEW, "phone_verified": True}


def test_phone_change_with_a_wrong_code_changes_nothing(client: Client) -> None:
    # given
    user = _logged_in(client)
    _send(client, NEW)
    right = last_code(NEW)
    wrong = "000000" if right != "000000" else "111111"
    # when
    response = _verify(client, wrong)
    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert "Неверный код. Осталось попыток: 4." in html
    assert 'aria-invalid="true"' in html
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (OLD, True)
    assert not AuditEvent.objects.filter(action="identity.phone_change").exists()


def test_a_number_of_another_user_is_refused_neutrally_and_nothing_is_sent(client: Client) -> None:
    # given
    other = make_subscriber(phone=NEW)
    user = _logged_in(client)
    # when
    response = _send(client, "+7 917 222 33 44")
    # then
    assert response.status_code == 400
    assert NOT_ALLOWED in response.content.decode()
    assert sms_to(NEW) == []
    user.refresh_from_db()
    other.refresh_from_db()
    assert (user.phone, other.phone) == (OLD, NEW)
    assert not AuditEvent.objects.filter(action="identity.phone_change").exists()


def test_a_number_taken_while_the_code_was_travelling_is_refused(client: Client) -> None:
    # given a code went to NEW, then someone else got NEW
    user = _logged_in(client)
    _send(client, NEW)
    code = last_code(NEW)
    other = make_subscriber(phone=NEW.replace("44", "45"))
    User.objects.filter(pk=other.pk).update(phone=NEW)
    # when
    response = _verify(client, code)
    # then
    assert response.status_code == 400
    assert NOT_ALLOWED in response.content.decode()
    user.refresh_from_db()
    assert user.phone == OLD
    assert not AuditEvent.objects.filter(action="identity.phone_change").exists()


def test_a_code_for_another_purpose_does_not_change_the_phone(client: Client) -> None:
    # given a registration code sent to NEW (someone started registering with it)
    user = _logged_in(client)
    Client().post("/register/phone/", {"phone-phone": NEW})
    signup_code = last_code(NEW)
    session = client.session
    session["kabinet_phone_change"] = NEW
    session.save()
    # when
    response = _verify(client, signup_code)
    # then
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.phone == OLD


def test_invalid_number_gets_a_russian_error_tied_to_the_field(client: Client) -> None:
    _logged_in(client)
    response = _send(client, "12345")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="id_phone_error"' in html
    assert re.search(r'<ul class="errorlist" id="id_phone_error"><li>Номер телефона указан неверно', html)


def test_phone_page_needs_login(client: Client) -> None:
    response = client.get("/profile/phone/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_email_page_renders_in_the_cabinet_layout(client: Client) -> None:
    user = make_subscriber(email="ivan@example.com")
    fresh_login(client, user)
    response = client.get("/accounts/email/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "ivan@example.com" in html
    assert '<html lang="ru"' in html
    assert 'href="/profile/"' in html  # the cabinet's navigation from base.html
    assert '<label for="id_email">Новый адрес электронной почты</label>' in html
    assert 'name="action_primary"' in html


def test_adding_a_bad_address_shows_the_error_tied_to_the_field(client: Client) -> None:
    user = make_subscriber(email="ivan@example.com")
    fresh_login(client, user)
    response = client.post("/accounts/email/", {"action_add": "", "email": "not-an-email"})
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert '<ul class="errorlist" id="id_email_error">' in html
    assert EmailAddress.objects.filter(user=user).count() == 1


def test_adding_confirming_and_making_primary_moves_user_email(client: Client) -> None:
    # given a subscriber with a confirmed address
    user = make_subscriber(email="old@example.com")
    fresh_login(client, user)
    # when a new address is added, confirmed by the emailed link and made primary
    client.post("/accounts/email/", {"action_add": "", "email": "new@example.com"})
    link = link_in(emails_to("new@example.com")[-1].body, "/accounts/confirm-email/")
    client.post(link[link.index("/accounts/") :])
    client.post("/accounts/email/", {"action_primary": "", "email": "new@example.com"})
    # then
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("new@example.com", True)
    assert EmailAddress.objects.get(user=user, primary=True).email == "new@example.com"


def test_primary_verified_address_makes_user_email_verified(client: Client) -> None:
    # given a phone subscriber whose only address was unconfirmed
    user = make_subscriber(phone=OLD)
    User.objects.filter(pk=user.pk).update(email="first@example.com", email_verified=False)
    EmailAddress.objects.create(user=user, email="first@example.com", verified=False, primary=True)
    EmailAddress.objects.create(user=user, email="second@example.com", verified=True, primary=False)
    fresh_login(client, user)
    # when the confirmed address becomes primary
    client.post("/accounts/email/", {"action_primary": "", "email": "second@example.com"})
    # then
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("second@example.com", True)
    assert AuditEvent.objects.filter(action="identity.email_change").count() == 1


def test_removing_a_secondary_address_but_not_the_primary(client: Client) -> None:
    # given
    user = make_subscriber(email="ivan@example.com")
    EmailAddress.objects.create(user=user, email="old@example.com", verified=True, primary=False)
    fresh_login(client, user)
    # when
    client.post("/accounts/email/", {"action_remove": "", "email": "old@example.com"})
    client.post("/accounts/email/", {"action_remove": "", "email": "ivan@example.com"})
    # then
    assert list(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == [
        "ivan@example.com"
    ]
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("ivan@example.com", True)


def test_a_phone_user_can_remove_the_only_address_and_user_email_becomes_empty(client: Client) -> None:
    # given
    user = make_subscriber(phone=OLD)
    User.objects.filter(pk=user.pk).update(email="ivan@example.com", email_verified=True)
    EmailAddress.objects.create(user=user, email="ivan@example.com", verified=True, primary=True)
    fresh_login(client, user)
    # when
    client.post("/accounts/email/", {"action_remove": "", "email": "ivan@example.com"})
    # then
    assert not EmailAddress.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert (user.email, user.email_verified, user.phone) == (None, False, OLD)
