"""JWTs: claims, signature, lifetime, and the real server's verdict on them."""

from __future__ import annotations

import time

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser, User

from instant.exceptions import ConfigurationError
from instant.token import channel_token, connection_token, user_id

HS256_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}


def decode(token: str, key: str) -> dict:
    return jwt.decode(token, key, algorithms=["HS256"])


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="pw")


def test_connection_token_claims(alice, settings):
    token = connection_token(alice)
    assert token.startswith(HS256_HEADER)
    claims = decode(token, settings.CENTRIFUGO_HMAC_KEY)
    assert claims["sub"] == "alice"
    assert set(claims) == {"sub", "exp", "iat"}
    assert abs(claims["exp"] - (time.time() + 86400)) < 5


def test_channel_token_claims(alice, settings):
    claims = decode(channel_token("$chan", alice), settings.CENTRIFUGO_HMAC_KEY)
    assert claims["sub"] == "alice" and claims["channel"] == "$chan" and "client" not in claims
    claims = decode(channel_token("$chan", alice, client="c1"), settings.CENTRIFUGO_HMAC_KEY)
    assert claims["client"] == "c1"


def test_anonymous_tokens_have_empty_sub(settings):
    assert user_id(AnonymousUser()) == "" and user_id(None) == ""
    assert decode(connection_token(AnonymousUser()), settings.CENTRIFUGO_HMAC_KEY)["sub"] == ""
    assert decode(channel_token("public", None), settings.CENTRIFUGO_HMAC_KEY)["sub"] == ""


def test_token_ttl_setting_and_argument(alice, settings):
    settings.INSTANT_TOKEN_TTL = 60
    assert abs(decode(connection_token(alice), settings.CENTRIFUGO_HMAC_KEY)["exp"] - time.time() - 60) < 5
    assert abs(decode(connection_token(alice, ttl=5), settings.CENTRIFUGO_HMAC_KEY)["exp"] - time.time() - 5) < 5


def test_fix_hmac_key_read_at_call_time(alice, settings):
    """django-instant 4.x read CENTRIFUGO_HMAC_KEY at import; override_settings now applies."""
    settings.CENTRIFUGO_HMAC_KEY = "another-key-of-at-least-32-bytes-long"
    assert decode(connection_token(alice), "another-key-of-at-least-32-bytes-long")["sub"] == "alice"
    settings.CENTRIFUGO_HMAC_KEY = None
    with pytest.raises(ConfigurationError, match="CENTRIFUGO_HMAC_KEY"):
        connection_token(alice)


def test_server_accepts_tokens(alice, ws):
    client = ws()
    assert "connect" in client.connect(connection_token(alice))
    assert "subscribe" in client.subscribe("$chan", channel_token("$chan", alice))


def test_server_accepts_anonymous_tokens(ws):
    client = ws()
    assert "connect" in client.connect(connection_token(None))
    assert "subscribe" in client.subscribe("public", channel_token("public", None))


def test_server_refuses_a_token_signed_with_another_key(alice, ws, settings):
    settings.CENTRIFUGO_HMAC_KEY = "not-the-servers-key-but-32-bytes-long"
    reply = ws().connect(connection_token(alice))
    assert reply["disconnect"]["code"] == 3500  # invalid token


def test_server_refuses_an_expired_token(alice, ws):
    reply = ws().connect(connection_token(alice, ttl=-10))
    assert reply.get("error", {}).get("code") == 109 or reply.get("disconnect", {}).get("code") == 3005, reply


def test_server_refuses_a_channel_token_of_another_user(alice, ws, db):
    bob = User.objects.create_user("bob")
    client = ws()
    client.connect(connection_token(alice))
    assert client.subscribe("$chan", channel_token("$chan", bob))["disconnect"]["code"] == 3500
