"""Texts kept for the record are written in the operator's language.

A ledger line's description or a payment description sent to the bank is written once and read later by
anyone: the subscriber in whatever interface language they use then, the operator's staff, a printed
statement. So it is written in the operator's language (``settings.LANGUAGE_CODE``, Russian) whatever
the interface language of the request that caused it; messages shown to the person making the request
(errors, confirmations) stay in their own language.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.utils import translation

P = ParamSpec("P")
T = TypeVar("T")


def operator_language() -> Any:
    """``with operator_language(): text = _("...")``: translations inside use the operator's language."""
    return translation.override(settings.LANGUAGE_CODE)


def stored_text(message: Any, **params: Any) -> str:
    """``message`` (a lazy translation: ``gettext_lazy("... %(x)s")``) in the operator's language, with
    ``params`` filled in."""
    with operator_language():
        text = str(message)
        return text % params if params else text


def in_operator_language(func: Callable[P, T]) -> Callable[P, T]:
    """A function that builds a stored text, run in the operator's language."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with operator_language():
            return func(*args, **kwargs)

    return wrapper
