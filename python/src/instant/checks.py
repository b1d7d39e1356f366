"""System checks (``python manage.py check``): instant's settings, reported before the first publish."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from .conf import DEFAULTS, PAYLOAD_FORMATS

_INSTALLWS = "python manage.py installws writes that config (with fresh secrets) and prints the settings lines to paste."


def _setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


@register("instant")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []

    for name, server_key, id_, use in (
        ("CENTRIFUGO_HMAC_KEY", "token_hmac_secret_key", "instant.E001", "sign the connection and subscription tokens"),
        ("CENTRIFUGO_API_KEY", "api_key", "instant.E002", "publish through the server API"),
    ):
        value = _setting(name)
        if not value:
            messages.append(
                Error(
                    f"The {name} setting is missing: instant needs it to {use}.",
                    hint=f'Add {name} = "..." to your settings, with the value of "{server_key}" in the '
                    f"websockets server's config.json. {_INSTALLWS}",
                    id=id_,
                )
            )
        elif not isinstance(value, (str, bytes) if name == "CENTRIFUGO_HMAC_KEY" else str):
            messages.append(
                Error(
                    f"The {name} setting must be a string, not {type(value).__name__}.",
                    hint=f'Set it to the "{server_key}" string of the server\'s config.json.',
                    id=id_,
                )
            )

    host = _setting("CENTRIFUGO_HOST")
    if not isinstance(host, str) or not host.startswith(("http://", "https://")):
        messages.append(
            Error(
                f"CENTRIFUGO_HOST must be a URL starting with http:// or https://, not {host!r}.",
                hint='For a server on this machine: CENTRIFUGO_HOST = "http://localhost".',
                id="instant.E003",
            )
        )

    port = _setting("CENTRIFUGO_PORT")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        messages.append(
            Error(
                f"CENTRIFUGO_PORT must be a port number (an int) or None, not {port!r}.",
                hint="The server listens on 8427 by default; use None when CENTRIFUGO_HOST already "
                "points to a proxy in front of it.",
                id="instant.E004",
            )
        )

    fmt = _setting("INSTANT_PAYLOAD_FORMAT")
    if fmt not in PAYLOAD_FORMATS:
        messages.append(
            Error(
                f"INSTANT_PAYLOAD_FORMAT must be one of {', '.join(map(repr, PAYLOAD_FORMATS))}, not {fmt!r}.",
                hint='"string" sends the payload as a JSON string (django-instant >= 2.4 and its JS '
                'clients); "object" as a JSON object.',
                id="instant.E005",
            )
        )

    timeout = _setting("INSTANT_API_TIMEOUT")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        messages.append(
            Error(
                f"INSTANT_API_TIMEOUT must be a positive number of seconds, not {timeout!r}.",
                hint="Publishing gives up after this long; the default is 1.0.",
                id="instant.E006",
            )
        )

    ttl = _setting("INSTANT_TOKEN_TTL")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        messages.append(
            Error(
                f"INSTANT_TOKEN_TTL must be a positive number of seconds (an int), not {ttl!r}.",
                hint="Tokens issued by instant's endpoints live this long; the default is 86400 (24 h).",
                id="instant.E007",
            )
        )

    if "django.contrib.auth" not in settings.INSTALLED_APPS:
        messages.append(
            Error(
                "instant needs django.contrib.auth in INSTALLED_APPS (channels are granted to users and groups).",
                id="instant.E008",
            )
        )

    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    needed = [
        m
        for m in ("django.contrib.sessions.middleware.SessionMiddleware", "django.contrib.auth.middleware.AuthenticationMiddleware")
        if m not in middleware
    ]
    if needed:
        messages.append(
            Warning(
                f"{' and '.join(needed)} {'is' if len(needed) == 1 else 'are'} not in MIDDLEWARE: instant's "
                "login/, get_token/, subscribe/ and logout/ endpoints need the session's user.",
                hint="Add them to MIDDLEWARE, or ignore this if the site only publishes (silence instant.W001).",
                id="instant.W001",
            )
        )

    return messages
