"""
Every change to chat data goes through a function here.

Each one validates, stores in one transaction, then publishes after the
commit. The WebSocket consumer, the HTTP API, the pages and the admin all
call these. Messages, reactions, rooms, members, reading and webhooks each
have a module; every change
of a room's messages takes its ``seq`` in ``stream``.
"""

from chat.services.common import Actor
from chat.services.members import (
    block_set,
    direct_open,
    member_add,
    member_remove,
    room_join,
)
from chat.services.messages import (
    Post,
    Posting,
    PostResult,
    Repeats,
    attachment_create,
    message_create,
    message_delete,
    message_edit,
    messages_check,
    messages_create,
    messages_disown,
    messages_repeated,
    messages_store,
)
from chat.services.reactions import reaction_set
from chat.services.reading import mute_set, read_all, read_set
from chat.services.rooms import room_create
from chat.services.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_post,
    webhooks_check_manager,
)

__all__ = [
    "Actor",
    "Post",
    "PostResult",
    "Posting",
    "Repeats",
    "attachment_create",
    "block_set",
    "direct_open",
    "member_add",
    "member_remove",
    "message_create",
    "message_delete",
    "message_edit",
    "messages_check",
    "messages_create",
    "messages_disown",
    "messages_repeated",
    "messages_store",
    "mute_set",
    "reaction_set",
    "read_all",
    "read_set",
    "room_create",
    "room_join",
    "webhook_create",
    "webhook_delete",
    "webhook_post",
    "webhooks_check_manager",
]
