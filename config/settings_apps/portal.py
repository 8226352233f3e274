"""Portal settings: how long idempotency records (API Idempotency-Key, page form tokens) are kept."""

import os

# A repeat of a request this much later is a new request, not a retry: its record may go.
PORTAL_IDEMPOTENCY_RETENTION_DAYS = int(os.environ.get("PORTAL_IDEMPOTENCY_RETENTION_DAYS", "7"))
