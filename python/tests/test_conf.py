"""Settings: django-instant's names and defaults, read at call time, and the system checks."""

from __future__ import annotations

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from instant import conf
from instant.checks import check_settings
from instant.exceptions import ConfigurationError
from instant.init import generate_settings_from_conf


def _ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [m.id or "" for m in messages]


def test_defaults_are_django_instants(settings):
    for name in ("CENTRIFUGO_HOST", "CENTRIFUGO_PORT", "CENTRIFUGO_HMAC_KEY", "CENTRIFUGO_API_KEY", "SITE_NAME"):
        delattr(settings, name)
    assert conf.get("CENTRIFUGO_HOST") == "http://localhost"
    assert conf.get("CENTRIFUGO_PORT") == 8427
    assert conf.get("CENTRIFUGO_HMAC_KEY") is None
    assert conf.get("CENTRIFUGO_API_KEY") is None
    assert conf.get("SITE_NAME") == "Site"
    assert conf.get("SITE_SLUG") == "site"
    assert conf.api_url() == "http://localhost:8427/api"


def test_django_instant_conf_constants_still_import():
    from instant.conf import CENTRIFUGO_HOST, CENTRIFUGO_PORT, SITE_NAME, SITE_SLUG  # noqa: F401

    assert SITE_NAME == "tests" and SITE_SLUG == "site"
    with pytest.raises(AttributeError):
        conf.NOT_A_SETTING  # noqa: B018


def test_fix_settings_read_at_call_time():
    """django-instant froze its settings at import, so override_settings had no effect."""
    with override_settings(CENTRIFUGO_HOST="http://ws.example.com", CENTRIFUGO_PORT=9000, SITE_NAME="other"):
        assert conf.api_url() == "http://ws.example.com:9000/api"
        assert conf.CENTRIFUGO_PORT == 9000
        assert conf.SITE_NAME == "other"
    assert conf.SITE_NAME == "tests"


def test_fix_port_none_does_not_append_none(settings):
    """django-instant 4.x appended ':None' when CENTRIFUGO_PORT was None (a proxy/https setup)."""
    settings.CENTRIFUGO_HOST = "https://ws.example.com/"
    settings.CENTRIFUGO_PORT = None
    assert conf.api_url() == "https://ws.example.com/api"
    assert conf.api_url("batch") == "https://ws.example.com/api/batch"


def test_missing_keys_raise_configuration_error_at_call_time(settings):
    settings.CENTRIFUGO_HMAC_KEY = None
    settings.CENTRIFUGO_API_KEY = ""
    with pytest.raises(ConfigurationError, match="CENTRIFUGO_HMAC_KEY"):
        conf.hmac_key()
    with pytest.raises(ValueError, match="CENTRIFUGO_API_KEY"):  # django-instant raised ValueError
        conf.api_key()


def test_generate_settings_from_conf_lines():
    lines = generate_settings_from_conf({"token_hmac_secret_key": "key", "api_key": "key"}, "site")
    assert lines == [
        'CENTRIFUGO_HOST = "http://localhost"',
        "CENTRIFUGO_PORT = 8427",
        'CENTRIFUGO_HMAC_KEY = "key"',
        'CENTRIFUGO_API_KEY = "key"',
        'SITE_NAME = "site"',
    ]
    # Without a site name: the name of BASE_DIR (tests/).
    assert generate_settings_from_conf({"token_hmac_secret_key": "k", "api_key": "a"})[-1] == 'SITE_NAME = "tests"'


def test_fix_generate_settings_with_base_dir_as_str(settings):
    """django-instant 2.2.0 crashed with BASE_DIR as a str (settings.BASE_DIR.name)."""
    settings.BASE_DIR = "/srv/www/mysite"
    assert generate_settings_from_conf({"token_hmac_secret_key": "k", "api_key": "a"})[-1] == 'SITE_NAME = "mysite"'


def test_configured_settings_pass_the_checks():
    assert check_settings() == []


def test_fix_missing_hmac_key_is_a_system_check_error(settings):
    """django-instant raised ValueError at the first token; now `manage.py check` says what to add."""
    del settings.CENTRIFUGO_HMAC_KEY
    [error] = check_settings()
    assert error.id == "instant.E001" and error.level == checks.ERROR
    assert "CENTRIFUGO_HMAC_KEY" in error.msg
    assert "token_hmac_secret_key" in error.hint and "manage.py installws" in error.hint


def test_fix_missing_api_key_is_a_system_check_error(settings):
    """django-instant failed at the first publish; now `manage.py check` says what to add."""
    settings.CENTRIFUGO_API_KEY = None
    [error] = check_settings()
    assert error.id == "instant.E002"
    assert "CENTRIFUGO_API_KEY" in error.msg and '"api_key"' in error.hint and "installws" in error.hint


def test_system_check_runs_with_manage_py_check(settings):
    settings.CENTRIFUGO_API_KEY = None
    with pytest.raises(SystemCheckError, match="instant.E002"):
        call_command("check")


@pytest.mark.parametrize(
    ("name", "value", "check_id"),
    [
        ("CENTRIFUGO_HMAC_KEY", 1234, "instant.E001"),
        ("CENTRIFUGO_API_KEY", b"bytes", "instant.E002"),
        ("CENTRIFUGO_HOST", "localhost", "instant.E003"),
        ("CENTRIFUGO_PORT", "8427", "instant.E004"),
        ("CENTRIFUGO_PORT", 70000, "instant.E004"),
        ("CENTRIFUGO_PORT", True, "instant.E004"),
        ("INSTANT_PAYLOAD_FORMAT", "json", "instant.E005"),
        ("INSTANT_API_TIMEOUT", 0, "instant.E006"),
        ("INSTANT_API_TIMEOUT", "1", "instant.E006"),
        ("INSTANT_TOKEN_TTL", -1, "instant.E007"),
    ],
)
def test_invalid_settings_are_check_errors(settings, name, value, check_id):
    setattr(settings, name, value)
    assert _ids(check_settings()) == [check_id]


def test_port_none_is_valid(settings):
    settings.CENTRIFUGO_PORT = None
    assert check_settings() == []


def test_missing_auth_middleware_is_a_warning(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AuthenticationMiddleware" not in m]
    [warning] = check_settings()
    assert warning.id == "instant.W001" and warning.level == checks.WARNING
    assert "AuthenticationMiddleware" in warning.msg
