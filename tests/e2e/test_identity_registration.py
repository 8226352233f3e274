"""Browser journeys: registration by phone and by email, login by phone typed as 8 9xx, recovery by
email. Codes and links are read from the dev outbox, as a person trying the demo would."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kabinet.identity.models import User
from kabinet.identity.tests.factories import EmailUserFactory, PhoneUserFactory
from kabinet.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Letai2026x"


def _last_body(channel: str, to: str) -> str:
    message = OutboxMessage.objects.filter(channel=channel, to=to).order_by("-sent_at", "-id").first()
    assert message is not None, f"nothing sent to {to}"
    return message.body


def _link(body: str, fragment: str) -> str:
    match = re.search(r"https?://\S*" + re.escape(fragment) + r"\S*", body)
    assert match, body
    return match.group(0)


def _login(page: Page, base: str, login: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Телефон или электронная почта").fill(login)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти", exact=True).click()


def test_registration_by_phone_with_the_code_from_the_outbox(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    # given
    page.goto(live_server.url + "/accounts/signup/")
    # when
    page.get_by_label("Номер телефона").fill("8 917 123-45-67")
    page.get_by_role("button", name="Получить код").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Введите код из SMS")
    code = re.search(r"\b(\d{6})\b", _last_body("sms", "+79171234567"))
    assert code is not None
    page.get_by_role("textbox", name="Код из SMS").fill(code.group(1))
    page.get_by_role("button", name="Продолжить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Придумайте пароль")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_role("button", name="Завершить регистрацию").click()
    # then
    expect(page).to_have_url(live_server.url + "/cabinet/")
    user = User.objects.get(phone="+79171234567")
    assert user.phone_verified is True
    assert user.customer is not None


def test_registration_by_email_with_the_link_from_the_outbox(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    # given
    page.goto(live_server.url + "/accounts/signup/")
    # when
    page.get_by_label("Электронная почта").fill("ivan@example.ru")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_role("button", name="Зарегистрироваться", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Подтвердите электронную почту")
    # the cabinet stays closed until the address is confirmed
    _login(page, live_server.url, "ivan@example.ru", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Подтвердите электронную почту")
    page.goto(_link(_last_body("email", "ivan@example.ru"), "/accounts/confirm-email/"))
    page.get_by_role("button", name="Подтвердить").click()
    _login(page, live_server.url, "ivan@example.ru", PASSWORD)
    # then
    expect(page).to_have_url(live_server.url + "/cabinet/")
    assert User.objects.get(email="ivan@example.ru").email_verified is True


def test_login_by_phone_typed_with_a_leading_8(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    # given
    PhoneUserFactory.create(phone="+79171234567", password=PASSWORD)
    # when
    _login(page, live_server.url, "8 917 123-45-67", PASSWORD)
    # then
    expect(page).to_have_url(live_server.url + "/cabinet/")


def test_login_by_account_number_is_refused_with_an_explanation(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    # when
    _login(page, live_server.url, "ЛС 1600012345", PASSWORD)
    # then
    field = page.get_by_label("Телефон или электронная почта")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_login_error")).to_have_text(
        "Вход по номеру лицевого счёта не поддерживается: войдите по номеру телефона или электронной почте."
    )


def test_password_recovery_by_email(live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    # given
    EmailUserFactory.create(email="ivan@example.ru", password="Forgotten2025")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Забыли пароль? Восстановить по почте").click()
    # when
    page.get_by_label("Электронная почта").fill("ivan@example.ru")
    page.get_by_role("button", name="Получить ссылку").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Проверьте почту")
    page.goto(_link(_last_body("email", "ivan@example.ru"), "/accounts/password/reset/key/"))
    page.get_by_role("textbox", name="Новый пароль", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Новый пароль (ещё раз)").fill(PASSWORD)
    page.get_by_role("button", name="Сменить пароль").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Пароль изменён")
    _login(page, live_server.url, "ivan@example.ru", PASSWORD)
    # then
    expect(page).to_have_url(live_server.url + "/cabinet/")
