"""
One query suite for both search engines: a fixed corpus in Russian and
English (inflections, "ё", links, code, phrases, files, edits, deletes, a
private room) and what each query must find in it.

It runs against the database in use: SQLite in the test run, and
PostgreSQL again through tests/test_search_engines.py, which runs this
module with DATABASE_URL set. Both must give these same answers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from chat import search
from chat.models import Message, Room
from chat.search import engines
from chat.services import (
    attachment_create,
    member_add,
    message_create,
    message_delete,
    message_edit,
    room_create,
)
from conftest import image_bytes

pytestmark = pytest.mark.django_db

# key: (room, author, text). Rooms: "open" (public), "secret" (private,
# Bob's, Alice not in it). Later keys are newer messages.
CORPUS = {
    "ru-inflect": ("open", "alice", "Новое сообщение о версии 2.0"),
    "ru-yo": ("open", "bob", "Ёлка стоит в холле"),
    "en-run": ("open", "alice", "She runs the nightly build"),
    "en-study": ("open", "bob", "Two studies disagree"),
    "link": ("open", "alice", "Docs: https://docs.example.org/guide?page=2"),
    "code": ("open", "bob", "Call `get_user_model()` instead of importing User"),
    "dotted": ("open", "alice", "the sess.foo attribute is stale"),
    "phrase": ("open", "bob", "an exact phrase matters here"),
    "phrase-apart": ("open", "alice", "this phrase is not exact"),
    "secret": ("secret", "bob", "Секретные сообщения про версию"),
    "edited": ("open", "alice", "the original wording"),
    "deleted": ("open", "bob", "this was removed later"),
    "mention": ("open", "bob", "@alice please review the draft"),
    "short": ("open", "alice", "ok"),
}
# What Alice (not in the private room) finds, newest first.
EXPECTED = {
    # Inflections, both ways, and parts of words.
    "сообщения": ["ru-inflect"],
    "сообщениями": ["ru-inflect"],
    "верси": ["ru-inflect"],
    "running": ["en-run"],
    "run": ["en-run"],
    "study": ["en-study"],
    # "ё" is "е", and case does not matter.
    "елка": ["ru-yo"],
    "ЁЛКА": ["ru-yo"],
    "NIGHTLY": ["en-run"],
    # Links, code, dotted names.
    "example": ["link"],
    "docs.example.org/guide": ["link"],
    "get_user_model": ["code"],
    "sess": ["dotted"],
    # Every word, anywhere; or the exact phrase.
    "exact phrase": ["phrase-apart", "phrase"],
    '"exact phrase"': ["phrase"],
    '"Exact  Phrase"': ["phrase"],
    # Edits and deletes: only what is there now.
    "original": [],
    "revised": ["edited"],
    "removed": [],
    # Filters.
    "from:bob phrase": ["phrase"],
    "from:@BOB ёлка": ["ru-yo"],
    "in:open версия": ["ru-inflect"],
    "is:mention": ["mention"],
    "has:file": ["image", "file"],
    "has:image": ["image"],
    "has:file quarterly": ["file"],
    # A file is found by its name.
    "report": ["file"],
    "diagram.png": ["image"],
    # Short terms: recent history only, but found.
    "ok": ["short"],
    "2.0": ["ru-inflect"],
    # Syntax of other engines is only text.
    '" - * NEAR ( ) OR AND :': [],
    "NEAR": [],
    "review*": ["mention"],
    "(draft)": ["mention"],
}


@pytest.fixture
def corpus(make_user: Callable[..., User]) -> dict[str, Message]:
    alice, bob = make_user("alice"), make_user("bob")
    people = {"alice": alice, "bob": bob}
    rooms = {
        "open": room_create(name="Open", created_by=alice),
        "secret": room_create(name="Secret", created_by=bob, kind=Room.Kind.PRIVATE),
    }
    stored = {}
    for key, (room, author, text) in CORPUS.items():
        stored[key], _ = message_create(
            room=rooms[room], author=people[author], text=text
        )
    message_edit(
        room=rooms["open"],
        editor=alice,
        message_id=stored["edited"].pk,
        text="the revised wording",
    )
    message_delete(room=rooms["open"], actor=bob, message_id=stored["deleted"].pk)
    stored["file"], _ = attachment_create(
        room=rooms["open"],
        author=alice,
        upload=SimpleUploadedFile("report.txt", b"numbers", content_type="text/plain"),
        text="quarterly numbers",
    )
    stored["image"], _ = attachment_create(
        room=rooms["open"],
        author=bob,
        upload=SimpleUploadedFile("diagram.png", image_bytes(), "image/png"),
    )
    return stored


def found(viewer: User | None, text: str, corpus: dict[str, Message]) -> list[str]:
    keys = {message.pk: key for key, message in corpus.items()}
    results = search.search(viewer, text)
    return [keys.get(hit.message.pk, f"#{hit.message.pk}") for hit in results.hits]


def test_every_query_finds_what_it_should(corpus: dict[str, Message]) -> None:
    alice = User.objects.get(username="alice")
    answers = {text: found(alice, text, corpus) for text in EXPECTED}
    wrong = {text: got for text, got in answers.items() if got != EXPECTED[text]}
    assert not wrong, "\n".join(
        f"{text!r}: found {got}, expected {EXPECTED[text]}"
        for text, got in wrong.items()
    )


def test_the_same_answers_when_few_messages_are_read_in_id_order(
    corpus: dict[str, Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads the newest WINDOW messages by id, then the older ones
    # through the trigram index: with a window of 3, most answers come
    # from the index, and must be the same.
    monkeypatch.setattr(engines, "WINDOW", 3)
    test_every_query_finds_what_it_should(corpus)


def test_pages_follow_on_from_the_cursor(corpus: dict[str, Message]) -> None:
    alice = User.objects.get(username="alice")
    first = search.search(alice, "has:file", limit=1)
    assert first.next == corpus["image"].pk
    second = search.search(alice, "e", limit=1, before=first.next)
    assert [hit.message.pk for hit in second.hits] == [corpus["file"].pk]
    words = search.search(alice, "phrase", limit=1, before=corpus["phrase-apart"].pk)
    assert [hit.message.pk for hit in words.hits] == [corpus["phrase"].pk]


def test_a_private_room_is_found_by_its_members_only(
    corpus: dict[str, Message],
) -> None:
    alice, bob = User.objects.get(username="alice"), User.objects.get(username="bob")
    assert found(bob, "сообщения", corpus) == ["secret", "ru-inflect"]
    assert found(alice, "секретные", corpus) == []
    assert found(None, "секретные", corpus) == []
    # Added, Alice finds it too.
    member_add(room=Room.objects.get(slug="secret"), actor=bob, username="alice")
    assert found(alice, "секретные", corpus) == ["secret"]


def test_snippets_mark_the_words_found_and_escape_the_rest(
    corpus: dict[str, Message], make_user: Callable[..., User]
) -> None:
    alice = User.objects.get(username="alice")
    room = Room.objects.get(slug="open")
    message_create(room=room, author=alice, text="<b>Сообщения</b> & studies")
    [hit] = search.search(alice, "сообщение studies").hits[:1]
    assert hit.snippet == (
        "&lt;b&gt;<mark>Сообщения</mark>&lt;/b&gt; &amp; <mark>studies</mark>"
    )
