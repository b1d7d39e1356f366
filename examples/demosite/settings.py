"""Settings of the instant demo site.

Everything the demo writes at run time lives in ``INSTANT_DEMO_DIR`` (default ``examples/var/``,
git-ignored): the SQLite database, the websockets server's ``config.json`` (written by
``manage.py demo_config``), and this site's secret key. The tokens' HMAC key and the API key are
read from that ``config.json``, so Django and the server always agree.

Environment:

| variable | default | meaning |
|---|---|---|
| ``INSTANT_DEMO_DIR`` | ``examples/var`` | run-time files |
| ``INSTANT_DEMO_WS_PORT`` | ``8427`` | port of the websockets server (its HTTP API too) |
| ``INSTANT_DEMO_WS_URL`` | ``ws://<page host>:<port>`` | websockets address given to the browser |
| ``INSTANT_DEMO_TOKEN_TTL`` | ``86400`` | lifetime of the tokens, in seconds (``INSTANT_TOKEN_TTL``) |
| ``INSTANT_DEMO_FAST_PASSWORDS`` | unset | ``1``: MD5 password hashes, for the browser tests only |
"""

import json
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_DIR = Path(os.environ.get("INSTANT_DEMO_DIR") or BASE_DIR / "var").resolve()
DEMO_DIR.mkdir(parents=True, exist_ok=True)
SERVER_CONFIG = DEMO_DIR / "config.json"


def _secret_key() -> str:
    path = DEMO_DIR / "django_secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _server_config() -> dict:
    try:
        return json.loads(SERVER_CONFIG.read_text())
    except (OSError, ValueError):
        return {}  # before `manage.py demo_config`: instant's system checks say what is missing


SECRET_KEY = _secret_key()
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "instant",
    "demosite",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demosite.urls"
WSGI_APPLICATION = "demosite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DEMO_DIR / "db.sqlite3",
    }
}

if os.environ.get("INSTANT_DEMO_FAST_PASSWORDS") == "1":
    # The browser tests only: a cheap hash (as Django's testing docs advise) keeps logins fast.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# instant: the websockets server runs beside the site, on loopback.
_config = _server_config()
CENTRIFUGO_HOST = "http://127.0.0.1"
CENTRIFUGO_PORT = int(os.environ.get("INSTANT_DEMO_WS_PORT") or 8427)
CENTRIFUGO_HMAC_KEY = _config.get("token_hmac_secret_key")
CENTRIFUGO_API_KEY = _config.get("api_key")
SITE_NAME = "instant demo"
INSTANT_ALLOW_ANONYMOUS = True  # anonymous visitors get the public channels
INSTANT_TOKEN_TTL = int(os.environ.get("INSTANT_DEMO_TOKEN_TTL") or 86400)  # the browser tests use seconds
INSTANT_DEMO_WS_URL = os.environ.get("INSTANT_DEMO_WS_URL", "")
