"""Settings of instant, read from ``django.conf.settings`` at call time.

Nothing is cached, so ``override_settings`` and settings changed at run time take effect on the next
call (django-instant read them once at import).

| setting | default | meaning |
|---|---|---|
| ``CENTRIFUGO_HOST`` | ``"http://localhost"`` | scheme and host of the server's HTTP API |
| ``CENTRIFUGO_PORT`` | ``8427`` | its port; ``None`` for no port (behind a proxy) |
| ``CENTRIFUGO_HMAC_KEY`` | ``None`` (required) | the server's ``token_hmac_secret_key``: signs the JWTs |
| ``CENTRIFUGO_API_KEY`` | ``None`` (required) | the server's ``api_key``: authorizes publishing |
| ``SITE_NAME`` | ``"Site"`` | the ``site`` field of every published payload |
| ``INSTANT_ALLOW_ANONYMOUS`` | ``False`` | give anonymous visitors a connection token and the public channels |
| ``INSTANT_TOKEN_TTL`` | ``86400`` | lifetime of the tokens, in seconds |
| ``INSTANT_API_TIMEOUT`` | ``1.0`` | timeout of one API call, in seconds (connect, write, read) |
| ``INSTANT_PAYLOAD_FORMAT`` | ``"string"`` | ``"string"``: the payload is sent as a JSON string (django-instant ≥ 2.4 and its JS clients); ``"object"``: as a JSON object |

The names of django-instant's ``instant.conf`` constants (``CENTRIFUGO_HOST``...) still import, and
give the current value when read as attributes of this module (``from instant import conf;
conf.CENTRIFUGO_HOST``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "CENTRIFUGO_HOST": "http://localhost",
    "CENTRIFUGO_PORT": 8427,
    "CENTRIFUGO_HMAC_KEY": None,
    "CENTRIFUGO_API_KEY": None,
    "SITE_NAME": "Site",
    "SITE_SLUG": "site",  # read by django-instant but unused since 2.0; kept for imports
    "INSTANT_ALLOW_ANONYMOUS": False,
    "INSTANT_TOKEN_TTL": 86400,
    "INSTANT_API_TIMEOUT": 1.0,
    "INSTANT_PAYLOAD_FORMAT": "string",
}

PAYLOAD_FORMATS = ("string", "object")


def get(name: str) -> Any:
    """The current value of the instant setting ``name``, or its default."""
    return getattr(settings, name, DEFAULTS[name])


def hmac_key() -> str | bytes:
    """``CENTRIFUGO_HMAC_KEY``; raises :class:`~instant.exceptions.ConfigurationError` when unset."""
    from .exceptions import ConfigurationError

    key = get("CENTRIFUGO_HMAC_KEY")
    if not key:
        raise ConfigurationError(
            "Provide a CENTRIFUGO_HMAC_KEY in settings: the token_hmac_secret_key of the server's "
            "config.json (python manage.py installws prints it)"
        )
    return key  # type: ignore[no-any-return]


def api_key() -> str:
    """``CENTRIFUGO_API_KEY``; raises :class:`~instant.exceptions.ConfigurationError` when unset."""
    from .exceptions import ConfigurationError

    key = get("CENTRIFUGO_API_KEY")
    if not key:
        raise ConfigurationError(
            "Provide a CENTRIFUGO_API_KEY in settings: the api_key of the server's config.json "
            "(python manage.py installws prints it)"
        )
    return str(key)


def server_url() -> str:
    """``CENTRIFUGO_HOST`` with ``:CENTRIFUGO_PORT`` appended unless the port is ``None``."""
    host = str(get("CENTRIFUGO_HOST")).rstrip("/")
    port = get("CENTRIFUGO_PORT")
    return host if port is None else f"{host}:{port}"


def api_url(method: str | None = None) -> str:
    """The legacy API endpoint (``<server>/api``), or ``<server>/api/<method>``."""
    base = server_url() + "/api"
    return base if method is None else f"{base}/{method}"


def timeout() -> float:
    """``INSTANT_API_TIMEOUT`` as a float."""
    return float(get("INSTANT_API_TIMEOUT"))


def token_ttl() -> int:
    """``INSTANT_TOKEN_TTL`` as an int."""
    return int(get("INSTANT_TOKEN_TTL"))


def payload_format() -> str:
    """``INSTANT_PAYLOAD_FORMAT``; raises ConfigurationError when it is not ``string`` or ``object``."""
    from .exceptions import ConfigurationError

    value = get("INSTANT_PAYLOAD_FORMAT")
    if value not in PAYLOAD_FORMATS:
        raise ConfigurationError(f"INSTANT_PAYLOAD_FORMAT must be 'string' or 'object', not {value!r}")
    return str(value)


def allow_anonymous() -> bool:
    """``INSTANT_ALLOW_ANONYMOUS``."""
    return bool(get("INSTANT_ALLOW_ANONYMOUS"))


def __getattr__(name: str) -> Any:
    # django-instant's module constants, resolved at access time.
    if name in DEFAULTS:
        return get(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
