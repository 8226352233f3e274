"""Forms of the subscriber's pages. Every field has a label; errors are tied to fields by Django 5.2's
aria-describedby / aria-invalid rendering (``{{ field.as_field_group }}``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kabinet.billing.numbers import personal_account_number_clean, personal_account_number_is_valid
from kabinet.core.exceptions import DomainError
from kabinet.core.money import rubles_to_kopecks


class PortalForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AccountNumberField(forms.CharField):
    def clean(self, value: Any) -> str:
        text = super().clean(value)
        number = personal_account_number_clean(text)
        if not personal_account_number_is_valid(number):
            raise forms.ValidationError(
                _("Номер лицевого счёта указан неверно: нужно 10 цифр, проверьте каждую цифру.")
            )
        return number


class AttachStartForm(PortalForm):
    METHOD_SMS = "sms"
    METHOD_CONTRACT = "contract"

    number = AccountNumberField(
        label=_("Номер лицевого счёта"),
        max_length=20,
        help_text=_("10 цифр, указан в договоре и в квитанции."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    method = forms.ChoiceField(
        label=_("Как подтвердить, что счёт ваш"),
        choices=[
            (METHOD_SMS, _("Код в SMS на телефон, указанный в договоре")),
            (METHOD_CONTRACT, _("Номер договора и сумма последнего платежа")),
        ],
        initial=METHOD_SMS,
        widget=forms.RadioSelect,
    )
    contract_number = forms.CharField(
        label=_("Номер договора"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    last_payment = forms.CharField(
        label=_("Сумма последнего платежа, ₽"),
        max_length=20,
        required=False,
        help_text=_("Точно как в чеке, например 500 или 415,50."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") == self.METHOD_CONTRACT:
            if not (data.get("contract_number") or "").strip():
                self.add_error("contract_number", _("Укажите номер договора."))
            raw = data.get("last_payment") or ""
            if not raw.strip():
                self.add_error("last_payment", _("Укажите сумму последнего платежа."))
            else:
                try:
                    data["last_payment_kopecks"] = rubles_to_kopecks(raw)
                except DomainError as exc:
                    self.add_error("last_payment", exc.message)
        return data


class AttachCodeForm(PortalForm):
    number = AccountNumberField(widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("Код из SMS"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class HistoryFilterForm(PortalForm):
    KIND_CHOICES = [
        ("", _("Все операции")),
        ("charges", _("Списания")),
        ("payments", _("Платежи")),
        ("other", _("Прочее")),
    ]
    date_from = forms.DateField(
        label=_("С даты"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("По дату"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(label=_("Операции"), choices=KIND_CHOICES, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("Дата окончания периода раньше даты начала."))
        return data
