"""Writing audit rows. Services call ``audit_log`` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from kabinet.core.models import AuditEvent
from kabinet.core.sql_rows import insert


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
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    # One hand-written INSERT: money paths write an audit record with every credit.
    return insert(  # type: ignore[no-any-return]
        AuditEvent(
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
    )
