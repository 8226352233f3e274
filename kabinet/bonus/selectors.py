"""Reads of «Летай Бонус». A cabinet user who is not a member yet joins on first access (see
docs/architecture.md: enrolment is lazy here, in the demo loader and in the periodic safety net)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum

from kabinet.billing.models import LedgerTransfer
from kabinet.bonus.models import BonusLot, BonusMember, BonusRule
from kabinet.bonus.services import bonus_member_enroll, bonus_rule_get


@dataclass(frozen=True)
class BonusBalance:
    points: int
    value_kopecks: int
    next_expiry_points: int
    next_expiry_at: dt.datetime | None


def bonus_member_for_user(*, user: Any) -> BonusMember | None:
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return None
    return bonus_member_enroll(user=user)


def bonus_balance_for_user(*, user: Any) -> BonusBalance | None:
    member = bonus_member_for_user(user=user)
    if member is None:
        return None
    rule = bonus_rule_get()
    # bonus_member_enroll selects the member with its ledger account: no separate balance query.
    points = member.ledger_account.balance_kopecks
    next_lot = (
        BonusLot.objects.filter(member=member, remaining__gt=0, expired_at__isnull=True)
        .values("expires_at")
        .annotate(s=Sum("remaining"))
        .order_by("expires_at")
        .first()
    )
    next_at = next_lot["expires_at"] if next_lot else None
    next_points = next_lot["s"] if next_lot else 0
    return BonusBalance(
        points=points,
        value_kopecks=points * rule.kopecks_per_point,
        next_expiry_points=next_points,
        next_expiry_at=next_at,
    )


def bonus_history_for_user(*, user: Any, limit: int = 50) -> QuerySet[LedgerTransfer]:
    member = bonus_member_for_user(user=user)
    if member is None:
        return LedgerTransfer.objects.none()
    ledger_id = member.ledger_account_id
    return LedgerTransfer.objects.filter(
        Q(debit_account_id=ledger_id) | Q(credit_account_id=ledger_id)
    ).order_by("-created_at", "-id")[:limit]


def bonus_rule_current() -> BonusRule:
    return bonus_rule_get()
