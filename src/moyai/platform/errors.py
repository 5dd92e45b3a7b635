"""Errors that services raise for bad input: a message for the clerk and the field it concerns."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; nothing was written."""

    code = "invalid"

    def __init__(self, message: str, *, field: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(ServiceError):
    code = "not_found"
