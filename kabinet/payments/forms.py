"""Payment forms: the public page (by personal account number) and the cabinet page (choose an account).

Amount and account rules are checked here with the same rule functions the service uses, so each
refusal is shown next to its field before anything is created; the service checks again."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kabinet.billing.models import PersonalAccount
from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.core.exceptions import DomainError
from kabinet.payments.rules import (
    payment_amount_parse,
    payment_check_account,
    payment_check_amount,
    payment_check_period,
    payment_rules_get,
)

# Service error fields -> form fields.
FIELD_MAP = {"personal_account": "account", "amount": "amount", "receipt_email": "email", "card": None}


class _PaymentForm(forms.Form):
    amount = forms.CharField(
        label=_("Сумма, ₽"),
        max_length=20,
        required=False,
        help_text=_("Целое число рублей, от 1 до 15 000."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("Электронная почта для квитанции"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = payment_rules_get()
        self.fields["amount"].help_text = _("Целое число рублей, от %(min)d до %(max)s ₽.") % {
            "min": self.rules.min_amount_kopecks // 100,
            "max": f"{self.rules.max_amount_kopecks // 100:,}".replace(",", " "),
        }
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_errors()

    def mark_errors(self) -> None:
        """Tie each error to its input for screen readers (aria-invalid, aria-describedby)."""
        for name, field in self.fields.items():
            if name in self.errors:
                auto_id = self[name].id_for_label
                field.widget.attrs["aria-invalid"] = "true"
                described = f"{auto_id}-errors"
                if field.help_text:
                    described += f" {auto_id}_helptext"
                field.widget.attrs["aria-describedby"] = described

    def add_error(self, field: str | None, error: Any) -> None:  # type: ignore[override]
        super().add_error(field, error)
        if hasattr(self, "cleaned_data"):
            self.mark_errors()

    def clean_amount(self) -> int:
        try:
            kopecks = payment_amount_parse(amount=self.cleaned_data.get("amount", ""), rules=self.rules)
            payment_check_amount(amount_kopecks=kopecks, rules=self.rules)
        except DomainError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return kopecks

    def check_account_rules(self, account: PersonalAccount) -> None:
        try:
            payment_check_account(personal_account=account)
        except DomainError as exc:
            self.add_error("account", exc.message)
            return
        amount = self.cleaned_data.get("amount")
        if amount:
            try:
                payment_check_period(personal_account=account, amount_kopecks=amount, rules=self.rules)
            except DomainError as exc:
                self.add_error("amount", exc.message)

    def add_domain_error(self, exc: DomainError) -> None:
        field = FIELD_MAP.get(exc.field or "", None)
        self.add_error(field if field in self.fields else None, exc.message)


class PublicPaymentForm(_PaymentForm):
    account = forms.CharField(
        label=_("Номер лицевого счёта"),
        max_length=20,
        help_text=_("10 цифр, указан в договоре и в квитанции."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    agree = forms.BooleanField(
        label=_("Я согласен с Условиями оказания услуги"),
        error_messages={"required": _("Чтобы продолжить, подтвердите согласие с Условиями оказания услуги.")},
    )
    field_order = ["account", "amount", "email", "agree", "idempotency_key"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].error_messages["required"] = _(
            "Укажите электронную почту: на неё придёт квитанция."
        )
        self.personal_account: PersonalAccount | None = None

    def clean_account(self) -> str:
        number = personal_account_number_clean(self.cleaned_data["account"])
        if not number.isdigit() or len(number) != 10:
            raise forms.ValidationError(_("Номер лицевого счёта — 10 цифр."))
        if not personal_account_number_is_valid(number):
            raise forms.ValidationError(
                _("Номер лицевого счёта введён с ошибкой: проверьте цифры (последняя цифра — контрольная).")
            )
        account = PersonalAccount.objects.filter(number=number).first()
        if account is None:
            raise forms.ValidationError(_("Лицевой счёт с таким номером не найден."))
        self.personal_account = account
        return number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.personal_account is not None and "account" not in self.errors:
            self.check_account_rules(self.personal_account)
        return cleaned


class CabinetPaymentForm(_PaymentForm):
    account = forms.ModelChoiceField(
        label=_("Лицевой счёт"), queryset=PersonalAccount.objects.none(), empty_label=None
    )
    field_order = ["account", "amount", "email", "idempotency_key"]

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = accounts
        field.label_from_instance = lambda a: f"{a.number} — {a.get_service_kind_display()}"  # type: ignore[assignment,method-assign]
        self.personal_account = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        account = cleaned.get("account")
        if account is not None:
            self.personal_account = account
            self.check_account_rules(account)
        return cleaned
