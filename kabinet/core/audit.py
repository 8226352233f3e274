"""Writing audit rows. Services call ``audit_log`` inside their transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from kabinet.core.models import AuditEvent
from kabinet.core.sql_rows import insert, insert_many


def audit_entry(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """An audit record, not saved yet (``audit_log_many`` writes several in one statement)."""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        actor=actor_obj,
        actor_is_staff=bool(actor_obj and actor_obj.is_staff),
        action=action,
        target_type=target_type or "",
        target_id=str(target_id or ""),
        old=old,
        new=new,
        reason=reason,
        ip=ip,
    )


def audit_log(
    *,
    actor: Any | None,
    action: str,
    target: models.Model | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditEvent:
    # One hand-written INSERT: money paths write an audit record with every credit.
    entry = audit_entry(
        actor=actor, action=action, target=target, target_type=target_type, target_id=target_id,
        old=old, new=new, reason=reason, ip=ip,
    )  # fmt: skip
    return insert(entry)  # type: ignore[no-any-return]


def audit_log_many(entries: Sequence[AuditEvent]) -> None:
    """Write records made by ``audit_entry`` in one multi-row INSERT (a batch of credits)."""
    insert_many(entries)
