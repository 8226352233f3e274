"""django-allauth and identity settings."""

import os

# Read from the environment like config.settings does (importing config.settings here would be circular).
_PRODUCTION = os.environ.get("KABINET_ENV", "embedded") == "production"

ACCOUNT_LOGIN_METHODS = {"phone", "email"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 7
ACCOUNT_ADAPTER = "kabinet.identity.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "kabinet.identity.adapters.SocialAccountAdapter"
USSD_SHARED_SECRET = os.environ.get("USSD_SHARED_SECRET", "" if _PRODUCTION else "dev-ussd-secret")
# "Phone OR email" signup: one page (account/signup.html) with two forms. The email form is allauth's
# signup (kabinet.identity.forms.EmailSignupForm); the phone form is our own flow (code first, then a
# password: kabinet.identity.views.phone_signup), because allauth asks for the password before the code.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
SILENCED_SYSTEM_CHECKS = [
    "account.W001",
    # config/settings.py: the "i18n" template library is ours on purpose (kabinet.core.templatetags.i18n_memo).
    "templates.W003",
]

# --- Registration, login, recovery (helper ID-A) -----------------------------------------------------
ACCOUNT_FORMS = {
    "login": "kabinet.identity.forms.LoginForm",
    "signup": "kabinet.identity.forms.EmailSignupForm",
    "reset_password": "kabinet.identity.forms.EmailPasswordResetForm",
    "request_login_code": "kabinet.identity.forms.RequestLoginCodeForm",
    "set_password": "kabinet.identity.forms.SetPasswordForm",
}
# Unconfirmed email users cannot log in: our login stage (kabinet.identity.stages) makes verification
# mandatory for them and answers with "confirm your email"; global "mandatory" would demand an email
# from phone users too.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Летай: "
# One-time codes: 6 digits, valid 5 minutes, at most 5 wrong attempts.
_SIX_DIGITS = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_FORMAT = _SIX_DIGITS
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = _SIX_DIGITS
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 5 * 60
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 5
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 5 * 60
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 5
# Our own phone codes (registration, USSD login, password recovery by SMS): kabinet.identity.services.
PHONE_CODE_TTL_SECONDS = 5 * 60
PHONE_CODE_MAX_ATTEMPTS = 5
PHONE_CODE_RESEND_SECONDS = 60
# Rate limits live in the Django cache (Redis in production, so every web worker shares them).
# Format: "<count>/<period><unit>/<ip|key|user>", comma-separated.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/300s/key",
    "request_login_code": "20/m/ip,1/m/key",
    "reset_password": "20/m/ip,3/m/key",
    "signup": "20/m/ip",
    # Our phone flows (kabinet.identity.views): requesting a code and typing one.
    "kabinet_phone_code_request": "10/m/ip,5/h/key",
    "kabinet_phone_code_verify": "20/m/ip",
    "kabinet_corporate_signup": "5/m/ip",
}

# Sensitive changes need a session authenticated (login or reauthentication) in the last 10 minutes:
# phone (our /profile/phone/ and the API), email addresses and social links (allauth, through
# AccountAdapter.is_reauthentication_required), a first password. Two-factor settings keep allauth's
# own rule: an explicit reauthentication within the same window. See kabinet.identity.reauth.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 10 * 60

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
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not _PRODUCTION

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
