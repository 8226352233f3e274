"""Writes of «Летай Бонус»: enrolment, accrual on payments, redemption, expiry, rule changes.

Ledger layout (all through kabinet.billing services, so every movement is a balanced, idempotent
LedgerTransfer and `kabinet ledger verify` covers it):

- ``bonus:<user_id>`` (one per member): the member's points;
- ``bonus:issued``: the counterpart of points (issued points are taken from it, redeemed and expired
  points return to it), so ``-balance(bonus:issued)`` is the number of points outstanding;
- ``bonus:liability``: money. Redeeming N points moves N x ``kopecks_per_point`` kopecks from it to the
  subscriber's personal account, so ``-balance(bonus:liability)`` is what the programme has paid out.

Points are kept in lots (BonusLot), one per accrual, redeemed oldest first; what is left of a lot
expires ``expiry_days`` after it was earned (task ``bonus_expire``). A refund takes back the points
of the refunded part (``bonus_reverse_for_refund``, key ``bonus-reversal:<refund>``). Invariant, checked by the tests:
a member's ledger balance equals the sum of the remaining points of their lots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.billing.ledger_bulk import TransferSpec, ledger_transfers_post_many
from kabinet.billing.models import LedgerTransfer, PersonalAccount, PersonalAccountLink
from kabinet.billing.selectors import ledger_account_balance, personal_account_get_for_user
from kabinet.billing.services import (
    BONUS_LIABILITY,
    ledger_account_lock,
    ledger_account_system,
    ledger_transfer_post,
)
from kabinet.bonus.models import BonusLot, BonusMember, BonusRule
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import Conflict, DomainError, PermissionDenied
from kabinet.core.models import AuditEvent
from kabinet.core.money import format_kopecks
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table
from kabinet.core.sql_rows import in_list, in_list_params, in_list_size, instance_get_or_create
from kabinet.core.stored_text import stored_text
from kabinet.payments.hooks import RefundNote

BONUS_ISSUED = "bonus:issued"
MEMBER_PREFIX = "bonus:"


def member_ledger_code(user_id: int) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def bonus_rule_get() -> BonusRule:
    return instance_get_or_create(BonusRule, pk=1)  # type: ignore[no-any-return]


RULE_FIELDS = ("points_per_100_rub", "min_payment_kopecks", "kopecks_per_point", "expiry_days", "is_active")


def bonus_rule_update(*, actor: Any, reason: str = "", **changes: Any) -> BonusRule:
    """Staff change the programme's rule (applies to new accruals and redemptions); audited."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_staff):
        raise PermissionDenied(_("Менять правила бонусной программы могут только сотрудники."))
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise DomainError(_("Неизвестные поля правила: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    for name in ("points_per_100_rub", "min_payment_kopecks", "expiry_days"):
        if name in changes and (not isinstance(changes[name], int) or changes[name] < 0):
            raise DomainError(_("Значение должно быть целым неотрицательным числом."), field=name)
    if "kopecks_per_point" in changes and (
        not isinstance(changes["kopecks_per_point"], int) or changes["kopecks_per_point"] < 1
    ):
        raise DomainError(_("Стоимость балла — не меньше 1 копейки."), field="kopecks_per_point")
    if "expiry_days" in changes and changes["expiry_days"] < 1:
        raise DomainError(_("Срок действия баллов — не меньше 1 дня."), field="expiry_days")
    with transaction.atomic():
        rule = BonusRule.objects.select_for_update().filter(pk=1).first() or BonusRule.objects.create(pk=1)
        old = {name: getattr(rule, name) for name in changes}
        for name, value in changes.items():
            setattr(rule, name, value)
        rule.save()
        audit_log(actor=actor, action="bonus.rule_update", target=rule, old=old, new=changes, reason=reason)
    return rule


# --- membership ----------------------------------------------------------------------------------


def bonus_member_enroll(*, user: Any) -> BonusMember:
    """Join the programme (idempotent): a member row and the member's ledger account."""
    member = BonusMember.objects.filter(user_id=user.pk).select_related("ledger_account").first()
    if member is not None:
        return member
    with transaction.atomic():
        ledger = ledger_account_system(code=member_ledger_code(user.pk))
        member, _created = BonusMember.objects.get_or_create(
            user_id=user.pk, defaults={"ledger_account": ledger}
        )
    return member


def bonus_enroll_missing(*, limit: int = 10_000) -> int:
    """Enrol every active cabinet user who is not a member yet (periodic safety net and demo)."""
    user_model = get_user_model()
    ids = list(
        user_model.objects.filter(bonus_member__isnull=True, is_active=True, is_staff=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        bonus_member_enroll(user=user_model(pk=pk))
    return len(ids)


# --- accrual -------------------------------------------------------------------------------------


def bonus_points_for_amount(*, amount_kopecks: int, rule: BonusRule) -> int:
    if not rule.is_active or amount_kopecks < rule.min_payment_kopecks:
        return 0
    return amount_kopecks * rule.points_per_100_rub // 10_000


_LINKS_SQL = (
    "SELECT {link}.{account}, {link}.{user}, {link}.{method} FROM {link} "
    "INNER JOIN {users} ON {link}.{user} = {users}.{user_pk} "
    "WHERE {link}.{account}{in_accounts} AND {users}.{is_staff} = %s ORDER BY {link}.{account}, {link}.{link_pk}"
)


@cache
def _subscriber_links_sql(size: int) -> str:
    user_model = get_user_model()
    return _LINKS_SQL.format(
        link=sql_table(PersonalAccountLink),
        account=sql_column(PersonalAccountLink, "personal_account"),
        user=sql_column(PersonalAccountLink, "user"),
        method=sql_column(PersonalAccountLink, "method"),
        link_pk=sql_column(PersonalAccountLink, "id"),
        users=sql_table(user_model),
        user_pk=sql_column(user_model, "id"),
        is_staff=sql_column(user_model, "is_staff"),
        in_accounts=in_list(size),
    )


def _subscriber_links(account_ids: list[int]) -> list[tuple[int, int, str]]:
    """(account, user, method) of the subscribers (not staff) linked to these accounts, by account and
    link. One hand-written statement: it runs for every credited payment made without logging in."""
    with hot_cursor() as cursor:
        cursor.execute(
            _subscriber_links_sql(in_list_size(len(account_ids))), [*in_list_params(account_ids), False]
        )
        return [(int(a), int(u), str(m)) for a, u, m in cursor.fetchall()]


def _payment_owner_ids(payments: Sequence[Any]) -> dict[int, int]:
    """payment pk -> the user who earns its points: the payer if logged in, else the account's owner."""
    missing = {p.personal_account_id for p in payments if not p.user_id}
    owners: dict[int, tuple[int, bool]] = {}  # account -> (user, is the contract owner)
    if missing:
        for account_id, user_id, method in _subscriber_links(sorted(missing)):
            is_owner = method == PersonalAccountLink.Method.OWNER
            current = owners.get(account_id)
            if current is None or (is_owner and not current[1]):
                owners[account_id] = (user_id, is_owner)
    result: dict[int, int] = {}
    for p in payments:
        user_id = p.user_id or owners.get(p.personal_account_id, (0, False))[0]
        if user_id:
            result[p.pk] = user_id
    return result


def bonus_accrue_for_payments(payments: Sequence[Any]) -> int:
    """Accrue points for credited payments (kabinet.payments.hooks). Idempotent per payment: the
    ledger key ``bonus:accrual:payment:<pk>``. Returns the number of points accrued now."""
    rule = bonus_rule_get()
    points_by_payment = {
        p.pk: bonus_points_for_amount(amount_kopecks=p.amount_kopecks, rule=rule) for p in payments
    }
    eligible = [p for p in payments if points_by_payment[p.pk] > 0]
    if not eligible:
        return 0
    owners = _payment_owner_ids(eligible)
    if not owners:
        return 0
    user_model = get_user_model()
    members = {uid: bonus_member_enroll(user=user_model(pk=uid)) for uid in set(owners.values())}
    issued = ledger_account_system(code=BONUS_ISSUED)
    today = timezone.localdate()
    specs = []
    for p in eligible:
        if p.pk not in owners:
            continue
        member = members[owners[p.pk]]
        specs.append(
            TransferSpec(
                key=f"bonus:accrual:payment:{p.pk}",
                debit_account_id=issued.pk,
                credit_account_id=member.ledger_account_id,
                amount_kopecks=points_by_payment[p.pk],
                kind=LedgerTransfer.Kind.BONUS,
                value_date=today,
                description=stored_text(gettext_lazy("Начислены бонусные баллы за платёж")),
                ref=str(p.public_id)[:64],
            )
        )
    with transaction.atomic():
        posted = ledger_transfers_post_many(transfers=specs)
        now = timezone.now()
        member_by_ledger = {m.ledger_account_id: m for m in members.values()}
        BonusLot.objects.bulk_create(
            [
                BonusLot(
                    member=member_by_ledger[t.credit_account_id],
                    points=t.amount_kopecks,
                    remaining=t.amount_kopecks,
                    earned_at=now,
                    expires_at=now + dt.timedelta(days=rule.expiry_days),
                    key=t.key,
                    description=t.description,
                )
                for t in posted.values()
            ]
        )
    return sum(t.amount_kopecks for t in posted.values())


def bonus_accrue_for_payment(*, payment: Any) -> int:
    return bonus_accrue_for_payments([payment])


# --- reversal on refund --------------------------------------------------------------------------

REVERSAL_KEY_PREFIX = "bonus-reversal:"


def bonus_reversal_points(
    *, accrued: int, payment_kopecks: int, refunded_before_kopecks: int, refunded_after_kopecks: int
) -> int:
    """Points to take back for one refund: the accrued points in proportion to the money refunded,
    rounded down (in the subscriber's favour) on the running total. Working on the running total
    means a payment refunded in several parts gives back exactly the accrued points once it is all
    refunded, and each part takes at most its share (333 of 1 000 points for a third, then 667)."""
    if payment_kopecks <= 0 or accrued <= 0:
        return 0
    before = min(max(refunded_before_kopecks, 0), payment_kopecks)
    after = min(max(refunded_after_kopecks, 0), payment_kopecks)
    return accrued * after // payment_kopecks - accrued * before // payment_kopecks


def bonus_reverse_for_refund(*, refund: Any, payment: Any) -> RefundNote | None:
    """Refund hook (kabinet.payments.hooks): take back the points accrued for the refunded part.

    Called inside the transaction that marks the refund succeeded (``payment.refunded_kopecks``
    already includes it). Points move from the member back to ``bonus:issued`` with the ledger key
    ``bonus-reversal:<refund public id>``, once per refund. The member's points never go below zero:
    points already spent or expired are not taken, and the shortfall is written to the audit log and
    the payment's timeline. Lots are reduced like a redemption: the payment's own lot first, then the
    oldest. Returns the timeline note, or None when the payment earned no points."""
    accrual = LedgerTransfer.objects.filter(key=f"bonus:accrual:payment:{payment.pk}").first()
    if accrual is None:
        return None
    due = bonus_reversal_points(
        accrued=accrual.amount_kopecks,
        payment_kopecks=payment.amount_kopecks,
        refunded_before_kopecks=payment.refunded_kopecks - refund.amount_kopecks,
        refunded_after_kopecks=payment.refunded_kopecks,
    )
    if due <= 0:
        return None
    key = f"{REVERSAL_KEY_PREFIX}{refund.public_id}"
    # The member row is the lock for the member's points, as in redemption and expiry.
    member = (
        BonusMember.objects.select_for_update()
        .select_related("ledger_account")
        .get(ledger_account_id=accrual.credit_account_id)
    )
    audit_target = {"target_type": refund._meta.label_lower, "target_id": refund.pk}
    if (
        LedgerTransfer.objects.filter(key=key).exists()
        or AuditEvent.objects.filter(action="bonus.refund_reversal", **audit_target).exists()
    ):
        return None  # reversed already (a replay)
    balance = ledger_account_balance(ledger_account_id=member.ledger_account_id)
    taken = min(due, max(balance, 0))
    shortfall = due - taken
    amount_text = format_kopecks(refund.amount_kopecks)
    if taken:
        left = taken
        lots = BonusLot.objects.select_for_update().filter(
            member=member, remaining__gt=0, expired_at__isnull=True
        )
        own_first = sorted(lots, key=lambda lot: (lot.key != accrual.key, lot.expires_at, lot.pk))
        for lot in own_first:
            take = min(left, lot.remaining)
            BonusLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
            left -= take
            if left == 0:
                break
        if left:  # pragma: no cover - lots and ledger disagree: refuse rather than overdraw
            raise Conflict(_("Баллы временно недоступны, попробуйте позже."))
        if shortfall:
            description = stored_text(
                gettext_lazy(
                    "Возврат платежа %(amount)s: списаны начисленные за него баллы, кроме уже потраченных (%(n)s)"
                ),
                amount=amount_text,
                n=shortfall,
            )
        else:
            description = stored_text(
                gettext_lazy("Возврат платежа %(amount)s: списаны начисленные за него баллы"),
                amount=amount_text,
            )
        ledger_transfer_post(
            key=key,
            debit=member.ledger_account,
            credit=ledger_account_system(code=BONUS_ISSUED),
            amount_kopecks=taken,
            kind=LedgerTransfer.Kind.BONUS,
            value_date=timezone.localdate(),
            description=description,
            ref=str(refund.public_id)[:64],
            actor=refund.actor,
            reason=refund.reason,
        )
    audit_log(
        actor=refund.actor,
        action="bonus.refund_reversal",
        **audit_target,
        new={
            "member": member.user_id,
            "payment": str(payment.public_id),
            "accrued": accrual.amount_kopecks,
            "due": due,
            "taken": taken,
            "shortfall": shortfall,
        },
        reason=refund.reason,
    )
    if shortfall:
        message = stored_text(
            gettext_lazy(
                "Списано бонусных баллов за возврат: %(taken)s из %(due)s (остальные уже потрачены)."
            ),
            taken=taken,
            due=due,
        )
    else:
        message = stored_text(gettext_lazy("Списано бонусных баллов за возврат: %(taken)s."), taken=taken)
    return RefundNote(
        kind="bonus_reversed",
        message=message,
        data={"refund": str(refund.public_id), "due": due, "taken": taken, "shortfall": shortfall},
    )


# --- redemption ----------------------------------------------------------------------------------


def bonus_redeem(*, user: Any, personal_account_id: int, points: int, idempotency_key: str) -> LedgerTransfer:
    """Pay for charges or options with points: points go back to ``bonus:issued`` and their money value
    (points x kopecks_per_point) moves from ``bonus:liability`` to the personal account. Idempotent per
    ``idempotency_key``. Returns the money transfer."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise DomainError(_("Укажите целое число баллов больше нуля."), field="points")
    key = (idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise DomainError(_("Нужен ключ идемпотентности (до 64 символов)."))
    account = personal_account_get_for_user(user=user, personal_account_id=personal_account_id)
    if account.status == PersonalAccount.Status.TERMINATED:
        raise DomainError(_("Лицевой счёт закрыт."))
    rule = bonus_rule_get()
    member = bonus_member_enroll(user=user)
    money_key = f"bonus:redeem:{user.pk}:{key}:money"
    with transaction.atomic():
        # Lock order shared with a payment's credit and refund (they update the account's ledger row,
        # then their bonus hooks lock the member): the account's ledger row, then the member row, which
        # is the lock for the member's points (read balance, consume lots, write).
        ledger_account_lock(ledger_account_id=account.ledger_account_id)
        BonusMember.objects.select_for_update().get(pk=member.pk)
        done = LedgerTransfer.objects.filter(key=money_key).first()
        if done is not None:
            if done.amount_kopecks != points * rule.kopecks_per_point or done.credit_account_id != (
                account.ledger_account_id
            ):
                raise Conflict(_("Этот ключ уже использован для другого списания баллов."))
            return done
        balance = ledger_account_balance(ledger_account_id=member.ledger_account_id)
        if points > balance:
            raise DomainError(
                _("Недостаточно баллов: доступно %(n)s.") % {"n": balance},
                field="points",
                code="bonus_insufficient",
            )
        left = points
        lots = BonusLot.objects.select_for_update().filter(
            member=member, remaining__gt=0, expired_at__isnull=True
        )
        for lot in lots.order_by("expires_at", "pk"):
            take = min(left, lot.remaining)
            BonusLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
            left -= take
            if left == 0:
                break
        if left:  # pragma: no cover - lots and ledger disagree: refuse rather than overdraw
            raise Conflict(_("Баллы временно недоступны, попробуйте позже."))
        today = timezone.localdate()
        money = ledger_transfer_post(
            key=money_key,
            debit=ledger_account_system(code=BONUS_LIABILITY),
            credit=account.ledger_account,
            amount_kopecks=points * rule.kopecks_per_point,
            kind=LedgerTransfer.Kind.BONUS,
            value_date=today,
            description=stored_text(gettext_lazy("Оплата бонусными баллами «Летай Бонус»")),
            actor=user,
        ).transfer
        ledger_transfer_post(
            key=f"bonus:redeem:{user.pk}:{key}:points",
            debit=member.ledger_account,
            credit=ledger_account_system(code=BONUS_ISSUED),
            amount_kopecks=points,
            kind=LedgerTransfer.Kind.BONUS,
            value_date=today,
            description=stored_text(gettext_lazy("Баллы списаны в оплату услуг")),
            actor=user,
        )
        audit_log(
            actor=user,
            action="bonus.redeem",
            target=account,
            new={"points": points, "amount_kopecks": money.amount_kopecks},
        )
    return money


# --- expiry --------------------------------------------------------------------------------------


def bonus_expire(*, now: dt.datetime | None = None, limit: int = 10_000) -> int:
    """Expire what is left of lots past their date: points go back to ``bonus:issued``. Idempotent
    (key ``bonus:expire:lot:<id>``). Returns the number of points expired."""
    now = now or timezone.now()
    expired_points = 0
    lot_ids = list(
        BonusLot.objects.filter(expires_at__lte=now, expired_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    issued = ledger_account_system(code=BONUS_ISSUED)
    for lot_id in lot_ids:
        with transaction.atomic():
            member_id = BonusLot.objects.values_list("member_id", flat=True).get(pk=lot_id)
            member = (
                BonusMember.objects.select_for_update().select_related("ledger_account").get(pk=member_id)
            )
            lot = BonusLot.objects.select_for_update().get(pk=lot_id)
            if lot.expired_at is not None:
                continue
            if lot.remaining > 0:
                ledger_transfer_post(
                    key=f"bonus:expire:lot:{lot.pk}",
                    debit=member.ledger_account,
                    credit=issued,
                    amount_kopecks=lot.remaining,
                    kind=LedgerTransfer.Kind.BONUS,
                    value_date=timezone.localdate(now),
                    description=stored_text(
                        gettext_lazy("Сгорели баллы, начисленные %(date)s"),
                        date=timezone.localtime(lot.earned_at).strftime("%d.%m.%Y"),
                    ),
                )
                expired_points += lot.remaining
            lot.remaining = 0
            lot.expired_at = now
            lot.save(update_fields=["remaining", "expired_at"])
    return expired_points
