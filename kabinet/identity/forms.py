"""Forms of registration, login and recovery (allauth's forms where they fit, ours for phone flows)."""

from __future__ import annotations

import re
from typing import Any

from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.core import context
from allauth.core.exceptions import ReauthenticationRequired
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kabinet.core.phones import PhoneInputError, normalize_phone
from kabinet.customers.validators import validate_inn, validate_kpp, validate_ogrn
from kabinet.identity import services
from kabinet.identity.models import User
from kabinet.identity.reauth import recently_authenticated

ACCOUNT_NUMBER_LOGIN_MESSAGE = _(
    "Вход по номеру лицевого счёта не поддерживается: войдите по номеру телефона или электронной почте."
)

_ACCOUNT_PREFIX = re.compile(r"^\s*(лса|лс|л/с|ls)(?![a-zа-яё])", re.IGNORECASE)


def looks_like_account_number(text: str) -> bool:
    """'ЛС 1234567', or digits that cannot be a Russian phone ('1600012345', '123456789012')."""
    raw = (text or "").strip()
    if _ACCOUNT_PREFIX.match(raw):
        return True
    if not re.fullmatch(r"[\d\s\-]+", raw):
        return False
    digits = re.sub(r"\D", "", raw)
    if not 5 <= len(digits) <= 14:
        return False
    try:
        normalize_phone(raw)
    except PhoneInputError:
        pass
    else:
        return False
    # A mistyped phone ('8 917 123-45-6', '917 123 45 6') gets the phone message instead.
    phone_like = digits[0] in "789" and 9 <= len(digits) <= 11
    return not phone_like


class AccessibleFormMixin:
    """Ties errors and help texts to inputs (aria-describedby, aria-invalid) for screen readers."""

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            bound = self[name]  # type: ignore[index]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}_helptext")
            if bound.errors:
                field.widget.attrs["aria-invalid"] = "true"
                described.append(f"{bound.auto_id}_error")
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)


class RuPhoneField(forms.CharField):
    """A Russian phone number in any usual spelling, cleaned to E.164 (+79171234567)."""

    def __init__(self, *, login: bool = False, **kwargs: Any) -> None:
        # ``login``: the field is a login; something like a personal account number gets the message
        # that login by account number is not supported.
        self.login = login
        kwargs.setdefault("label", _("Номер телефона"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+7 917 123-45-67"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return value
        if self.login and looks_like_account_number(value):
            raise ValidationError(ACCOUNT_NUMBER_LOGIN_MESSAGE, code="account_number")
        try:
            return normalize_phone(value)
        except PhoneInputError as exc:
            raise ValidationError(exc.message, code="invalid_phone") from exc


def _password_field(label: Any, autocomplete: str = "new-password") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


# --- allauth forms -----------------------------------------------------------------------------------


class LoginForm(AccessibleFormMixin, allauth_forms.LoginForm):
    """Phone (any spelling) or email with a password. A personal account number gets a clear refusal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Телефон или электронная почта")
        login.widget.attrs.update({"autocomplete": "username", "placeholder": "+7 917 123-45-67"})
        login.help_text = _("Номер телефона в любом виде (8 917…, +7 917…) или адрес электронной почты.")
        if "password" in self.fields:
            self.fields["password"].label = _("Пароль")
            self.fields["password"].help_text = ""
        if "remember" in self.fields:
            self.fields["remember"].label = _("Запомнить меня")

    def clean_login(self) -> str:
        text = (self.cleaned_data.get("login") or "").strip()
        if "@" in text:
            return text.lower()
        if looks_like_account_number(text):
            raise ValidationError(ACCOUNT_NUMBER_LOGIN_MESSAGE, code="account_number")
        if re.search(r"[^\d\s()+\-.]", text):
            raise ValidationError(
                _("Введите номер телефона или адрес электронной почты."), code="invalid_login"
            )
        try:
            return normalize_phone(text)
        except PhoneInputError as exc:
            raise ValidationError(exc.message, code="invalid_phone") from exc


class EmailSignupForm(AccessibleFormMixin, allauth_forms.SignupForm):
    """Registration by email and password. Both a new and an already registered address end on the same
    "check your email" page (the login stage kabinet.identity.stages sends the link)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Электронная почта")
        self.fields["email"].widget.attrs.update({"placeholder": "name@example.ru", "autocomplete": "email"})
        self.fields["password1"].label = _("Пароль")
        self.fields["password1"].help_text = password_validation.password_validators_help_texts()[-1]
        self.fields["password2"].label = _("Пароль ещё раз")

    def clean_email(self) -> str:
        email = (self.data.get(self.add_prefix("email")) or "").strip().lower()
        if email:
            # An expired unconfirmed registration does not block registering the address again.
            services.registration_purge_expired(email=email)
        return super().clean_email()

    def validate_unique_email(self, value: str) -> str:
        # allauth hides a taken address only under "mandatory" verification; we always hide it: the
        # form stays valid and try_save sends the owner an "account already exists" email instead.
        self.account_already_exists = User.objects.filter(email__iexact=value).exists()
        return value


class EmailPasswordResetForm(AccessibleFormMixin, allauth_forms.ResetPasswordForm):
    """Recovery by email goes only to confirmed addresses; the answer is the same for any address."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Электронная почта")

    def clean_email(self) -> str:
        email: str = super().clean_email()
        self.users: list[Any] = [u for u in self.users if getattr(u, "email_verified", False)]
        return email


class RequestLoginCodeForm(AccessibleFormMixin, allauth_forms.RequestLoginCodeForm):
    """Login by a one-time SMS code (allauth's login by code); the phone in any spelling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].label = _("Электронная почта")
            self.fields["email"].required = False


# --- Our phone flows ---------------------------------------------------------------------------------


class PhoneForm(AccessibleFormMixin, forms.Form):
    phone = RuPhoneField()


class SmsCodeForm(AccessibleFormMixin, forms.Form):
    phone = RuPhoneField()
    code = forms.CharField(
        label=_("Код из SMS"),
        max_length=12,
        help_text=_("6 цифр. Код действует 5 минут."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"[0-9 \-]*"}
        ),
    )


class NewPasswordForm(AccessibleFormMixin, forms.Form):
    password1 = _password_field(_("Пароль"))
    password2 = _password_field(_("Пароль ещё раз"))

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password1"].help_text = password_validation.password_validators_help_texts()[-1]

    def clean_password1(self) -> str:
        password = self.cleaned_data["password1"]
        password_validation.validate_password(password, self.user)
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("Пароли не совпадают."))
        return data


class CorporateSignupForm(NewPasswordForm):
    organization_name = forms.CharField(label=_("Название организации"), max_length=255)
    inn = forms.CharField(label=_("ИНН"), max_length=12)
    kpp = forms.CharField(label=_("КПП"), max_length=9, required=False)
    ogrn = forms.CharField(label=_("ОГРН или ОГРНИП"), max_length=15)
    legal_address = forms.CharField(label=_("Юридический адрес"), max_length=500)
    contact_person = forms.CharField(label=_("Контактное лицо (ФИО)"), max_length=255)
    contact_position = forms.CharField(label=_("Должность"), max_length=255)
    contact_phone = RuPhoneField(label=_("Телефон контактного лица"))
    contact_email = forms.EmailField(
        label=_("Электронная почта"),
        help_text=_("На неё придёт ссылка для подтверждения; по ней вы будете входить в кабинет."),
    )
    consent = forms.BooleanField(
        label=_("Согласен на обработку персональных данных"),
        error_messages={
            "required": _("Без согласия на обработку персональных данных регистрация невозможна.")
        },
    )

    field_order = [
        "organization_name",
        "inn",
        "kpp",
        "ogrn",
        "legal_address",
        "contact_person",
        "contact_position",
        "contact_phone",
        "contact_email",
        "password1",
        "password2",
        "consent",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("inn", "kpp", "ogrn"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        self.fields["kpp"].help_text = _("Для ИП не заполняется.")

    def _strip_digits(self, name: str) -> str:
        return re.sub(r"[\s\-]", "", self.data.get(self.add_prefix(name), "") or "")

    def clean_inn(self) -> str:
        value = self._strip_digits("inn")
        validate_inn(value)
        return value

    def clean_ogrn(self) -> str:
        value = self._strip_digits("ogrn")
        validate_ogrn(value)
        return value

    def clean_kpp(self) -> str:
        value = self._strip_digits("kpp").upper()
        if value:
            validate_kpp(value)
        return value

    def clean_contact_email(self) -> str:
        return self.cleaned_data["contact_email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        inn, kpp, ogrn = data.get("inn"), data.get("kpp"), data.get("ogrn")
        if inn and ogrn:
            if len(inn) == 10 and len(ogrn) != 13:
                self.add_error("ogrn", _("У организации ОГРН из 13 цифр."))
            if len(inn) == 12 and len(ogrn) != 15:
                self.add_error("ogrn", _("У индивидуального предпринимателя ОГРНИП из 15 цифр."))
        if inn and len(inn) == 10 and not kpp and "kpp" not in self.errors:
            self.add_error("kpp", _("Укажите КПП организации."))
        return data

    def questionnaire(self) -> services.OrganizationQuestionnaire:
        d = self.cleaned_data
        return services.OrganizationQuestionnaire(
            organization_name=d["organization_name"].strip(),
            inn=d["inn"],
            kpp=d.get("kpp") or "",
            ogrn=d["ogrn"],
            legal_address=d["legal_address"].strip(),
            contact_person=d["contact_person"].strip(),
            contact_position=d["contact_position"].strip(),
            contact_phone=d["contact_phone"],
            contact_email=d["contact_email"],
        )


class SetPasswordForm(allauth_forms.SetPasswordForm):
    """A first password (a subscriber registered without one) needs a fresh session: otherwise a stolen
    session could set a password and keep the cabinet. allauth's middleware turns the exception into
    the reauthentication page (an SMS code for these subscribers) and back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = context.request
        if (
            request is not None
            and not recently_authenticated(session=request.session, user=self.user)
            and get_adapter(request).get_reauthentication_methods(self.user)
        ):
            raise ReauthenticationRequired()
