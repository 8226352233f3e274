"""Billing settings (the billing run: kabinet/billing/run.py, docs/billing.md)."""

import os

# Personal accounts per chunk: one chunk is one transaction and one Celery task on the `billing` queue.
BILLING_CHUNK_SIZE = int(os.environ.get("BILLING_CHUNK_SIZE", "20000"))
# Price versions that took effect up to this many days before the run date still refresh snapshots
# (a catch-up if a run was missed).
BILLING_PRICE_CATCHUP_DAYS = int(os.environ.get("BILLING_PRICE_CATCHUP_DAYS", "31"))
# The daily fee of a voluntary block is charged by the subscriptions domain's daily job
# (`vblock-fee:<block>:<date>`, from the block's fee snapshot). Set to true only in an installation
# without that job: the run then charges Tariff.voluntary_block_fee_kopecks per day per subscription.
BILLING_RUN_VOLUNTARY_BLOCK_FEE = os.environ.get("BILLING_RUN_VOLUNTARY_BLOCK_FEE", "").lower() in {
    "1",
    "true",
    "yes",
}
# The nightly run (Celery beat, Europe/Moscow): hour and minute.
BILLING_RUN_AT = os.environ.get("BILLING_RUN_AT", "00:30")
