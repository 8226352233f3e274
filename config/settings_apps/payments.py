"""Payments settings: the acquirer (YooKassa API v3 protocol), reconciliation, the sandbox acquirer."""

import os

_SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The acquirer. With no variables set, the sandbox acquirer mounted at /sandbox-acquirer/ on this site.
ACQUIRER_BASE_URL = os.environ.get("ACQUIRER_BASE_URL", f"{_SITE_URL}/sandbox-acquirer/api/v3").rstrip("/")
ACQUIRER_SHOP_ID = os.environ.get("ACQUIRER_SHOP_ID", "100500")
ACQUIRER_SECRET_KEY = os.environ.get("ACQUIRER_SECRET_KEY", "test_sandbox_secret_key")
ACQUIRER_CONNECT_TIMEOUT = float(os.environ.get("ACQUIRER_CONNECT_TIMEOUT", "3"))
ACQUIRER_READ_TIMEOUT = float(os.environ.get("ACQUIRER_READ_TIMEOUT", "15"))

# Reconciliation: payments left pending / waiting_for_capture longer than this are asked about.
PAYMENTS_RECONCILE_AFTER_MINUTES = int(os.environ.get("PAYMENTS_RECONCILE_AFTER_MINUTES", "10"))
PAYMENTS_RECONCILE_EVERY_SECONDS = int(os.environ.get("PAYMENTS_RECONCILE_EVERY_SECONDS", "300"))

# The sandbox acquirer (embedded default and tests): its own credentials and where it sends notifications.
SANDBOX_ACQUIRER_SHOP_ID = os.environ.get("SANDBOX_ACQUIRER_SHOP_ID", ACQUIRER_SHOP_ID)
SANDBOX_ACQUIRER_SECRET_KEY = os.environ.get("SANDBOX_ACQUIRER_SECRET_KEY", ACQUIRER_SECRET_KEY)
SANDBOX_ACQUIRER_NOTIFICATION_URL = os.environ.get(
    "SANDBOX_ACQUIRER_NOTIFICATION_URL", f"{_SITE_URL}/payments/notifications/yookassa/"
)
# "send" (default), "delay" (send after SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS) or "drop" (never send).
SANDBOX_ACQUIRER_NOTIFICATIONS = os.environ.get("SANDBOX_ACQUIRER_NOTIFICATIONS", "send")
SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS = int(os.environ.get("SANDBOX_ACQUIRER_NOTIFY_DELAY_SECONDS", "60"))
SANDBOX_ACQUIRER_NOTIFY_ATTEMPTS = int(os.environ.get("SANDBOX_ACQUIRER_NOTIFY_ATTEMPTS", "5"))
# The phone the test cards' "bank" sends its 3-D Secure code to (lands in the dev outbox).
SANDBOX_ACQUIRER_TEST_PHONE = os.environ.get("SANDBOX_ACQUIRER_TEST_PHONE", "+79000000000")

# The public payment page (no login): at most N new payments per client IP within the window (seconds).
PAYMENTS_PUBLIC_RATE_LIMIT = int(os.environ.get("PAYMENTS_PUBLIC_RATE_LIMIT", "20"))
PAYMENTS_PUBLIC_RATE_WINDOW = int(os.environ.get("PAYMENTS_PUBLIC_RATE_WINDOW", "600"))
