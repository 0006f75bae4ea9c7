"""
ASGI entry point of the tutorial baseline.

The tutorial wraps the router in AllowedHostsOriginValidator and
AuthMiddlewareStack; the baseline leaves both out (no origin check, no
auth), so that only the broadcast path is measured.
"""

import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

# Set, not setdefault: a DJANGO_SETTINGS_MODULE inherited from the chat
# (config.settings) must not win.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baselines.tutorial.settings"
# Initialize Django before importing code that may import models.
django_asgi_app = get_asgi_application()

from bench.baselines.tutorial.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
