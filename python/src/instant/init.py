"""Channel naming and settings generation (django-instant's ``instant.init``, same import path).

Private channels
----------------
The server (like Centrifugo) treats a channel as private when its **whole name** starts with the
private prefix ``$``; the namespace is read after that prefix (``$ns:chan`` is channel ``chan`` of
namespace ``ns``, private). django-instant made namespaced names private as ``ns:$chan``, which the
server sees as an ordinary channel of namespace ``ns`` that anyone allowed in ``ns`` can subscribe
to without a token. :func:`ensure_channel_is_private` therefore puts the ``$`` in front of the
namespace, and moves django-instant's misplaced ``$`` there: ``ns:chan`` and ``ns:$chan`` both
become ``$ns:chan``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

PRIVATE_PREFIX = "$"
NAMESPACE_BOUNDARY = ":"


def is_private(channel: str) -> bool:
    """Whether the server treats ``channel`` as private (subscribing needs a subscription token)."""
    return channel.startswith(PRIVATE_PREFIX)


def ensure_channel_is_private(chan: str) -> str:
    """Return ``chan`` made private for the server: prefixed with ``$`` as a whole.

    >>> ensure_channel_is_private("chan"), ensure_channel_is_private("$chan")
    ('$chan', '$chan')
    >>> ensure_channel_is_private("ns:chan"), ensure_channel_is_private("ns:$chan")
    ('$ns:chan', '$ns:chan')
    >>> ensure_channel_is_private("a:b:c")
    '$a:b:c'
    """
    name = chan if is_private(chan) else PRIVATE_PREFIX + chan
    namespace, boundary, rest = name[1:].partition(NAMESPACE_BOUNDARY)
    if boundary and rest.startswith(PRIVATE_PREFIX):
        # django-instant's "ns:$chan" form: the "$" belongs in front of the namespace.
        name = PRIVATE_PREFIX + namespace + NAMESPACE_BOUNDARY + rest[1:]
    return name


def default_site_name() -> str:
    """The directory name of ``settings.BASE_DIR`` (a ``str`` or a ``Path``), else of the working directory."""
    from django.conf import settings

    base_dir = getattr(settings, "BASE_DIR", None)
    return Path(str(base_dir)).name if base_dir else Path.cwd().name


def generate_settings_from_conf(conf: Mapping[str, Any], site_name: str | None = None) -> list[str]:
    """The Django settings lines matching a server ``config.json`` (what ``installws`` prints)."""
    return [
        'CENTRIFUGO_HOST = "http://localhost"',
        "CENTRIFUGO_PORT = 8427",
        f'CENTRIFUGO_HMAC_KEY = "{conf["token_hmac_secret_key"]}"',
        f'CENTRIFUGO_API_KEY = "{conf["api_key"]}"',
        f'SITE_NAME = "{site_name if site_name is not None else default_site_name()}"',
    ]
