"""Django settings, all read from the environment (see docs/configuration.md).

Bad values stop the process with a message naming the variable: a help desk that
silently starts on the wrong database or with the wrong policy is worse than one that
refuses to start.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from supportdesk.config.env import env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = env_path("SUPPORTDESK_DATA_DIR", Path.cwd() / "var")


def _secret_key() -> str:
    """The configured key, or one generated once and kept in the data directory.

    Keeping it on disk means sessions survive restarts of a laptop install without the
    operator having to invent a key.
    """
    configured = env_str("SUPPORTDESK_SECRET_KEY", "")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("SUPPORTDESK_DEBUG", False)
ALLOWED_HOSTS = env_list("SUPPORTDESK_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("SUPPORTDESK_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SUPPORTDESK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "supportdesk.core",
    "supportdesk.accounts",
    "supportdesk.tickets",
    "supportdesk.web",
    "supportdesk.portal",
    "supportdesk.console",
    "supportdesk.outbound",
    "supportdesk.intake.email",
    "supportdesk.sla",
]

# Email is the login; the role (customer contact, specialist, supervisor) decides the rest.
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:signin"
LOGIN_REDIRECT_URL = "web:home"
# The web UI sends the CSRF token in a header from htmx; the cookie itself stays HTTP-only.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "supportdesk.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "supportdesk.web.middleware.SignedInPersonMiddleware",
    "supportdesk.web.middleware.ViewerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "supportdesk.config.urls"
WSGI_APPLICATION = "supportdesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    default_url = f"sqlite:///{DATA_DIR / 'supportdesk.sqlite3'}"
    url = env_str("SUPPORTDESK_DATABASE_URL", default_url)
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"SUPPORTDESK_DATABASE_URL={url!r} is not a database URL ({exc}); "
            "use sqlite:///PATH or postgresql://USER@HOST:PORT/NAME"
        ) from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        config["ENGINE"] = "supportdesk.core.sqlite3"  # Django's, with statement conversion cached
        name = Path(str(config["NAME"]))
        name.parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # WAL lets the web, SMTP and worker threads read while one writes; IMMEDIATE
            # takes the write lock at BEGIN so two writers queue instead of deadlocking.
            # synchronous=FULL: a message acknowledged to a sender must survive power loss.
            # cache_size: up to 64 MiB of pages per connection instead of SQLite's 2 MiB;
            # the ticket table's indexes outgrow 2 MiB after a few thousand tickets
            # (bulk intake +4% in four interleaved pairs of bench/open_tickets.py).
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"
                "PRAGMA busy_timeout=30000;PRAGMA foreign_keys=ON;PRAGMA cache_size=-65536;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # A file, not :memory:, so tests see WAL and cross-thread behaviour as in
        # production; one per process so concurrent test runs never share it.
        test_name = Path(tempfile.gettempdir()) / f"supportdesk-test-{os.getpid()}.sqlite3"
        config["TEST"] = {"NAME": str(test_name)}
    elif engine in ("django.db.backends.postgresql",):
        config.setdefault("OPTIONS", {})
    else:
        raise ImproperlyConfigured(
            f"SUPPORTDESK_DATABASE_URL uses {engine}; supportdesk supports sqlite:// and postgresql://"
        )
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail", "sla"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = env_path("SUPPORTDESK_ATTACHMENT_DIR", DATA_DIR / "attachments")

# --- supportdesk -------------------------------------------------------------------

# Path of the active support policy (TOML); empty means the packaged default policy.
SUPPORTDESK_POLICY_FILE = env_str("SUPPORTDESK_POLICY_FILE", "")

# authserv-id of our own MTA; when set, only its Authentication-Results header counts.
SUPPORTDESK_MTA_AUTHSERV_ID = env_str("SUPPORTDESK_MTA_AUTHSERV_ID", "")

SUPPORTDESK_SUPPORT_ADDRESS = env_str("SUPPORTDESK_SUPPORT_ADDRESS", "support@supportdesk.localhost")
SUPPORTDESK_MAX_MESSAGE_BYTES = env_int("SUPPORTDESK_MAX_MESSAGE_BYTES", 25 * 1024 * 1024, minimum=1024)
SUPPORTDESK_MAX_ATTACHMENT_BYTES = env_int(
    "SUPPORTDESK_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024, minimum=1
)

# IMAP mailbox polled by `supportdesk fetch-mail` and the worker (docs/email.md).
# Credentials come from the environment (or a file), never from a database field.
SUPPORTDESK_IMAP_HOST = env_str("SUPPORTDESK_IMAP_HOST", "")
SUPPORTDESK_IMAP_PORT = env_int("SUPPORTDESK_IMAP_PORT", 993, minimum=1)
SUPPORTDESK_IMAP_USER = env_str("SUPPORTDESK_IMAP_USER", "")
SUPPORTDESK_IMAP_PASSWORD = env_str("SUPPORTDESK_IMAP_PASSWORD", "")
SUPPORTDESK_IMAP_PASSWORD_FILE = env_str("SUPPORTDESK_IMAP_PASSWORD_FILE", "")
SUPPORTDESK_IMAP_FOLDER = env_str("SUPPORTDESK_IMAP_FOLDER", "INBOX")
# How often `supportdesk worker` (and serve's embedded worker) polls the mailbox.
SUPPORTDESK_IMAP_POLL_SECONDS = env_int("SUPPORTDESK_IMAP_POLL_SECONDS", 60, minimum=5)
SUPPORTDESK_IMAP_MOVE_TO = env_str("SUPPORTDESK_IMAP_MOVE_TO", "")  # empty: mark seen
SUPPORTDESK_IMAP_CA_FILE = env_str("SUPPORTDESK_IMAP_CA_FILE", "")  # empty: system CAs

EMAIL_BACKEND = env_str("SUPPORTDESK_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("SUPPORTDESK_SMTP_RELAY_HOST", "localhost")
EMAIL_PORT = env_int("SUPPORTDESK_SMTP_RELAY_PORT", 25, minimum=1)
# Where the file-based backend (used by scripts/demo) writes outgoing mail, one file each.
EMAIL_FILE_PATH = env_path("SUPPORTDESK_MAIL_FILE_DIR", DATA_DIR / "sent-mail")
DEFAULT_FROM_EMAIL = SUPPORTDESK_SUPPORT_ADDRESS

# Outgoing mail (docs/outbound.md). The instance id goes into X-Supportdesk-Loop so our
# own mail coming back is recognised; empty means one derived from SECRET_KEY.
SUPPORTDESK_INSTANCE_ID = env_str("SUPPORTDESK_INSTANCE_ID", "")
SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY = env_int(
    "SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY", 5, minimum=0
)
SUPPORTDESK_MAIL_MAX_ATTEMPTS = env_int("SUPPORTDESK_MAIL_MAX_ATTEMPTS", 10, minimum=1)

# SLA runtime (docs/sla.md): the worker's sweep, on-call paging and /metrics.
SUPPORTDESK_SLA_SWEEP_SECONDS = env_int("SUPPORTDESK_SLA_SWEEP_SECONDS", 15, minimum=1)
SUPPORTDESK_REPORT_TIME_ZONE = env_str("SUPPORTDESK_REPORT_TIME_ZONE", "America/Sao_Paulo")
SUPPORTDESK_ONCALL_ACK_MINUTES = env_int("SUPPORTDESK_ONCALL_ACK_MINUTES", 15, minimum=1)
SUPPORTDESK_ONCALL_WEBHOOK_URL = env_str("SUPPORTDESK_ONCALL_WEBHOOK_URL", "")
SUPPORTDESK_ONCALL_WEBHOOK_SECRET = env_str("SUPPORTDESK_ONCALL_WEBHOOK_SECRET", "")
SUPPORTDESK_WEBHOOK_MAX_ATTEMPTS = env_int("SUPPORTDESK_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
# Bearer token for /metrics (Prometheus); empty: only signed-in supervisors may read it.
SUPPORTDESK_METRICS_TOKEN = env_str("SUPPORTDESK_METRICS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SUPPORTDESK_LOG_LEVEL", "WARNING")},
}
