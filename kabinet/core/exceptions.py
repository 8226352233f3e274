"""Domain errors: raised by services, shown to people as-is (messages are Russian, through gettext)."""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation with a message meant for the person who asked.

    ``code`` is a stable machine-readable identifier used by the API error format.
    """

    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409
