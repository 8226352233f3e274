"""What the sandbox acquirer does: create, confirm (card + 3-D Secure code), capture, cancel, refund,
notify. Payment and refund objects are rendered in the YooKassa API v3 format."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kabinet.core.sql_rows import insert, instance_by, update_fields
from kabinet.notifications.sms import sms_send
from kabinet.sandbox_acquirer.cards import CARD_PRODUCT_NAMES, TestCard
from kabinet.sandbox_acquirer.models import (
    SandboxIdempotenceKey,
    SandboxNotification,
    SandboxPayment,
    SandboxRefund,
)

logger = logging.getLogger(__name__)

PAYMENT_TTL = dt.timedelta(hours=1)
HOLD_TTL = dt.timedelta(days=7)


class ApiError(Exception):
    def __init__(self, status: int, code: str, description: str, parameter: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.parameter = parameter

    def body(self) -> dict[str, Any]:
        body = {
            "type": "error",
            "id": secrets.token_hex(8),
            "code": self.code,
            "description": self.description,
        }
        if self.parameter:
            body["parameter"] = self.parameter
        return body


def money(kopecks: int, currency: str = "RUB") -> dict[str, str]:
    return {"value": f"{kopecks // 100}.{kopecks % 100:02d}", "currency": currency}


def parse_money(data: Any, parameter: str) -> int:
    try:
        value = str(data["value"])
        currency = data["currency"]
    except (KeyError, TypeError) as exc:
        raise ApiError(400, "invalid_request", "amount is required", parameter) from exc
    if currency != "RUB":
        raise ApiError(400, "invalid_request", "Only RUB is supported", f"{parameter}.currency")
    rubles, _sep, kopecks = value.partition(".")
    if not rubles.isdigit() or (kopecks and (not kopecks.isdigit() or len(kopecks) > 2)):
        raise ApiError(400, "invalid_request", "Invalid amount value", f"{parameter}.value")
    total = int(rubles) * 100 + int(kopecks.ljust(2, "0") or 0)
    if total <= 0:
        raise ApiError(400, "invalid_request", "Amount must be positive", f"{parameter}.value")
    return total


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def payment_json(payment: SandboxPayment, *, checkout_url: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": payment.id,
        "status": payment.status,
        "paid": payment.paid,
        "amount": money(payment.amount_kopecks, payment.currency),
        "description": payment.description,
        "recipient": {"account_id": payment.shop_id, "gateway_id": "sandbox"},
        "created_at": _iso(payment.created_at),
        "test": True,
        "refundable": payment.status == SandboxPayment.Status.SUCCEEDED
        and payment.refunded_kopecks < payment.amount_kopecks,
        "metadata": payment.metadata,
    }
    if payment.refunded_kopecks:
        data["refunded_amount"] = money(payment.refunded_kopecks)
    if payment.expires_at and payment.status in (
        SandboxPayment.Status.PENDING,
        SandboxPayment.Status.WAITING_FOR_CAPTURE,
    ):
        data["expires_at"] = _iso(payment.expires_at)
    if payment.captured_at:
        data["captured_at"] = _iso(payment.captured_at)
    if payment.status == SandboxPayment.Status.PENDING:
        data["confirmation"] = {
            "type": "redirect",
            "return_url": payment.return_url,
            "confirmation_url": checkout_url,
        }
    saved = payment.save_method and payment.status in (
        SandboxPayment.Status.WAITING_FOR_CAPTURE,
        SandboxPayment.Status.SUCCEEDED,
    )
    method: dict[str, Any] = {"type": payment.method_type, "id": payment.payment_method_id, "saved": saved}
    if payment.method_type == "yoo_money" and payment.wallet_account:
        method["account_number"] = payment.wallet_account
        method["title"] = f"YooMoney wallet {payment.wallet_account[:6]}*****{payment.wallet_account[-4:]}"
    if payment.card_last4:
        method["title"] = f"Bank card *{payment.card_last4}"
        method["card"] = {
            "first6": payment.card_first6,
            "last4": payment.card_last4,
            "expiry_month": payment.card_expiry_month,
            "expiry_year": payment.card_expiry_year,
            "card_type": payment.card_type,
            "issuer_country": payment.card_issuer_country,
            "issuer_name": payment.card_issuer_name,
            "card_product": {"code": payment.card_product_code, "name": payment.card_product_name},
        }
    data["payment_method"] = method
    if payment.status == SandboxPayment.Status.CANCELED:
        data["cancellation_details"] = {
            "party": payment.cancellation_party,
            "reason": payment.cancellation_reason,
        }
    return data


def refund_json(refund: SandboxRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "payment_id": refund.payment_id,
        "status": refund.status,
        "amount": money(refund.amount_kopecks),
        "description": refund.description,
        "created_at": _iso(refund.created_at),
    }


# --- idempotence -----------------------------------------------------------------------------------


def idempotent(
    *,
    shop_id: str,
    key: str | None,
    path: str,
    body: Any,
    operation: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Run a POST once per Idempotence-Key: a repeat (even concurrent) gets the first response."""
    if not key:
        raise ApiError(400, "invalid_request", "Idempotence-Key header is required", "Idempotence-Key")
    if len(key) > 64:
        raise ApiError(400, "invalid_request", "Idempotence-Key is too long", "Idempotence-Key")
    request_hash = hashlib.sha256(f"{path}\n{json.dumps(body, sort_keys=True)}".encode()).hexdigest()

    def stored() -> tuple[int, dict[str, Any]] | None:
        row = instance_by(SandboxIdempotenceKey, shop_id=shop_id, key=key)
        if row is None:
            return None
        if row.request_hash != request_hash:
            raise ApiError(
                400, "invalid_request", "Idempotence-Key was used with another request", "Idempotence-Key"
            )
        return row.status_code, row.response

    previous = stored()
    if previous is not None:
        return previous
    try:
        # A concurrent request with this key: our insert of the key waits for its commit and then
        # fails on the unique key, rolling back what we did; the caller gets the first response.
        with transaction.atomic():
            status, response = operation()
            insert(
                SandboxIdempotenceKey(
                    shop_id=shop_id,
                    key=key,
                    path=path,
                    request_hash=request_hash,
                    status_code=status,
                    response=response,
                )
            )
    except IntegrityError:
        again = stored()
        if again is None:
            raise
        return again
    return status, response


# --- payments --------------------------------------------------------------------------------------


WALLET_TYPES = ("yoo_money",)
_CARD_FIELDS = (
    "card_first6",
    "card_last4",
    "card_expiry_month",
    "card_expiry_year",
    "card_type",
    "card_issuer_country",
    "card_issuer_name",
    "card_product_code",
    "card_product_name",
)


def sandbox_payment_create(*, shop_id: str, body: Any) -> SandboxPayment:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "JSON object expected")
    amount = parse_money(body.get("amount"), "amount")
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ApiError(400, "invalid_request", "metadata must be an object", "metadata")
    common = {
        "shop_id": shop_id,
        "amount_kopecks": amount,
        "description": str(body.get("description", ""))[:128],
        "capture": bool(body.get("capture", False)),
        "metadata": {str(k): str(v) for k, v in metadata.items()},
    }
    saved_id = body.get("payment_method_id")
    if saved_id:
        return _sandbox_payment_with_saved_method(str(saved_id), body, common)
    confirmation = body.get("confirmation") or {}
    if confirmation.get("type") != "redirect" or not str(confirmation.get("return_url", "")).startswith(
        "http"
    ):
        raise ApiError(
            400, "invalid_request", "confirmation.type=redirect with return_url is required", "confirmation"
        )
    method = body.get("payment_method_data") or {"type": "bank_card"}
    method_type = method.get("type") or "bank_card"
    if method_type != "bank_card" and method_type not in WALLET_TYPES:
        raise ApiError(
            400,
            "invalid_request",
            f"Payment method {method_type} is not supported by the sandbox",
            "payment_method_data",
        )
    return SandboxPayment.objects.create(
        **common,
        method_type=method_type,
        save_method=bool(body.get("save_payment_method", False)),
        return_url=str(confirmation["return_url"])[:500],
        expires_at=timezone.now() + PAYMENT_TTL,
    )


def _sandbox_payment_with_saved_method(
    saved_id: str, body: dict[str, Any], common: dict[str, Any]
) -> SandboxPayment:
    """A payment by a saved card or wallet: no payer interaction; authorised at once."""
    source = (
        SandboxPayment.objects.filter(
            shop_id=common["shop_id"],
            payment_method_id=saved_id,
            save_method=True,
            status__in=(SandboxPayment.Status.WAITING_FOR_CAPTURE, SandboxPayment.Status.SUCCEEDED),
        )
        .order_by("created_at")
        .first()
    )
    if source is None:
        raise ApiError(
            400, "invalid_request", "payment_method_id is not a saved payment method", "payment_method_id"
        )
    now = timezone.now()
    confirmation = body.get("confirmation") or {}
    payment = SandboxPayment(
        **common,
        method_type=source.method_type,
        wallet_account=source.wallet_account,
        save_method=True,
        payment_method_id=source.payment_method_id,
        return_url=str(confirmation.get("return_url", "http://127.0.0.1/"))[:500],
        paid=True,
        notify=source.notify,
    )
    for name in _CARD_FIELDS:
        setattr(payment, name, getattr(source, name))
    if payment.capture:
        payment.status = SandboxPayment.Status.SUCCEEDED
        payment.captured_at = now
    else:
        payment.status = SandboxPayment.Status.WAITING_FOR_CAPTURE
        payment.expires_at = now + HOLD_TTL
    payment.save()
    sandbox_notify(
        event="payment.succeeded" if payment.capture else "payment.waiting_for_capture", payment=payment
    )
    return payment


def sandbox_payment_lock(*, shop_id: str, payment_id: str) -> SandboxPayment:
    payment = instance_by(SandboxPayment, lock=True, pk=payment_id, shop_id=shop_id)
    if payment is None:
        raise ApiError(404, "not_found", "Payment not found")
    return payment


def sandbox_payment_expire(payment: SandboxPayment) -> None:
    """Pending payments expire after an hour, authorised ones after the 7-day hold (call under lock)."""
    now = timezone.now()
    if payment.status == SandboxPayment.Status.PENDING and payment.expires_at and now > payment.expires_at:
        _cancel(payment, party="yoo_money", reason="expired_on_confirmation")
    elif (
        payment.status == SandboxPayment.Status.WAITING_FOR_CAPTURE
        and payment.expires_at
        and now > payment.expires_at
    ):
        _cancel(payment, party="merchant", reason="expired_on_capture")


def sandbox_payment_get(*, shop_id: str, payment_id: str) -> SandboxPayment:
    payment = instance_by(SandboxPayment, pk=payment_id, shop_id=shop_id)
    if payment is None:
        raise ApiError(404, "not_found", "Payment not found")
    if (
        payment.expires_at
        and timezone.now() > payment.expires_at
        and payment.status
        in (
            SandboxPayment.Status.PENDING,
            SandboxPayment.Status.WAITING_FOR_CAPTURE,
        )
    ):
        with transaction.atomic():
            payment = sandbox_payment_lock(shop_id=shop_id, payment_id=payment_id)
            sandbox_payment_expire(payment)
    return payment


def sandbox_payment_capture(*, shop_id: str, payment_id: str, body: Any) -> SandboxPayment:
    payment = sandbox_payment_lock(shop_id=shop_id, payment_id=payment_id)
    sandbox_payment_expire(payment)
    if payment.status == SandboxPayment.Status.SUCCEEDED:
        return payment
    if payment.status != SandboxPayment.Status.WAITING_FOR_CAPTURE:
        raise ApiError(400, "invalid_request", f"Payment is {payment.status}, cannot capture")
    if isinstance(body, dict) and body.get("amount") is not None:
        amount = parse_money(body["amount"], "amount")
        if amount > payment.amount_kopecks:
            raise ApiError(400, "invalid_request", "Capture amount exceeds the payment", "amount.value")
        payment.amount_kopecks = amount
    payment.status = SandboxPayment.Status.SUCCEEDED
    payment.captured_at = timezone.now()
    update_fields(payment, ["status", "captured_at", "amount_kopecks"])
    sandbox_notify(event="payment.succeeded", payment=payment)
    return payment


def sandbox_payment_cancel(*, shop_id: str, payment_id: str) -> SandboxPayment:
    payment = sandbox_payment_lock(shop_id=shop_id, payment_id=payment_id)
    if payment.status == SandboxPayment.Status.CANCELED:
        return payment
    if payment.status == SandboxPayment.Status.SUCCEEDED:
        raise ApiError(400, "invalid_request", "Payment is succeeded, cannot cancel (make a refund)")
    _cancel(payment, party="merchant", reason="canceled_by_merchant")
    return payment


def _cancel(payment: SandboxPayment, *, party: str, reason: str) -> None:
    payment.status = SandboxPayment.Status.CANCELED
    payment.cancellation_party = party
    payment.cancellation_reason = reason
    payment.save()
    sandbox_notify(event="payment.canceled", payment=payment)


# --- the hosted page: card, then 3-D Secure ------------------------------------------------------------


def sandbox_card_submit(
    *, payment_id: str, card: TestCard, expiry_month: str, expiry_year: str
) -> SandboxPayment:
    """The payer entered a card: declined cards cancel at once; others get a 3-D Secure code by SMS."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        sandbox_payment_expire(payment)
        if payment.status != SandboxPayment.Status.PENDING:
            return payment
        payment.card_first6 = card.number[:6]
        payment.card_last4 = card.number[-4:]
        payment.card_expiry_month = expiry_month
        payment.card_expiry_year = expiry_year
        payment.card_type = card.card_type
        payment.card_issuer_country = card.issuer_country
        payment.card_issuer_name = "Sandbox Bank" if card.issuer_country == "RU" else "Sandbox Foreign Bank"
        payment.card_product_code = card.product_code
        payment.card_product_name = CARD_PRODUCT_NAMES.get(card.product_code, card.product_code)
        payment.payment_method_id = (
            "pm-" + hashlib.sha256(f"{payment.id}:{card.number}".encode()).hexdigest()[:28]
        )
        payment.notify = card.notify
        if card.outcome != "success":
            payment.save()
            _cancel(payment, party="issuer", reason=card.outcome)
            return payment
        payment.sms_code = f"{secrets.randbelow(1_000_000):06d}"
        payment.sms_phone = settings.SANDBOX_ACQUIRER_TEST_PHONE
        payment.sms_attempts_left = 3
        payment.save()
        sms_send(
            to=payment.sms_phone,
            text=f"Код подтверждения платежа {payment.amount_kopecks // 100} RUB: {payment.sms_code}. "
            "Никому не сообщайте код. Sandbox Bank",
        )
    return payment


def sandbox_3ds_submit(*, payment_id: str, code: str) -> tuple[SandboxPayment, bool]:
    """The payer typed the SMS code. Returns (payment, code_ok). Three wrong codes cancel the payment."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        sandbox_payment_expire(payment)
        if payment.status != SandboxPayment.Status.PENDING or not payment.sms_code:
            return payment, payment.status != SandboxPayment.Status.CANCELED
        if not secrets.compare_digest(code.strip(), payment.sms_code):
            payment.sms_attempts_left = max(payment.sms_attempts_left - 1, 0)
            payment.save(update_fields=["sms_attempts_left"])
            if payment.sms_attempts_left == 0:
                _cancel(payment, party="issuer", reason="3d_secure_failed")
            return payment, False
        payment.sms_code = ""
        payment.paid = True
        if payment.capture:
            payment.status = SandboxPayment.Status.SUCCEEDED
            payment.captured_at = timezone.now()
            payment.save()
            sandbox_notify(event="payment.succeeded", payment=payment)
        else:
            payment.status = SandboxPayment.Status.WAITING_FOR_CAPTURE
            payment.expires_at = timezone.now() + HOLD_TTL
            payment.save()
            sandbox_notify(event="payment.waiting_for_capture", payment=payment)
    return payment, True


def sandbox_wallet_submit(*, payment_id: str, wallet: str) -> SandboxPayment:
    """The payer confirmed the payment in their wallet. A wallet ending in 0000 has no money."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        sandbox_payment_expire(payment)
        if payment.status != SandboxPayment.Status.PENDING:
            return payment
        payment.wallet_account = wallet
        payment.payment_method_id = "pm-" + hashlib.sha256(f"{payment.id}:{wallet}".encode()).hexdigest()[:28]
        if wallet.endswith("0000"):
            payment.save()
            _cancel(payment, party="payment_network", reason="insufficient_funds")
            return payment
        payment.paid = True
        if payment.capture:
            payment.status = SandboxPayment.Status.SUCCEEDED
            payment.captured_at = timezone.now()
            payment.save()
            sandbox_notify(event="payment.succeeded", payment=payment)
        else:
            payment.status = SandboxPayment.Status.WAITING_FOR_CAPTURE
            payment.expires_at = timezone.now() + HOLD_TTL
            payment.save()
            sandbox_notify(event="payment.waiting_for_capture", payment=payment)
    return payment


def sandbox_payment_abandon(*, payment_id: str) -> SandboxPayment:
    """The payer pressed «Отменить» on the card page."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(pk=payment_id)
        if payment.status == SandboxPayment.Status.PENDING:
            _cancel(payment, party="yoo_money", reason="expired_on_confirmation")
    return payment


# --- refunds ---------------------------------------------------------------------------------------


def sandbox_refund_create(*, shop_id: str, body: Any) -> SandboxRefund:
    if not isinstance(body, dict) or not isinstance(body.get("payment_id"), str):
        raise ApiError(400, "invalid_request", "payment_id is required", "payment_id")
    amount = parse_money(body.get("amount"), "amount")
    payment = sandbox_payment_lock(shop_id=shop_id, payment_id=body["payment_id"])
    if payment.status != SandboxPayment.Status.SUCCEEDED:
        raise ApiError(400, "invalid_request", "Only succeeded payments can be refunded", "payment_id")
    if payment.refunded_kopecks + amount > payment.amount_kopecks:
        raise ApiError(400, "invalid_request", "Refund amount exceeds the payment", "amount.value")
    payment.refunded_kopecks += amount
    payment.save(update_fields=["refunded_kopecks"])
    refund = SandboxRefund.objects.create(
        payment=payment, amount_kopecks=amount, description=str(body.get("description", ""))[:250]
    )
    sandbox_notify(event="refund.succeeded", refund=refund)
    return refund


def sandbox_refund_get(*, shop_id: str, refund_id: str) -> SandboxRefund:
    refund = SandboxRefund.objects.filter(pk=refund_id, payment__shop_id=shop_id).first()
    if refund is None:
        raise ApiError(404, "not_found", "Refund not found")
    return refund


# --- notifications ---------------------------------------------------------------------------------


def sandbox_notify(
    *, event: str, payment: SandboxPayment | None = None, refund: SandboxRefund | None = None
) -> None:
    """Queue an HTTP notification (sent after commit, retried). Settings or the test card may delay or
    drop it: then only the shop's reconciliation finds out."""
    if refund is not None:
        obj = refund_json(refund)
        mode = refund.payment.notify
    else:
        assert payment is not None
        obj = payment_json(payment)
        mode = payment.notify
    setting = settings.SANDBOX_ACQUIRER_NOTIFICATIONS
    if setting in ("delay", "drop"):
        mode = setting
    now = timezone.now()
    notification = insert(
        SandboxNotification(
            event=event,
            object_id=obj["id"],
            body={"type": "notification", "event": event, "object": obj},
            url=settings.SANDBOX_ACQUIRER_NOTIFICATION_URL,
            due_at=now
            + dt.timedelta(seconds=settings.SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS if mode == "delay" else 0),
            dropped=mode == "drop",
        )
    )
    if mode == "drop":
        return
    pk = notification.pk
    countdown = settings.SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS if mode == "delay" else 0

    def send() -> None:
        from kabinet.sandbox_acquirer.tasks import sandbox_notification_send

        if countdown and settings.CELERY_TASK_ALWAYS_EAGER:
            return  # eager Celery cannot wait: the periodic flush (or a test) sends it when due
        sandbox_notification_send.apply_async(args=[pk], countdown=countdown)

    transaction.on_commit(send)


def sandbox_notification_deliver(*, notification_id: int) -> bool:
    """One delivery attempt. Returns True when the shop answered 2xx."""
    from kabinet.payments.acquirer.client import http_session

    notification = SandboxNotification.objects.get(pk=notification_id)
    if notification.delivered_at or notification.dropped:
        return True
    SandboxNotification.objects.filter(pk=notification_id).update(attempts=notification.attempts + 1)
    try:
        response = http_session().post(notification.url, json=notification.body, timeout=(3, 30))
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}"
    except Exception as exc:
        ok, error = False, f"{exc.__class__.__name__}: {exc}"[:255]
    if ok:
        SandboxNotification.objects.filter(pk=notification_id).update(
            delivered_at=timezone.now(), last_error=""
        )
    else:
        SandboxNotification.objects.filter(pk=notification_id).update(last_error=error)
        logger.info("sandbox notification %s failed: %s", notification_id, error)
    return ok


def sandbox_notifications_due() -> list[int]:
    return list(
        SandboxNotification.objects.filter(
            delivered_at__isnull=True, dropped=False, due_at__lte=timezone.now()
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:200]
    )
