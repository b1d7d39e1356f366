"""The login/get_token/subscribe/logout endpoints, field by field, and the real server's verdict on
the tokens they hand out."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from instant.models import Channel
from instant.token import channel_token, connection_token

pytestmark = pytest.mark.django_db

HS256_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"


@pytest.fixture
def site(db):
    """The example site of django-instant: channels public, $users, $group1, plus $staff and $superuser."""
    group1 = Group.objects.create(name="group1")
    Channel.objects.create(name="public", level="public")
    Channel.objects.create(name="users", level="users")
    Channel.objects.create(name="group1", level="groups").groups.add(group1)
    Channel.objects.create(name="staff", level="staff")
    Channel.objects.create(name="superuser", level="superuser")
    Channel.objects.create(name="off", level="public", is_active=False)
    admin = User.objects.create_superuser("adminuser", password="adminpwd")
    admin.groups.add(group1)
    User.objects.create_user("ggg", password="gggpwd")
    User.objects.create_user("staffer", password="staffpwd", is_staff=True)
    return group1


def post_json(client: Client, url: str, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def claims(token: str, settings) -> dict:
    return jwt.decode(token, settings.CENTRIFUGO_HMAC_KEY, algorithms=["HS256"])


def check_token_response(response, username: str, expected_channels: list[tuple[str, str]], settings) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"csrf_token", "ws_token", "channels"}
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 32
    assert body["ws_token"].startswith(HS256_HEADER)
    assert claims(body["ws_token"], settings)["sub"] == username
    assert [(c["name"], c["level"]) for c in body["channels"]] == expected_channels
    for channel in body["channels"]:
        assert set(channel) == {"name", "level", "token"}
        token_claims = claims(channel["token"], settings)
        assert token_claims["sub"] == username and token_claims["channel"] == channel["name"]
        assert token_claims["exp"] > time.time() + 3600
    return body


ADMIN_CHANNELS = [  # create_superuser makes a staff member too
    ("$group1", "groups"), ("$staff", "staff"), ("$superuser", "superuser"), ("$users", "users"), ("public", "public"),
]


# --- login ---------------------------------------------------------------------------------------


def test_login_returns_tokens_and_sets_the_session(client, site, settings):
    response = post_json(client, "/instant/login/", {"username": "adminuser", "password": "adminpwd"})
    body = check_token_response(response, "adminuser", ADMIN_CHANNELS, settings)
    assert "sessionid" in response.cookies and "csrftoken" in response.cookies
    assert body["csrf_token"]
    # The session is logged in: get_token now works.
    check_token_response(client.post("/instant/get_token/"), "adminuser", ADMIN_CHANNELS, settings)


def test_login_when_already_logged_in_returns_tokens_for_any_method(client, site, settings):
    client.login(username="ggg", password="gggpwd")
    check_token_response(client.get("/instant/login/"), "ggg", [("$users", "users"), ("public", "public")], settings)


def test_login_wrong_password_is_403(client, site):
    response = post_json(client, "/instant/login/", {"username": "adminuser", "password": "nope"})
    assert response.status_code == 403
    assert response.json() == {"error": "invalid username or password"}
    assert "sessionid" not in response.cookies


def test_login_get_when_anonymous_is_403(client, site):
    assert client.get("/instant/login/").status_code == 403


def test_fix_login_bad_json_is_400_not_500(client, site):
    """django-instant raised on a body that is not JSON (a 500)."""
    for body in ("{not json", b"\xff\xfe", "[1, 2]", '"username"', ""):
        response = post_json(client, "/instant/login/", body)
        assert response.status_code == 400, body
        assert "error" in response.json()


def test_fix_login_missing_field_is_400_not_500(client, site):
    """django-instant raised KeyError on a missing username or password (a 500)."""
    for body in ({}, {"username": "adminuser"}, {"password": "adminpwd"}, {"username": 1, "password": "x"}):
        response = post_json(client, "/instant/login/", body)
        assert response.status_code == 400, body
        assert "missing" in response.json()["error"]


def test_fix_login_view_prints_nothing(client, site, capsys):
    """django-instant 2.2.0 printed "Login view <METHOD>" on every call."""
    post_json(client, "/instant/login/", {"username": "adminuser", "password": "adminpwd"})
    assert capsys.readouterr().out == ""


def test_login_is_csrf_exempt_like_django_instant(site, settings):
    client = Client(enforce_csrf_checks=True)
    response = post_json(client, "/instant/login/", {"username": "ggg", "password": "gggpwd"})
    assert response.status_code == 200


# --- get_token -----------------------------------------------------------------------------------


def test_get_token_anonymous_is_403_by_default(client, site):
    response = client.post("/instant/get_token/", data="{}", content_type="application/json")
    assert response.status_code == 403


def test_get_token_anonymous_when_allowed(client, site, settings):
    settings.INSTANT_ALLOW_ANONYMOUS = True
    response = client.post("/instant/get_token/", data="{}", content_type="application/json")
    check_token_response(response, "", [("public", "public")], settings)


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("adminuser", "adminpwd", ADMIN_CHANNELS),
        ("ggg", "gggpwd", [("$users", "users"), ("public", "public")]),
        ("staffer", "staffpwd", [("$staff", "staff"), ("$users", "users"), ("public", "public")]),
    ],
)
def test_get_token_for_each_user(client, site, settings, username, password, expected):
    client.login(username=username, password=password)
    check_token_response(client.post("/instant/get_token/", data="{}", content_type="application/json"), username, expected, settings)


def test_get_token_works_with_get_too(client, site, settings):
    client.login(username="ggg", password="gggpwd")
    assert client.get("/instant/get_token/").status_code == 200


# --- subscribe -----------------------------------------------------------------------------------


def test_subscribe_4x_shape(client, site, settings):
    client.login(username="adminuser", password="adminpwd")
    response = post_json(client, "/instant/subscribe/", {})
    assert response.status_code == 200
    assert [(c["name"], c["level"]) for c in response.json()["channels"]] == ADMIN_CHANNELS
    assert all(claims(c["token"], settings)["channel"] == c["name"] for c in response.json()["channels"])


def test_fix_subscribe_empty_body_is_not_500(client, site):
    """django-instant 4.x did json.loads on the body and gave a 500 when it was empty."""
    client.login(username="ggg", password="gggpwd")
    response = client.post("/instant/subscribe/", data="", content_type="application/json")
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["channels"]] == ["$users", "public"]


def test_subscribe_bad_json_is_400(client, site):
    client.login(username="ggg", password="gggpwd")
    for body in ("{oops", "[]", '{"client": 5, "channels": []}', '{"client": "c", "channels": "public"}', '{"client": "c", "channels": [1]}'):
        response = post_json(client, "/instant/subscribe/", body)
        assert response.status_code == 400, body
        assert "error" in response.json()


def test_subscribe_2x_shape_for_centrifuge_js_2(client, site, settings):
    client.login(username="ggg", password="gggpwd")
    response = post_json(client, "/instant/subscribe/", {"client": "client-id-1", "channels": ["$users", "$staff", "public", "$users"]})
    assert response.status_code == 200
    body = response.json()
    assert [c["channel"] for c in body["channels"]] == ["$users", "public"]  # $staff silently left out
    for item in body["channels"]:
        assert set(item) == {"channel", "token"}
        token_claims = claims(item["token"], settings)
        assert token_claims["client"] == "client-id-1" and token_claims["channel"] == item["channel"]


def test_fix_subscribe_2x_tokens_carry_sub(client, site, settings):
    """django-instant 2.x tokens had no `sub`; a v4+ server checks it against the connection's user."""
    client.login(username="ggg", password="gggpwd")
    body = post_json(client, "/instant/subscribe/", {"client": "c", "channels": ["$users"]}).json()
    assert claims(body["channels"][0]["token"], settings)["sub"] == "ggg"


def test_subscribe_anonymous(client, site, settings):
    assert post_json(client, "/instant/subscribe/", {}).status_code == 403
    settings.INSTANT_ALLOW_ANONYMOUS = True
    assert [c["name"] for c in post_json(client, "/instant/subscribe/", {}).json()["channels"]] == ["public"]


# --- logout --------------------------------------------------------------------------------------


def test_logout(client, site):
    client.login(username="ggg", password="gggpwd")
    response = client.post("/instant/logout/")
    assert response.status_code == 200 and response.json() == {"response": "ok"}
    assert client.post("/instant/logout/").status_code == 403
    assert client.post("/instant/get_token/").status_code == 403


def test_fix_logout_requires_post(client, site):
    """django-instant logged out on GET, so any page could log a visitor out (logout CSRF)."""
    client.login(username="ggg", password="gggpwd")
    assert client.get("/instant/logout/").status_code == 405
    assert client.post("/instant/get_token/").status_code == 200  # still logged in


def test_logout_needs_the_csrf_token(site):
    client = Client(enforce_csrf_checks=True)
    body = post_json(client, "/instant/login/", {"username": "ggg", "password": "gggpwd"}).json()
    assert client.post("/instant/logout/").status_code == 403
    response = client.post("/instant/logout/", HTTP_X_CSRFTOKEN=body["csrf_token"])
    assert response.status_code == 200


# --- the real server accepts exactly what for_user grants ----------------------------------------


ALL_CHANNELS = ["public", "$users", "$group1", "$staff", "$superuser", "$off"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("adminuser", "adminpwd"), ("ggg", "gggpwd"), ("staffer", "staffpwd"), (None, None)],
)
def test_server_accepts_tokens_for_exactly_the_granted_channels(client, site, settings, ws, username, password):
    settings.INSTANT_ALLOW_ANONYMOUS = True
    if username:
        client.login(username=username, password=password)
    body = client.post("/instant/get_token/").json()
    granted = {c["name"]: c["token"] for c in body["channels"]}
    user = User.objects.get(username=username) if username else None
    assert sorted(granted) == sorted(Channel.objects.for_user(user).values_list("name", flat=True))

    connection = ws()
    assert "connect" in connection.connect(body["ws_token"]), "the server refused the connection token"
    for name in ALL_CHANNELS:
        if name in granted:
            reply = connection.subscribe(name, granted[name])
            assert "subscribe" in reply, (name, reply)
        else:
            reply = connection.subscribe(name)  # no token from Django for it
            assert reply.get("error", {}).get("code") == 103, (name, reply)


def test_staff_subscription_refused_for_non_staff(client, site, settings, ws):
    """A $staff subscription by a non-staff user fails, even with a token minted for another user."""
    client.login(username="ggg", password="gggpwd")
    body = client.post("/instant/get_token/").json()
    assert "$staff" not in [c["name"] for c in body["channels"]]
    connection = ws()
    connection.connect(body["ws_token"])
    assert connection.subscribe("$staff")["error"]["code"] == 103
    staffer = User.objects.get(username="staffer")
    assert connection.subscribe("$staff", channel_token("$staff", staffer))["disconnect"]["code"] == 3500


def test_2x_tokens_accepted_by_the_server_for_their_connection_only(client, site, ws):
    client.login(username="ggg", password="gggpwd")
    user = User.objects.get(username="ggg")
    connection = ws()
    client_id = connection.connect(connection_token(user))["connect"]["client"]
    body = post_json(client, "/instant/subscribe/", {"client": client_id, "channels": ["$users"]}).json()
    assert "subscribe" in connection.subscribe("$users", body["channels"][0]["token"])

    other = ws()
    other.connect(connection_token(user))
    assert other.subscribe("$users", body["channels"][0]["token"])["disconnect"]["code"] == 3500


def test_published_message_reaches_a_browser_session_end_to_end(client, site, ws):
    """login -> tokens -> WebSocket subscribe -> publish -> the exact payload arrives."""
    from instant.producers import publish

    body = post_json(client, "/instant/login/", {"username": "adminuser", "password": "adminpwd"}).json()
    connection = ws()
    connection.connect(body["ws_token"])
    for channel in body["channels"]:
        assert "subscribe" in connection.subscribe(channel["name"], channel["token"])
    publish("$group1", "Message", event_class="important")
    push = connection.push()
    assert push["channel"] == "$group1"
    assert json.loads(push["pub"]["data"]) == {
        "channel": "$group1", "site": "tests", "message": "Message", "event_class": "important",
    }


def test_url_names_are_django_instants():
    from django.urls import reverse

    assert reverse("instant-login") == "/instant/login/"
    assert reverse("instant-logout") == "/instant/logout/"
    assert reverse("instant-get-token") == "/instant/get_token/"
    assert reverse("instant-subscribe") == "/instant/subscribe/"


def test_app_config():
    from django.apps import apps

    config = apps.get_app_config("instant")
    assert config.name == "instant" and config.default_auto_field == "django.db.models.BigAutoField"
    assert Channel._meta.get_field("id").get_internal_type() == "BigAutoField"
    assert Channel._meta.verbose_name == "Channel" and Channel._meta.verbose_name_plural == "Channels"
