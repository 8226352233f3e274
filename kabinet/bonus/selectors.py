"""Reads of «Летай Бонус». A cabinet user who is not a member yet joins on first access (see
docs/architecture.md: enrolment is lazy here, in the demo loader and in the periodic safety net)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.bonus.models import BonusLot, BonusMember, BonusRule
from kabinet.bonus.services import bonus_member_enroll, bonus_rule_get
from kabinet.core.prepared import hot_cursor
from kabinet.core.sql_names import sql_column, sql_table

# The programme's one rule row (BonusRule, pk=1; see bonus_rule_get).
RULE_PK = 1


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


# The balance card is on the dashboard, the busiest page: one hand-written statement (member, points,
# the rule's point value and the nearest expiring lot) instead of three ORM queries, whose compilation
# cost more than the database work. Names come from the models' metadata; values are parameters.
_BALANCE_SQL = """
SELECT la.{la_balance},
       (SELECT r.{r_value} FROM {rules} r WHERE r.{r_id} = %s),
       (SELECT MIN(lot.{lot_expires}) FROM {lots} lot
         WHERE lot.{lot_member} = m.{m_id} AND lot.{lot_remaining} > 0 AND lot.{lot_expired} IS NULL),
       (SELECT SUM(lot.{lot_remaining}) FROM {lots} lot
         WHERE lot.{lot_member} = m.{m_id} AND lot.{lot_remaining} > 0 AND lot.{lot_expired} IS NULL
           AND lot.{lot_expires} = (SELECT MIN(l2.{lot_expires}) FROM {lots} l2
                                     WHERE l2.{lot_member} = m.{m_id} AND l2.{lot_remaining} > 0
                                       AND l2.{lot_expired} IS NULL))
FROM {members} m
JOIN {ledger} la ON la.{la_id} = m.{m_ledger}
WHERE m.{m_user} = %s
"""


@cache
def _balance_sql() -> str:
    col, table = sql_column, sql_table
    return _BALANCE_SQL.format(
        members=table(BonusMember),
        ledger=table(LedgerAccount),
        rules=table(BonusRule),
        lots=table(BonusLot),
        la_id=col(LedgerAccount, "id"),
        la_balance=col(LedgerAccount, "balance_kopecks"),
        r_id=col(BonusRule, "id"),
        r_value=col(BonusRule, "kopecks_per_point"),
        m_id=col(BonusMember, "id"),
        m_user=col(BonusMember, "user"),
        m_ledger=col(BonusMember, "ledger_account"),
        lot_member=col(BonusLot, "member"),
        lot_remaining=col(BonusLot, "remaining"),
        lot_expired=col(BonusLot, "expired_at"),
        lot_expires=col(BonusLot, "expires_at"),
    )


def bonus_balance_for_user(*, user: Any) -> BonusBalance | None:
    """Points, their value and the nearest expiry: one query for a member (a new cabinet user joins here)."""
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return None
    with hot_cursor() as cursor:
        cursor.execute(_balance_sql(), [RULE_PK, user.pk])
        row = cursor.fetchone()
    if row is None or row[1] is None:
        # Not a member yet, or no rule row yet: join (and create the rule's defaults) the usual way.
        member = bonus_member_enroll(user=user)
        rule = bonus_rule_get()
        row = (member.ledger_account.balance_kopecks, rule.kopecks_per_point, None, None)
    points, kopecks_per_point, next_at, next_points = row
    if isinstance(next_at, str):  # SQLite returns MIN() of a datetime column as text
        next_at = parse_datetime(next_at)
    if next_at is not None and settings.USE_TZ and timezone.is_naive(next_at):
        next_at = timezone.make_aware(next_at, dt.UTC)
    return BonusBalance(
        points=points,
        value_kopecks=points * kopecks_per_point,
        next_expiry_points=int(next_points or 0),
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
