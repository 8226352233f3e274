"""Back office, billing: customers (search, card, identity verification before personal data), personal
accounts (status, flags, manual adjustments, the ledger with a running balance) and billing runs.

Thin views: forms parse input, services in ``kabinet.billing.services`` change things (and audit), the
back-office disclosure rules live in ``kabinet.backoffice.customers``. A refused change re-renders the
page with the error tied to its field and answers 400; nothing is changed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, F, Sum, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.backoffice.access import staff_required
from kabinet.backoffice.customers import (
    VerificationMethod,
    customer_card_accounts,
    customer_card_contracts,
    customer_search,
    customer_search_log,
    identity_verification_active,
    identity_verification_record,
    personal_data_view_log,
)
from kabinet.billing.models import BillingRun, PersonalAccount
from kabinet.billing.selectors import ledger_account_balance, ledger_transfers_for_account
from kabinet.billing.services import (
    AdjustmentDirection,
    StaffStatusAction,
    contract_terminate_with_accounts,
    ledger_adjustment_post,
    personal_account_staff_status_change,
    personal_account_update_flags,
)
from kabinet.core.exceptions import DomainError
from kabinet.core.money import MoneyInputError, rubles_to_kopecks
from kabinet.customers.models import Contract, Customer

LEDGER_PAGE_SIZE = 50
RUNS_PAGE_SIZE = 30


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class BackofficeForm(forms.Form):
    """Back-office forms: no ':' after labels (Django adds aria-invalid/aria-describedby itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_domain_error(self, exc: DomainError) -> None:
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, exc.message)


def form_kopecks(text: str, *, allow_zero: bool = False) -> int:
    cleaned = (text or "").replace("\u00a0", "").replace(" ", "")
    if allow_zero and cleaned in ("0", "0,0", "0.0", "0,00", "0.00"):
        return 0
    try:
        return rubles_to_kopecks(text)
    except MoneyInputError as exc:
        raise forms.ValidationError(exc.message) from exc


class CustomerSearchForm(BackofficeForm):
    q = forms.CharField(
        label=gettext_lazy("ФИО, название, ИНН, номер лицевого счёта или договора, телефон"),
        min_length=2,
        max_length=100,
        error_messages={"min_length": gettext_lazy("Введите хотя бы 2 символа.")},
    )


class IdentityForm(BackofficeForm):
    prefix = "identity"

    method = forms.ChoiceField(
        label=gettext_lazy("Как абонент подтвердил личность"),
        choices=[
            (VerificationMethod.PASSPORT, gettext_lazy("Назвал серию и номер паспорта")),
            (
                VerificationMethod.CODE_WORD_PAYMENT,
                gettext_lazy("Назвал кодовое слово и сумму недавнего платежа"),
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Выберите способ проверки.")},
    )
    passport = forms.CharField(
        label=gettext_lazy("Серия и номер паспорта со слов абонента"), max_length=50, required=False
    )
    code_word = forms.CharField(
        label=gettext_lazy("Кодовое слово со слов абонента"), max_length=100, required=False
    )
    payment_amount = forms.CharField(
        label=gettext_lazy("Сумма недавнего платежа, ₽"),
        help_text=gettext_lazy("Один из платежей за последние 90 дней."),
        max_length=20,
        required=False,
    )

    def clean_payment_amount(self) -> int | None:
        text = self.cleaned_data.get("payment_amount", "")
        if not text.strip():
            return None
        return form_kopecks(text)


class AdjustmentForm(BackofficeForm):
    prefix = "adj"

    direction = forms.ChoiceField(
        label=gettext_lazy("Операция"),
        choices=[
            (AdjustmentDirection.CREDIT, gettext_lazy("Зачислить на лицевой счёт")),
            (AdjustmentDirection.DEBIT, gettext_lazy("Списать с лицевого счёта")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Выберите: зачисление или списание.")},
    )
    amount = forms.CharField(
        label=gettext_lazy("Сумма, ₽"),
        max_length=20,
        help_text=gettext_lazy("Например, 150 или 150,50."),
        error_messages={"required": gettext_lazy("Укажите сумму.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Причина (её увидит абонент в истории)"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Укажите причину.")},
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def clean_amount(self) -> int:
        return form_kopecks(self.cleaned_data["amount"])


class FlagsForm(BackofficeForm):
    prefix = "flags"

    cash_payment_ban = forms.BooleanField(label=gettext_lazy("Запрет оплаты наличными"), required=False)
    credit_limit = forms.CharField(
        label=gettext_lazy("Кредитный лимит, ₽"),
        max_length=20,
        help_text=gettext_lazy(
            "Насколько баланс может уйти в минус до блокировки за неуплату; 0 — без кредита."
        ),
        error_messages={"required": gettext_lazy("Укажите кредитный лимит (0 — без кредита).")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Причина"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Укажите причину.")},
    )

    def clean_credit_limit(self) -> int:
        return form_kopecks(self.cleaned_data["credit_limit"], allow_zero=True)


class StatusForm(BackofficeForm):
    prefix = "status"

    action = forms.ChoiceField(
        label=gettext_lazy("Действие"),
        choices=[
            (StaffStatusAction.BLOCK, gettext_lazy("Заблокировать (блокировка оператором)")),
            (StaffStatusAction.UNBLOCK, gettext_lazy("Снять блокировку оператора")),
            (StaffStatusAction.TERMINATE, gettext_lazy("Закрыть лицевой счёт")),
        ],
        error_messages={
            "required": gettext_lazy("Выберите действие."),
            "invalid_choice": gettext_lazy("Выберите действие из списка."),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("Причина"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Укажите причину.")},
    )


class ContractTerminateForm(BackofficeForm):
    prefix = "term"

    reason = forms.CharField(
        label=gettext_lazy("Причина расторжения"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Укажите причину.")},
    )


# --- customers -------------------------------------------------------------------------------------------


@staff_required
def customer_search_view(request: HttpRequest) -> HttpResponse:
    form = CustomerSearchForm(request.GET or None)
    customers: list[Customer] = []
    searched = False
    if request.GET and form.is_valid():
        searched = True
        query = form.cleaned_data["q"]
        customers = list(customer_search(query=query))
        customer_search_log(actor=request.user, query=query, found=len(customers), ip=_ip(request))
    return render(
        request,
        "backoffice/billing/customer_search.html",
        {"form": form, "customers": customers, "searched": searched},
        status=400 if request.GET and not form.is_valid() else 200,
    )


def _customer_card(
    request: HttpRequest,
    customer: Customer,
    *,
    identity_form: IdentityForm | None = None,
    terminate_form: ContractTerminateForm | None = None,
    terminate_contract_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    verification = identity_verification_active(actor=request.user, customer=customer)
    fields = ["name", "contracts", "accounts", "balances"]
    if verification is not None:
        fields += ["passport", "address", "account_addresses", "account_phones"]
    personal_data_view_log(actor=request.user, customer=customer, fields=fields, ip=_ip(request))
    context = {
        "customer": customer,
        "contracts": customer_card_contracts(customer=customer),
        "accounts": customer_card_accounts(customer=customer),
        "verification": verification,
        "identity_form": identity_form or IdentityForm(),
        "terminate_form": terminate_form or ContractTerminateForm(),
        "terminate_contract_id": terminate_contract_id,
    }
    return render(request, "backoffice/billing/customer_detail.html", context, status=status)


@staff_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    return _customer_card(request, customer)


@staff_required
@require_POST
def customer_identity_verify(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    form = IdentityForm(request.POST)
    if form.is_valid():
        try:
            identity_verification_record(
                actor=request.user,
                customer=customer,
                method=form.cleaned_data["method"],
                passport=form.cleaned_data["passport"],
                code_word=form.cleaned_data["code_word"],
                payment_amount_kopecks=form.cleaned_data["payment_amount"],
                ip=_ip(request),
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request, _("Личность абонента подтверждена: персональные данные открыты на 30 минут.")
            )
            return redirect("backoffice:customer_detail", customer_id=customer.pk)
    return _customer_card(request, customer, identity_form=form, status=400)


@staff_required
@require_POST
def contract_terminate(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(Contract.objects.select_related("customer"), pk=contract_id)
    form = ContractTerminateForm(request.POST)
    if form.is_valid():
        try:
            contract_terminate_with_accounts(
                contract=contract, reason=form.cleaned_data["reason"], actor=request.user
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request,
                _("Договор %(number)s расторгнут, его лицевые счета закрыты.") % {"number": contract.number},
            )
            return redirect("backoffice:customer_detail", customer_id=contract.customer_id)
    return _customer_card(
        request, contract.customer, terminate_form=form, terminate_contract_id=contract.pk, status=400
    )


# --- personal accounts -----------------------------------------------------------------------------------


def _account_page(
    request: HttpRequest,
    account: PersonalAccount,
    *,
    adjustment_form: AdjustmentForm | None = None,
    flags_form: FlagsForm | None = None,
    status_form: StatusForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = PersonalAccount.objects.select_related("ledger_account", "customer", "contract").get(
        pk=account.pk
    )
    verification = identity_verification_active(actor=request.user, customer=account.customer)
    fields = ["account", "balance", "transfers"] + (
        ["account_address", "account_phone"] if verification else []
    )
    personal_data_view_log(
        actor=request.user, customer=account.customer, fields=fields, ip=_ip(request), via="account"
    )
    context = {
        "account": account,
        "customer": account.customer,
        "verification": verification,
        "recent_transfers": _with_running_balance(
            account, ledger_transfers_for_account(personal_account=account), 0, 10
        ),
        "adjustment_form": adjustment_form or AdjustmentForm(initial={"token": uuid.uuid4().hex}),
        "flags_form": flags_form
        or FlagsForm(
            initial={
                "cash_payment_ban": account.cash_payment_ban,
                "credit_limit": rubles_text(account.credit_limit_kopecks),
            }
        ),
        "status_form": status_form or StatusForm(),
    }
    return render(request, "backoffice/billing/account_detail.html", context, status=status)


def rubles_text(kopecks: int) -> str:
    rubles, rest = divmod(kopecks, 100)
    return f"{rubles},{rest:02d}" if rest else str(rubles)


def _with_running_balance(account: PersonalAccount, transfers: Any, offset: int, limit: int) -> list[Any]:
    """Transfers (newest first) with ``signed_kopecks`` and ``balance_after_kopecks``: the balance right
    after each one, from the current balance minus everything newer (one aggregate query)."""
    ledger_id = account.ledger_account_id
    signed = Case(When(credit_account_id=ledger_id, then=F("amount_kopecks")), default=-F("amount_kopecks"))
    balance = ledger_account_balance(ledger_account_id=ledger_id)
    if offset:
        newer = transfers[:offset].values("pk")
        balance -= transfers.model.objects.filter(pk__in=newer).aggregate(total=Coalesce(Sum(signed), 0))[
            "total"
        ]
    rows = list(transfers.select_related("actor")[offset : offset + limit])
    for row in rows:
        row.signed_kopecks = row.amount_kopecks if row.credit_account_id == ledger_id else -row.amount_kopecks
        row.balance_after_kopecks = balance
        balance -= row.signed_kopecks
    return rows


@staff_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(PersonalAccount, pk=account_id)
    return _account_page(request, account)


@staff_required
@require_POST
def account_adjust(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(PersonalAccount.objects.select_related("ledger_account"), pk=account_id)
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            result = ledger_adjustment_post(
                personal_account=account,
                direction=form.cleaned_data["direction"],
                amount_kopecks=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                token=form.cleaned_data["token"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            if result.created:
                messages.success(request, _("Корректировка проведена."))
            else:
                messages.info(
                    request, _("Эта корректировка уже была проведена, повторно деньги не двигались.")
                )
            return redirect("backoffice:account_detail", account_id=account.pk)
    return _account_page(request, account, adjustment_form=form, status=400)


@staff_required
@require_POST
def account_flags(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(PersonalAccount, pk=account_id)
    form = FlagsForm(request.POST)
    if form.is_valid():
        try:
            personal_account_update_flags(
                personal_account=account,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                cash_payment_ban=form.cleaned_data["cash_payment_ban"],
                credit_limit_kopecks=form.cleaned_data["credit_limit"],
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Флаги лицевого счёта сохранены."))
            return redirect("backoffice:account_detail", account_id=account.pk)
    return _account_page(request, account, flags_form=form, status=400)


@staff_required
@require_POST
def account_status(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(PersonalAccount, pk=account_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            personal_account_staff_status_change(
                personal_account=account,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Статус лицевого счёта изменён."))
            return redirect("backoffice:account_detail", account_id=account.pk)
    return _account_page(request, account, status_form=form, status=400)


@staff_required
def account_ledger(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(
        PersonalAccount.objects.select_related("ledger_account", "customer"), pk=account_id
    )
    transfers = ledger_transfers_for_account(personal_account=account)
    paginator = Paginator(transfers.values("pk"), LEDGER_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    offset = (page.number - 1) * LEDGER_PAGE_SIZE
    rows = _with_running_balance(account, transfers, offset, LEDGER_PAGE_SIZE)
    return render(
        request,
        "backoffice/billing/account_ledger.html",
        {"account": account, "rows": rows, "page": page},
    )


# --- billing runs ----------------------------------------------------------------------------------------


@staff_required
def billing_runs(request: HttpRequest) -> HttpResponse:
    page = Paginator(BillingRun.objects.order_by("-started_at", "-pk"), RUNS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "backoffice/billing/billing_runs.html", {"page": page})
