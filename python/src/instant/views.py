"""JSON endpoints for the browser client (mounted under ``instant/``).

| path | name | what |
|---|---|---|
| ``login/`` | ``instant-login`` | POST ``{"username", "password"}``: logs in (session) and returns the tokens |
| ``get_token/`` | ``instant-get-token`` | the tokens of the session's user |
| ``subscribe/`` | ``instant-subscribe`` | subscription tokens (4.x shape, or the centrifuge-js 2 ``{client, channels}`` shape) |
| ``logout/`` | ``instant-logout`` | POST, with the CSRF token: logs out |

The token response is ``{"csrf_token", "ws_token", "channels": [{"name", "level", "token"}, ...]}``.
Errors are JSON ``{"error": "..."}`` with status 400 (bad body), 403 (not allowed) or 405 (method).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import auth
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import conf
from .models import Channel
from .token import UserLike, channel_token, connection_token


class BadRequest(Exception):
    """The request body is not what the endpoint takes (answered with a 400)."""


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_object(request: HttpRequest, *, allow_empty: bool) -> dict[str, Any]:
    raw = request.body
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("the body must be a JSON object")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    return value


def _subject(request: HttpRequest) -> UserLike | None:
    """The session's user, ``None`` for an anonymous visitor allowed in, or raise PermissionError."""
    user = request.user
    if user.is_authenticated:
        return user
    if conf.allow_anonymous():
        return None
    raise PermissionError("log in first")


def channels_for(user: UserLike | None) -> list[dict[str, str]]:
    """``[{"name", "level", "token"}]`` for every channel ``user`` may subscribe to."""
    return [
        {"name": name, "level": level, "token": channel_token(name, user)}
        for name, level in Channel.objects.for_user(user).values_list("name", "level")
    ]


def token_response(request: HttpRequest, user: UserLike | None) -> JsonResponse:
    """The login/get_token response for ``user`` (``None``: anonymous)."""
    return JsonResponse(
        {
            "csrf_token": get_token(request),
            "ws_token": connection_token(user),
            "channels": channels_for(user),
        }
    )


@csrf_exempt
def login_and_get_tokens(request: HttpRequest) -> JsonResponse:
    """Log in with a JSON ``{"username", "password"}`` POST and return the tokens.

    An already authenticated session gets its tokens whatever the method and body.
    """
    if request.user.is_authenticated:
        return token_response(request, request.user)
    if request.method != "POST":
        return _error(403, "POST a JSON object with username and password to log in")
    try:
        body = _json_object(request, allow_empty=False)
    except BadRequest as error:
        return _error(400, str(error))
    username, password = body.get("username"), body.get("password")
    missing = [key for key, value in (("username", username), ("password", password)) if not isinstance(value, str)]
    if missing:
        return _error(400, f"missing or not a string: {', '.join(missing)}")
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        return _error(403, "invalid username or password")
    auth.login(request, user)
    return token_response(request, user)


@csrf_exempt
def get_connection_token(request: HttpRequest) -> JsonResponse:
    """The tokens of the session's user; anonymous visitors get 403, or, with
    ``INSTANT_ALLOW_ANONYMOUS``, an anonymous connection token and the public channels."""
    try:
        user = _subject(request)
    except PermissionError as error:
        return _error(403, str(error))
    return token_response(request, user)


@csrf_exempt
def channels_subscription(request: HttpRequest) -> JsonResponse:
    """Subscription tokens.

    * centrifuge-js 2 ``subscribeEndpoint`` body ``{"client": "<id>", "channels": ["$a", ...]}``:
      ``{"channels": [{"channel", "token"}]}`` for the requested channels the user may join, each
      token bound to that connection;
    * any other body (empty included): ``{"channels": [{"name", "level", "token"}]}`` for every
      channel the user may join (django-instant 4.x).
    """
    try:
        user = _subject(request)
    except PermissionError as error:
        return _error(403, str(error))
    try:
        body = _json_object(request, allow_empty=True)
    except BadRequest as error:
        return _error(400, str(error))
    if "client" not in body:
        return JsonResponse({"channels": channels_for(user)})
    client, requested = body.get("client"), body.get("channels")
    if not isinstance(client, str) or not client:
        return _error(400, "client must be the connection id (a non-empty string)")
    if not isinstance(requested, list) or not all(isinstance(name, str) for name in requested):
        return _error(400, "channels must be a list of channel names")
    allowed = set(Channel.objects.for_user(user).filter(name__in=requested).values_list("name", flat=True))
    return JsonResponse(
        {
            "channels": [
                {"channel": name, "token": channel_token(name, user, client=client)}
                for name in dict.fromkeys(requested)
                if name in allowed
            ]
        }
    )


@require_POST
def logout(request: HttpRequest) -> JsonResponse:
    """Log out (POST with the CSRF token, like any state-changing request)."""
    if not request.user.is_authenticated:
        return _error(403, "not logged in")
    auth.logout(request)
    return JsonResponse({"response": "ok"})
