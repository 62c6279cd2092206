"""Minimal Django project around django-helpdesk 2.6.1 for bench/peers/django_helpdesk.py.

Runs inside the peer's own virtualenv, never with supportdesk's. The database and the
media directory come from the environment, set per run by the bench:

    HELPDESK_PEER_DATABASE   sqlite:///ABS/PATH[?wal] or postgresql://USER@HOST:PORT/NAME
    HELPDESK_PEER_MEDIA_ROOT where helpdesk stores attachments (a temporary directory)
"""

import os
from urllib.parse import urlsplit

SECRET_KEY = "bench-only-not-secret"
DEBUG = False  # DEBUG would record every query and slow the peer down
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
SITE_ID = 1
ROOT_URLCONF = "django_helpdesk_urls"  # ticket URLs in the acknowledgement are reversed
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
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
    }
]
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ.get("HELPDESK_PEER_MEDIA_ROOT", "/nonexistent-helpdesk-peer-media")

# Acknowledgements go to the in-memory backend, as when the reference was measured.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "support@example.com"


def _database() -> dict[str, object]:
    url = urlsplit(os.environ.get("HELPDESK_PEER_DATABASE", ""))
    if url.scheme == "sqlite":
        config: dict[str, object] = {"ENGINE": "django.db.backends.sqlite3", "NAME": url.path}
        if url.query == "wal":
            # Same durability as supportdesk's SQLite: WAL with synchronous=FULL.
            config["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"}
        return config
    if url.scheme in ("postgresql", "postgres"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.path.lstrip("/"),
            "USER": url.username or "postgres",
            "PASSWORD": url.password or "",
            "HOST": url.hostname or "127.0.0.1",
            "PORT": str(url.port or 5432),
        }
    raise RuntimeError("HELPDESK_PEER_DATABASE: use sqlite:///PATH[?wal] or postgresql://...")


DATABASES = {"default": _database()}

# Teams (pinax-teams, an optional extra) only scope knowledge-base items; off, as
# helpdesk's docs allow, so the peer needs no extra package for mail intake.
HELPDESK_TEAMS_MODE_ENABLED = False
