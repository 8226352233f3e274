"""Subscriptions settings: voluntary block limits and the default promised-payment rule.

The operator's own rules live in the database (PromisedPaymentRule, per service kind); these defaults
apply when there is none.
"""

import os

SUBSCRIPTIONS_VOLUNTARY_BLOCK_MIN_DAYS = int(os.environ.get("SUBSCRIPTIONS_VOLUNTARY_BLOCK_MIN_DAYS", "1"))
SUBSCRIPTIONS_VOLUNTARY_BLOCK_MAX_DAYS = int(os.environ.get("SUBSCRIPTIONS_VOLUNTARY_BLOCK_MAX_DAYS", "90"))
# A new block may start no earlier than this many days after the previous one ended.
SUBSCRIPTIONS_VOLUNTARY_BLOCK_GAP_DAYS = int(os.environ.get("SUBSCRIPTIONS_VOLUNTARY_BLOCK_GAP_DAYS", "7"))

SUBSCRIPTIONS_PROMISED_PAYMENT_DEFAULT = {
    "max_amount_kopecks": 50000,
    "term_days": 5,
    "interval_days": 30,
    "min_account_age_days": 30,
    "fee_kopecks": 0,
}
