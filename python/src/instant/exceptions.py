"""Exceptions raised by instant.

Everything instant raises on purpose derives from :class:`InstantError`::

    InstantError
    ├── ConfigurationError      a required setting is missing or invalid
    └── APIError                publishing through the server API failed
        ├── ServerUnavailable   the server could not be reached, timed out or failed (5xx)
        └── ServerRefused       the server answered with a refusal (HTTP 4xx or an API error reply)
            └── BatchPublishError   some commands of a batch were refused
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class InstantError(Exception):
    """Base class of every error instant raises on purpose."""


class ConfigurationError(InstantError, ImproperlyConfigured, ValueError):
    """A setting instant needs is missing or invalid.

    Also an ``ImproperlyConfigured`` (what Django code expects) and a ``ValueError`` (what
    django-instant raised for a missing key, so existing ``except ValueError`` blocks still work).
    """


class APIError(InstantError):
    """Publishing through the server's HTTP API failed.

    Attributes:
        url: the API URL that was called.
        status: the HTTP status of the reply, or ``None`` when there was no reply.
        code: the API error code (``102`` unknown channel, ``107`` bad request...), or ``None``.
        server_message: the error text the server gave, or a description of the transport failure.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        code: int | None = None,
        server_message: str = "",
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.code = code
        self.server_message = server_message


class ServerUnavailable(APIError):
    """The server could not be reached, did not answer within ``INSTANT_API_TIMEOUT``, or failed (HTTP 5xx)."""


class ServerRefused(APIError):
    """The server answered and refused the request: wrong API key (HTTP 401), bad request, or an
    API error reply such as ``{"error": {"code": 102, "message": "unknown channel"}}``."""


class BatchPublishError(ServerRefused):
    """Some commands of a :func:`instant.producers.publish_many` batch were refused; the others
    were published.

    Attributes:
        errors: ``(index, code, message)`` for each refused command, index into the batch.
    """

    def __init__(self, message: str, *, errors: list[tuple[int, int | None, str]], **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.errors = errors
