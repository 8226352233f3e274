"""/api/v1/cabinet: what the mobile app needs to manage services (the same services as the pages).

- ``GET  /cabinet/dashboard``: accounts with balance, status, next charge and "enough until".
- ``GET  /cabinet/accounts/{id}/services``: live subscriptions, the tariffs each may switch to and the
  options the catalog offers (on or off).
- ``GET  .../subscriptions/{sid}/tariff-quote?tariff_id=&when=``: price and proration before confirming.
- ``POST .../subscriptions/{sid}/tariff-change`` and ``.../cancel-change``.
- ``POST .../subscriptions/{sid}/options/{oid}/enable`` and ``.../disable``.
- ``GET/POST .../voluntary-block``, ``POST .../voluntary-block/end``.
- ``GET/POST .../promised-payment``.
- ``GET  .../consents``: the consent log.

Every object comes through the owner-filtered selectors: another subscriber's id is a 404 in the single
error format. POSTs that move money or change services accept an ``Idempotency-Key`` header: the first
response is stored and replayed for repeats with the same key (a different body with the same key is a
409). A paid change needs ``"consent": true``; the consent text recorded is the one the quote endpoint
returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema
from pydantic import Field

from kabinet.api.auth import SUBSCRIBER_AUTH, request_user
from kabinet.billing import services_links
from kabinet.billing.models import PersonalAccount, Subscription
from kabinet.catalog.models import Option, Tariff
from kabinet.core.exceptions import DomainError, NotFound
from kabinet.portal.selectors import (
    account_services,
    consent_records_for_account,
    dashboard_cards_for_user,
    personal_account_with_services_for_user,
)
from kabinet.portal.services import idempotent_call
from kabinet.subscriptions import selectors as sub_selectors
from kabinet.subscriptions import services as sub_services

router = Router(tags=["cabinet"], auth=SUBSCRIBER_AUTH)

NOT_MINE = {"responses": {404: {"description": "Not one of the subscriber's accounts or services"}}}


# --- Schemas --------------------------------------------------------------------------------------


class DashboardAccountOut(Schema):
    id: int
    number: str
    service_kind: str
    status: str
    status_name: str
    status_reason: str
    balance_kopecks: int
    daily_rate_kopecks: int
    days_left: int | None = Field(description="Дней хватит денег при текущем расходе; null — списаний нет.")
    enough_until: dt.date | None
    next_charge_date: dt.date | None
    next_charge_kopecks: int
    tariffs: list[str]


class TariffOut(Schema):
    id: int
    name: str
    period: str
    price_kopecks: int | None


class OptionOut(Schema):
    id: int
    name: str
    kind: str
    period: str
    price_kopecks: int | None
    enabled: bool


class SubscriptionOut(Schema):
    id: int
    service_kind: str
    tariff: TariffOut
    status: str
    price_kopecks: int
    period: str
    next_tariff: TariffOut | None
    next_tariff_from: dt.date | None
    switch_to: list[TariffOut]
    options: list[OptionOut]


class ServiceTabOut(Schema):
    code: str
    label: str
    subscriptions: list[SubscriptionOut]


class TariffChangeIn(Schema):
    tariff_id: int
    when: str = Field(description="now | next_period")
    consent: bool = Field(False, description="Явное согласие с ценой и условиями из tariff-quote.")


class ConsentIn(Schema):
    consent: bool = False


class BlockIn(Schema):
    days: int = Field(ge=1, le=365)
    consent: bool = False


class ConsentOut(Schema):
    id: int
    action: str
    action_name: str
    subject: str
    price_kopecks: int
    text: str
    created_at: dt.datetime
    ip: str | None
    user_agent: str


# --- Helpers --------------------------------------------------------------------------------------


def _account(request: HttpRequest, account_id: int) -> PersonalAccount:
    return personal_account_with_services_for_user(user=request_user(request), personal_account_id=account_id)


def _subscription(account: PersonalAccount, subscription_id: int) -> Subscription:
    for sub in getattr(account, "live_subscriptions", []):
        if sub.pk == subscription_id:
            return sub
    raise NotFound("Услуга не найдена.")


def _client(request: HttpRequest) -> dict[str, Any]:
    return {
        "ip": request.META.get("REMOTE_ADDR") or None,
        "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:500],
    }


def _tariff(tariff_id: int) -> Tariff:
    tariff = Tariff.objects.filter(pk=tariff_id).first()
    if tariff is None:
        raise DomainError("Такого тарифа нет.", code="no_such_tariff", field="tariff_id")
    return tariff


def _idempotent(
    request: HttpRequest, scope: str, payload: Any, call: Callable[[], dict[str, Any]]
) -> JsonResponse:
    status, body = idempotent_call(
        user=request_user(request),
        scope=f"api:{scope}",
        key=request.headers.get("Idempotency-Key"),
        payload=payload,
        call=lambda: (200, call()),
    )
    response = JsonResponse(body, status=status)
    return response


def _tariff_out(tariff: Tariff | None, price: int | None = None) -> TariffOut | None:
    if tariff is None:
        return None
    return TariffOut(id=tariff.pk, name=tariff.name, period=tariff.period, price_kopecks=price)


def _subscription_dict(sub: Subscription) -> dict[str, Any]:
    return {
        "id": sub.pk,
        "tariff_id": sub.tariff_id,
        "tariff_name": sub.tariff.name if sub.tariff_id else "",
        "status": sub.status,
        "next_tariff_id": sub.next_tariff_id,
        "next_tariff_from": sub.next_tariff_from.isoformat() if sub.next_tariff_from else None,
    }


# --- Reads ----------------------------------------------------------------------------------------


@router.get("/dashboard", response=list[DashboardAccountOut], summary="My accounts with forecasts")
def dashboard(request: HttpRequest) -> list[DashboardAccountOut]:
    return [
        DashboardAccountOut(
            id=c.account.pk,
            number=c.account.number,
            service_kind=c.account.service_kind,
            status=c.account.status,
            status_name=c.account.status_label,
            status_reason=c.account.status_reason,
            balance_kopecks=c.balance_kopecks,
            daily_rate_kopecks=c.forecast.daily_rate_kopecks,
            days_left=c.forecast.days_left,
            enough_until=c.forecast.enough_until,
            next_charge_date=c.forecast.next_charge_date,
            next_charge_kopecks=c.forecast.next_charge_kopecks,
            tariffs=c.tariff_names,
        )
        for c in dashboard_cards_for_user(user=request_user(request))
    ]


@router.get(
    "/accounts/{account_id}/services",
    response=list[ServiceTabOut],
    summary="Services of an account and the switches the catalog allows",
    openapi_extra=NOT_MINE,
)
def services(request: HttpRequest, account_id: int) -> list[ServiceTabOut]:
    account = _account(request, account_id)
    result = []
    for tab in account_services(personal_account=account):
        subs = []
        for line in tab.lines:
            sub = line.subscription
            subs.append(
                SubscriptionOut(
                    id=sub.pk,
                    service_kind=sub.tariff.service_kind,
                    tariff=_tariff_out(sub.tariff, sub.price_kopecks),  # type: ignore[arg-type]
                    status=sub.status,
                    price_kopecks=sub.price_kopecks,
                    period=sub.period,
                    next_tariff=_tariff_out(sub.next_tariff),
                    next_tariff_from=sub.next_tariff_from,
                    switch_to=[_tariff_out(c.tariff, c.price_kopecks) for c in line.switch_to],  # type: ignore[misc]
                    options=[
                        OptionOut(
                            id=sw.option.pk,
                            name=sw.option.name,
                            kind=sw.option.kind,
                            period=sw.option.period,
                            price_kopecks=sw.price_kopecks,
                            enabled=sw.is_on,
                        )
                        for sw in line.options
                    ],
                )
            )
        result.append(ServiceTabOut(code=tab.code, label=str(tab.label), subscriptions=subs))
    return result


@router.get(
    "/accounts/{account_id}/subscriptions/{subscription_id}/tariff-quote",
    summary="Price and proration of a tariff change, before confirming",
    openapi_extra=NOT_MINE,
)
def tariff_quote(
    request: HttpRequest, account_id: int, subscription_id: int, tariff_id: int, when: str
) -> dict:
    account = _account(request, account_id)
    sub = _subscription(account, subscription_id)
    quote = sub_services.subscription_change_quote(
        subscription=sub, new_tariff=_tariff(tariff_id), when=when, actor=request_user(request)
    )
    return {
        "tariff_id": quote.new_tariff_id,
        "tariff_name": quote.new_tariff_name,
        "when": quote.when,
        "effective_on": quote.effective_on.isoformat(),
        "new_price_kopecks": quote.new_price_kopecks,
        "period": quote.period,
        "refund_kopecks": quote.refund_kopecks,
        "charge_kopecks": quote.charge_kopecks,
        "total_kopecks": quote.total_kopecks,
        "ended_options": quote.ended_options,
        "explanation": quote.explanation,
        "consent_text": quote.consent_text,
    }


@router.get(
    "/accounts/{account_id}/consents",
    response=list[ConsentOut],
    summary="Consent log",
    openapi_extra=NOT_MINE,
)
def consents(request: HttpRequest, account_id: int) -> list[ConsentOut]:
    account = _account(request, account_id)
    return [
        ConsentOut(
            id=r.pk,
            action=r.action,
            action_name=str(r.get_action_display()),
            subject=r.subject,
            price_kopecks=r.price_kopecks,
            text=r.text,
            created_at=r.created_at,
            ip=r.ip,
            user_agent=r.user_agent,
        )
        for r in consent_records_for_account(user=request_user(request), personal_account=account)
    ]


def _block_quote_dict(quote: Any) -> dict[str, Any]:
    return {
        "allowed": quote.allowed,
        "reason": quote.reason,
        "rule_text": quote.rule_text,
        "available_from": quote.available_from.isoformat() if quote.available_from else None,
        "min_days": quote.min_days,
        "max_days": quote.max_days,
        "fee_per_day_kopecks": quote.fee_per_day_kopecks,
        "days": quote.days,
        "total_fee_kopecks": quote.total_fee_kopecks,
        "consent_text": quote.consent_text,
    }


@router.get(
    "/accounts/{account_id}/voluntary-block",
    summary="Voluntary block: eligibility and rule",
    openapi_extra=NOT_MINE,
)
def voluntary_block_get(request: HttpRequest, account_id: int, days: int | None = None) -> dict:
    account = _account(request, account_id)
    quote = sub_services.voluntary_block_quote(
        personal_account=account, days=days, actor=request_user(request)
    )
    active = sub_selectors.voluntary_block_active(personal_account=account)
    return {
        **_block_quote_dict(quote),
        "active": None
        if active is None
        else {
            "id": active.pk,
            "starts_on": active.starts_on.isoformat(),
            "planned_end_on": active.planned_end_on.isoformat(),
        },
    }


def _promised_quote_dict(quote: Any) -> dict[str, Any]:
    return {
        "allowed": quote.allowed,
        "reason": quote.reason,
        "rule_text": quote.rule_text,
        "available_from": quote.available_from.isoformat() if quote.available_from else None,
        "max_amount_kopecks": quote.max_amount_kopecks,
        "term_days": quote.term_days,
        "fee_kopecks": quote.fee_kopecks,
        "due_on": quote.due_on.isoformat(),
        "consent_text": quote.consent_text,
    }


@router.get(
    "/accounts/{account_id}/promised-payment",
    summary="Promised payment: eligibility and rule",
    openapi_extra=NOT_MINE,
)
def promised_payment_get(request: HttpRequest, account_id: int) -> dict:
    account = _account(request, account_id)
    return _promised_quote_dict(
        sub_services.promised_payment_quote(personal_account=account, actor=request_user(request))
    )


# --- Writes (Idempotency-Key) -----------------------------------------------------------------------


@router.post(
    "/accounts/{account_id}/subscriptions/{subscription_id}/tariff-change",
    summary="Change the tariff now or from the next period (consent required)",
    openapi_extra=NOT_MINE,
)
def tariff_change(
    request: HttpRequest, account_id: int, subscription_id: int, data: TariffChangeIn
) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        sub = _subscription(account, subscription_id)
        tariff = _tariff(data.tariff_id)
        quote = sub_services.subscription_change_quote(
            subscription=sub, new_tariff=tariff, when=data.when, actor=user
        )
        result = sub_services.subscription_change_tariff(
            actor=user,
            subscription=sub,
            new_tariff=tariff,
            when=data.when,
            consent_given=data.consent,
            consent_text=quote.consent_text,
            **_client(request),
        )
        return {"subscription": _subscription_dict(result), "charged_kopecks": quote.total_kopecks}

    return _idempotent(request, f"tariff-change:{account_id}:{subscription_id}", data.dict(), call)


@router.post(
    "/accounts/{account_id}/subscriptions/{subscription_id}/cancel-change",
    summary="Cancel a scheduled tariff change",
    openapi_extra=NOT_MINE,
)
def tariff_change_cancel(request: HttpRequest, account_id: int, subscription_id: int) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        sub = _subscription(account, subscription_id)
        result = sub_services.subscription_cancel_scheduled_change(
            actor=user, subscription=sub, ip=_client(request)["ip"]
        )
        return {"subscription": _subscription_dict(result)}

    return _idempotent(request, f"cancel-change:{account_id}:{subscription_id}", {}, call)


def _option(option_id: int) -> Option:
    option = Option.objects.filter(pk=option_id).first()
    if option is None:
        raise DomainError("Такой опции нет.", code="no_such_option")
    return option


@router.post(
    "/accounts/{account_id}/subscriptions/{subscription_id}/options/{option_id}/enable",
    summary="Switch an option on (consent required for a paid one)",
    openapi_extra=NOT_MINE,
)
def option_enable(
    request: HttpRequest, account_id: int, subscription_id: int, option_id: int, data: ConsentIn
) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        sub = _subscription(account, subscription_id)
        option = _option(option_id)
        quote = sub_services.subscription_option_quote(subscription=sub, option=option)
        so = sub_services.subscription_option_enable(
            actor=user,
            subscription=sub,
            option=option,
            consent_given=data.consent or quote.price_kopecks == 0,
            consent_text=quote.consent_text,
            **_client(request),
        )
        return {
            "option_id": option.pk,
            "enabled": True,
            "subscription_option_id": so.pk,
            "charged_kopecks": quote.charge_now_kopecks,
        }

    return _idempotent(
        request, f"option-enable:{account_id}:{subscription_id}:{option_id}", data.dict(), call
    )


@router.post(
    "/accounts/{account_id}/subscriptions/{subscription_id}/options/{option_id}/disable",
    summary="Switch an option off",
    openapi_extra=NOT_MINE,
)
def option_disable(
    request: HttpRequest, account_id: int, subscription_id: int, option_id: int
) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        sub = _subscription(account, subscription_id)
        active = next((so for so in getattr(sub, "active_options", []) if so.option_id == option_id), None)
        if active is None:
            raise DomainError("Эта опция не подключена.", code="not_enabled")
        sub_services.subscription_option_disable(
            actor=user, subscription_option=active, ip=_client(request)["ip"]
        )
        return {"option_id": option_id, "enabled": False}

    return _idempotent(request, f"option-disable:{account_id}:{subscription_id}:{option_id}", {}, call)


@router.post(
    "/accounts/{account_id}/voluntary-block", summary="Start a voluntary block", openapi_extra=NOT_MINE
)
def voluntary_block_start(request: HttpRequest, account_id: int, data: BlockIn) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        quote = sub_services.voluntary_block_quote(personal_account=account, days=data.days, actor=user)
        block = sub_services.voluntary_block_start(
            actor=user,
            personal_account=account,
            days=data.days,
            consent_given=data.consent,
            consent_text=quote.consent_text,
            **_client(request),
        )
        return {
            "id": block.pk,
            "starts_on": block.starts_on.isoformat(),
            "planned_end_on": block.planned_end_on.isoformat(),
        }

    return _idempotent(request, f"block-start:{account_id}", data.dict(), call)


@router.post(
    "/accounts/{account_id}/voluntary-block/end",
    summary="End the voluntary block now",
    openapi_extra=NOT_MINE,
)
def voluntary_block_end(request: HttpRequest, account_id: int) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        active = sub_selectors.voluntary_block_active(personal_account=account)
        if active is None:
            raise DomainError("Добровольная блокировка не включена.", code="no_block")
        block = sub_services.voluntary_block_end(actor=user, block=active, ip=_client(request)["ip"])
        return {"id": block.pk, "ended_on": block.ended_on.isoformat() if block.ended_on else None}

    return _idempotent(request, f"block-end:{account_id}", {}, call)


@router.post(
    "/accounts/{account_id}/promised-payment", summary="Take a promised payment", openapi_extra=NOT_MINE
)
def promised_payment_take(request: HttpRequest, account_id: int, data: ConsentIn) -> JsonResponse:
    user = request_user(request)

    def call() -> dict[str, Any]:
        account = _account(request, account_id)
        quote = sub_services.promised_payment_quote(personal_account=account, actor=user)
        payment = sub_services.promised_payment_take(
            actor=user,
            personal_account=account,
            consent_given=data.consent,
            consent_text=quote.consent_text,
            **_client(request),
        )
        return {
            "id": payment.pk,
            "amount_kopecks": payment.amount_kopecks,
            "fee_kopecks": payment.fee_kopecks,
            "due_on": payment.due_on.isoformat(),
        }

    return _idempotent(request, f"promised:{account_id}", data.dict(), call)


# --- Attaching and detaching accounts ---------------------------------------------------------------


class AttachCodeIn(Schema):
    number: str = Field(description="Номер лицевого счёта (10 цифр).")


class AttachConfirmIn(Schema):
    number: str
    code: str


class AttachContractIn(Schema):
    number: str
    contract_number: str
    last_payment_kopecks: int = Field(gt=0, description="Сумма последнего платежа на счёт, в копейках.")


class AttachedOut(Schema):
    id: int
    number: str
    method: str


@router.post("/attach/code", summary="Send an SMS code to the contract's phone (same answer for any number)")
def attach_code(request: HttpRequest, data: AttachCodeIn) -> dict:
    challenge = services_links.personal_account_attach_request_code(
        user=request_user(request), number=data.number
    )
    return {
        "number": challenge.number,
        "expires_in_seconds": challenge.expires_in_seconds,
        "message": "Если лицевой счёт существует и в договоре указан телефон, на него отправлен код.",
    }


@router.post("/attach/confirm", response=AttachedOut, summary="Attach an account with the SMS code")
def attach_confirm(request: HttpRequest, data: AttachConfirmIn) -> AttachedOut:
    link = services_links.personal_account_attach_confirm_code(
        user=request_user(request), number=data.number, code=data.code
    )
    return AttachedOut(id=link.personal_account_id, number=link.personal_account.number, method=link.method)


@router.post(
    "/attach/contract", response=AttachedOut, summary="Attach an account by contract and last payment"
)
def attach_contract(request: HttpRequest, data: AttachContractIn) -> AttachedOut:
    link = services_links.personal_account_attach_by_contract(
        user=request_user(request),
        number=data.number,
        contract_number=data.contract_number,
        last_payment_kopecks=data.last_payment_kopecks,
    )
    return AttachedOut(id=link.personal_account_id, number=link.personal_account.number, method=link.method)


@router.delete(
    "/accounts/{account_id}/link",
    summary="Remove the account from my cabinet (money untouched)",
    openapi_extra=NOT_MINE,
)
def detach(request: HttpRequest, account_id: int) -> dict:
    services_links.personal_account_detach(user=request_user(request), personal_account_id=account_id)
    return {"detached": account_id}
