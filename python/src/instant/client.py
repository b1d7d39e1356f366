"""The HTTP transport to the server's API: one pooled connection per process, bounded timeouts.

Publishing goes through the legacy endpoint ``POST <server>/api`` (``Authorization: apikey KEY``, one
JSON command per line), which the instant server and every Centrifugo from v3 to v6 accept, so a
site can switch servers without touching its settings. Batches go through ``POST <server>/api/batch``
(``X-API-Key``; the instant server, Centrifugo v5 and later).

The URL, the API key and the timeout are read from the settings on every call; the HTTP client
itself (``httpx.Client``, thread-safe) is created once per process and keeps its connections open
between calls. Async callers get an ``httpx.AsyncClient`` per event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import weakref
from typing import Any, Sequence

import httpx
from django.core.serializers.json import DjangoJSONEncoder

from . import conf
from .exceptions import APIError, BatchPublishError, ServerRefused, ServerUnavailable

_lock = threading.Lock()
_client: httpx.Client | None = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()

_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=4, keepalive_expiry=30.0)


def _headers_legacy(key: str) -> dict[str, str]:
    return {"Authorization": f"apikey {key}", "Content-Type": "application/json"}


def _headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key, "Content-Type": "application/json"}


def dumps(value: Any) -> str:
    """JSON text of ``value``; dates, decimals, UUIDs and lazy strings are encoded as Django does."""
    return json.dumps(value, cls=DjangoJSONEncoder)


def get_client() -> httpx.Client:
    """The process-wide ``httpx.Client`` (created on first use, re-created after a fork)."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client = httpx.Client(transport=httpx.HTTPTransport(limits=_LIMITS, retries=1))
            client = _client
    return client


def get_async_client() -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` of the running event loop (one per loop: connections belong to a loop)."""
    loop = asyncio.get_running_loop()
    with _lock:  # loops of several threads may ask at once
        client = _async_clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(limits=_LIMITS, retries=1))
            _async_clients[loop] = client
    return client


def close() -> None:
    """Close the process-wide client's connections (a new client is made on the next call)."""
    global _client
    with _lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def _forget_after_fork() -> None:
    # A forked child (gunicorn --preload, multiprocessing) must not share the parent's sockets.
    global _client, _lock
    _client = None
    _lock = threading.Lock()
    _async_clients.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# --- requests and replies (shared by the sync and async paths) ---------------------------------


def _publish_request(channel: str, data: Any) -> tuple[str, dict[str, str], bytes]:
    command = {"method": "publish", "params": {"channel": channel, "data": data}}
    return conf.api_url(), _headers_legacy(conf.api_key()), dumps(command).encode()


def _batch_request(commands: Sequence[tuple[str, Any]]) -> tuple[str, dict[str, str], bytes]:
    body = {"commands": [{"publish": {"channel": channel, "data": data}} for channel, data in commands]}
    return conf.api_url("batch"), _headers(conf.api_key()), dumps(body).encode()


def _transport_error(url: str, error: httpx.HTTPError) -> ServerUnavailable:
    if isinstance(error, httpx.TimeoutException):
        what = f"no answer within {conf.timeout():g} s (INSTANT_API_TIMEOUT)"
    else:
        what = f"{type(error).__name__}: {error}"
    return ServerUnavailable(
        f"instant server unreachable at {url}: {what}. Is it running (python manage.py runws), and do "
        "CENTRIFUGO_HOST and CENTRIFUGO_PORT point to it?",
        url=url,
        server_message=what,
    )


def _check_status(url: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    text = response.text.strip()
    try:
        body = json.loads(text)
        if isinstance(body, dict) and isinstance(body.get("error"), (str, dict)):
            error = body["error"]
            text = error.get("message", text) if isinstance(error, dict) else error
    except ValueError:
        pass
    status = response.status_code
    if status == 401:
        message = f"instant server refused the API key (HTTP 401) at {url}: check CENTRIFUGO_API_KEY against api_key in the server's config.json"
    else:
        message = f"instant server answered HTTP {status} at {url}"
    if text:
        message += f": {text}"
    cls = ServerUnavailable if status >= 500 else ServerRefused
    raise cls(message, url=url, status=status, server_message=text)


def _reply_error(reply: Any) -> tuple[int | None, str] | None:
    """``(code, message)`` when ``reply`` is an API error object, else ``None``."""
    if isinstance(reply, dict) and "error" in reply:
        error = reply["error"]
        if isinstance(error, dict):
            return error.get("code"), str(error.get("message", ""))
        return None, str(error)
    return None


def _parse_publish(url: str, channel: str, response: httpx.Response) -> dict[str, Any]:
    _check_status(url, response)
    lines = [line for line in response.text.splitlines() if line.strip()]
    try:
        reply = json.loads(lines[0]) if lines else None
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        raise ServerRefused(f"instant server gave an unreadable reply at {url}: {response.text[:200]!r}", url=url, status=200)
    error = _reply_error(reply)
    if error is not None:
        code, text = error
        raise ServerRefused(
            f"instant server refused to publish to {channel!r}: {code} {text}",
            url=url,
            status=200,
            code=code,
            server_message=text,
        )
    result = reply.get("result")
    return result if isinstance(result, dict) else {}


def _parse_batch(url: str, channels: Sequence[str], response: httpx.Response) -> list[dict[str, Any]]:
    _check_status(url, response)
    try:
        body = response.json()
    except ValueError:
        body = None
    error = _reply_error(body)
    if error is not None:
        code, text = error
        raise ServerRefused(f"instant server refused the batch: {code} {text}", url=url, status=200, code=code, server_message=text)
    replies = body.get("replies") if isinstance(body, dict) else None
    if not isinstance(replies, list) or len(replies) != len(channels):
        raise ServerRefused(f"instant server gave an unreadable batch reply at {url}: {response.text[:200]!r}", url=url, status=200)
    results: list[dict[str, Any]] = []
    errors: list[tuple[int, int | None, str]] = []
    for index, reply in enumerate(replies):
        error = _reply_error(reply)
        if error is not None:
            errors.append((index, *error))
            results.append({})
        else:
            result = reply.get("publish") if isinstance(reply, dict) else None
            results.append(result if isinstance(result, dict) else {})
    if errors:
        detail = "; ".join(f"{channels[i]!r}: {code} {text}" for i, code, text in errors)
        first_code, first_text = errors[0][1], errors[0][2]
        raise BatchPublishError(
            f"instant server refused {len(errors)} of {len(channels)} publications: {detail}",
            errors=errors,
            url=url,
            status=200,
            code=first_code,
            server_message=first_text,
        )
    return results


# --- calls ---------------------------------------------------------------------------------------


def publish(channel: str, data: Any) -> dict[str, Any]:
    """Publish ``data`` (any JSON value) into ``channel``; returns the API result (``{}``, or
    ``{"offset", "epoch"}`` when the channel keeps history). Raises :class:`APIError` subclasses."""
    url, headers, body = _publish_request(channel, data)
    try:
        response = get_client().post(url, content=body, headers=headers, timeout=conf.timeout())
    except httpx.HTTPError as error:
        raise _transport_error(url, error) from error
    return _parse_publish(url, channel, response)


def publish_batch(commands: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Publish each ``(channel, data)`` with one ``/api/batch`` call; results in order."""
    if not commands:
        return []
    url, headers, body = _batch_request(commands)
    try:
        response = get_client().post(url, content=body, headers=headers, timeout=conf.timeout())
    except httpx.HTTPError as error:
        raise _transport_error(url, error) from error
    return _parse_batch(url, [channel for channel, _ in commands], response)


async def apublish(channel: str, data: Any) -> dict[str, Any]:
    """Async :func:`publish`."""
    url, headers, body = _publish_request(channel, data)
    try:
        response = await get_async_client().post(url, content=body, headers=headers, timeout=conf.timeout())
    except httpx.HTTPError as error:
        raise _transport_error(url, error) from error
    return _parse_publish(url, channel, response)


async def apublish_batch(commands: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Async :func:`publish_batch`."""
    if not commands:
        return []
    url, headers, body = _batch_request(commands)
    try:
        response = await get_async_client().post(url, content=body, headers=headers, timeout=conf.timeout())
    except httpx.HTTPError as error:
        raise _transport_error(url, error) from error
    return _parse_batch(url, [channel for channel, _ in commands], response)


__all__ = ["APIError", "publish", "publish_batch", "apublish", "apublish_batch", "get_client", "close", "dumps"]
