from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.services import user_create
from chat.models import Message, Room
from chat.services import message_create
from conftest import PASSWORD

BEFORE = [("chat", "0005_message_author_set_null")]


@pytest.fixture
def before_html(transactional_db: None) -> Iterator[None]:
    """The database as it was before messages were formatted."""
    MigrationExecutor(connection).migrate(BEFORE)
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


class MessageHtmlMigrationTests:
    def test_messages_stored_before_formatting_get_their_html(
        self, before_html: None
    ) -> None:
        old_apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        room = old_apps.get_model("chat", "Room").objects.create(
            name="Old times", slug="old-times"
        )
        OldMessage = old_apps.get_model("chat", "Message")
        old = OldMessage.objects.create(
            room=room, text="**old** <b>news</b>", created=timezone.now()
        )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        assert Message.objects.get(pk=old.pk).html == (
            "<p><strong>old</strong> &lt;b&gt;news&lt;/b&gt;</p>"
        )


BEFORE_CHANGES = [("chat", "0007_message_mentions")]


@pytest.fixture
def before_changes(transactional_db: None) -> Iterator[None]:
    """The database as it was before messages had a change stream."""
    MigrationExecutor(connection).migrate(BEFORE_CHANGES)
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


class MessageChangesMigrationTests:
    def test_stored_messages_are_numbered_by_id_within_their_room(
        self, before_changes: None
    ) -> None:
        old_apps = (
            MigrationExecutor(connection).loader.project_state(BEFORE_CHANGES).apps
        )
        OldRoom = old_apps.get_model("chat", "Room")
        OldMessage = old_apps.get_model("chat", "Message")
        busy = OldRoom.objects.create(name="Busy", slug="busy")
        quiet = OldRoom.objects.create(name="Quiet", slug="quiet")
        OldRoom.objects.create(name="Empty", slug="empty")
        rooms = [busy, quiet, busy, busy, quiet]
        ids = [
            OldMessage.objects.create(
                room=where, text=f"m{n}", created=timezone.now()
            ).pk
            for n, where in enumerate(rooms)
        ]
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        seqs = dict(Message.objects.values_list("pk", "seq"))
        assert [seqs[pk] for pk in ids] == [1, 1, 2, 3, 2]
        last = dict(Room.objects.values_list("slug", "last_seq"))
        assert (last["busy"], last["quiet"], last["empty"]) == (3, 2, 0)
        assert not Message.objects.filter(deleted=True).exists()
        assert not Message.objects.exclude(edited=None).exists()
        # The stream goes on from there.
        author = user_create(username="later", password=PASSWORD)
        busy_now = Room.objects.get(slug="busy")
        message, _ = message_create(room=busy_now, author=author, text="after")
        assert message.seq == 4 == Room.objects.get(slug="busy").last_seq
