"""Payment pages: the public page, the cabinet page, the status page, receipts, Terms; and the API."""

from __future__ import annotations

from typing import Any

import pytest

from kabinet.billing.models import LedgerAccount, PersonalAccount, PersonalAccountLink
from kabinet.billing.tests.factories import PersonalAccountFactory
from kabinet.identity.tests.factories import EmailUserFactory
from kabinet.payments.models import Payment, Refund
from kabinet.payments.services import payment_initiate, payment_refund
from kabinet.payments.tests.acquirer_fixtures import *  # noqa: F403
from kabinet.payments.tests.acquirer_fixtures import payer_confirms
from kabinet.sandbox_acquirer.models import SandboxPayment

pytestmark = pytest.mark.django_db


def _account(**kwargs: object) -> PersonalAccount:
    return PersonalAccountFactory(**kwargs)  # type: ignore[return-value]


def _owner(account: PersonalAccount) -> Any:
    user: Any = EmailUserFactory()
    PersonalAccountLink.objects.create(user=user, personal_account=account)
    return user


def _balance(account: PersonalAccount) -> int:
    return LedgerAccount.objects.get(pk=account.ledger_account_id).balance_kopecks


def _public_post(client: Any, **overrides: str) -> Any:
    data = {
        "account": "",
        "amount": "157",
        "email": "payer@example.ru",
        "agree": "on",
        "idempotency_key": "k1",
    }
    data.update(overrides)
    return client.post("/pay/", data)


def test_public_page_shows_rules_before_paying_and_links_terms(client) -> None:
    response = client.get("/pay/?account=1234567890")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Сумма одного платежа — от 1\u00a0₽ до 15\u202f000\u00a0₽." in html
    assert 'href="/terms/"' in html
    assert 'value="1234567890"' in html
    terms = client.get("/terms/").content.decode()
    assert "3.3. Действующие ограничения:" in terms


def test_public_page_payment_redirects_to_the_acquirer(acquirer, client) -> None:
    account = _account()
    response = _public_post(client, account=account.number)
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == payment.confirmation_url
    assert payment.user is None
    assert payment.receipt_email == "payer@example.ru"
    assert payment.amount_kopecks == 15700


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"account": "1234567891"}, "account", "Номер лицевого счёта введён с ошибкой"),
        ({"account": "12345"}, "account", "Номер лицевого счёта — 10 цифр."),
        ({"amount": "157.50"}, "amount", "Сумма должна быть в целых рублях, без копеек (например, 157)."),
        ({"amount": "15001"}, "amount", "Сумма одного платежа — не более 15\u202f000\u00a0₽."),
        ({"amount": ""}, "amount", "Укажите сумму."),
        ({"agree": ""}, "agree", "Чтобы продолжить, подтвердите согласие с Условиями оказания услуги."),
        ({"email": ""}, "email", "Укажите электронную почту: на неё придёт квитанция."),
    ],
)
def test_public_page_errors_are_shown_at_their_fields(acquirer, client, overrides, field, message) -> None:
    account = _account()
    overrides.setdefault("account", account.number)
    response = _public_post(client, **overrides)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field])
    html = response.content.decode()
    assert f'id="id_{field}-errors"' in html
    assert not Payment.objects.exists()


def test_public_page_unknown_account_and_cash_ban(acquirer, client) -> None:
    response = _public_post(client, account="1000000008")
    assert response.context["form"].errors["account"] == ["Лицевой счёт с таким номером не найден."]
    banned = _account()
    PersonalAccount.objects.filter(pk=banned.pk).update(cash_payment_ban=True)
    response = _public_post(client, account=banned.number)
    assert "запрет на приём наличных платежей" in response.context["form"].errors["account"][0]
    assert not Payment.objects.exists()


def test_status_page_shows_steps_with_times_and_receipt(
    acquirer, client, django_capture_on_commit_callbacks
) -> None:
    account = _account()
    payment = payment_initiate(
        personal_account=account, amount="157", idempotency_key="s1", receipt_email="a@b.ru"
    )
    pending = client.get(f"/pay/status/{payment.public_id}/").content.decode()
    assert 'hx-trigger="every 2s"' in pending
    assert 'data-status="pending"' in pending
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    html = client.get(f"/pay/status/{payment.public_id}/steps/").content.decode()
    assert 'data-status="succeeded"' in html
    assert "hx-trigger" not in html
    assert html.count("<time ") == 3  # accepted, paid, credited (service was not stopped)
    receipt = client.get(f"/pay/receipt/{payment.public_id}/")
    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    assert account.number in receipt["Content-Disposition"]


def test_status_page_return_from_acquirer_settles_without_notification(acquirer, client, settings) -> None:
    # given: notifications are dropped by the acquirer
    settings.SANDBOX_ACQUIRER_NOTIFICATIONS = "drop"
    account = _account()
    payment = payment_initiate(
        personal_account=account, amount="300", idempotency_key="s2", receipt_email="a@b.ru"
    )
    payer_confirms(payment)
    # when: the payer lands on the return URL
    html = client.get(f"/pay/status/{payment.public_id}/").content.decode()
    # then: we asked the acquirer, captured and credited
    assert 'data-status="succeeded"' in html
    assert _balance(account) == 30000


def test_receipt_of_an_unpaid_payment_is_404(acquirer, client) -> None:
    payment = payment_initiate(personal_account=_account(), amount="157", idempotency_key="r1")
    assert client.get(f"/pay/receipt/{payment.public_id}/").status_code == 404


def test_cabinet_payment_with_confirmation_step(acquirer, client) -> None:
    account = _account()
    user = _owner(account)
    client.force_login(user)
    page = client.get("/cabinet/payments/new/").content.decode()
    assert account.number in page
    assert "Правила оплаты картой" in page
    data = {"account": str(account.pk), "amount": "200", "email": "me@example.ru", "idempotency_key": "c1"}
    confirm = client.post("/cabinet/payments/new/", data)
    assert confirm.status_code == 200
    assert "Проверьте платёж" in confirm.content.decode()
    assert not Payment.objects.exists()
    done = client.post("/cabinet/payments/new/", {**data, "confirm": "1"})
    payment = Payment.objects.get()
    assert done["Location"] == payment.confirmation_url
    assert payment.user == user
    history = client.get("/cabinet/payments/").content.decode()
    assert str(payment.public_id) in history


def test_cabinet_page_refuses_another_subscribers_account(acquirer, client) -> None:
    mine = _account()
    other = _account()
    client.force_login(_owner(mine))
    data = {"account": str(other.pk), "amount": "200", "email": "", "idempotency_key": "c2", "confirm": "1"}
    response = client.post("/cabinet/payments/new/", data)
    assert response.status_code == 200
    assert "account" in response.context["form"].errors
    assert not Payment.objects.exists()


def test_refund_is_its_own_line_and_moves_money_back(
    acquirer, client, django_capture_on_commit_callbacks
) -> None:
    account = _account()
    owner = _owner(account)
    payment = payment_initiate(personal_account=account, amount="1000", idempotency_key="f1")
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    staff: Any = EmailUserFactory()
    staff.is_staff = True
    staff.save()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        refund = payment_refund(payment=payment, actor=staff, reason="Ошибочный платёж", amount_kopecks=40000)
    # then
    payment.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert payment.refunded_kopecks == 40000
    assert payment.status == Payment.Status.SUCCEEDED
    assert _balance(account) == 60000
    assert SandboxPayment.objects.get(pk=payment.acquirer_payment_id).refunded_kopecks == 40000
    client.force_login(owner)
    assert "Возврат на карту" in client.get("/cabinet/payments/").content.decode()
    # the rest, then nothing more can be refunded
    payment_refund(payment=payment, actor=staff, reason="Остаток")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert _balance(account) == 0
    with pytest.raises(Exception, match="зачисленный"):
        payment_refund(payment=payment, actor=staff, reason="Ещё раз")


def test_refund_by_a_subscriber_is_refused(acquirer, django_capture_on_commit_callbacks) -> None:
    account = _account()
    payment = payment_initiate(personal_account=account, amount="1000", idempotency_key="f2")
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    with pytest.raises(Exception, match="только сотрудникам"):
        payment_refund(payment=payment, actor=_owner(account), reason="хочу")
    assert not Refund.objects.exists()
    assert _balance(account) == 100000


# --- API -------------------------------------------------------------------------------------------------


def test_api_create_requires_idempotency_key(acquirer, client) -> None:
    account = _account()
    client.force_login(_owner(account))
    response = client.post(
        "/api/v1/payments",
        {"personal_account_id": account.pk, "amount": "157"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert not Payment.objects.exists()


def test_api_create_list_detail_and_receipt(acquirer, client, django_capture_on_commit_callbacks) -> None:
    account = _account()
    client.force_login(_owner(account))
    body = {"personal_account_id": account.pk, "amount": "157"}
    created = client.post(
        "/api/v1/payments", body, content_type="application/json", headers={"Idempotency-Key": "api-1"}
    )
    again = client.post(
        "/api/v1/payments", body, content_type="application/json", headers={"Idempotency-Key": "api-1"}
    )
    assert created.status_code == 201
    data = created.json()
    assert again.json()["public_id"] == data["public_id"]
    assert data["confirmation_url"].startswith("http://testserver/sandbox-acquirer/checkout/")
    assert data["status"] == "pending"
    assert [e["kind"] for e in data["events"]] == ["accepted"]
    payment = Payment.objects.get()
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    listed = client.get("/api/v1/payments").json()
    assert [(p["public_id"], p["status"]) for p in listed] == [(data["public_id"], "succeeded")]
    detail = client.get(f"/api/v1/payments/{payment.public_id}").json()
    assert [e["kind"] for e in detail["events"]] == ["accepted", "paid", "credited", "receipt_sent"]
    assert detail["card_mask"] == "220000******0004"
    receipt = client.get(f"/api/v1/payments/{payment.public_id}/receipt")
    assert receipt.status_code == 200
    assert receipt.content.startswith(b"%PDF")


def test_api_rule_refusal_in_the_error_format(acquirer, client) -> None:
    account = _account()
    client.force_login(_owner(account))
    response = client.post(
        "/api/v1/payments",
        {"personal_account_id": account.pk, "amount": "157.50"},
        content_type="application/json",
        headers={"Idempotency-Key": "api-2"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_amount",
            "message": "Сумма должна быть в целых рублях, без копеек (например, 157).",
            "field": "amount",
        }
    }


def test_api_authorization_matrix(acquirer, client, django_capture_on_commit_callbacks) -> None:
    account = _account()
    payment = payment_initiate(personal_account=account, amount="157", idempotency_key="m1")
    url = f"/api/v1/payments/{payment.public_id}"
    # anonymous
    assert client.get(url).status_code == 401
    # another subscriber
    client.force_login(_owner(_account()))
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/payments").json() == []
    # the owner
    client.force_login(_owner(account))
    assert client.get(url).status_code == 200


def test_api_notification_endpoint_refetches(acquirer, client) -> None:
    account = _account()
    payment = payment_initiate(personal_account=account, amount="157", idempotency_key="n1")
    body = {
        "type": "notification",
        "event": "payment.succeeded",
        "object": {"id": payment.acquirer_payment_id, "status": "succeeded"},
    }
    response = client.post("/api/v1/payments/notifications", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"status": "pending"}
    assert _balance(account) == 0


def test_receipt_embeds_a_font_with_cyrillic_and_the_ruble_sign(
    acquirer, django_capture_on_commit_callbacks
) -> None:
    from reportlab.pdfbase import pdfmetrics

    from kabinet.payments.receipts import receipt_font, receipt_lines, receipt_pdf

    account = _account()
    payment = payment_initiate(personal_account=account, amount="157", idempotency_key="pdf")
    payer_confirms(payment, capture_callbacks=django_capture_on_commit_callbacks)
    payment.refresh_from_db()
    font = pdfmetrics.getFont(receipt_font())
    assert 0x20BD in font.face.charToGlyph  # ₽
    assert 0x0416 in font.face.charToGlyph  # Ж
    lines = dict(receipt_lines(payment))
    assert lines["Лицевой счёт"] == account.number
    assert lines["Сумма"] == "157\u00a0₽"
    assert lines["Карта"] == "MIR 220000******0004"
    assert lines["Номер платежа"] == str(payment.public_id)
    pdf = receipt_pdf(payment=payment)
    assert b"/FontFile2" in pdf  # the TrueType font is embedded


def test_public_page_ties_errors_and_help_to_inputs(acquirer, client) -> None:
    response = _public_post(client, account=_account().number, amount="abc")
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_amount-errors id_amount_helptext"' in html
    assert 'id="id_amount_helptext"' in html


def test_public_page_limits_new_payments_per_address(acquirer, client, settings) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.PAYMENTS_PUBLIC_RATE_LIMIT = 2
    account = _account()
    first = _public_post(client, account=account.number, idempotency_key="r1")
    second = _public_post(client, account=account.number, idempotency_key="r2")
    third = _public_post(client, account=account.number, idempotency_key="r3")
    assert (first.status_code, second.status_code, third.status_code) == (302, 302, 429)
    assert "Слишком много платежей подряд" in third.content.decode()
    assert Payment.objects.count() == 2
