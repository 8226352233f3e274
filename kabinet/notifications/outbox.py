"""The dev outbox: an email backend and an SMS backend that store messages instead of sending them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, EmailMultiAlternatives

from kabinet.notifications.models import OutboxMessage


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            html = ""
            if isinstance(message, EmailMultiAlternatives):
                for content, mimetype in message.alternatives:
                    if mimetype == "text/html":
                        html = str(content)
            for recipient in message.recipients():
                OutboxMessage.objects.create(
                    channel=OutboxMessage.Channel.EMAIL,
                    to=recipient,
                    subject=str(message.subject),
                    body=str(message.body),
                    html=html,
                )
            sent += 1
        return sent


def outbox_store_sms(*, to: str, text: str, **_: Any) -> None:
    OutboxMessage.objects.create(channel=OutboxMessage.Channel.SMS, to=to, body=text)
