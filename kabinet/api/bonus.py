"""/api/v1/bonus: «Летай Бонус» for the mobile app: the programme's rule, my balance and history, and
paying for services with points (``Idempotency-Key`` header: a repeat never spends twice)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Header, Router, Schema
from pydantic import Field

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user
from kabinet.bonus.selectors import bonus_balance_for_user, bonus_history_for_user, bonus_rule_current
from kabinet.bonus.services import bonus_member_enroll, bonus_redeem
from kabinet.core.exceptions import PermissionDenied

router = Router(tags=["bonus"], auth=SUBSCRIBER_AUTH)


class RuleOut(Schema):
    points_per_100_rub: int
    min_payment_kopecks: int
    kopecks_per_point: int
    expiry_days: int
    is_active: bool


class MovementOut(Schema):
    at: dt.datetime
    points: int = Field(description="Плюс — начислено, минус — списано или сгорело.")
    description: str


class BalanceOut(Schema):
    points: int
    value_kopecks: int
    next_expiry_points: int
    next_expiry_at: dt.datetime | None
    rule: RuleOut
    history: list[MovementOut]


class RedeemIn(Schema):
    personal_account_id: int
    points: int = Field(gt=0)


class RedeemOut(Schema):
    amount_kopecks: int
    points_left: int


def _rule() -> RuleOut:
    rule = bonus_rule_current()
    return RuleOut(
        points_per_100_rub=rule.points_per_100_rub,
        min_payment_kopecks=rule.min_payment_kopecks,
        kopecks_per_point=rule.kopecks_per_point,
        expiry_days=rule.expiry_days,
        is_active=rule.is_active,
    )


@router.get("", response=BalanceOut, summary="Мои баллы «Летай Бонус»")
def bonus_balance(request: HttpRequest) -> BalanceOut:
    user = request_user(request)
    balance = bonus_balance_for_user(user=user)
    if balance is None:
        raise PermissionDenied("Бонусная программа доступна абонентам.")
    ledger_id = bonus_member_enroll(user=user).ledger_account_id
    history = [
        MovementOut(
            at=t.created_at,
            points=t.amount_kopecks if t.credit_account_id == ledger_id else -t.amount_kopecks,
            description=t.description,
        )
        for t in bonus_history_for_user(user=user)
    ]
    return BalanceOut(
        points=balance.points,
        value_kopecks=balance.value_kopecks,
        next_expiry_points=balance.next_expiry_points,
        next_expiry_at=balance.next_expiry_at,
        rule=_rule(),
        history=history,
    )


@router.post("/redeem", response=RedeemOut, summary="Оплатить услуги баллами")
def bonus_redeem_api(
    request: HttpRequest, body: RedeemIn, idempotency_key: str = Header(..., alias="Idempotency-Key")
) -> RedeemOut:
    user = request_user(request)
    transfer = bonus_redeem(
        user=user,
        personal_account_id=body.personal_account_id,
        points=body.points,
        idempotency_key=idempotency_key,
    )
    balance = bonus_balance_for_user(user=user)
    return RedeemOut(amount_kopecks=transfer.amount_kopecks, points_left=balance.points if balance else 0)
