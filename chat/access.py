"""
Who may do what to a message: the one place that answers.

Every room is public for now: anyone reads, logged-in users write. What
remains to decide is who may change a message once it is posted.
"""

from __future__ import annotations

from accounts.models import User
from chat.models import Message


def can_edit(user: User, message: Message) -> bool:
    """Only the author edits their message's text."""
    return message.author_id == user.pk


def can_delete(user: User, message: Message) -> bool:
    """The author deletes their message; staff delete anyone's."""
    return message.author_id == user.pk or user.is_staff


def can_see_revisions(user: User, message: Message) -> bool:
    """The author and staff read a message's earlier texts."""
    return can_delete(user, message)
