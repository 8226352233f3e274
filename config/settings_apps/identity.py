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
