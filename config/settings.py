"""Kabinet settings, read from environment variables (see .env.example).

With no variables set this is the *embedded default*: SQLite under var/, locmem cache, eager Celery,
email and SMS into the dev outbox, the sandbox acquirer. Setting KABINET_ENV=production switches the
dev-only conveniences off and requires real services.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KABINET_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


KABINET_ENV = os.environ.get("KABINET_ENV", "embedded")  # embedded | production
PRODUCTION = KABINET_ENV == "production"
DEBUG = env_bool("KABINET_DEBUG", default=not PRODUCTION)

_DEV_SECRET = "kabinet-embedded-default-insecure-secret-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when KABINET_ENV=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The dev outbox (emails and SMS stored in the database, shown at /dev/outbox/) exists only outside
# production: it would leak one-time codes.
DEV_OUTBOX = not PRODUCTION and env_bool("KABINET_DEV_OUTBOX", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.vk",
    "allauth.socialaccount.providers.yandex",
    "allauth.socialaccount.providers.mailru",
    "allauth.socialaccount.providers.odnoklassniki",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.headless",
    "kabinet.core",
    "kabinet.notifications",
    "kabinet.customers",
    "kabinet.identity",
    "kabinet.catalog",
    "kabinet.news",
    "kabinet.billing",
    "kabinet.subscriptions",
    "kabinet.payments",
    "kabinet.bonus",
    "kabinet.support",
    "kabinet.portal",
    "kabinet.api",
    "kabinet.backoffice",
    "kabinet.demo",
]
SANDBOX_ACQUIRER = not PRODUCTION and env_bool("KABINET_SANDBOX_ACQUIRER", default=True)
if SANDBOX_ACQUIRER:
    INSTALLED_APPS.append("kabinet.sandbox_acquirer")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kabinet.core.middleware.RussianFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the user is known: a subscriber's remembered language wins (kabinet/identity/middleware.py).
    "kabinet.identity.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kabinet.identity.sessions_activity.ThrottledUserSessionsMiddleware",
]

# Machine-to-machine requests (no cookies, no language, JSON, CSRF-exempt) get only this middleware
# (kabinet/core/machine_requests.py).
MACHINE_PATH_PREFIXES = ["/payments/notifications/", "/sandbox-acquirer/api/"]
MACHINE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kabinet.core.machine_requests.OperatorLanguageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kabinet" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kabinet.core.context_processors.site",
            ],
            # {% load i18n %} with constant {% translate %} memoised per language (see the module). The
            # name deliberately shadows Django's library, so its templates.W003 warning is silenced below.
            "libraries": {"i18n": "kabinet.core.templatetags.i18n_memo"},
        },
    }
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
    _postgresql = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if _postgresql:
        # Django's backend with a health check that polls the socket instead of sending SELECT 1.
        DATABASES["default"]["ENGINE"] = "kabinet.core.postgresql"
    if _postgresql and env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # The hand-written reads on every request (kabinet.core.prepared) are prepared once a connection
        # has run them DATABASE_PREPARE_THRESHOLD times, so PostgreSQL plans them once per connection.
        # Django's own queries keep client-side binding and are never prepared. Off behind a
        # transaction-mode connection pooler that cannot keep prepared statements.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(
            os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("KABINET_SQLITE_PATH", str(VAR_DIR / "kabinet.sqlite3")),
            "OPTIONS": {
                # WAL + a busy timeout let the dev server, the outbox command and tests share the file.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ATOMIC_REQUESTS = False

# --- Cache, Celery --------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", REDIS_URL)
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if CACHE_REDIS_URL and _xdist_worker.startswith("gw"):
    # Parallel test workers each get their own Redis database: cache.clear() is FLUSHDB.
    from urllib.parse import urlsplit, urlunsplit

    _parts = urlsplit(CACHE_REDIS_URL)
    _base_db = int(_parts.path.strip("/") or 0)
    _db = (_base_db + 1 + int(_xdist_worker[2:])) % 16
    CACHE_REDIS_URL = urlunsplit(_parts._replace(path=f"/{_db}"))
if CACHE_REDIS_URL:
    CACHES = {
        # Django's backend reusing its Redis client objects (kabinet/core/redis_cache.py).
        "default": {"BACKEND": "kabinet.core.redis_cache.RedisCache", "LOCATION": CACHE_REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kabinet"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not PRODUCTION)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Europe/Moscow"
CELERY_TASK_ROUTES = {"kabinet.billing.tasks.*": {"queue": "billing"}}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
# Django's and allauth's backends with a cheaper get_user (kabinet/identity/auth_backends.py).
AUTHENTICATION_BACKENDS = [
    "kabinet.identity.auth_backends.ModelBackend",
    "kabinet.identity.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "kabinet.identity.passwords.LatinMixedCaseDigitValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("tt", _("Татарча")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kabinet" / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email and SMS --------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
elif DEV_OUTBOX:
    EMAIL_BACKEND = "kabinet.notifications.outbox.OutboxEmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Летай <noreply@letai.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: "outbox" (dev) or "smpp" (the operator's SMSC).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "smpp" if PRODUCTION else "outbox")
SMPP_HOST = os.environ.get("SMPP_HOST", "127.0.0.1")
SMPP_PORT = int(os.environ.get("SMPP_PORT", "2775"))
SMPP_SYSTEM_ID = os.environ.get("SMPP_SYSTEM_ID", "")
SMPP_PASSWORD = os.environ.get("SMPP_PASSWORD", "")
SMPP_SOURCE_ADDR = os.environ.get("SMPP_SOURCE_ADDR", "Letai")

# --- Operator facts shown in the UI ---------------------------------------------------------------
OPERATOR = {
    "name": "Летай",
    "legal_name": "ПАО «Таттелеком»",
    "hotline": "8-843-222-22-22",
    "short_number": "118-08",
    "whatsapp": "+7 902 718-22-68",
    "address": "Казань, ул. Н. Ершова, 57",
    "inn": "1681000024",
}

# --- Sessions and security ------------------------------------------------------------------------
# Sessions are stored in the database and read through the cache (Redis in production): a logged-in
# page costs no session query. Ending a session (sign out everywhere, deactivation) goes through the
# session engine, which drops both copies.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Domain settings are split by app below so each app owns its own block.
from config.settings_apps import *  # noqa: E402, F403
