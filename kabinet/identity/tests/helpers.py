"""Reading what the outbox received (codes and links), as a person trying the demo would."""

from __future__ import annotations

import re

from kabinet.notifications.models import OutboxMessage


def sms_to(phone: str) -> list[str]:
    return list(
        OutboxMessage.objects.filter(channel="sms", to=phone)
        .order_by("sent_at", "id")
        .values_list("body", flat=True)
    )


def last_code(phone: str) -> str:
    bodies = sms_to(phone)
    assert bodies, f"no SMS to {phone}"
    match = re.search(r"\b(\d{6})\b", bodies[-1])
    assert match, bodies[-1]
    return match.group(1)


def emails_to(address: str) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(channel="email", to__icontains=address).order_by("sent_at", "id")
    )


def link_in(body: str, fragment: str) -> str:
    match = re.search(r"https?://\S*" + re.escape(fragment) + r"\S*", body)
    assert match, body
    return match.group(0)


def comparable_page(html: bytes | str, *replace: str) -> str:
    """A page with its CSRF tokens (and the given strings) blanked, to compare two answers."""
    text = html.decode() if isinstance(html, bytes) else html
    text = re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1-", text)
    for item in replace:
        text = text.replace(item, "X")
    return text
