"""History of an account: reasons, filters, pagination, query count, chart, CSV and PDF statements."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from kabinet.billing.models import LedgerTransfer
from kabinet.billing.services import ledger_account_system, ledger_transfer_post, revenue_account_code
from kabinet.portal.selectors import monthly_spending
from kabinet.portal.tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def charge(account, amount: int, day: dt.date, description: str) -> None:
    ledger_transfer_post(
        key=f"charge:test:{account.pk}:{day}:{amount}",
        debit=account.ledger_account,
        credit=ledger_account_system(code=revenue_account_code("internet")),
        amount_kopecks=amount,
        kind=LedgerTransfer.Kind.CHARGE,
        value_date=day,
        description=description,
    )


def _history_url(account, **params) -> str:
    from urllib.parse import urlencode

    url = reverse("portal:history", args=[account.pk])
    return url + ("?" + urlencode(params) if params else "")


def test_history_shows_each_line_with_its_plain_language_reason(owner, owner_account):
    # given
    charge(
        owner_account, 1383, dt.date(2026, 11, 25), "Абонентская плата по тарифу «Домашний 100» за 25.11.2026"
    )
    # when
    html = logged_in(owner).get(_history_url(owner_account)).content.decode()
    # then
    assert "Абонентская плата по тарифу «Домашний 100» за 25.11.2026" in html
    assert "−13,83\u00a0₽" in html
    assert "Оплата банковской картой" in html
    assert "+1\u202f000\u00a0₽" in html
    assert "<svg" in html and "Расходы по месяцам" in html


def test_history_filters_by_kind_and_period(owner, owner_account):
    # given
    charge(owner_account, 1000, dt.date(2026, 10, 5), "Списание в октябре")
    charge(owner_account, 2000, dt.date(2026, 11, 5), "Списание в ноябре")
    client = logged_in(owner)
    # when
    charges_only = client.get(_history_url(owner_account, kind="charges")).content.decode()
    november = client.get(
        _history_url(owner_account, date_from="2026-11-02", date_to="2026-11-30")
    ).content.decode()
    # then
    assert "Списание в октябре" in charges_only and "Списание в ноябре" in charges_only
    assert "Оплата банковской картой" not in charges_only
    assert "Списание в ноябре" in november
    assert "Списание в октябре" not in november
    assert "Оплата банковской картой" not in november  # paid on 1 Nov


def test_history_refuses_a_reversed_period_in_russian(owner, owner_account):
    # when
    html = (
        logged_in(owner)
        .get(_history_url(owner_account, date_from="2026-11-30", date_to="2026-11-01"))
        .content.decode()
    )
    # then
    assert "Дата окончания периода раньше даты начала." in html


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_history_query_count_does_not_depend_on_the_number_of_lines(
    owner, owner_account, django_assert_num_queries
):
    # given
    client = logged_in(owner)
    client.get(reverse("portal:dashboard"))
    url = _history_url(owner_account)
    few = _queries(client, url)
    for day in range(1, 29):
        for n in range(3):
            charge(owner_account, 100 + n, dt.date(2026, 10, day), f"Списание {day}.{n}")
    # when / then: 84 more lines (two pages) cost no extra query
    with django_assert_num_queries(few):
        response = client.get(url)
    assert response.content.decode().count('<tr class="history-') == 50
    with django_assert_num_queries(few):
        response = client.get(url + "?page=2")
    assert response.content.decode().count('<tr class="history-') == 35


def test_monthly_spending_sums_charges_less_their_reversals(owner, owner_account):
    # given
    charge(owner_account, 41500, dt.date(2026, 10, 1), "Октябрь")
    charge(owner_account, 1000, dt.date(2026, 11, 3), "Ноябрь 1")
    charge(owner_account, 500, dt.date(2026, 11, 4), "Ноябрь 2")
    from kabinet.billing.services import ledger_transfer_reverse

    # the reversal is dated today: freeze today inside November
    with time_machine.travel(dt.datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Europe/Moscow")), tick=False):
        ledger_transfer_reverse(transfer=LedgerTransfer.objects.get(description="Ноябрь 2"), reason="ошибка")
    # when
    months = monthly_spending(personal_account=owner_account, months=3, today=dt.date(2026, 11, 25))
    # then
    assert [(m.month, m.charged_kopecks) for m in months] == [
        (dt.date(2026, 9, 1), 0),
        (dt.date(2026, 10, 1), 41500),
        (dt.date(2026, 11, 1), 1000),
    ]


def test_statement_csv(owner, owner_account):
    # given
    charge(
        owner_account, 1383, dt.date(2026, 11, 25), "Абонентская плата по тарифу «Домашний 100» за 25.11.2026"
    )
    # when
    response = logged_in(owner).get(reverse("portal:history_export", args=[owner_account.pk, "csv"]))
    # then
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Дата;Операция;Сумма, ₽;Основание",
        "25.11.2026;Списание;-13.83;Абонентская плата по тарифу «Домашний 100» за 25.11.2026",
        "01.11.2026;Платёж;1000.00;Оплата банковской картой",
    ]


def test_statement_pdf_has_cyrillic_and_the_ruble_sign(owner, owner_account):
    # given
    charge(
        owner_account, 1383, dt.date(2026, 11, 25), "Абонентская плата по тарифу «Домашний 100» за 25.11.2026"
    )
    # when
    response = logged_in(owner).get(reverse("portal:history_export", args=[owner_account.pk, "pdf"]))
    # then
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert f"Выписка по лицевому счёту {owner_account.number}" in text
    assert "Абонентская плата по тарифу «Домашний 100»" in text
    assert "−13,83 ₽" in text.replace("\u00a0", " ")
    assert "Баланс на сегодня: 986,17 ₽" in text.replace("\u00a0", " ")


def test_unknown_export_format_is_404(owner, owner_account):
    assert (
        logged_in(owner).get(reverse("portal:history_export", args=[owner_account.pk, "xls"])).status_code
        == 404
    )
