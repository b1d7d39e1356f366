"""Publishing events into channels.

::

    from instant.producers import publish

    publish("$users", "Message", event_class="important")
    publish("public", data={"id": 42}, on_commit=True)      # after the current transaction commits

The published payload is django-instant's: ``{"channel", "site", "message"?, "data"?, "event_class"?,
"bucket"?}`` (absent keys omitted), sent as a JSON **string** by default, as django-instant ≥ 2.4 did
and as its JS clients (``JSON.parse(ctx.data)``) expect. Set ``INSTANT_PAYLOAD_FORMAT = "object"``
(or pass ``payload_format="object"``) to send it as a JSON object instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Union

from django.db import transaction

from . import client, conf
from .exceptions import ConfigurationError

logger = logging.getLogger("instant")

__all__ = ["Event", "build_payload", "encode_payload", "publish", "publish_many", "apublish", "apublish_many"]


@dataclass(frozen=True)
class Event:
    """One event for :func:`publish_many`: the arguments of :func:`publish`."""

    channel: str
    message: Any = None
    event_class: str | None = None
    data: Any = None
    bucket: str | None = None
    site: str | None = None


EventLike = Union[Event, Mapping[str, Any]]


def build_payload(
    channel: str,
    message: Any = None,
    event_class: str | None = None,
    data: Any = None,
    bucket: str | None = None,
    site: str | None = None,
) -> dict[str, Any]:
    """The payload dict :func:`publish` sends. ``site`` defaults to ``SITE_NAME`` (read now).

    Raises ``ValueError`` when both ``message`` and ``data`` are ``None``, or the channel is empty.
    """
    if not isinstance(channel, str) or not channel:
        raise ValueError(f"Provide a channel name (a non-empty str), not {channel!r}")
    if message is None and data is None:
        raise ValueError("Provide either a message or data argument")
    payload: dict[str, Any] = {"channel": channel, "site": conf.get("SITE_NAME") if site is None else site}
    if message is not None:
        payload["message"] = message
    if data is not None:
        payload["data"] = data
    if event_class is not None:
        payload["event_class"] = event_class
    if bucket:  # None and "" are omitted, as django-instant >= 2.4 did
        payload["bucket"] = bucket
    return payload


def encode_payload(payload: dict[str, Any], payload_format: str | None = None) -> Any:
    """The publication ``data``: ``payload`` as a JSON string (``"string"``) or as is (``"object"``)."""
    fmt = conf.payload_format() if payload_format is None else payload_format
    if fmt == "string":
        return client.dumps(payload)
    if fmt == "object":
        # Fail now, in the caller's frame, on values JSON cannot carry.
        client.dumps(payload)
        return payload
    raise ConfigurationError(f"payload_format must be 'string' or 'object', not {fmt!r}")


def _prepare(event: Event, payload_format: str | None) -> tuple[str, Any]:
    payload = build_payload(event.channel, event.message, event.event_class, event.data, event.bucket, event.site)
    return event.channel, encode_payload(payload, payload_format)


def _as_event(item: EventLike) -> Event:
    if isinstance(item, Event):
        return item
    if isinstance(item, Mapping):
        return Event(**item)
    raise TypeError(f"publish_many takes Event objects or mappings of publish() arguments, not {item!r}")


def _send(channel: str, data: Any) -> None:
    client.publish(channel, data)
    logger.debug("published to %s", channel)


def _send_batch(commands: list[tuple[str, Any]]) -> None:
    client.publish_batch(commands)
    logger.debug("published %d events", len(commands))


def publish(
    channel: str,
    message: Any = None,
    event_class: str | None = None,
    data: Any = None,
    bucket: str | None = None,
    site: str | None = None,
    *,
    on_commit: bool = False,
    using: str | None = None,
    payload_format: str | None = None,
) -> None:
    """Publish an event into ``channel``.

    Args:
        channel: the channel name, e.g. ``"public"`` or ``"$users"``.
        message: a text message (the JS client's ``msg``).
        event_class: a label for the client to dispatch on.
        data: any JSON-serializable value (dates, decimals and UUIDs included).
        bucket: another label; omitted when empty.
        site: defaults to ``SITE_NAME``.
        on_commit: publish only once the current transaction on ``using`` commits, and never if it
            rolls back (``transaction.on_commit``). A failure to publish then is logged on the
            ``django.db.backends.base`` logger instead of raised, as the data is already committed.
        using: the database alias for ``on_commit``.
        payload_format: ``"string"`` or ``"object"``; defaults to ``INSTANT_PAYLOAD_FORMAT``.

    Raises:
        ValueError: neither ``message`` nor ``data`` given.
        instant.exceptions.ConfigurationError: ``CENTRIFUGO_API_KEY`` is not set.
        instant.exceptions.ServerRefused: the server refused (wrong key, unknown channel...);
            carries the server's ``code`` and ``server_message``.
        instant.exceptions.ServerUnavailable: the server could not be reached within
            ``INSTANT_API_TIMEOUT``.
    """
    target, encoded = _prepare(Event(channel, message, event_class, data, bucket, site), payload_format)
    if on_commit:
        conf.api_key()  # a missing key is reported now, not after the commit

        def publish_on_commit() -> None:  # a function, not a partial: Django logs its __qualname__
            _send(target, encoded)

        transaction.on_commit(publish_on_commit, using=using, robust=True)
        return
    _send(target, encoded)


def publish_many(
    events: Iterable[EventLike],
    *,
    on_commit: bool = False,
    using: str | None = None,
    payload_format: str | None = None,
) -> None:
    """Publish several events with one call to the server's batch API (``/api/batch``).

    ``events`` are :class:`Event` objects or mappings of :func:`publish` arguments::

        publish_many([Event("public", "hi"), {"channel": "$staff", "data": {"n": 1}}])

    Every event is validated before anything is sent. When the server refuses some of them it
    publishes the others and :class:`~instant.exceptions.BatchPublishError` lists the refused ones.
    ``on_commit``, ``using`` and ``payload_format`` work as in :func:`publish`.
    """
    commands = [_prepare(_as_event(item), payload_format) for item in events]
    if not commands:
        return
    if on_commit:
        conf.api_key()

        def publish_many_on_commit() -> None:
            _send_batch(commands)

        transaction.on_commit(publish_many_on_commit, using=using, robust=True)
        return
    _send_batch(commands)


async def apublish(
    channel: str,
    message: Any = None,
    event_class: str | None = None,
    data: Any = None,
    bucket: str | None = None,
    site: str | None = None,
    *,
    payload_format: str | None = None,
) -> None:
    """:func:`publish` for async code (async views, ASGI consumers): does not block the event loop.

    There is no ``on_commit`` here: transactions run in sync code, so call
    ``publish(..., on_commit=True)`` inside the function you hand to ``sync_to_async``.
    """
    target, encoded = _prepare(Event(channel, message, event_class, data, bucket, site), payload_format)
    await client.apublish(target, encoded)
    logger.debug("published to %s", target)


async def apublish_many(events: Iterable[EventLike], *, payload_format: str | None = None) -> None:
    """:func:`publish_many` for async code."""
    commands = [_prepare(_as_event(item), payload_format) for item in events]
    if commands:
        await client.apublish_batch(commands)
        logger.debug("published %d events", len(commands))
