"""JWTs for the websockets server (HS256, signed with ``CENTRIFUGO_HMAC_KEY``).

* connection token: ``{"sub": <user id>, "exp": ..., "iat": ...}``; the user id is
  ``user.get_username()`` and ``""`` for an anonymous visitor (the server's anonymous user);
* subscription token: ``{"sub": <user id>, "channel": <name>, "exp": ..., "iat": ...}``, plus
  ``"client"`` when bound to one connection (the centrifuge-js 2 / ``subscribe/`` 2.x flow).

Tokens live ``INSTANT_TOKEN_TTL`` seconds (24 h by default).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import jwt

from . import conf


class UserLike(Protocol):
    """What instant needs of a user: Django's ``AbstractBaseUser`` and ``AnonymousUser`` fit."""

    @property
    def is_authenticated(self) -> bool: ...

    def get_username(self) -> str: ...


def user_id(user: UserLike | None) -> str:
    """The server-side user id of ``user``: its username, or ``""`` when anonymous or ``None``."""
    if user is None or not user.is_authenticated:
        return ""
    return str(user.get_username())


def _encode(claims: dict[str, Any], ttl: int | None) -> str:
    key = conf.hmac_key()
    now = int(time.time())
    claims["iat"] = now
    claims["exp"] = now + (conf.token_ttl() if ttl is None else ttl)
    return jwt.encode(claims, key, algorithm="HS256")


def connection_token(user: UserLike | None, *, ttl: int | None = None) -> str:
    """A connection token for ``user`` (anonymous when ``None`` or not authenticated)."""
    return _encode({"sub": user_id(user)}, ttl)


def channel_token(channel: str, user: UserLike | None, *, client: str | None = None, ttl: int | None = None) -> str:
    """A subscription token letting ``user`` subscribe to ``channel``.

    ``client`` binds the token to one connection (the server checks it against the connection id);
    it is what the centrifuge-js 2 ``subscribeEndpoint`` flow sends.
    """
    claims: dict[str, Any] = {"sub": user_id(user), "channel": channel}
    if client:
        claims["client"] = client
    return _encode(claims, ttl)
