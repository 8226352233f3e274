"""Writes of news items (the back office calls these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kabinet.catalog.models import ServiceKind
from kabinet.core.audit import audit_log
from kabinet.core.exceptions import DomainError
from kabinet.news.models import NewsItem


def news_publish(
    *,
    actor: Any,
    title: str,
    body: str,
    kind: str = NewsItem.Kind.NEWS,
    summary: str = "",
    published_at: dt.datetime | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    target_service_kinds: list[str] | None = None,
    target_localities: list[str] | None = None,
) -> NewsItem:
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Укажите заголовок."), field="title")
    if not (body or "").strip():
        raise DomainError(_("Напишите текст новости."), field="body")
    if kind not in NewsItem.Kind.values:
        raise DomainError(_("Неизвестный вид новости."), field="kind")
    kinds = list(target_service_kinds or [])
    unknown = [k for k in kinds if k not in ServiceKind.values]
    if unknown:
        raise DomainError(
            _("Неизвестная услуга: %(k)s.") % {"k": ", ".join(unknown)}, field="target_service_kinds"
        )
    if starts_at and ends_at and ends_at <= starts_at:
        raise DomainError(_("Окончание работ должно быть позже начала."), field="ends_at")
    with transaction.atomic():
        item = NewsItem.objects.create(
            kind=kind,
            title=title,
            summary=summary.strip(),
            body=body.strip(),
            published_at=published_at or timezone.now(),
            starts_at=starts_at,
            ends_at=ends_at,
            target_service_kinds=kinds,
            target_localities=[loc.strip() for loc in (target_localities or []) if loc.strip()],
        )
        audit_log(actor=actor, action="news.publish", target=item, new={"title": title, "kind": kind})
    return item


def news_unpublish(*, actor: Any, item: NewsItem) -> NewsItem:
    with transaction.atomic():
        item.is_published = False
        item.save(update_fields=["is_published", "updated_at"])
        audit_log(actor=actor, action="news.unpublish", target=item)
    return item
