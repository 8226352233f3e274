"""/api/v1/accounts: the logged-in subscriber's personal accounts and each account's history.

Every read goes through the billing selectors, which filter by the user's account links: an id that is
not one of the user's accounts answers 404 in the single error format, exactly like an id that does
not exist. Money is integer kopecks; a history amount is signed from the subscriber's point of view
(a payment is positive, a charge negative).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user
from kabinet.billing.models import LedgerTransfer, PersonalAccount
from kabinet.billing.selectors import (
    ledger_transfers_for_account,
    personal_account_get_for_user,
    personal_account_list_for_user,
)

router = Router(tags=["billing"], auth=SUBSCRIBER_AUTH)

HISTORY_PAGE_MAX = 100


class AccountOut(Schema):
    id: int
    number: str = Field(description="Номер лицевого счёта (10 цифр, последняя — контрольная).")
    service_kind: str
    service_kind_name: str
    status: str = Field(
        description="active | blocked_debt | blocked_voluntary | blocked_operator | terminated"
    )
    status_name: str
    status_reason: str
    balance_kopecks: int
    credit_limit_kopecks: int
    cash_payment_ban: bool


class HistoryLineOut(Schema):
    id: int
    date: dt.date = Field(description="День, к которому относится движение (день списания, дата платежа).")
    created_at: dt.datetime
    kind: str
    kind_name: str
    amount_kopecks: int = Field(description="Со знаком для абонента: зачисление > 0, списание < 0.")
    description: str


class HistoryPageOut(Schema):
    count: int
    limit: int
    offset: int
    next_offset: int | None
    items: list[HistoryLineOut]


class HistoryQuery(Schema):
    limit: int = Field(20, ge=1, le=HISTORY_PAGE_MAX)
    offset: int = Field(0, ge=0, le=1_000_000_000)


def _account_out(account: PersonalAccount) -> AccountOut:
    return AccountOut(
        id=account.pk,
        number=account.number,
        service_kind=account.service_kind,
        service_kind_name=str(account.get_service_kind_display()),
        status=account.status,
        status_name=str(account.get_status_display()),
        status_reason=account.status_reason,
        balance_kopecks=account.ledger_account.balance_kopecks,
        credit_limit_kopecks=account.credit_limit_kopecks,
        cash_payment_ban=account.cash_payment_ban,
    )


def _history_line(transfer: LedgerTransfer, *, ledger_account_id: int) -> HistoryLineOut:
    sign = 1 if transfer.credit_account_id == ledger_account_id else -1
    return HistoryLineOut(
        id=transfer.pk,
        date=transfer.value_date,
        created_at=transfer.created_at,
        kind=transfer.kind,
        kind_name=str(transfer.get_kind_display()),
        amount_kopecks=sign * transfer.amount_kopecks,
        description=transfer.description or str(transfer.get_kind_display()),
    )


@router.get("", response=list[AccountOut], summary="My personal accounts with balances and statuses")
def accounts_list(request: HttpRequest) -> list[AccountOut]:
    accounts = personal_account_list_for_user(user=request_user(request))
    return [_account_out(account) for account in accounts]


@router.get(
    "/{account_id}",
    response=AccountOut,
    summary="One of my personal accounts",
    openapi_extra={"responses": {404: {"description": "Not one of the subscriber's accounts"}}},
)
def account_detail(request: HttpRequest, account_id: int) -> AccountOut:
    account = personal_account_get_for_user(user=request_user(request), personal_account_id=account_id)
    return _account_out(account)


@router.get(
    "/{account_id}/history",
    response=HistoryPageOut,
    summary="History of charges, payments and adjustments of one of my accounts (newest first)",
    openapi_extra={"responses": {404: {"description": "Not one of the subscriber's accounts"}}},
)
def account_history(request: HttpRequest, account_id: int, page: Query[HistoryQuery]) -> HistoryPageOut:
    account = personal_account_get_for_user(user=request_user(request), personal_account_id=account_id)
    transfers = ledger_transfers_for_account(personal_account=account)
    count = transfers.count()
    rows = list(transfers[page.offset : page.offset + page.limit])
    next_offset = page.offset + len(rows)
    return HistoryPageOut(
        count=count,
        limit=page.limit,
        offset=page.offset,
        next_offset=next_offset if next_offset < count else None,
        items=[_history_line(t, ledger_account_id=account.ledger_account_id) for t in rows],
    )
