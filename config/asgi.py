"""
ASGI entry point: pages and the API over HTTP, rooms over WebSocket.

Each WebSocket handshake must come from the site's own origin (or one in
CSRF_TRUSTED_ORIGINS), which stops other sites from opening sockets with a
visitor's session cookie; see chat/origin.py. A path that matches no
route is refused at the handshake too (chat/routing.py).
Request bodies larger than an upload may be are refused as they stream in.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.auth import SocketAuth  # noqa: E402
from chat.middleware import RequestBodyLimit  # noqa: E402
from chat.origin import OriginCheck  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": OriginCheck(SocketAuth(URLRouter(websocket_urlpatterns))),
    }
)
