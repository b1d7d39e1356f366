"""Publishing: payloads delivered by the real server, errors, timeouts, connection reuse, on_commit,
batches and the async API."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import json
import sys
import time
import uuid

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from instant import client
from instant.exceptions import BatchPublishError, ConfigurationError, ServerRefused, ServerUnavailable
from instant.producers import Event, apublish, apublish_many, build_payload, publish, publish_many


def expected(channel: str, **fields) -> str:
    """The publication data django-instant >= 2.4 sends for these fields (a JSON string)."""
    return json.dumps({"channel": channel, "site": "tests", **fields})


# --- payload ------------------------------------------------------------------------------------


def test_payload_keys_and_order():
    assert build_payload("c", "m") == {"channel": "c", "site": "tests", "message": "m"}
    assert list(build_payload("c", "m", "ev", {"a": 1}, "b", "s")) == [
        "channel", "site", "message", "data", "event_class", "bucket",
    ]


def test_absent_keys_are_omitted():
    payload = build_payload("c", data={"x": 1}, bucket="")
    assert payload == {"channel": "c", "site": "tests", "data": {"x": 1}}


def test_publish_without_message_or_data_raises_value_error():
    with pytest.raises(ValueError, match="Provide either a message or data argument"):
        publish("public")
    with pytest.raises(ValueError):
        publish_many([{"channel": "public"}])


def test_fix_site_default_read_at_call_time(settings):
    """django-instant bound SITE_NAME as the default of `site` at import."""
    settings.SITE_NAME = "elsewhere"
    assert build_payload("c", "m")["site"] == "elsewhere"


def test_fix_publish_extra_positional_args_raise():
    """django-instant silently ignored the message when two or more positionals followed the channel."""
    with pytest.raises(TypeError):
        publish("public", "a", "b", "c", "d", "e", "f", "g")  # type: ignore[misc]


def test_fix_no_cent_dependency():
    """django-instant depended on the unpinned `cent`, whose API broke twice (3->4, 4->5)."""
    from importlib.metadata import requires

    assert not any(req.lower().startswith("cent") for req in requires("instant-django") or [])
    for module in ("instant.producers", "instant.client"):
        assert "cent" not in vars(sys.modules[module])


# --- delivery through the real server -----------------------------------------------------------


def test_publish_delivers_the_exact_payload(subscriber):
    sub = subscriber("public")
    publish("public", "Message", event_class="important", data={"n": [1, 2]}, bucket="b")
    push = sub.push()
    assert push["channel"] == "public"
    assert push["pub"]["data"] == expected("public", message="Message", data={"n": [1, 2]}, event_class="important", bucket="b")


def test_publish_to_a_private_channel_with_event_class(subscriber, db):
    user = User.objects.create_user("u1")
    sub = subscriber("$users", user)
    publish("$users", "Message", event_class="important")
    assert sub.push()["pub"]["data"] == expected("$users", message="Message", event_class="important")


def test_payload_as_object(subscriber, settings):
    sub = subscriber("public")
    settings.INSTANT_PAYLOAD_FORMAT = "object"
    publish("public", "as object", data={"k": "v"})
    publish("public", "per call string", payload_format="string")
    first, second = sub.publications(2)
    assert first["data"] == {"channel": "public", "site": "tests", "message": "as object", "data": {"k": "v"}}
    assert second["data"] == expected("public", message="per call string")


def test_django_types_in_data(subscriber):
    sub = subscriber("public")
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID(int=1)
    publish("public", data={"when": when, "price": decimal.Decimal("1.50"), "id": ident})
    data = json.loads(sub.push()["pub"]["data"])["data"]
    assert data == {"when": "2024-01-02T03:04:05Z", "price": "1.50", "id": str(ident)}


def test_unicode_payload_round_trips(subscriber):
    sub = subscriber("public")
    publish("public", "héllo ✓ 世界")
    assert json.loads(sub.push()["pub"]["data"])["message"] == "héllo ✓ 世界"


def test_namespaced_private_channel(subscriber, db):
    user = User.objects.create_user("u2")
    sub = subscriber("$ns:room", user)
    publish("$ns:room", "in a namespace")
    assert json.loads(sub.push()["pub"]["data"])["message"] == "in a namespace"


def test_fix_namespaced_private_channel_is_private_on_the_server(ws, db):
    """With namespace `ns` open to clients, django-instant's "ns:$chan" is subscribable without a
    token (not private); instant's "$ns:chan" needs one."""
    from instant.token import connection_token

    user = User.objects.create_user("u3")
    client_ = ws()
    client_.connect(connection_token(user))
    assert "subscribe" in client_.subscribe("ns:$chan")  # the old form: open to anyone
    assert client_.subscribe("$ns:chan")["error"]["code"] == 103  # the new form: token required


# --- errors -------------------------------------------------------------------------------------


def test_refusal_carries_the_servers_error(settings):
    with pytest.raises(ServerRefused) as caught:
        publish("nope:chan", "unknown namespace")
    error = caught.value
    assert error.code == 102 and error.server_message == "unknown channel" and error.status == 200
    assert "nope:chan" in str(error) and "102 unknown channel" in str(error)


def test_wrong_api_key_is_a_refusal(settings):
    settings.CENTRIFUGO_API_KEY = "wrong"
    with pytest.raises(ServerRefused) as caught:
        publish("public", "x")
    assert caught.value.status == 401
    assert "CENTRIFUGO_API_KEY" in str(caught.value)


def test_missing_api_key_raises_configuration_error(settings):
    settings.CENTRIFUGO_API_KEY = None
    with pytest.raises(ConfigurationError, match="CENTRIFUGO_API_KEY"):
        publish("public", "x")


def test_fix_publish_errors_raise_instead_of_returning_a_string(settings):
    """django-instant 2.2.0 returned str(error) on failure; instant raises and returns None on success."""
    assert publish("public", "fine") is None
    settings.CENTRIFUGO_PORT = 1  # nothing listens there
    with pytest.raises(ServerUnavailable) as caught:
        publish("public", "x")
    assert caught.value.status is None and "127.0.0.1:1" in str(caught.value)


def test_unreachable_server_raises_server_unavailable(settings):
    settings.CENTRIFUGO_HOST = "http://127.0.0.1"
    settings.CENTRIFUGO_PORT = 9  # discard port: refused
    with pytest.raises(ServerUnavailable, match="unreachable"):
        publish("public", "x")


def test_timeout_is_bounded(settings, silent_port):
    settings.CENTRIFUGO_PORT = silent_port
    settings.INSTANT_API_TIMEOUT = 0.3
    started = time.monotonic()
    with pytest.raises(ServerUnavailable, match=r"no answer within 0.3 s"):
        publish("public", "x")
    assert time.monotonic() - started < 2


def test_fix_publish_reuses_its_connection(settings, counting_proxy, subscriber):
    """django-instant made a new cent.Client (a new HTTP connection) per publish."""
    sub = subscriber("public")
    settings.CENTRIFUGO_PORT = counting_proxy.port
    for i in range(5):
        publish("public", f"m{i}")
    publish_many([Event("public", "batched")])
    assert [json.loads(p["data"])["message"] for p in sub.publications(6)] == ["m0", "m1", "m2", "m3", "m4", "batched"]
    assert counting_proxy.accepted == 1


def test_publish_follows_settings_changes_with_one_client(settings, counting_proxy, instant_server):
    publish("public", "direct")
    settings.CENTRIFUGO_PORT = counting_proxy.port
    publish("public", "through the proxy")
    assert counting_proxy.accepted == 1
    assert client.get_client() is client.get_client()


# --- on_commit ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_on_commit_publishes_after_commit(subscriber):
    sub = subscriber("public")
    with transaction.atomic():
        User.objects.create_user("committed")
        publish("public", "after commit", on_commit=True)
        sub.assert_no_push(0.3)
    assert json.loads(sub.push()["pub"]["data"])["message"] == "after commit"


@pytest.mark.django_db(transaction=True)
def test_on_commit_does_not_publish_after_rollback(subscriber):
    sub = subscriber("public")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            publish("public", "rolled back", on_commit=True)
            publish_many([Event("public", "rolled back too")], on_commit=True)
            raise RuntimeError("rollback")
    publish("public", "sentinel")
    assert json.loads(sub.push()["pub"]["data"])["message"] == "sentinel"
    sub.assert_no_push(0.3)


@pytest.mark.django_db(transaction=True)
def test_on_commit_outside_a_transaction_publishes_now(subscriber):
    sub = subscriber("public")
    publish("public", "autocommit", on_commit=True)
    assert json.loads(sub.push()["pub"]["data"])["message"] == "autocommit"


@pytest.mark.django_db(transaction=True)
def test_on_commit_failure_is_logged_not_raised(settings, caplog):
    with transaction.atomic():
        publish("nope:chan", "refused after commit", on_commit=True)
    assert any("unknown channel" in record.getMessage() or "unknown channel" in str(record.exc_info) for record in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_on_commit_batch(subscriber):
    sub = subscriber("public")
    with transaction.atomic():
        publish_many([Event("public", "one"), Event("public", "two")], on_commit=True)
        sub.assert_no_push(0.2)
    assert [json.loads(p["data"])["message"] for p in sub.publications(2)] == ["one", "two"]


def test_on_commit_checks_the_api_key_now(settings, db):
    settings.CENTRIFUGO_API_KEY = None
    with pytest.raises(ConfigurationError):
        publish("public", "x", on_commit=True)


# --- batches ------------------------------------------------------------------------------------


def test_publish_many(subscriber, db):
    user = User.objects.create_user("u4")
    public = subscriber("public")
    users = subscriber("$users", user)
    publish_many(
        [
            Event("public", "first"),
            {"channel": "$users", "data": {"k": 1}, "event_class": "e"},
            Event("public", "second", site="custom"),
        ]
    )
    assert [p["data"] for p in public.publications(2)] == [
        expected("public", message="first"),
        json.dumps({"channel": "public", "site": "custom", "message": "second"}),
    ]
    assert users.push()["pub"]["data"] == expected("$users", data={"k": 1}, event_class="e")


def test_publish_many_partial_refusal(subscriber):
    sub = subscriber("public")
    with pytest.raises(BatchPublishError) as caught:
        publish_many([Event("public", "ok"), Event("nope:x", "refused"), Event("public", "ok too")])
    assert caught.value.errors == [(1, 102, "unknown channel")]
    assert "'nope:x': 102 unknown channel" in str(caught.value)
    assert [json.loads(p["data"])["message"] for p in sub.publications(2)] == ["ok", "ok too"]


def test_publish_many_empty_and_bad_items():
    publish_many([])
    with pytest.raises(TypeError):
        publish_many(["public"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        publish_many([{"channel": "public", "message": "x", "colour": "red"}])


# --- async --------------------------------------------------------------------------------------


def test_apublish(subscriber):
    sub = subscriber("public")

    async def main() -> None:
        await apublish("public", "async one", event_class="a")
        await asyncio.gather(*(apublish("public", data={"i": i}) for i in range(3)))
        await apublish_many([Event("public", "async batch")])

    asyncio.run(main())
    first, *rest = sub.publications(5)
    assert first["data"] == expected("public", message="async one", event_class="a")
    assert sorted(json.loads(p["data"]).get("data", {}).get("i", -1) for p in rest[:3]) == [0, 1, 2]
    assert json.loads(rest[3]["data"])["message"] == "async batch"


def test_apublish_errors(settings, silent_port):
    async def refused() -> None:
        await apublish("nope:chan", "x")

    with pytest.raises(ServerRefused) as caught:
        asyncio.run(refused())
    assert caught.value.code == 102

    settings.CENTRIFUGO_PORT = silent_port
    settings.INSTANT_API_TIMEOUT = 0.2
    with pytest.raises(ServerUnavailable):
        asyncio.run(refused())


def test_apublish_reuses_its_connection_within_a_loop(settings, counting_proxy):
    settings.CENTRIFUGO_PORT = counting_proxy.port

    async def main() -> None:
        for i in range(4):
            await apublish("public", f"m{i}")

    asyncio.run(main())
    assert counting_proxy.accepted == 1


def test_async_view_publishes(client, subscriber):
    sub = subscriber("public")
    response = client.get("/async-publish/", {"channel": "public"})
    assert response.status_code == 200
    first, second = sub.publications(2)
    assert first["data"] == expected("public", message="from an async view", event_class="async")
    assert json.loads(second["data"])["message"] == "batch from an async view"
