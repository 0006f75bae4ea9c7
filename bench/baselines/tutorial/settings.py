"""
Baseline: the Channels tutorial chat (docs "Tutorial", parts 2 and 3), as
it is: a group per room, ``group_send`` for every message, one consumer per
socket. Served by daphne from the repository root:

    DJANGO_SETTINGS_MODULE=bench.baselines.tutorial.settings \
        .venv/bin/daphne -b 127.0.0.1 -p 8712 bench.baselines.tutorial.asgi:application

The channel layer is the in-memory one, or Redis when REDIS_URL is set.
No database, no sessions, no auth, no origin check: only the broadcast path.
"""

import os

SECRET_KEY = "bench-tutorial-baseline-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = ["channels"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.baselines.tutorial.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

ASGI_APPLICATION = "bench.baselines.tutorial.asgi.application"

if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
