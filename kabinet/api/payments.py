"""/api/v1/payments: card top-ups for the mobile app and the web, the payment history with statuses and
timelines, receipts, and the acquirer's notification endpoint.

Creating a payment needs an ``Idempotency-Key`` header: repeating the request with the same key returns
the same payment (never a second one). The answer carries ``confirmation_url``: open it (the acquirer's
card page); the payer comes back to ``status_url``. The operator's rules are refused in the single error
format with ``field`` set (``amount`` or ``personal_account``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Header, Router, Schema, Status
from pydantic import Field

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user
from kabinet.billing.models import PersonalAccount
from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.billing.selectors import personal_account_get_for_user
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.payments.acquirer.interface import AcquirerError, AcquirerUnavailable
from kabinet.payments.models import Payment
from kabinet.payments.receipts import receipt_filename, receipt_pdf
from kabinet.payments.rules import payment_rules_describe
from kabinet.payments.selectors import payment_events, payment_get_for_user, payment_list_for_user
from kabinet.payments.services import payment_initiate, payment_notification_handle, payment_status_url

router = Router(tags=["payments"], auth=SUBSCRIBER_AUTH)


class PaymentIn(Schema):
    personal_account_id: int | None = Field(None, description="Один из моих лицевых счетов (id)…")
    personal_account_number: str | None = Field(
        None, description="…или номер любого лицевого счёта (10 цифр)."
    )
    amount: str = Field(description='Сумма в рублях, целое число, например "157".')
    receipt_email: str = Field("", description="Куда прислать квитанцию (по умолчанию — почта пользователя).")


class EventOut(Schema):
    kind: str
    kind_name: str
    at: dt.datetime
    message: str


class RefundOut(Schema):
    public_id: uuid.UUID
    amount_kopecks: int
    status: str
    status_name: str
    created_at: dt.datetime


class PaymentOut(Schema):
    public_id: uuid.UUID
    personal_account_number: str
    amount_kopecks: int
    method: str
    status: str = Field(
        description="created | pending | waiting_for_capture | succeeded | canceled | refunded"
    )
    status_name: str
    cancel_reason: str
    card_mask: str
    created_at: dt.datetime
    paid_at: dt.datetime | None
    credited_at: dt.datetime | None
    service_restored_at: dt.datetime | None
    confirmation_url: str = Field(description="Страница банка для ввода карты (пока платёж ожидает оплаты).")
    status_url: str
    receipt_available: bool
    refunded_kopecks: int


class PaymentDetailOut(PaymentOut):
    events: list[EventOut]
    refunds: list[RefundOut]


class RulesOut(Schema):
    rules: list[str]


def _out(payment: Payment) -> dict:
    return {
        "public_id": payment.public_id,
        "personal_account_number": payment.personal_account.number,
        "amount_kopecks": payment.amount_kopecks,
        "method": payment.method,
        "status": payment.status,
        "status_name": str(payment.get_status_display()),
        "cancel_reason": payment.cancel_reason,
        "card_mask": payment.card_mask,
        "created_at": payment.created_at,
        "paid_at": payment.paid_at,
        "credited_at": payment.credited_at,
        "service_restored_at": payment.service_restored_at,
        "confirmation_url": payment.confirmation_url if payment.status == Payment.Status.PENDING else "",
        "status_url": payment_status_url(payment=payment),
        "receipt_available": payment.transfer_id is not None,
        "refunded_kopecks": payment.refunded_kopecks,
    }


def _detail(payment: Payment) -> dict:
    return {
        **_out(payment),
        "events": [
            {"kind": e.kind, "kind_name": str(e.get_kind_display()), "at": e.created_at, "message": e.message}
            for e in payment_events(payment=payment)
        ],
        "refunds": [
            {
                "public_id": r.public_id,
                "amount_kopecks": r.amount_kopecks,
                "status": r.status,
                "status_name": str(r.get_status_display()),
                "created_at": r.created_at,
            }
            for r in payment.refunds.order_by("created_at")
        ],
    }


@router.post("/notifications", auth=None, summary="The acquirer's notifications (state is always re-fetched)")
def payments_notification(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"null")
        payment = payment_notification_handle(body=body)
    except ValueError:
        return HttpResponse(
            json.dumps({"error": "bad notification"}), status=400, content_type="application/json"
        )
    except AcquirerUnavailable:
        return HttpResponse(
            json.dumps({"error": "acquirer unavailable"}), status=503, content_type="application/json"
        )
    except AcquirerError as exc:
        return HttpResponse(
            json.dumps({"error": str(exc)[:200]}), status=400, content_type="application/json"
        )
    return HttpResponse(
        json.dumps({"status": payment.status if payment else "ignored"}), content_type="application/json"
    )


@router.get("/rules", response=RulesOut, auth=None, summary="The operator's card payment rules, in Russian")
def payments_rules(request: HttpRequest) -> dict:
    return {"rules": payment_rules_describe()}


@router.post(
    "",
    response={201: PaymentDetailOut},
    summary="Start a card payment (returns confirmation_url)",
    openapi_extra={
        "responses": {400: {"description": "Refused by a rule"}, 409: {"description": "Key reused"}}
    },
)
def payments_create(
    request: HttpRequest, data: PaymentIn, idempotency_key: str = Header(..., alias="Idempotency-Key")
) -> Status:
    user = request_user(request)
    account: PersonalAccount | None
    if data.personal_account_id is not None:
        account = personal_account_get_for_user(user=user, personal_account_id=data.personal_account_id)
    else:
        number = personal_account_number_clean(data.personal_account_number or "")
        if not personal_account_number_is_valid(number):
            raise DomainError(
                "Номер лицевого счёта введён с ошибкой: проверьте цифры (последняя цифра — контрольная).",
                code="invalid_account_number",
                field="personal_account",
            )
        account = PersonalAccount.objects.filter(number=number).first()
        if account is None:
            raise NotFound("Лицевой счёт с таким номером не найден.")
    payment = payment_initiate(
        personal_account=account,
        idempotency_key=idempotency_key,
        amount=data.amount,
        receipt_email=data.receipt_email or user.email or "",
        user=user,
        site_url=request.build_absolute_uri("/").rstrip("/"),
    )
    return Status(201, _detail(payment))


@router.get("", response=list[PaymentOut], summary="My payments with their statuses (newest first)")
def payments_list(request: HttpRequest, limit: int = 50, offset: int = 0) -> list[dict]:
    limit = max(1, min(limit, 200))
    rows = payment_list_for_user(user=request_user(request))[max(offset, 0) : max(offset, 0) + limit]
    return [_out(p) for p in rows]


@router.get("/{public_id}", response=PaymentDetailOut, summary="One payment: status, timeline, refunds")
def payments_detail(request: HttpRequest, public_id: uuid.UUID) -> dict:
    return _detail(payment_get_for_user(user=request_user(request), public_id=public_id))


@router.get("/{public_id}/receipt", summary="The PDF receipt of a credited payment")
def payments_receipt(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    payment = payment_get_for_user(user=request_user(request), public_id=public_id)
    if payment.transfer_id is None:
        raise NotFound("Квитанция будет доступна после зачисления платежа.")
    response = HttpResponse(receipt_pdf(payment=payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(payment)}"'
    return response
