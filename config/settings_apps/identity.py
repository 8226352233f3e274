"""django-allauth and identity settings."""

import os

from config.settings import PRODUCTION

ACCOUNT_LOGIN_METHODS = {"phone", "email"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 7
ACCOUNT_ADAPTER = "kabinet.identity.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "kabinet.identity.adapters.SocialAccountAdapter"
USSD_SHARED_SECRET = os.environ.get("USSD_SHARED_SECRET", "" if PRODUCTION else "dev-ussd-secret")
# "Phone OR email" signup is our own form (kabinet.identity.forms); allauth's check wants one of them
# required, which is not the rule here.
ACCOUNT_SIGNUP_FIELDS = ["phone", "email", "password1*", "password2*"]
SILENCED_SYSTEM_CHECKS = ["account.W001"]

# --- Social networks, two-factor, passkeys, sessions, app API (helper ID-B) ------------------------
# A provider appears on the login page and in the profile only when its client id is set.
_SOCIAL_ENV = {
    "vk": ("VK_CLIENT_ID", "VK_SECRET"),
    "yandex": ("YANDEX_CLIENT_ID", "YANDEX_SECRET"),
    "mailru": ("MAILRU_CLIENT_ID", "MAILRU_SECRET"),
    "odnoklassniki": ("OK_CLIENT_ID", "OK_SECRET"),
}
SOCIALACCOUNT_PROVIDERS: dict[str, dict] = {
    provider: {"APPS": [{"client_id": os.environ[id_var], "secret": os.environ.get(secret_var, "")}]}
    for provider, (id_var, secret_var) in _SOCIAL_ENV.items()
    if os.environ.get(id_var)
}
if os.environ.get("OK_CLIENT_ID"):
    # OK.ru needs the application's public key as well.
    SOCIALACCOUNT_PROVIDERS["odnoklassniki"]["APPS"][0]["key"] = os.environ.get("OK_PUBLIC_KEY", "")
# Social networks log in an existing subscriber who linked them in the profile; they do not register.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_QUERY_EMAIL = True

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Летай"
# Passkeys on http://127.0.0.1 in the embedded default; production is https only.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION

USERSESSIONS_TRACK_ACTIVITY = True

HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_ONLY = False

# allauth is listed before kabinet.identity in INSTALLED_APPS, so identity's templates that override
# allauth's (account/, mfa/, socialaccount/, usersessions/) are found through DIRS, before app dirs.
from config.settings import BASE_DIR, TEMPLATES  # noqa: E402

_IDENTITY_TEMPLATES = BASE_DIR / "kabinet" / "identity" / "templates"
_TEMPLATE_DIRS: list = TEMPLATES[0]["DIRS"]  # type: ignore[assignment]
if _IDENTITY_TEMPLATES not in _TEMPLATE_DIRS:
    _TEMPLATE_DIRS.append(_IDENTITY_TEMPLATES)
