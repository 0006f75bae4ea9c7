"""
Settings for the chat, read from the environment with working defaults.

With nothing set, the chat runs embedded: a SQLite file and an in-memory
channel layer. ``DATABASE_URL`` and ``REDIS_URL`` switch it to PostgreSQL and
Redis for running many processes. See docs/configuration.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Return the boolean value of the environment variable ``name``."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """Return the comma-separated environment variable ``name`` as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))


def _secret_key() -> str:
    """
    Return SECRET_KEY from the environment, or a key kept in DATA_DIR.

    A key generated on first start and stored beside the database keeps
    sessions valid across restarts without any secret in the repository.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8080"))

INSTALLED_APPS = [
    "accounts",
    "chat",
    "config.apps.ChatAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # API v1's interactive docs: Swagger UI's files, served from here.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accounts.middleware.refuse_tokens_in_urls",
    "chat.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# SQLite runs in WAL mode with a busy timeout and takes its write lock at
# BEGIN, so concurrent writers queue instead of failing with "database is
# locked".
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
    ),
}
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        # Each worker thread keeps its connection: opening one per message
        # (and, for SQLite, running the PRAGMAs again) cost more than the
        # query. Health checks replace a connection the server dropped.
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "300")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = _SQLITE_OPTIONS
    # A file, not memory: tests share it across threads and processes.
    DATABASES["default"]["TEST"] = {
        "NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache holds rate-limit counters: shared by all processes on Redis.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chat",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a hub's messages are pushed to it as they are
            # published, with no Redis round trip per message read (the
            # list-based layer's reads were a quarter of a process's CPU
            # with 200 writers on two processes). Pub/sub keeps nothing for
            # a process that is away: the hub repairs from the database
            # what the layer lost (docs/guarantees.md).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # A Redis that hangs fails a send within 5 s, not never.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": 1,
                        "socket_timeout": 5,
                    }
                ],
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 60},
        }
    }

AUTH_USER_MODEL = "accounts.User"
# The only backend: every login, on any page, counts against the throttle.
AUTHENTICATION_BACKENDS = ["accounts.throttle.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:room_list"
LOGOUT_REDIRECT_URL = "chat:room_list"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# HTTPS=1 when the chat is served over TLS (by itself or behind a proxy that
# sets X-Forwarded-Proto): secure cookies, redirects to https, HSTS.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS or env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files from the apps directly, so the chat runs the same with
# DEBUG on or off and without a collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "10"))
# Uploads larger than this spill to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Mail (password resets): printed to the console unless an SMTP server is set.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chat@localhost")
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", "3600"))

LOG_FILE = Path(os.environ.get("LOG_FILE", BASE_DIR / "logs" / "chat.log"))
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
# Lines are written by a thread of their own, not by the threads that serve
# (chat/logqueue.py).
LOGGING_CONFIG = "chat.logqueue.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "dated": {
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        },
    },
    "filters": {
        # The server's own line per malformed request, at most 10 a minute.
        "repeat_limit": {"()": "chat.logfilters.RepeatLimit"},
        # Whatever a line quotes, a personal access token in it is masked.
        "redact_tokens": {"()": "chat.logfilters.RedactTokens"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "dated",
            "filters": ["redact_tokens"],
        },
        "file": {
            "filters": ["redact_tokens"],
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_FILE),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
            "formatter": "dated",
        },
    },
    "root": {"handlers": ["console", "file"], "level": "WARNING"},
    "loggers": {
        "uvicorn.error": {"filters": ["repeat_limit"]},
        "chat": {
            "handlers": ["console", "file"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
        "accounts": {
            "handlers": ["console", "file"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
    },
}

# Rate limits (see chat/ratelimit.py): "count/seconds" windows, comma-separated.
RATE_LIMITS = os.environ.get("RATE_LIMITS", "on").strip().lower() != "off"
RATE_LIMIT_MESSAGES = os.environ.get("RATE_LIMIT_MESSAGES", "10/5,60/60")
RATE_LIMIT_CONNECTS = os.environ.get("RATE_LIMIT_CONNECTS", "30/10,300/600")
# Searches per user, and per client address (guests count only there).
RATE_LIMIT_SEARCH = os.environ.get("RATE_LIMIT_SEARCH", "10/5,120/60")
RATE_LIMIT_SEARCH_IP = os.environ.get("RATE_LIMIT_SEARCH_IP", "20/5,300/60")
# Failed logins per (username, address), per address, and per username: the
# last is a ceiling only a distributed attack reaches, so that a stranger
# cannot lock a user out.
RATE_LIMIT_LOGIN = os.environ.get("RATE_LIMIT_LOGIN", "5/300")
RATE_LIMIT_LOGIN_IP = os.environ.get("RATE_LIMIT_LOGIN_IP", "30/300")
RATE_LIMIT_LOGIN_USER = os.environ.get("RATE_LIMIT_LOGIN_USER", "100/3600")
# Sign-ups and password-reset requests per address.
RATE_LIMIT_SIGNUP = os.environ.get("RATE_LIMIT_SIGNUP", "10/600,30/86400")
RATE_LIMIT_PASSWORD_RESET = os.environ.get("RATE_LIMIT_PASSWORD_RESET", "5/3600")

# Chat limits.
MESSAGE_MAX_LENGTH = 4000
HISTORY_PAGE_SIZE = 50
HISTORY_MAX_PAGE_SIZE = 200
# Minutes after posting during which an author may edit a message; empty
# (the default) for no limit. Deleting has no limit.
EDIT_WINDOW_MINUTES = (
    float(os.environ["EDIT_WINDOW_MINUTES"])
    if os.environ.get("EDIT_WINDOW_MINUTES", "").strip()
    else None
)
# Rooms one multi-room socket may follow at once.
SOCKET_MAX_ROOMS = int(os.environ.get("SOCKET_MAX_ROOMS", "200"))
CSRF_FAILURE_VIEW = "chat.api.csrf_failure"
# Proxies whose X-Forwarded-For/-Proto are believed; none unless configured
# (behind nginx: its address), so a client cannot pick its own address.
FORWARDED_ALLOW_IPS = os.environ.get("FORWARDED_ALLOW_IPS", "").strip()
# Connections one client address may hold open at once (RATE_LIMITS=off
# lifts it), and seconds a connection may take to deliver a whole request.
CONNECTIONS_PER_ADDRESS = int(os.environ.get("CONNECTIONS_PER_ADDRESS", "200"))
REQUEST_TIMEOUT = float(os.environ.get("REQUEST_TIMEOUT", "20"))
WS_PING_INTERVAL = float(os.environ.get("WS_PING_INTERVAL", "20"))
WS_PING_TIMEOUT = float(os.environ.get("WS_PING_TIMEOUT", "20"))
HEARTBEAT_SECONDS = float(os.environ.get("HEARTBEAT_SECONDS", "15"))
# Presence: changes reach a room's sockets in batches at most this often; a
# process's share of a room is a lease renewed by each tick (HEARTBEAT_SECONDS)
# that lapses after PRESENCE_TTL_SECONDS, so a process that dies takes its
# users offline elsewhere within that time plus one tick.
PRESENCE_BATCH_SECONDS = float(os.environ.get("PRESENCE_BATCH_SECONDS", "0.5"))
PRESENCE_TTL_SECONDS = float(os.environ.get("PRESENCE_TTL_SECONDS", "45"))
# A typing notice is relayed at most once per TYPING_INTERVAL_SECONDS per user
# and room, and not at all in a room with more people online than
# TYPING_MAX_ONLINE.
TYPING_INTERVAL_SECONDS = float(os.environ.get("TYPING_INTERVAL_SECONDS", "10"))
TYPING_MAX_ONLINE = int(os.environ.get("TYPING_MAX_ONLINE", "100"))
# Frames a socket may have queued before it counts as too slow and is cut
# off (it then reconnects and catches up).
SOCKET_QUEUE_LIMIT = int(os.environ.get("SOCKET_QUEUE_LIMIT", "2000"))
# Bytes a socket may have unsent in its write buffer before it counts as too
# slow.
SOCKET_BUFFER_LIMIT = int(os.environ.get("SOCKET_BUFFER_LIMIT", str(4 * 1024 * 1024)))
