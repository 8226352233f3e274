"""Back office, payments: search, timeline, office cash, registries and their review queue, rules.
Subscribers are refused everywhere and nothing changes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kabinet.backoffice.tests.payments_helpers import HEADER
from kabinet.backoffice.tests.payments_helpers import balance_of as _balance
from kabinet.backoffice.tests.payments_helpers import make_account as _pa
from kabinet.billing.models import LedgerAccount
from kabinet.bonus.models import BonusRule
from kabinet.bonus.services import bonus_rule_get
from kabinet.core.models import AuditEvent
from kabinet.identity.models import User
from kabinet.payments.models import Payment, PaymentRules, RegistryImport, RegistryLine
from kabinet.payments.office import payment_office_create
from kabinet.payments.registries import registry_import
from kabinet.payments.rules import payment_rules_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_user(email="abonent@example.test", password="x"))
    return client


def test_subscriber_is_refused_on_every_payments_page_and_nothing_changes(subscriber_client, staff) -> None:
    # given
    account = _pa()
    payment = payment_office_create(actor=staff, account_number=account.number, amount="100")
    summary = registry_import(
        data=(HEADER + "Сбер;25.11.2026;Z1;1000000008;5;А\n").encode(), file_name="z.csv"
    )
    line = RegistryLine.objects.get(registry_import=summary.registry_import)
    rules_before = payment_rules_get().max_amount_kopecks
    audit_before = AuditEvent.objects.count()
    gets = [
        reverse("backoffice:payment_search"),
        reverse("backoffice:payment_detail", args=[payment.pk]),
        reverse("backoffice:office_payment"),
        reverse("backoffice:registry_list"),
        reverse("backoffice:registry_detail", args=[summary.registry_import.pk]),
        reverse("backoffice:registry_review"),
        reverse("backoffice:payment_rules"),
        reverse("backoffice:bonus_rules"),
    ]
    posts = [
        (
            reverse("backoffice:office_payment"),
            {"account_number": account.number, "amount": "500", "token": "t"},
        ),
        (reverse("backoffice:registry_list"), {"file": SimpleUploadedFile("r.csv", HEADER.encode())}),
        (reverse("backoffice:registry_line_resolve", args=[line.pk]), {"account_number": account.number}),
        (reverse("backoffice:registry_line_reject", args=[line.pk]), {"reason": "нет"}),
        (reverse("backoffice:payment_refund", args=[payment.pk]), {"reason": "нет"}),
        (reverse("backoffice:payment_rules"), {"max_amount_kopecks": "1", "reason": "x"}),
        (reverse("backoffice:bonus_rules"), {"points_per_100_rub": "999", "reason": "x"}),
    ]
    # when / then
    for url in gets:
        assert subscriber_client.get(url).status_code == 403, url
    for url, data in posts:
        assert subscriber_client.post(url, data).status_code == 403, url
    assert Payment.objects.count() == 1
    assert RegistryImport.objects.count() == 1
    line.refresh_from_db()
    assert line.status == RegistryLine.Status.NEEDS_REVIEW
    assert _balance(account) == 10000
    assert payment_rules_get().max_amount_kopecks == rules_before
    assert bonus_rule_get().points_per_100_rub == BonusRule().points_per_100_rub
    assert AuditEvent.objects.count() == audit_before


def test_anonymous_is_sent_to_login() -> None:
    response = Client().get(reverse("backoffice:registry_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login"))


def test_staff_uploads_registry_and_resolves_review_line(
    staff_client, staff, django_capture_on_commit_callbacks
) -> None:
    # given
    good, other = _pa(), _pa()
    data = (
        HEADER
        + f"Сбербанк;25.11.2026;W1;{good.number};300;Иванов\nСбербанк;25.11.2026;W2;1000000008;200;Петров\n"
    ).encode("cp1251")
    # when: upload (the import task runs after the upload commits, eagerly in tests)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("backoffice:registry_list"), {"file": SimpleUploadedFile("w.csv", data)}
        )
    # then
    record = RegistryImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:registry_detail", args=[record.pk])
    assert (record.actor, record.credited_count, record.review_count) == (staff, 1, 1)
    detail = staff_client.get(response["Location"]).content.decode()
    assert "Лицевой счёт 1000000008 не найден." in detail
    queue = staff_client.get(reverse("backoffice:registry_review")).content.decode()
    assert "w.csv, строка 3" in queue
    # when: a wrong account is refused, the right one credits
    line = RegistryLine.objects.get(status="needs_review")
    bad = staff_client.post(
        reverse("backoffice:registry_line_resolve", args=[line.pk]), {"account_number": "123"}
    )
    assert bad.status_code == 400
    assert "Неверный номер лицевого счёта" in bad.content.decode()
    ok = staff_client.post(
        reverse("backoffice:registry_line_resolve", args=[line.pk]),
        {"account_number": other.number, "reason": "Опечатка в номере"},
    )
    # then
    assert ok.status_code == 302
    assert _balance(good) == 30000
    assert _balance(other) == 20000
    assert (
        "Все строки реестров разобраны."
        in staff_client.get(reverse("backoffice:registry_review")).content.decode()
    )
    # and uploading the same file again credits nothing
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("backoffice:registry_list"), {"file": SimpleUploadedFile("w.csv", data)})
    assert (_balance(good), _balance(other)) == (30000, 20000)


def test_staff_takes_office_cash_payment_audited_once(staff_client, staff) -> None:
    # given
    account = _pa()
    form = {
        "account_number": account.number,
        "amount": "1 500",
        "payer": "Иванов",
        "office": "Казань",
        "token": "f1",
    }
    # when: the form is submitted twice (double click)
    first = staff_client.post(reverse("backoffice:office_payment"), form)
    second = staff_client.post(reverse("backoffice:office_payment"), form)
    # then
    payment = Payment.objects.get()
    assert first.status_code == second.status_code == 302
    assert (payment.method, payment.status, payment.amount_kopecks) == ("office", "succeeded", 150000)
    assert _balance(account) == 150000
    assert LedgerAccount.objects.get(code="cash:office").balance_kopecks == -150000
    event = AuditEvent.objects.get(action="payments.office_payment")
    assert event.actor == staff
    assert event.new == {
        "personal_account": account.number,
        "amount_kopecks": 150000,
        "payer": "Иванов",
        "office": "Казань",
    }
    timeline = staff_client.get(reverse("backoffice:payment_detail", args=[payment.pk])).content.decode()
    assert "Наличными в офисе Казань" in timeline
    assert "Зачислен на лицевой счёт" in timeline


def test_office_payment_with_bad_amount_changes_nothing(staff_client) -> None:
    account = _pa()
    for amount in ("0", "-5", "abc", "1e3", ""):
        response = staff_client.post(
            reverse("backoffice:office_payment"),
            {"account_number": account.number, "amount": amount, "token": amount},
        )
        assert response.status_code == 400, amount
    assert Payment.objects.count() == 0
    assert _balance(account) == 0


def test_search_by_account_and_status(staff_client, staff) -> None:
    a, b = _pa(), _pa()
    payment_office_create(actor=staff, account_number=a.number, amount="111")
    payment_office_create(actor=staff, account_number=b.number, amount="222")
    page = staff_client.get(
        reverse("backoffice:payment_search"), {"account": a.number, "status": "succeeded"}
    )
    html = page.content.decode()
    assert a.number in html
    assert b.number not in html
    assert "111" in html


def test_staff_edits_payment_rules_and_bonus_rules_audited(staff_client, staff) -> None:
    rules = payment_rules_get()
    form = {
        name: getattr(rules, name)
        for name in (
            "min_amount_kopecks",
            "same_card_interval_minutes",
            "period_limit_kopecks",
            "period_days",
            "allowed_issuer_countries",
            "allowed_card_brands",
            "blocked_card_classes",
        )
    }
    form.update(whole_rubles_only="on", max_amount_kopecks=1_000_000, reason="Решение оператора")
    response = staff_client.post(reverse("backoffice:payment_rules"), form)
    assert response.status_code == 302
    assert PaymentRules.objects.get().max_amount_kopecks == 1_000_000
    assert AuditEvent.objects.filter(action="payment_rules.update", actor=staff).count() == 1
    response = staff_client.post(
        reverse("backoffice:bonus_rules"),
        {
            "points_per_100_rub": 5,
            "min_payment_rub": 300,
            "kopecks_per_point": 2,
            "expiry_days": 90,
            "reason": "Акция",
        },
    )
    assert response.status_code == 302
    rule = bonus_rule_get()
    assert (rule.points_per_100_rub, rule.min_payment_kopecks, rule.kopecks_per_point, rule.expiry_days) == (
        5,
        30000,
        2,
        90,
    )
    assert rule.is_active is False
    assert AuditEvent.objects.filter(action="bonus.rule_update", actor=staff).count() == 1


def test_upload_without_header_is_refused_and_records_nothing(staff_client) -> None:
    account = _pa()
    data = f"Сбербанк;25.11.2026;H1;{account.number};100;Иванов\n".encode()
    response = staff_client.post(
        reverse("backoffice:registry_list"), {"file": SimpleUploadedFile("h.csv", data)}
    )
    assert response.status_code == 400
    assert "Первая строка файла должна быть заголовком" in response.content.decode()
    assert RegistryImport.objects.count() == 0
    assert _balance(account) == 0


def test_office_form_prefills_account_from_link(staff_client) -> None:
    account = _pa()
    html = staff_client.get(
        reverse("backoffice:office_payment"), {"account": account.number}
    ).content.decode()
    assert f'value="{account.number}"' in html
