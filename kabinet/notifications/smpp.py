"""SMS to the operator's SMSC over SMPP: messages are queued in Redis and one long-lived sender
process (``kabinet smpp-sender``) keeps a single bind and submits them. Never a bind per message."""

from __future__ import annotations

import json

from django.conf import settings

QUEUE_KEY = "kabinet:sms:outgoing"


def smpp_enqueue(*, to: str, text: str) -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.rpush(QUEUE_KEY, json.dumps({"to": to, "text": text}))
