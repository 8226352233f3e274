"""Browser journey: log in, download my data, switch the cabinet off, then login is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kabinet.identity.models import User
from kabinet.identity.tests.security_helpers import PASSWORD, make_subscriber

pytestmark = pytest.mark.django_db(transaction=True)


def _login(page: Page, base: str, login: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()


def test_switch_the_cabinet_off(live_server, page: Page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # given a subscriber logged in by phone typed as 8 9xx ...
    user = make_subscriber(phone="+79171234567", email="ivan@example.ru")
    _login(page, live_server.url, "8 917 123-45-67")
    page.goto(live_server.url + "/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Профиль")
    # when they download their data
    page.get_by_role("link", name="Отключить личный кабинет").click()
    with page.expect_download() as download_info:
        page.locator("#data-download").click()
    target = tmp_path / "data.json"
    download_info.value.save_as(target)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["user"]["phone"] == "+79171234567"
    assert data["user"]["email"] == "ivan@example.ru"
    assert data["customer"]["last_name"] == "Иванов"
    # and switch the cabinet off with their password
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_label("Я понимаю, что войти в личный кабинет больше не получится").check()
    page.get_by_role("button", name="Отключить личный кабинет").click()
    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("Личный кабинет отключён")
    user.refresh_from_db()
    assert user.is_active is False
    page.goto(live_server.url + "/profile/")
    assert "/accounts/login/" in page.url
    # and logging in again is refused
    _login(page, live_server.url, "ivan@example.ru")
    expect(page).to_have_url(live_server.url + "/accounts/inactive/")
    assert User.objects.get(pk=user.pk).is_active is False
