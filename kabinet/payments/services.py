"""Writes of the payments domain: start a card payment, settle it from the acquirer's state, refund,
edit the operator's payment rules.

Money moves in exactly one place, ``_payments_credit_locked``: one ledger transfer with the key
``payment:<public_id>`` under a row lock on the Payment, so replays and concurrent notifications credit
once. Concurrent notifications of a process are decided and credited in batches, one transaction per
batch (``kabinet.core.group_commit``). The acquirer is never called inside a transaction; a notification's body is never trusted: only
the object id is taken from it and the payment's state is fetched from the acquirer's API.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.billing.models import LedgerAccount, LedgerTransfer, PersonalAccount
from kabinet.billing.services import (
    CLEARING_ACQUIRER,
    ledger_account_system,
    ledger_transfer_post,
    ledger_transfers_post,
    personal_account_lock,
    personal_account_unblock_if_paid,
)
from kabinet.core.audit import audit_entry, audit_log, audit_log_many
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.group_commit import GroupCommit
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table
from kabinet.core.sql_rows import (
    in_list,
    in_list_params,
    in_list_size,
    insert,
    insert_many,
    instance_by,
    row_reader,
    update_fields,
    update_fields_many,
)
from kabinet.core.stored_text import in_operator_language, stored_text
from kabinet.core.task_batches import TaskBatcher
from kabinet.payments.acquirer.client import acquirer_client
from kabinet.payments.acquirer.interface import (
    AcquirerError,
    AcquirerPayment,
    AcquirerRefund,
    AcquirerUnavailable,
    notification_parse,
)
from kabinet.payments.hooks import payments_credited_notify, payments_refunded_notify
from kabinet.payments.models import Payment, PaymentEvent, PaymentRules, Refund
from kabinet.payments.rules import (
    card_refusal,
    cards_last_paid_at,
    payment_amount_parse,
    payment_check_account,
    payment_check_amount,
    payment_check_period,
    payment_rules_get,
)

logger = logging.getLogger(__name__)

# Why the acquirer cancelled a payment (cancellation_details.reason), in words for the payer.
CANCELLATION_REASONS = {
    "3d_secure_failed": "Не пройдена проверка 3-D Secure (неверный код из SMS).",
    "call_issuer": "Банк отклонил платёж. Обратитесь в банк, выпустивший карту.",
    "card_expired": "Срок действия карты истёк.",
    "country_forbidden": "Оплата картами банков этой страны невозможна.",
    "expired_on_confirmation": "Платёж не был подтверждён вовремя.",
    "expired_on_capture": "Платёж не был завершён вовремя.",
    "fraud_suspected": "Платёж заблокирован банком из-за подозрения на мошенничество.",
    "general_decline": "Банк отклонил платёж.",
    "identification_required": "Банк требует идентификации владельца карты.",
    "insufficient_funds": "Недостаточно средств на карте.",
    "invalid_card_number": "Неверный номер карты.",
    "invalid_csc": "Неверный код CVC/CVV.",
    "issuer_unavailable": "Банк, выпустивший карту, недоступен. Попробуйте позже.",
    "payment_method_limit_exceeded": "Превышен лимит платежей по карте.",
    "payment_method_restricted": "Операции по карте запрещены банком.",
    "canceled_by_merchant": "Платёж отменён.",
    "permission_revoked": "Платёж отменён.",
}

_ACTIVE = (Payment.Status.CREATED, Payment.Status.PENDING, Payment.Status.WAITING_FOR_CAPTURE)


class AcquirerUnavailableError(DomainError):
    code = "acquirer_unavailable"
    status = 503


# --- helpers -------------------------------------------------------------------------------------


def _event(payment: Payment, kind: str, message: str = "", **data: Any) -> PaymentEvent:
    return insert(PaymentEvent(payment=payment, kind=kind, message=message[:255], data=data))  # type: ignore[no-any-return]


# The notification path reads and locks payments with hand-written statements (kabinet.core.sql_rows:
# the ORM spends more CPU building them than the database spends running them); names come from the
# models' metadata, values are always parameters.


_PAYMENTS_LOCK_WITH_ACCOUNTS_SQL = (
    "SELECT {payment_columns}, {account_columns}, {ledger_columns} FROM {payment} "
    "INNER JOIN {account} ON {payment}.{payment_account} = {account}.{account_pk} "
    "INNER JOIN {ledger} ON {account}.{account_ledger} = {ledger}.{ledger_pk} "
    "WHERE {payment}.{payment_pk}{in_ids} ORDER BY {payment}.{payment_pk}{lock}"
)


@cache
def _payments_lock_with_accounts_sql(size: int) -> str:
    payment = sql_table(Payment)
    return _PAYMENTS_LOCK_WITH_ACCOUNTS_SQL.format(
        payment_columns=row_reader(Payment).columns,
        account_columns=row_reader(PersonalAccount).columns,
        ledger_columns=row_reader(LedgerAccount).columns,
        payment=payment,
        account=sql_table(PersonalAccount),
        ledger=sql_table(LedgerAccount),
        payment_account=sql_column(Payment, "personal_account"),
        account_pk=sql_column(PersonalAccount, "id"),
        account_ledger=sql_column(PersonalAccount, "ledger_account"),
        ledger_pk=sql_column(LedgerAccount, "id"),
        payment_pk=sql_column(Payment, "id"),
        in_ids=in_list(size),
        lock=f" FOR UPDATE OF {payment}" if connection.features.has_select_for_update_of else "",
    )


def payment_lock(*, payment_id: int) -> Payment:
    """Lock a Payment row for a read-then-write (call inside a transaction). Only the payment row is
    locked; its personal account and ledger account come along in the same statement, unlocked."""
    found = payments_lock(payment_ids=[payment_id])
    if not found:
        raise Payment.DoesNotExist(f"payment {payment_id}")
    return found[payment_id]


def payments_lock(*, payment_ids: Sequence[int]) -> dict[int, Payment]:
    """``payment_lock`` for several payments in one statement, their rows locked in pk order (so two
    such locks never deadlock). Payments that do not exist are left out."""
    ids = sorted(set(payment_ids))
    with hot_cursor() as cursor:
        cursor.execute(_payments_lock_with_accounts_sql(in_list_size(len(ids))), in_list_params(ids))
        rows = cursor.fetchall()
    readers = (row_reader(Payment), row_reader(PersonalAccount), row_reader(LedgerAccount))
    found = {}
    for row in rows:
        parts, start = [], 0
        for reader in readers:
            end = start + len(reader.attnames)
            parts.append(reader.instance(row[start:end]))
            start = end
        payment, account, ledger_account = parts
        account.ledger_account = ledger_account
        payment.personal_account = account
        found[payment.pk] = payment
    return found


def payment_status_url(*, payment: Payment, site_url: str | None = None) -> str:
    base = (site_url or settings.SITE_URL).rstrip("/")
    return base + reverse("payments:status", kwargs={"public_id": payment.public_id})


# --- starting a payment --------------------------------------------------------------------------


def payment_initiate(
    *,
    personal_account: PersonalAccount,
    idempotency_key: str,
    amount: str | int | None = None,
    amount_kopecks: int | None = None,
    receipt_email: str = "",
    user: Any = None,
    site_url: str | None = None,
    method: str = Payment.Method.CARD,
    acquirer_options: dict[str, Any] | None = None,
) -> Payment:
    """Start a card payment to a personal account under the operator's rules and register it at the
    acquirer (two-stage: authorised by the payer, captured by us after the card checks).

    ``amount`` is what a person typed in rubles ("157"); ``amount_kopecks`` an exact amount from code.
    The same ``idempotency_key`` returns the same payment (and retries the acquirer registration if a
    previous attempt timed out). Raises PaymentRefused (DomainError with ``field``) for rule violations.
    The payer is sent to ``payment.confirmation_url`` (the acquirer's card page) and comes back to the
    status page on ``site_url`` (default settings.SITE_URL).
    """
    idempotency_key = (idempotency_key or "").strip()
    if not idempotency_key or len(idempotency_key) > 64:
        raise DomainError(_("Нужен ключ идемпотентности (до 64 символов)."), code="idempotency_key_required")
    receipt_email = (receipt_email or "").strip()
    if receipt_email:
        try:
            validate_email(receipt_email)
        except ValidationError:
            raise DomainError(
                _("Проверьте адрес электронной почты для квитанции."),
                code="invalid_email",
                field="receipt_email",
            ) from None
    rules = payment_rules_get()
    if amount_kopecks is None:
        amount_kopecks = payment_amount_parse(amount=amount, rules=rules)
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _payment_initiate_replay(
            existing, personal_account, amount_kopecks, site_url, acquirer_options, user=user
        )
    payment_check_amount(amount_kopecks=amount_kopecks, rules=rules)
    try:
        with transaction.atomic():
            # Lock the account: its status and the per-period sum are read-then-written.
            account = personal_account_lock(personal_account_id=personal_account.pk)
            payment_check_account(personal_account=account)
            payment_check_period(personal_account=account, amount_kopecks=amount_kopecks, rules=rules)
            payment = Payment.objects.create(
                personal_account=account,
                user=user if getattr(user, "is_authenticated", False) else None,
                amount_kopecks=amount_kopecks,
                method=method,
                status=Payment.Status.CREATED,
                idempotency_key=idempotency_key,
                receipt_email=receipt_email or "",
            )
            _event(payment, PaymentEvent.Kind.ACCEPTED)
    except IntegrityError:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _payment_initiate_replay(
            existing, personal_account, amount_kopecks, site_url, acquirer_options, user=user
        )
    _payment_register_at_acquirer(payment, site_url=site_url, options=acquirer_options)
    payment.refresh_from_db()
    return payment


def _payment_initiate_replay(
    existing: Payment,
    personal_account: PersonalAccount,
    amount_kopecks: int,
    site_url: str | None,
    acquirer_options: dict[str, Any] | None = None,
    *,
    user: Any = None,
) -> Payment:
    caller_id = user.pk if getattr(user, "is_authenticated", False) else None
    if (
        existing.personal_account_id != personal_account.pk
        or existing.amount_kopecks != amount_kopecks
        # A key is the caller's own: another caller's replay never gets someone else's payment.
        or existing.user_id != caller_id
    ):
        raise Conflict(
            _("Этот ключ идемпотентности уже использован для другого платежа."), code="idempotency_key_reused"
        )
    if existing.status == Payment.Status.CREATED and not existing.acquirer_payment_id:
        _payment_register_at_acquirer(existing, site_url=site_url, options=acquirer_options)
        existing.refresh_from_db()
    return existing


def _payment_register_at_acquirer(
    payment: Payment, *, site_url: str | None, options: dict[str, Any] | None = None
) -> None:
    """POST /payments with an idempotence key derived from the payment, so a retry after a timeout gets
    the same acquirer payment. Leaves the payment CREATED (and raises) when the acquirer is unavailable."""
    try:
        remote = acquirer_client().payment_create(
            amount_kopecks=payment.amount_kopecks,
            return_url=payment_status_url(payment=payment, site_url=site_url),
            description=stored_text(
                gettext_lazy("Оплата услуг связи, лицевой счёт %(number)s"),
                number=payment.personal_account.number,
            ),
            metadata={
                "payment_id": str(payment.public_id),
                "personal_account": payment.personal_account.number,
            },
            idempotence_key=f"payment:{payment.public_id}",
            receipt_email=payment.receipt_email,
            # payment_method_data / save_payment_method / payment_method_id (wallets, autopay: PAY-B)
            **(options or {}),
        )
    except AcquirerUnavailable as exc:
        logger.warning("acquirer unavailable creating payment %s: %s", payment.public_id, exc)
        raise AcquirerUnavailableError(
            _("Банк временно не отвечает. Попробуйте ещё раз через минуту — второй платёж не создастся.")
        ) from exc
    except AcquirerError as exc:
        logger.error("acquirer refused payment %s: %s", payment.public_id, exc)
        with transaction.atomic():
            locked = payment_lock(payment_id=payment.pk)
            if locked.status == Payment.Status.CREATED:
                locked.status = Payment.Status.CANCELED
                # kept in the operator's language; the payer reads the error below in theirs
                locked.cancel_reason = stored_text(gettext_lazy("Банк отклонил создание платежа."))
                locked.save(update_fields=["status", "cancel_reason", "updated_at"])
                _event(locked, PaymentEvent.Kind.CANCELED, locked.cancel_reason)
        raise DomainError(
            _("Банк отклонил создание платежа. Попробуйте позже."), code="acquirer_refused"
        ) from exc
    with transaction.atomic():
        locked = payment_lock(payment_id=payment.pk)
        if not locked.acquirer_payment_id:
            locked.acquirer_payment_id = remote.id
            locked.confirmation_url = remote.confirmation_url
            if locked.status == Payment.Status.CREATED:
                locked.status = Payment.Status.PENDING
            locked.save(update_fields=["acquirer_payment_id", "confirmation_url", "status", "updated_at"])


# --- settling from the acquirer's state ----------------------------------------------------------


def payment_notification_handle(*, body: Any) -> Payment | None:
    """An acquirer notification. Only the object id is used; the state is fetched from the acquirer.

    Returns the payment concerned (None for an unknown one). Raises AcquirerUnavailable when the
    acquirer cannot be asked (the caller answers 5xx so the acquirer retries; reconciliation also
    settles the payment later). Any number of replays, in any order and concurrently, move money once.
    """
    notification = notification_parse(body)
    if notification.is_refund:
        refund = Refund.objects.filter(acquirer_refund_id=notification.object_id).first()
        if refund is None:
            return None
        refund_sync(refund=refund)
        return refund.payment
    # No joins: this read only decides whether a lock is needed; every write re-reads under the lock.
    payment = instance_by(Payment, acquirer_payment_id=notification.object_id)
    if payment is None:
        logger.warning("notification for unknown acquirer payment %s", notification.object_id)
        return None
    return payment_sync(payment=payment)


def payment_sync(*, payment: Payment) -> Payment:
    """Ask the acquirer for the payment's state and act on it (capture/cancel/credit). Idempotent.

    ``payment`` should be freshly read (it is used for the lock-free check of an earlier decision; every
    write re-reads the row under its lock). Returns the payment as it is after the sync."""
    if not payment.acquirer_payment_id:
        if payment.status == Payment.Status.CREATED:
            _payment_register_at_acquirer(payment, site_url=None)
            payment.refresh_from_db()
        if not payment.acquirer_payment_id:
            return payment
    client = acquirer_client()
    remote = client.payment_get(payment_id=payment.acquirer_payment_id)
    current = payment
    for _step in range(3):
        action, current = _payment_apply_remote(payment=current, remote=remote)
        if action == "capture":
            try:
                remote = client.payment_capture(
                    payment_id=remote.id,
                    amount_kopecks=remote.amount_kopecks,
                    idempotence_key=f"capture:{payment.public_id}",
                )
            except AcquirerUnavailable:
                _payment_capture_failed(payment_id=payment.pk, remote=remote)
                raise
        elif action == "cancel":
            remote = client.payment_cancel(
                payment_id=remote.id, idempotence_key=f"cancel:{payment.public_id}"
            )
        else:
            break
    return current


def _remote_matches(payment: Payment, remote: AcquirerPayment) -> str:
    """ "" if the acquirer's object is this payment; otherwise why not (then nothing moves)."""
    if remote.id != payment.acquirer_payment_id:
        return "id"
    if remote.metadata.get("payment_id") not in (None, str(payment.public_id)):
        return "metadata"
    if remote.currency != "RUB":
        return "currency"
    if remote.amount_kopecks != payment.amount_kopecks:
        return "amount"
    return ""


def _record_card(payment: Payment, remote: AcquirerPayment) -> list[str]:
    card = remote.card
    if card is None or payment.card_fingerprint:
        return []
    payment.card_mask = card.mask
    payment.card_brand = card.brand
    payment.card_fingerprint = card.fingerprint
    payment.card_issuer_country = card.issuer_country
    payment.card_class = card.product_code
    return ["card_mask", "card_brand", "card_fingerprint", "card_issuer_country", "card_class"]


def _cards_lock(fingerprints: Sequence[str]) -> None:
    """Serialise the same-card check for these cards across concurrent notifications (PostgreSQL
    advisory transaction locks on the card fingerprints, taken in key order so that two batches never
    deadlock; SQLite runs write transactions one at a time anyway)."""
    keys = sorted({int(fingerprint[:7], 16) for fingerprint in fingerprints if fingerprint})
    if connection.vendor == "postgresql" and keys:
        with hot_cursor() as cursor:
            cursor.execute(_CARDS_LOCK_SQL, [CARD_LOCK_NAMESPACE, keys])


CARD_LOCK_NAMESPACE = 5150
# The subquery's order is the order the locks are taken in.
_CARDS_LOCK_SQL = (
    "SELECT pg_advisory_xact_lock(%s, card.key) FROM (SELECT unnest(%s::int[]) AS key ORDER BY 1) AS card"
)


def _payment_decide_capture(*, payment: Payment, remote: AcquirerPayment) -> tuple[str, Payment]:
    """The payer authorised the payment (waiting_for_capture): capture it, or cancel it when the card
    breaks a rule. The decision is taken once, under the card's lock and the Payment row lock, and
    recorded (paid_at, card, waiting_for_capture or cancel_reason) before the acquirer is asked, so a
    second payment from the same card sees the first one. Replays find the decision and repeat it."""
    mismatch = _remote_matches(payment, remote)
    if mismatch:
        logger.error(
            "acquirer object %s does not match payment %s: %s", remote.id, payment.public_id, mismatch
        )
        return "", payment
    decided = _payment_capture_decision(payment)
    if decided is not None:
        return decided, payment
    # Concurrent notifications of a process decide together (kabinet.core.group_commit).
    return _capture_decisions.run((payment.pk, remote))


@in_operator_language
def _payments_decide_capture(items: list[tuple[int, AcquirerPayment]]) -> list[tuple[str, Payment]]:
    """``_payment_decide_capture`` for several payments (pk, the acquirer's object, already matched),
    in one transaction: the cards' locks, the payments' row locks, one same-card lookup for all the
    cards, then the decisions recorded in order; a later payment from a card that an earlier one in the
    batch paid with is refused as it would be one transaction later.

    A refusal's reason is kept with the payment in the operator's language (``kabinet.core.stored_text``),
    whichever request's thread leads the batch: the payer's own page, or a notification."""
    now = timezone.now()
    rules = payment_rules_get()  # read before the locks: the transaction stays short
    decisions: dict[int, str] = {}
    with transaction.atomic():
        _cards_lock([remote.card.fingerprint for _pk, remote in items if remote.card is not None])
        locked = payments_lock(payment_ids=[pk for pk, _remote in items])
        todo = []
        for pk, remote in items:
            decided = _payment_capture_decision(locked[pk])
            if decided is not None:
                decisions[pk] = decided
            elif pk not in decisions:
                decisions[pk] = ""  # taken below
                todo.append((locked[pk], remote))
        last_paid_at: dict[str, dt.datetime] = {}
        if rules.same_card_interval_minutes:
            last_paid_at = cards_last_paid_at(
                fingerprints=[r.card.fingerprint for _p, r in todo if r.card is not None],
                since=now - dt.timedelta(minutes=rules.same_card_interval_minutes),
                other_than=[p.pk for p, _r in todo],
            )
        events, marked = [], []
        for payment, remote in todo:
            refusal = ""
            if remote.card is not None:
                fingerprint = remote.card.fingerprint
                refusal = card_refusal(
                    card=remote.card, rules=rules, last_paid_at=last_paid_at.get(fingerprint)
                )
                if not refusal:
                    last_paid_at[fingerprint] = now
            events.extend(_payment_mark_paid(payment, remote, now=now, cancel_reason=refusal))
            marked.append(payment)
            decisions[payment.pk] = "cancel" if refusal else "capture"
        insert_many(events)
        update_fields_many(marked, _MARK_PAID_FIELDS)
    return [(decisions[pk], locked[pk]) for pk, _remote in items]


_capture_decisions: GroupCommit[tuple[int, AcquirerPayment], tuple[str, Payment]] = GroupCommit(
    _payments_decide_capture
)


def _payment_capture_decision(payment: Payment) -> str | None:
    """An earlier decision for this payment: "" (nothing to do), "capture", "cancel"; None if none yet."""
    if payment.transfer_id is not None:
        return ""
    if payment.cancel_reason or payment.status == Payment.Status.CANCELED:
        return "cancel"
    if payment.status == Payment.Status.WAITING_FOR_CAPTURE:
        return "capture"
    return None


# Every field a decision may change, written for every payment decided (read whole under its lock).
_MARK_PAID_FIELDS = [
    "card_mask", "card_brand", "card_fingerprint", "card_issuer_country", "card_class", "cancel_reason",
    "paid_at", "status", "updated_at",
]  # fmt: skip


def _payment_mark_paid(
    payment: Payment, remote: AcquirerPayment, *, now: dt.datetime, cancel_reason: str = ""
) -> list[PaymentEvent]:
    """Record the card and the moment the payer's bank authorised the payment (under the lock), on the
    instance; returns the event to insert with it (the caller writes ``_MARK_PAID_FIELDS``)."""
    _record_card(payment, remote)
    events = []
    if cancel_reason:
        payment.cancel_reason = cancel_reason[:255]
    if payment.paid_at is None:
        payment.paid_at = now
        events.append(PaymentEvent(payment=payment, kind=PaymentEvent.Kind.PAID, message=payment.card_mask))
    if not cancel_reason and payment.status in (Payment.Status.CREATED, Payment.Status.PENDING):
        payment.status = Payment.Status.WAITING_FOR_CAPTURE
    return events


def _payment_capture_failed(*, payment_id: int, remote: AcquirerPayment) -> None:
    """The capture call failed (acquirer unavailable): show the payment as paid and being processed;
    the reconciliation captures it later."""
    with transaction.atomic():
        payment = payment_lock(payment_id=payment_id)
        if payment.transfer_id is None and payment.status in _ACTIVE:
            insert_many(_payment_mark_paid(payment, remote, now=timezone.now()))
            update_fields(payment, _MARK_PAID_FIELDS)


def _payment_apply_remote(*, payment: Payment, remote: AcquirerPayment) -> tuple[str, Payment]:
    """Apply the acquirer's state. Returns ("capture"/"cancel", payment) when the caller must ask the
    acquirer to do that (outside any transaction), ("", payment) otherwise; the payment as last read.
    Money moves only under the Payment row lock."""
    if remote.status == "waiting_for_capture":
        return _payment_decide_capture(payment=payment, remote=remote)
    if remote.status not in ("succeeded", "canceled"):
        return "", payment  # pending: the payer has not confirmed yet
    if payment.transfer_id is not None:
        return "", payment  # credited already (a transfer is never undone): a replay, nothing to lock
    if remote.status == "succeeded":
        # Concurrent notifications of a process credit together (kabinet.core.group_commit).
        return "", _succeeded_credits.run((payment.pk, remote))
    with transaction.atomic():
        locked = payment_lock(payment_id=payment.pk)
        mismatch = _remote_matches(locked, remote)
        if mismatch:
            logger.error(
                "acquirer object %s does not match payment %s: %s", remote.id, locked.public_id, mismatch
            )
            return "", locked
        if locked.transfer_id is not None:
            return "", locked  # credited already: nothing more can happen here (refunds are separate)
        if locked.status in _ACTIVE:
            locked.status = Payment.Status.CANCELED
            if not locked.cancel_reason:
                locked.cancel_reason = CANCELLATION_REASONS.get(
                    remote.cancellation_reason, stored_text(gettext_lazy("Платёж отменён."))
                )
            fields = ["status", "cancel_reason", *_record_card(locked, remote)]
            locked.save(update_fields=[*fields, "updated_at"])
            _event(
                locked, PaymentEvent.Kind.CANCELED, locked.cancel_reason, reason=remote.cancellation_reason
            )
        return "", locked


def payment_credit(*, payment: Payment, source_code: str = CLEARING_ACQUIRER, actor: Any = None) -> Payment:
    """Credit a payment whose money has arrived (registry line, office cash, a succeeded card payment):
    one ledger transfer ``payment:<public_id>`` from ``source_code`` to the subscriber, the account
    unblocked if the balance allows, events with times, the receipt emailed after commit. Idempotent."""
    with transaction.atomic():
        locked = payment_lock(payment_id=payment.pk)
        _payments_credit_locked([locked], source_code=source_code, now=timezone.now(), actor=actor)
    return locked


def _payments_credit_succeeded(items: list[tuple[int, AcquirerPayment]]) -> list[Payment]:
    """The acquirer says these payments (pk, its object) succeeded: credit each once, all in one
    transaction (``_succeeded_credits`` hands in the concurrent notifications of a process). Returns
    each item's payment as it is now; nothing moves for one whose object does not match it."""
    now = timezone.now()
    with transaction.atomic():
        locked = payments_lock(payment_ids=[pk for pk, _remote in items])
        todo: dict[int, Payment] = {}
        for pk, remote in items:
            payment = locked[pk]
            if pk in todo or payment.transfer_id is not None:
                continue  # credited already, or a replay of the same notification in this batch
            mismatch = _remote_matches(payment, remote)
            if mismatch:
                logger.error(
                    "acquirer object %s does not match payment %s: %s", remote.id, payment.public_id, mismatch
                )
                continue
            _record_card(payment, remote)
            todo[pk] = payment
        _payments_credit_locked(list(todo.values()), source_code=CLEARING_ACQUIRER, now=now)
    return [locked[pk] for pk, _remote in items]


_succeeded_credits: GroupCommit[tuple[int, AcquirerPayment], Payment] = GroupCommit(
    _payments_credit_succeeded
)

# Every field crediting may change, written for every payment credited (the rows are locked and were
# read whole under the lock, so unchanged fields are written back as they are): one statement for all.
_CREDIT_FIELDS = [
    "status", "credited_at", "transfer", "paid_at", "cancel_reason", "card_mask", "card_brand",
    "card_fingerprint", "card_issuer_country", "card_class", "updated_at",
]  # fmt: skip


def _payments_credit_locked(
    payments: Sequence[Payment], *, source_code: str, now: dt.datetime, actor: Any = None
) -> None:
    """Credit payments under their row locks (each read by ``payments_lock``, with its accounts), a
    few statements for all of them: their events, bonus accrual, audit records and ledger transfers,
    each in one multi-row statement. The transfers are posted LAST, followed by the payments' update:
    they update the hot clearing account's balance row, whose lock is then held only until the commit."""
    todo = [payment for payment in payments if payment.transfer_id is None]
    if not todo:
        return
    clearing = ledger_account_system(code=source_code)
    events, audits, transfers = [], [], []
    for payment in todo:
        account = payment.personal_account
        if payment.paid_at is None:
            payment.paid_at = now
            events.append(
                PaymentEvent(payment=payment, kind=PaymentEvent.Kind.PAID, message=payment.card_mask)
            )
        payment.cancel_reason = ""
        payment.status = Payment.Status.SUCCEEDED
        payment.credited_at = now
        events.append(PaymentEvent(payment=payment, kind=PaymentEvent.Kind.CREDITED, message=account.number))
        audits.append(
            audit_entry(
                actor=actor,
                action="payment.credited",
                target=payment,
                new={
                    "amount_kopecks": payment.amount_kopecks,
                    "personal_account": account.number,
                    "method": payment.method,
                },
            )
        )
        transfers.append(
            LedgerTransfer(
                key=f"payment:{payment.public_id}",
                debit_account=clearing,
                credit_account=account.ledger_account,
                amount_kopecks=payment.amount_kopecks,
                kind=LedgerTransfer.Kind.PAYMENT,
                value_date=timezone.localdate(now),
                # The method's label stays lazy, so it is translated in the operator's language too.
                description=stored_text(
                    gettext_lazy("Оплата: %(method)s"), method=Payment.Method(payment.method).label
                )[:255],
                ref=str(payment.public_id),
                actor=actor if getattr(actor, "is_authenticated", False) else None,
            )
        )
    insert_many(events)
    payments_credited_notify(payments=todo)  # bonus accrual (kabinet.payments.hooks; PAY-B)
    audit_log_many(audits)
    for payment, result in zip(todo, ledger_transfers_post(transfers=transfers), strict=True):
        payment.transfer = result.transfer
    update_fields_many(todo, _CREDIT_FIELDS)
    for payment in todo:
        account = payment.personal_account
        # Only an account stopped for debt can be restored (the billing service re-checks under its lock).
        if account.status == PersonalAccount.Status.BLOCKED_DEBT and personal_account_unblock_if_paid(
            personal_account=account, actor=actor
        ):
            payment.service_restored_at = timezone.now()
            payment.save(update_fields=["service_restored_at", "updated_at"])
            _event(payment, PaymentEvent.Kind.SERVICE_RESTORED)
    credited = [payment.pk for payment in todo]
    transaction.on_commit(lambda: _receipts.submit_many(credited))


def _receipts_send_later(payment_pks: list[int]) -> None:
    from kabinet.payments.tasks import payment_receipts_send

    payment_receipts_send.delay(payment_pks)


# Receipts of the payments a process credits within 0.1 s share one Celery task (kabinet.core.task_batches).
_receipts: TaskBatcher[int] = TaskBatcher(_receipts_send_later, linger_seconds=0.1)


def payments_reconcile(*, older_than_minutes: int | None = None, limit: int = 500) -> dict[str, int]:
    """Ask the acquirer about payments (and refunds) left unsettled — lost or dropped notifications, a
    timeout while registering — and settle them. Returns counts by outcome."""
    minutes = settings.PAYMENTS_RECONCILE_AFTER_MINUTES if older_than_minutes is None else older_than_minutes
    before = timezone.now() - dt.timedelta(minutes=minutes)
    counts = {"checked": 0, "succeeded": 0, "canceled": 0, "still_open": 0, "errors": 0}
    stuck = Payment.objects.filter(
        method__in=(Payment.Method.CARD, Payment.Method.WALLET, Payment.Method.AUTOPAY),
        status__in=_ACTIVE,
        created_at__lte=before,
    ).order_by("created_at")[:limit]
    for payment in stuck:
        counts["checked"] += 1
        try:
            settled = payment_sync(payment=payment)
        except (AcquirerError, DomainError) as exc:
            logger.warning("reconciliation of payment %s failed: %s", payment.public_id, exc)
            counts["errors"] += 1
            continue
        if settled.status == Payment.Status.SUCCEEDED:
            counts["succeeded"] += 1
        elif settled.status == Payment.Status.CANCELED:
            counts["canceled"] += 1
        else:
            counts["still_open"] += 1
    for refund in Refund.objects.filter(status=Refund.Status.PENDING, created_at__lte=before)[:limit]:
        try:
            refund_sync(refund=refund)
        except (AcquirerError, DomainError) as exc:
            logger.warning("reconciliation of refund %s failed: %s", refund.public_id, exc)
            counts["errors"] += 1
    return counts


# --- refunds -------------------------------------------------------------------------------------


def payment_refund(*, payment: Payment, actor: Any, reason: str, amount_kopecks: int | None = None) -> Refund:
    """Staff return (part of) a credited card payment through the acquirer. The refund is its own line:
    a ledger transfer ``refund:<refund.public_id>`` from the subscriber back to acquirer clearing."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(_("Возврат платежа доступен только сотрудникам."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Укажите причину возврата."), field="reason")
    with transaction.atomic():
        locked = payment_lock(payment_id=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED or not locked.acquirer_payment_id:
            raise Conflict(_("Вернуть можно только зачисленный платёж картой."))
        in_flight = sum(r.amount_kopecks for r in locked.refunds.filter(status=Refund.Status.PENDING))
        available = locked.amount_kopecks - locked.refunded_kopecks - in_flight
        amount = available if amount_kopecks is None else amount_kopecks
        if amount <= 0 or amount > available:
            raise DomainError(
                _("Сумма возврата должна быть от 0,01 ₽ до %(max)s.")
                % {"max": f"{available // 100},{available % 100:02d} ₽"},
                field="amount",
            )
        refund = Refund.objects.create(
            payment=locked, amount_kopecks=amount, reason=reason[:255], actor=actor
        )
        audit_log(
            actor=actor,
            action="payment.refund_requested",
            target=locked,
            new={"amount_kopecks": amount},
            reason=reason,
        )
    _refund_register_at_acquirer(refund)
    refund.refresh_from_db()
    return refund


def _refund_register_at_acquirer(refund: Refund) -> None:
    payment = refund.payment
    try:
        remote = acquirer_client().refund_create(
            payment_id=payment.acquirer_payment_id or "",
            amount_kopecks=refund.amount_kopecks,
            description=refund.reason,
            idempotence_key=f"refund:{refund.public_id}",
        )
    except AcquirerUnavailable:
        logger.warning("acquirer unavailable for refund %s; reconciliation will retry", refund.public_id)
        return
    except AcquirerError as exc:
        with transaction.atomic():
            Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
                status=Refund.Status.CANCELED
            )
        raise DomainError(_("Банк отклонил возврат: %(msg)s") % {"msg": str(exc)}) from exc
    _refund_apply_remote(refund_id=refund.pk, remote=remote)


def refund_sync(*, refund: Refund) -> Refund:
    if not refund.acquirer_refund_id:
        if refund.status == Refund.Status.PENDING:
            _refund_register_at_acquirer(refund)
        return Refund.objects.get(pk=refund.pk)
    remote = acquirer_client().refund_get(refund_id=refund.acquirer_refund_id)
    _refund_apply_remote(refund_id=refund.pk, remote=remote)
    return Refund.objects.get(pk=refund.pk)


def _refund_apply_remote(*, refund_id: int, remote: AcquirerRefund) -> None:
    with transaction.atomic():
        refund = Refund.objects.select_related("payment").get(pk=refund_id)
        payment = payment_lock(payment_id=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if remote.payment_id != payment.acquirer_payment_id or remote.amount_kopecks != refund.amount_kopecks:
            logger.error("acquirer refund %s does not match refund %s", remote.id, refund.public_id)
            return
        if not refund.acquirer_refund_id:
            refund.acquirer_refund_id = remote.id
            refund.save(update_fields=["acquirer_refund_id", "updated_at"])
        if refund.status != Refund.Status.PENDING:
            return
        if remote.status == "canceled":
            refund.status = Refund.Status.CANCELED
            refund.save(update_fields=["status", "updated_at"])
            return
        if remote.status != "succeeded":
            return
        account = payment.personal_account
        result = ledger_transfer_post(
            key=f"refund:{refund.public_id}",
            debit=account.ledger_account,
            credit=ledger_account_system(code=CLEARING_ACQUIRER),
            amount_kopecks=refund.amount_kopecks,
            kind=LedgerTransfer.Kind.REFUND,
            value_date=timezone.localdate(),
            description=stored_text(
                gettext_lazy("Возврат платежа на карту %(mask)s"), mask=payment.card_mask or ""
            ),
            ref=str(refund.public_id),
            actor=refund.actor,
            reason=refund.reason,
        )
        refund.transfer = result.transfer
        refund.status = Refund.Status.SUCCEEDED
        refund.save(update_fields=["transfer", "status", "updated_at"])
        payment.refunded_kopecks += refund.amount_kopecks
        fields = ["refunded_kopecks", "updated_at"]
        if payment.refunded_kopecks >= payment.amount_kopecks:
            payment.status = Payment.Status.REFUNDED
            fields.append("status")
        payment.save(update_fields=fields)
        _event(
            payment,
            PaymentEvent.Kind.REFUNDED,
            stored_text(
                gettext_lazy("Возвращено %(amount)s"),
                amount=f"{refund.amount_kopecks // 100},{refund.amount_kopecks % 100:02d} ₽",
            ),
            refund=str(refund.public_id),
        )
        # Same transaction: the bonus points of the refunded part go back exactly when the money does.
        for note in payments_refunded_notify(refund=refund, payment=payment):
            _event(payment, note.kind, note.message, **note.data)
        audit_log(
            actor=refund.actor,
            action="payment.refunded",
            target=payment,
            new={"refund": str(refund.public_id), "amount_kopecks": refund.amount_kopecks},
            reason=refund.reason,
        )


# --- the operator's rules ------------------------------------------------------------------------

_RULE_FIELDS = (
    "whole_rubles_only",
    "min_amount_kopecks",
    "max_amount_kopecks",
    "same_card_interval_minutes",
    "period_limit_kopecks",
    "period_days",
    "allowed_issuer_countries",
    "allowed_card_brands",
    "blocked_card_classes",
)


def payment_rules_update(*, actor: Any, reason: str = "", **changes: Any) -> PaymentRules:
    """Staff change the payment rules (any of the PaymentRules fields); audited; applies to new payments."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(_("Менять правила оплаты могут только сотрудники."))
    unknown = set(changes) - set(_RULE_FIELDS)
    if unknown:
        raise DomainError(_("Неизвестные поля правил: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic():
        payment_rules_get()
        rules = PaymentRules.objects.select_for_update().get(pk=PaymentRules.SINGLETON_PK)
        old = {name: getattr(rules, name) for name in _RULE_FIELDS}
        for name, value in changes.items():
            if name in ("allowed_issuer_countries", "allowed_card_brands", "blocked_card_classes"):
                value = ",".join(PaymentRules.split(str(value or "")))
            setattr(rules, name, value)
        if rules.min_amount_kopecks <= 0:
            raise DomainError(_("Минимальная сумма должна быть больше нуля."), field="min_amount_kopecks")
        if rules.max_amount_kopecks < rules.min_amount_kopecks:
            raise DomainError(
                _("Максимальная сумма не может быть меньше минимальной."), field="max_amount_kopecks"
            )
        if rules.period_limit_kopecks < 0:
            raise DomainError(_("Лимит за период не может быть отрицательным."), field="period_limit_kopecks")
        if rules.period_limit_kopecks and rules.period_days <= 0:
            raise DomainError(_("Укажите период лимита в днях."), field="period_days")
        rules.updated_by = actor
        rules.save()
        new = {name: getattr(rules, name) for name in _RULE_FIELDS}
        audit_log(
            actor=actor,
            action="payment_rules.update",
            target=rules,
            old={k: v for k, v in old.items() if old[k] != new[k]},
            new={k: v for k, v in new.items() if old[k] != new[k]},
            reason=reason,
        )
    return rules
