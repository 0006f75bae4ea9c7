"""
Every change to chat data goes through a function here.

Each one validates, stores in one transaction, then publishes after the
commit. The WebSocket consumer, the HTTP API, the pages and the admin all
call these. Messages, reactions and rooms each have a module; every change
of a room's messages takes its ``seq`` in ``stream``.
"""

from chat.services.common import Actor
from chat.services.messages import (
    Post,
    PostResult,
    attachment_create,
    message_create,
    message_delete,
    message_edit,
    messages_create,
    messages_disown,
)
from chat.services.reactions import reaction_set
from chat.services.rooms import room_create

__all__ = [
    "Actor",
    "Post",
    "PostResult",
    "attachment_create",
    "message_create",
    "message_delete",
    "message_edit",
    "messages_create",
    "messages_disown",
    "reaction_set",
    "room_create",
]
