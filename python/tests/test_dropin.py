"""Drop-in proof: publish code of sites still on django-instant, through the PyPI `cent` client,
works unchanged against the instant server.

cent 4.x (django-instant >= 2.4's client) and cent 5.x (the current one) cannot share an
environment: tools/python_setup.sh installs cent 4.x in .venv-django52 and cent 5.x in
.venv-django6, and tools/python_test.sh sets INSTANT_EXPECT_CENT so that a missing cent fails
instead of skipping.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version

import pytest

try:
    CENT_VERSION = version("cent")
except PackageNotFoundError:
    CENT_VERSION = ""

EXPECTED = os.environ.get("INSTANT_EXPECT_CENT", "")


def require_cent(major: str) -> None:
    if CENT_VERSION.split(".")[0] == major:
        return
    if EXPECTED == major:
        pytest.fail(f"cent {major}.x expected in this environment, found {CENT_VERSION or 'none'}")
    pytest.skip(f"cent {major}.x is not installed here (cent {CENT_VERSION or 'none'}); the other environment runs it")


def django_instant_payload(channel: str, message: str) -> str:
    # What django-instant 4.2's publish() passes to cent: json.dumps of the payload dict.
    return json.dumps({"channel": channel, "site": "legacy-site", "message": message, "event_class": "info"})


def test_cent4_django_instant_publish_path(instant_server, subscriber):
    """django-instant >= 2.4: Client(host:port/api, api_key=..., timeout=1).publish(channel, json_string)."""
    require_cent("4")
    from cent import CentException, Client

    sub = subscriber("public")
    client = Client(f"http://127.0.0.1:{instant_server.port}/api", api_key=instant_server.api_key, timeout=1)
    data = django_instant_payload("public", "from cent 4")
    assert client.publish("public", data) == {}
    assert sub.push()["pub"]["data"] == data

    # Errors surface as cent's exceptions, as django-instant users expect.
    with pytest.raises(CentException):
        client.publish("nope:chan", data)
    with pytest.raises(CentException):
        Client(f"http://127.0.0.1:{instant_server.port}/api", api_key="wrong", timeout=1).publish("public", data)


def test_cent4_other_calls(instant_server, subscriber):
    require_cent("4")
    from cent import Client

    a, b = subscriber("public"), subscriber("other")
    client = Client(f"http://127.0.0.1:{instant_server.port}/api", api_key=instant_server.api_key, timeout=1)
    client.broadcast(["public", "other"], {"x": 1})
    assert a.push()["pub"]["data"] == {"x": 1} and b.push()["pub"]["data"] == {"x": 1}


def test_cent5_publish(instant_server, subscriber):
    """The current cent client: Client(api_url, api_key).publish(PublishRequest(...))."""
    require_cent("5")
    from cent import BatchRequest, Client, PublishRequest
    from cent.exceptions import CentApiResponseError, CentUnauthorizedError

    sub = subscriber("public")
    client = Client(f"http://127.0.0.1:{instant_server.port}/api", instant_server.api_key, timeout=1)
    data = django_instant_payload("public", "from cent 5")
    client.publish(PublishRequest(channel="public", data=data))
    client.publish(PublishRequest(channel="public", data={"as": "object"}))
    client.batch(BatchRequest(requests=[PublishRequest(channel="public", data="in a batch")]))
    assert [p["data"] for p in sub.publications(3)] == [data, {"as": "object"}, "in a batch"]

    with pytest.raises(CentApiResponseError) as caught:
        client.publish(PublishRequest(channel="nope:chan", data=data))
    assert caught.value.code == 102
    with pytest.raises(CentUnauthorizedError):
        Client(f"http://127.0.0.1:{instant_server.port}/api", "wrong", timeout=1).publish(PublishRequest(channel="public", data=data))


def test_instant_publish_is_byte_compatible_with_django_instant(subscriber):
    """instant's publish() sends the same publication data as django-instant 4.2 did through cent."""
    from instant.producers import publish

    sub = subscriber("public")
    publish("public", "same bytes", event_class="info", site="legacy-site")
    assert sub.push()["pub"]["data"] == django_instant_payload("public", "same bytes")
