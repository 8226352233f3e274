"""Browser: the profile's contact pages (phone change, email addresses, notifications) have no axe-core
WCAG 2.1 A/AA violations and fit 360 px; the phone change works end to end with the code from the SMS."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from kabinet.identity.tests.helpers import last_code
from kabinet.identity.tests.security_helpers import PASSWORD, make_subscriber

pytestmark = pytest.mark.django_db(transaction=True)

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()
EMAIL = "contacts@example.ru"
NEW_PHONE = "+79172223344"


def _violations(page: Page) -> list[dict[str, Any]]:
    results = AXE.run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    )
    return [
        {"id": v["id"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
    ]


def _login(page: Page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.locator("input[name=login]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.wait_for_url(base + "/cabinet/")


def test_contact_pages_are_accessible_and_the_phone_changes_with_the_sms_code(
    live_server, page: Page
) -> None:
    # given
    user = make_subscriber(email=EMAIL)
    page.set_viewport_size({"width": 360, "height": 800})
    _login(page, live_server.url)
    reports = []
    for path in ("/profile/notifications/", "/accounts/email/", "/profile/phone/"):
        page.goto(live_server.url + path)
        fits = page.evaluate("document.documentElement.scrollWidth") <= 360
        reports.append({"path": path, "violations": _violations(page), "fits": fits})
    # when: a new number, then the code from the SMS
    page.get_by_label("Новый номер телефона").fill("8 917 222-33-44")
    page.get_by_role("button", name="Получить код по SMS").click()
    page.get_by_label("Код из SMS").fill(last_code(NEW_PHONE))
    code_page_violations = _violations(page)
    page.get_by_role("button", name="Подтвердить номер").click()
    page.wait_for_url(live_server.url + "/profile/")
    # then
    assert [r for r in reports if r["violations"] or not r["fits"]] == []
    assert code_page_violations == []
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == (NEW_PHONE, True)
    assert "Номер +7 917 222-33-44 привязан к кабинету." in page.content()
