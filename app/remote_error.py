"""The one error a remote desk raises, kept apart from the HTTP client so screens can name it
without importing the network stack."""
from __future__ import annotations


class RemoteError(Exception):
    """The server could not be reached, or refused the request (with its code and sentence)."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
