"""Hooks run after payments are credited, for apps on the same layer (the bonus programme).

``payments`` and ``bonus`` sit on the same layer and do not import each other: an app registers a
callable here from its ``AppConfig.ready`` and every crediting path (card notifications, bank
registries, office cash, autopay) calls :func:`payments_credited_notify` inside its transaction, so a
hook's writes commit or roll back together with the credit. Hooks receive a list (registries credit
thousands of payments at once) and must be idempotent: a replayed credit may call them again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

PaymentsCreditedHook = Callable[[Sequence[Any]], object]

_credited_hooks: list[PaymentsCreditedHook] = []


def payments_credited_hook_register(hook: PaymentsCreditedHook) -> None:
    if hook not in _credited_hooks:
        _credited_hooks.append(hook)


def payments_credited_notify(*, payments: Sequence[Any]) -> None:
    """Call every registered hook with credited Payment rows (saved, status succeeded)."""
    if not payments:
        return
    for hook in list(_credited_hooks):
        hook(payments)
