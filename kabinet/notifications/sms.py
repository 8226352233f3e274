"""Sending SMS. The backend is chosen by settings.SMS_BACKEND: "outbox" (dev) or "smpp" (the SMSC).

Callers use ``sms_send``; it never talks to the network inside a database transaction: the SMPP path
hands the message to the long-lived sender process through the queue (see kabinet.notifications.smpp).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction


def sms_send(*, to: str, text: str) -> None:
    backend = settings.SMS_BACKEND
    if backend == "outbox":
        from kabinet.notifications.outbox import outbox_store_sms

        outbox_store_sms(to=to, text=text)
    elif backend == "smpp":
        from kabinet.notifications.smpp import smpp_enqueue

        transaction.on_commit(lambda: smpp_enqueue(to=to, text=text))
    else:
        raise RuntimeError(f"Unknown SMS_BACKEND {backend!r}")
