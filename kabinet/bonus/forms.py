from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class RedeemForm(forms.Form):
    personal_account = forms.TypedChoiceField(label=_("Лицевой счёт"), coerce=int)
    points = forms.IntegerField(label=_("Сколько баллов списать"), min_value=1)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, accounts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["personal_account"].choices = accounts  # type: ignore[attr-defined]


class BonusRuleForm(forms.Form):
    points_per_100_rub = forms.IntegerField(label=_("Баллов за каждые 100 ₽ платежа"), min_value=0)
    min_payment_rub = forms.IntegerField(label=_("Минимальный платёж для начисления, ₽"), min_value=0)
    kopecks_per_point = forms.IntegerField(label=_("Стоимость балла, копеек"), min_value=1)
    expiry_days = forms.IntegerField(label=_("Срок действия баллов, дней"), min_value=1)
    is_active = forms.BooleanField(label=_("Начисление включено"), required=False)
    reason = forms.CharField(label=_("Причина изменения"), max_length=255)
