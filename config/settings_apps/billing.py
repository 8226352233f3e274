"""Billing settings."""

import os

BILLING_CHUNK_SIZE = int(os.environ.get("BILLING_CHUNK_SIZE", "20000"))
