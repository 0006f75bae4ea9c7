from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from chat.models import Message

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
