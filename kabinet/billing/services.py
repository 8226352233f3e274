"""Writes of the billing domain. Only this module (and the billing run) writes ledger tables."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.billing.models import (
    LedgerAccount,
    LedgerTransfer,
    PersonalAccount,
    PersonalAccountLink,
    Subscription,
)
from kabinet.billing.numbers import personal_account_number_random
from kabinet.billing.selectors import ledger_account_balance
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table
from kabinet.core.sql_rows import insert_many_unless_conflict, instance_get_or_create
from kabinet.core.stored_text import stored_text
from kabinet.customers.models import Contract, Customer
from kabinet.customers.services import customer_contract_terminate

# Codes of the operator's own ledger accounts.
REVENUE_PREFIX = "revenue:"
CLEARING_ACQUIRER = "clearing:acquirer"
CLEARING_BANK_REGISTRY = "clearing:bank_registry"
CASH_OFFICE = "cash:office"
ADJUSTMENTS = "adjustments"
BONUS_LIABILITY = "bonus:liability"
PROMISED_CREDIT = "credit:promised"

_SYSTEM_KINDS = {
    "revenue": LedgerAccount.Kind.REVENUE,
    "clearing": LedgerAccount.Kind.CLEARING,
    "cash": LedgerAccount.Kind.CASH,
    "adjustments": LedgerAccount.Kind.ADJUSTMENT,
    "bonus": LedgerAccount.Kind.BONUS,
    "credit": LedgerAccount.Kind.CREDIT,
}


def ledger_account_system(*, code: str) -> LedgerAccount:
    """The operator's ledger account with this code, created on first use."""
    kind = _SYSTEM_KINDS[code.split(":", 1)[0]]
    return instance_get_or_create(  # type: ignore[no-any-return]
        LedgerAccount, code=code, defaults={"kind": kind, "name": code}
    )


def revenue_account_code(service_kind: str) -> str:
    return f"{REVENUE_PREFIX}{service_kind}"


@cache
def _balance_add_sql() -> str:
    # Hand-written: psycopg types the delta by its value (bigint when needed), see kabinet.core.prepared.
    balance = sql_column(LedgerAccount, "balance_kopecks")
    pk = sql_column(LedgerAccount, "id")
    return f"UPDATE {sql_table(LedgerAccount)} SET {balance} = {balance} + %s WHERE {pk} = %s"  # noqa: S608


@dataclass(frozen=True)
class TransferResult:
    transfer: LedgerTransfer
    created: bool


def ledger_transfer_post(
    *,
    key: str,
    debit: LedgerAccount,
    credit: LedgerAccount,
    amount_kopecks: int,
    kind: str,
    value_date: dt.date,
    description: str = "",
    subscription: Subscription | None = None,
    reverses: LedgerTransfer | None = None,
    ref: str = "",
    actor: Any = None,
    reason: str = "",
) -> TransferResult:
    """Post one transfer exactly once per ``key``; a replay returns the existing transfer.

    A replay with different amounts or accounts is a bug in the caller and raises Conflict.
    Balances are updated with increments in the same transaction, so concurrent posts to the
    same account never lose an update.
    """
    transfer = LedgerTransfer(
        key=key,
        debit_account=debit,
        credit_account=credit,
        amount_kopecks=amount_kopecks,
        kind=kind,
        value_date=value_date,
        description=description[:255],
        subscription=subscription,
        reverses=reverses,
        ref=ref,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
    )
    return ledger_transfers_post(transfers=[transfer])[0]


def ledger_transfers_post(*, transfers: Sequence[LedgerTransfer]) -> list[TransferResult]:
    """Post unsaved transfers (distinct keys) exactly once per key, in one multi-row INSERT; results in
    order. A key already posted with the same amount and accounts is a replay (``created`` False, the
    existing transfer); with other values it raises Conflict before any balance moves. For a single
    transfer nothing is written then; with several, the others' rows are already inserted in the
    caller's transaction, which must roll back (raising through ``transaction.atomic`` does).

    Inside a caller's transaction no savepoint (two round trips): the statements join it. The balances
    of all the transfers are updated in the fixed lock order, one pipelined round trip."""
    for transfer in transfers:
        amount = transfer.amount_kopecks
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise DomainError(_("Сумма проводки должна быть положительным целым числом копеек."))
        if transfer.debit_account_id == transfer.credit_account_id:
            raise DomainError(_("Проводка должна затрагивать два разных счёта."))
    if len({transfer.key for transfer in transfers}) != len(transfers):
        raise ValueError("ledger_transfers_post: the keys must differ")
    with contextlib.nullcontext() if connection.in_atomic_block else transaction.atomic():
        # ON CONFLICT DO NOTHING: a replay (the key, or a reversal of an already reversed transfer)
        # inserts nothing, without the savepoint an IntegrityError would need.
        inserted = insert_many_unless_conflict(transfers, unique="key")
        results = [
            TransferResult(transfer, True) if was_inserted else _transfer_replayed(transfer)
            for transfer, was_inserted in zip(transfers, inserted, strict=True)
        ]
        deltas: dict[int, int] = defaultdict(int)
        kinds: dict[int, str] = {}
        for transfer, was_inserted in zip(transfers, inserted, strict=True):
            if was_inserted:
                for account, delta in (
                    (transfer.debit_account, -transfer.amount_kopecks),
                    (transfer.credit_account, transfer.amount_kopecks),
                ):
                    deltas[account.pk] += delta
                    kinds[account.pk] = account.kind
        # Fixed lock order, the same as the billing run's: subscriber accounts first, then the operator's
        # (hot) system accounts, each by pk, so concurrent transfers and billing chunks never deadlock.
        order = sorted(deltas, key=lambda pk: (kinds[pk] != LedgerAccount.Kind.SUBSCRIBER, pk))
        if order:
            with hot_cursor() as cursor:
                cursor.executemany(_balance_add_sql(), [[deltas[pk], pk] for pk in order])
    return results


def _transfer_replayed(transfer: LedgerTransfer) -> TransferResult:
    existing = LedgerTransfer.objects.filter(key=transfer.key).first()
    if existing is None:
        if transfer.reverses_id is not None:
            raise Conflict(_("Эта проводка уже сторнирована."))
        raise IntegrityError(f"ledger transfer {transfer.key}: a unique constraint holds other values")
    if (
        existing.amount_kopecks != transfer.amount_kopecks
        or existing.debit_account_id != transfer.debit_account_id
        or existing.credit_account_id != transfer.credit_account_id
    ):
        raise Conflict(_("Проводка с этим ключом уже существует с другими суммой или счетами."))
    return TransferResult(existing, False)


def ledger_transfer_reverse(
    *, transfer: LedgerTransfer, actor: Any = None, reason: str = ""
) -> TransferResult:
    """A correction: a new transfer in the opposite direction, linked to the original."""
    return ledger_transfer_post(
        key=f"reversal:{transfer.key}",
        debit=transfer.credit_account,
        credit=transfer.debit_account,
        amount_kopecks=transfer.amount_kopecks,
        kind=LedgerTransfer.Kind.REVERSAL,
        value_date=timezone.localdate(),
        description=stored_text(gettext_lazy("Сторно: %(what)s"), what=transfer.description or transfer.key),
        reverses=transfer,
        actor=actor,
        reason=reason,
    )


def personal_account_open(
    *,
    customer: Customer,
    service_kind: str,
    contract: Contract | None = None,
    number: str | None = None,
    phone: str = "",
    address: str = "",
    credit_limit_kopecks: int = 0,
) -> PersonalAccount:
    """Open a personal account (with its ledger account) and show it to the customer's users."""
    with transaction.atomic():
        for _attempt in range(10):
            candidate = number or personal_account_number_random()
            if not PersonalAccount.objects.filter(number=candidate).exists():
                break
        else:  # pragma: no cover - 10 collisions in 900M numbers
            raise Conflict(_("Не удалось выбрать номер лицевого счёта, попробуйте ещё раз."))
        ledger = LedgerAccount.objects.create(code=f"pa:{candidate}", kind=LedgerAccount.Kind.SUBSCRIBER)
        account = PersonalAccount.objects.create(
            number=candidate,
            customer=customer,
            contract=contract,
            service_kind=service_kind,
            ledger_account=ledger,
            phone=phone,
            address=address,
            credit_limit_kopecks=credit_limit_kopecks,
        )
        for user in customer.users.all():
            PersonalAccountLink.objects.get_or_create(
                user=user, personal_account=account, defaults={"method": PersonalAccountLink.Method.OWNER}
            )
    return account


def personal_account_lock(*, personal_account_id: int) -> PersonalAccount:
    """Lock a personal account row for a read-then-write (call inside a transaction)."""
    return (
        PersonalAccount.objects.select_for_update()
        .select_related("ledger_account")
        .get(pk=personal_account_id)
    )


def ledger_account_lock(*, ledger_account_id: int) -> None:
    """Lock a ledger account's balance row now (inside a transaction), for callers that must take it
    before other locks: the order shared with payment credits and refunds is the subscriber's ledger
    row first, then rows that hang off it (such as the bonus member), then system accounts."""
    LedgerAccount.objects.select_for_update().filter(pk=ledger_account_id).values_list("pk").first()


def personal_account_available_kopecks(*, personal_account: PersonalAccount) -> int:
    """Balance plus credit limit: what can still be charged before the account is blocked for debt."""
    balance = ledger_account_balance(ledger_account_id=personal_account.ledger_account_id)
    return balance + personal_account.credit_limit_kopecks


def personal_account_set_status(
    *, personal_account: PersonalAccount, status: str, reason: str = "", actor: Any = None
) -> PersonalAccount:
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        old = account.status
        if old == status:
            return account
        account.status = status
        account.status_reason = reason
        account.status_changed_at = timezone.now()
        account.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        if status == PersonalAccount.Status.ACTIVE:
            Subscription.objects.filter(
                personal_account=account, status=Subscription.Status.SUSPENDED
            ).update(status=Subscription.Status.ACTIVE)
        elif status in (PersonalAccount.Status.BLOCKED_DEBT, PersonalAccount.Status.BLOCKED_OPERATOR):
            Subscription.objects.filter(personal_account=account, status=Subscription.Status.ACTIVE).update(
                status=Subscription.Status.SUSPENDED
            )
        audit_log(
            actor=actor,
            action="personal_account.status",
            target=account,
            old={"status": old},
            new={"status": status},
            reason=reason,
        )
    return account


def personal_account_unblock_if_paid(*, personal_account: PersonalAccount, actor: Any = None) -> bool:
    """Restore service after a payment: an account blocked for debt whose balance is back above
    minus its credit limit becomes active and its subscriptions resume. Returns True if unblocked."""
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        if account.status != PersonalAccount.Status.BLOCKED_DEBT:
            return False
        if account.ledger_account.balance_kopecks + account.credit_limit_kopecks < 0:
            return False
        personal_account_set_status(
            personal_account=account,
            status=PersonalAccount.Status.ACTIVE,
            reason=_("Разблокирован после оплаты"),
            actor=actor,
        )
    return True


# --- Staff actions on personal accounts: manual adjustments, flags, status (back office) ---------------

ADJUSTMENT_KEY_PREFIX = "adjustment:"


class AdjustmentDirection:
    CREDIT = "credit"  # money onto the subscriber's account
    DEBIT = "debit"  # money off the subscriber's account


def _staff_required(actor: Any) -> None:
    if not (getattr(actor, "is_authenticated", False) and getattr(actor, "is_staff", False)):
        raise PermissionDenied(_("Это действие доступно только сотрудникам оператора."))


def _reason_required(reason: str) -> str:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise DomainError(_("Укажите причину."), code="reason_required", field="reason")
    return cleaned


def ledger_adjustment_post(
    *,
    personal_account: PersonalAccount,
    direction: str,
    amount_kopecks: int,
    reason: str,
    actor: Any,
    token: str,
) -> TransferResult:
    """A manual credit or debit of a personal account by staff, against the ``adjustments`` account.

    Idempotent by the client ``token`` (a form's hidden token): a replay returns the same transfer and
    writes no second audit row. The subscriber sees it in the history with the reason in plain words.
    A credit that brings an account blocked for debt back above its limit restores service.
    """
    _staff_required(actor)
    reason = _reason_required(reason)
    if direction not in (AdjustmentDirection.CREDIT, AdjustmentDirection.DEBIT):
        raise DomainError(
            _("Выберите: зачисление или списание."), code="invalid_direction", field="direction"
        )
    if not isinstance(amount_kopecks, int) or isinstance(amount_kopecks, bool) or amount_kopecks <= 0:
        raise DomainError(_("Сумма должна быть больше нуля."), code="invalid_amount", field="amount")
    token = (token or "").strip()
    if not token or len(token) > 100:
        raise DomainError(_("Форма устарела, откройте её заново."), code="invalid_token")
    adjustments = ledger_account_system(code=ADJUSTMENTS)
    if direction == AdjustmentDirection.CREDIT:
        debit, credit = adjustments, personal_account.ledger_account
        what = stored_text(gettext_lazy("Зачисление оператором"))
    else:
        debit, credit = personal_account.ledger_account, adjustments
        what = stored_text(gettext_lazy("Списание оператором"))
    with transaction.atomic():
        result = ledger_transfer_post(
            key=f"{ADJUSTMENT_KEY_PREFIX}{token}",
            debit=debit,
            credit=credit,
            amount_kopecks=amount_kopecks,
            kind=LedgerTransfer.Kind.ADJUSTMENT,
            value_date=timezone.localdate(),
            description=f"{what}: {reason}",
            actor=actor,
            reason=reason,
        )
        if result.created:
            audit_log(
                actor=actor,
                action="ledger.adjustment",
                target=personal_account,
                new={
                    "direction": direction,
                    "amount_kopecks": amount_kopecks,
                    "transfer_id": result.transfer.pk,
                    "key": result.transfer.key,
                },
                reason=reason,
            )
    if result.created and direction == AdjustmentDirection.CREDIT:
        personal_account_unblock_if_paid(personal_account=personal_account, actor=actor)
    return result


def personal_account_update_flags(
    *,
    personal_account: PersonalAccount,
    actor: Any,
    reason: str,
    cash_payment_ban: bool | None = None,
    credit_limit_kopecks: int | None = None,
) -> PersonalAccount:
    """Staff change of the cash-payment ban and/or the credit limit, with a reason (audited)."""
    _staff_required(actor)
    reason = _reason_required(reason)
    if credit_limit_kopecks is not None and (
        not isinstance(credit_limit_kopecks, int)
        or isinstance(credit_limit_kopecks, bool)
        or credit_limit_kopecks < 0
    ):
        raise DomainError(
            _("Кредитный лимит не может быть отрицательным."),
            code="invalid_credit_limit",
            field="credit_limit",
        )
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        if cash_payment_ban is not None and cash_payment_ban != account.cash_payment_ban:
            old["cash_payment_ban"], new["cash_payment_ban"] = account.cash_payment_ban, cash_payment_ban
            account.cash_payment_ban = cash_payment_ban
        if credit_limit_kopecks is not None and credit_limit_kopecks != account.credit_limit_kopecks:
            old["credit_limit_kopecks"] = account.credit_limit_kopecks
            new["credit_limit_kopecks"] = credit_limit_kopecks
            account.credit_limit_kopecks = credit_limit_kopecks
        if not new:
            raise DomainError(_("Значения не изменились."), code="no_change")
        account.save(update_fields=[*new.keys(), "updated_at"])
        audit_log(
            actor=actor, action="personal_account.flags", target=account, old=old, new=new, reason=reason
        )
    if "credit_limit_kopecks" in new:
        personal_account_unblock_if_paid(personal_account=account, actor=actor)
    return account


class StaffStatusAction:
    BLOCK = "block"
    UNBLOCK = "unblock"
    TERMINATE = "terminate"


def personal_account_staff_status_change(
    *, personal_account: PersonalAccount, action: str, reason: str, actor: Any
) -> PersonalAccount:
    """Block by the operator, unblock, or terminate a personal account, with a reason (audited).

    Block: from active or blocked for debt. Unblock: only a block by the operator; the account becomes
    active, or blocked for debt if its balance is below minus its credit limit. Terminate: from any
    status except terminated; open subscriptions end today. A terminated account stays terminated.
    """
    _staff_required(actor)
    reason = _reason_required(reason)
    status = PersonalAccount.Status
    with transaction.atomic():
        account = personal_account_lock(personal_account_id=personal_account.pk)
        if account.status == status.TERMINATED:
            raise Conflict(_("Лицевой счёт закрыт, его статус больше не меняется."))
        if action == StaffStatusAction.BLOCK:
            if account.status not in (status.ACTIVE, status.BLOCKED_DEBT):
                raise Conflict(
                    _(
                        "Заблокировать можно только активный или заблокированный за неуплату счёт (сейчас: %(s)s)."
                    )
                    % {"s": account.get_status_display()}
                )
            target = status.BLOCKED_OPERATOR
        elif action == StaffStatusAction.UNBLOCK:
            if account.status != status.BLOCKED_OPERATOR:
                raise Conflict(_("Разблокировать можно только счёт, заблокированный оператором."))
            in_debt = account.ledger_account.balance_kopecks + account.credit_limit_kopecks < 0
            target = status.BLOCKED_DEBT if in_debt else status.ACTIVE
        elif action == StaffStatusAction.TERMINATE:
            target = status.TERMINATED
        else:
            raise DomainError(_("Неизвестное действие со статусом."), code="invalid_action", field="action")
        account = personal_account_set_status(
            personal_account=account, status=target, reason=reason, actor=actor
        )
        if target == status.TERMINATED:
            today = timezone.localdate()
            Subscription.objects.filter(
                personal_account=account,
                status__in=(Subscription.Status.ACTIVE, Subscription.Status.SUSPENDED),
            ).update(
                status=Subscription.Status.ENDED, ended_on=today, next_tariff=None, next_tariff_from=None
            )
    return account


def contract_terminate_with_accounts(*, contract: Contract, reason: str, actor: Any) -> Contract:
    """Staff ending a contract: the contract is terminated (``customer_contract_terminate``: a customer
    left with no active contract loses cabinet access) and every personal account under it is closed
    with the same reason, its open subscriptions ended, so the billing run no longer charges them."""
    _staff_required(actor)
    reason = _reason_required(reason)
    with transaction.atomic():
        terminated = customer_contract_terminate(contract=contract, actor=actor, reason=reason)
        accounts = PersonalAccount.objects.filter(contract=terminated).exclude(
            status=PersonalAccount.Status.TERMINATED
        )
        for account in accounts.order_by("pk"):
            personal_account_staff_status_change(
                personal_account=account, action=StaffStatusAction.TERMINATE, reason=reason, actor=actor
            )
    return terminated
