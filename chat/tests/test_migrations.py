from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.services import user_create
from chat.models import Membership, Message, Room
from chat.services import message_create
from conftest import PASSWORD

BEFORE = [("chat", "0005_message_author_set_null")]


def back_to(target: list[tuple[str, str]]) -> Iterator[None]:
    """Hold the database at ``target`` while a test runs, then migrate on."""
    MigrationExecutor(connection).migrate(target)
    try:
        yield
    finally:
        migrate_to_latest()


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def before_html(transactional_db: None) -> Iterator[None]:
    """The database as it was before messages were formatted."""
    yield from back_to(BEFORE)


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
        migrate_to_latest()
        assert Message.objects.get(pk=old.pk).html == (
            "<p><strong>old</strong> &lt;b&gt;news&lt;/b&gt;</p>"
        )


BEFORE_CHANGES = [("chat", "0007_message_mentions")]


@pytest.fixture
def before_changes(transactional_db: None) -> Iterator[None]:
    """The database as it was before messages had a change stream."""
    yield from back_to(BEFORE_CHANGES)


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
        migrate_to_latest()
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


BEFORE_MEMBERS = [("chat", "0009_room_kinds")]


@pytest.fixture
def before_members(transactional_db: None) -> Iterator[None]:
    """The database as it was before people joined rooms."""
    yield from back_to(BEFORE_MEMBERS)


class MembershipMigrationTests:
    def test_authors_become_members_of_the_public_rooms_they_posted_in(
        self, before_members: None
    ) -> None:
        old_apps = (
            MigrationExecutor(connection).loader.project_state(BEFORE_MEMBERS).apps
        )
        OldRoom = old_apps.get_model("chat", "Room")
        OldMessage = old_apps.get_model("chat", "Message")
        OldMembership = old_apps.get_model("chat", "Membership")
        writer = user_create(username="writer", password=PASSWORD)
        reader = user_create(username="reader", password=PASSWORD)
        lobby = OldRoom.objects.create(name="Lobby", slug="lobby")
        OldRoom.objects.create(name="Quiet", slug="quiet")
        closed = OldRoom.objects.create(name="Closed", slug="closed", kind="private")
        OldMembership.objects.create(room=closed, user_id=reader.pk)
        for where in (lobby, lobby, closed):
            OldMessage.objects.create(
                room=where, author_id=writer.pk, text="hi", created=timezone.now()
            )
        migrate_to_latest()
        assert set(Membership.objects.values_list("room__slug", "user__username")) == {
            ("lobby", "writer"),
            ("closed", "reader"),
        }
        assert not Membership.objects.filter(room__slug="quiet").exists()
