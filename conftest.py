"""Fixtures shared by every test: real users, rooms, sockets and images."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.layers import channel_layers
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from PIL import Image

from accounts.models import User
from accounts.services import user_create
from chat.models import Message, Room
from chat.services import room_create

PASSWORD = "correct-horse-battery-9"
# The Message object's fields in the wire contract (docs/protocol.md).
MESSAGE_KEYS = {
    *("id", "room", "author", "username", "text", "html", "mentions", "created"),
    *("attachment", "seq", "edited", "deleted", "reply_to", "reactions", "member"),
    *("notifies_room", "bot"),
}
ROOM_KEYS = {
    *("slug", "name", "kind", "url", "joined", "members", "last_message_at", "seq"),
    "last_message_id",
    *("last_read_id", "unread", "mentions", "muted"),
}

# Fuzz tests (chat/tests/test_fuzz_*.py) run under this profile and set only
# their example counts.
hypothesis_settings.register_profile(
    "chat",
    deadline=None,
    database=None,  # Leave no .hypothesis directory in the checkout.
    # CI replays the same examples every run; local runs explore new ones.
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.load_profile("chat")


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    """Give each test its own in-memory layer (its queues bind to one loop)."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def no_rate_limits(settings: Any) -> Iterator[None]:
    """Turn rate limits off; their own tests turn them back on."""
    settings.RATE_LIMITS = False
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str = "alice", display_name: str = "") -> User:
        return user_create(
            username=username, password=PASSWORD, display_name=display_name
        )

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("alice", "Alice")


@pytest.fixture
def other_user(make_user: Callable[..., User]) -> User:
    return make_user("bob", "Bob")


@pytest.fixture
def room(user: User) -> Room:
    return room_create(name="Lobby", created_by=user)


@pytest.fixture
def user_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def client_ids_of(user: User) -> set[str]:
    """Return the idempotency keys of the messages ``user`` has stored."""
    return {
        str(client_id)
        for client_id in Message.objects.filter(
            author=user, client_id__isnull=False
        ).values_list("client_id", flat=True)
    }


def image_bytes(size: tuple[int, int] = (640, 480), fmt: str = "PNG") -> bytes:
    """Return a real image file's bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def png_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.png", image_bytes(), content_type="image/png")
