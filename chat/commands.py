"""
The command dispatcher: a client frame's command -> a service -> replies.

Sockets parse frames (chat/protocol.py) and hand the room commands here, in
a database thread. Each kind of command has one handler; every handler
answers with the reply for the sender alone, or None when the broadcast of
the stored change is the reply (it carries the command's ``client_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from django.db import transaction
from django.utils import translation

from accounts.sessions import Login, recent_logins
from chat import protocol, services
from chat.exceptions import ChatError, InsufficientScope
from chat.models import Message, Room
from chat.payloads import encoded_message
from chat.services import Actor
from chat.services.stream import room_changes

Reply = str | None


def _sends(
    room: Room, user: Actor, commands: list[protocol.SendMessage]
) -> list[Reply]:
    results = services.messages_create(
        room=room, author=user, posts=_posts(commands), stop_at_answer=True
    )
    return _posted(room, commands, results)


def _posts(commands: list[protocol.SendMessage]) -> list[services.Post]:
    return [services.Post(c.text, c.client_id, c.reply_to) for c in commands]


def _posted(
    room: Room,
    commands: list[protocol.SendMessage],
    results: list[services.PostResult],
) -> list[Reply]:
    """The sender's replies to its posts' ``results`` (one per post carried out)."""
    return [
        _answer(result, protocol.MESSAGE, room, command.client_id)
        for command, result in zip(commands, results, strict=False)
    ]


def _edit(room: Room, user: Actor, command: protocol.Edit) -> Reply:
    return _change(
        room,
        command.client_id,
        lambda: services.message_edit(
            room=room,
            editor=user,
            message_id=command.id,
            text=command.text,
            client_id=command.client_id,
        ),
    )


def _delete(room: Room, user: Actor, command: protocol.Delete) -> Reply:
    return _change(
        room,
        command.client_id,
        lambda: services.message_delete(
            room=room, actor=user, message_id=command.id, client_id=command.client_id
        ),
    )


def _react(room: Room, user: Actor, command: protocol.React) -> Reply:
    return _change(
        room,
        command.client_id,
        lambda: services.reaction_set(
            room=room,
            user=user,
            message_id=command.id,
            emoji=command.emoji,
            on=command.on,
            client_id=command.client_id,
        ),
    )


def _read(room: Room, user: Actor, command: protocol.Read) -> Reply:
    # The answer is the read and unread frames every socket of the user gets.
    try:
        services.read_set(
            user=user, room=room, message_id=command.id, unread=command.unread
        )
    except ChatError as error:
        return _answer(error, protocol.ERROR, room, command.client_id)
    return None


def _change(
    room: Room,
    client_id: str | None,
    service: Callable[[], tuple[Message, bool]],
) -> Reply:
    try:
        result: tuple[Message, bool] | ChatError = service()
    except ChatError as error:
        result = error
    return _answer(result, protocol.UPDATE, room, client_id)


def _answer(
    result: tuple[Message, bool] | ChatError,
    kind: str,
    room: Room,
    client_id: str | None,
) -> Reply:
    """Return the sender's own reply to a command's ``result``."""
    if isinstance(result, ChatError):
        result.client_id = client_id or result.client_id
        result.room = room.slug
        return protocol.error_frame(result)
    message, changed = result
    if changed:
        return None  # The broadcast, carrying the client_id, answers.
    # A retry, or a change already made: only the sender hears of it.
    return protocol.change_frame(
        kind,
        encoded_message(message, room_slug=room.slug),
        room=room.slug,
        seq=message.seq,
        client_id=client_id,
    )


_HANDLERS: dict[type, Callable[..., Reply]] = {
    protocol.Edit: _edit,
    protocol.Delete: _delete,
    protocol.React: _react,
    protocol.Read: _read,
}


# One socket's turn: its commands (each with its room), its login key, its
# language.
Request = tuple[list[tuple[Room, protocol.RoomCommand]], str | None, str]


def execute_together(requests: list[Request]) -> list[list[Reply] | Exception]:
    """
    Carry out the requests of many sockets (see ``execute``); return each
    one's replies, or the error that stopped it.

    Their logins are checked together (a few queries for all). The
    requests that only post to one room are stored together: one lock of
    their rooms, one INSERT and one commit for all the sockets that wrote
    meanwhile. The others that change one room each share one transaction,
    each request a savepoint, so a failing one undoes only itself. Every
    transaction locks its rooms in the order of the rooms' ids, as every
    process does, so two processes' groups cannot wait on each other; a
    request that changes several rooms runs on its own after them.
    """
    # Logins are checked again for every turn, a check at most a second old:
    # one may have ended since its socket opened (logout, password change,
    # deactivation, a revoked token).
    logins = recent_logins.live({key for _commands, key, _language in requests if key})
    results: list[list[Reply] | Exception | None] = [None] * len(requests)

    def login_of(index: int) -> Login | None:
        key = requests[index][1]
        return logins.get(key) if key else None

    posters = [index for index, request in enumerate(requests) if _posts_only(request)]
    posted = _post_together(
        [requests[index] for index in posters], [login_of(index) for index in posters]
    )
    for index, result in zip(posters, posted, strict=True):
        results[index] = result

    def run(index: int) -> None:
        commands, _key, language = requests[index]
        try:
            results[index] = execute(commands, login_of(index), language)
        except Exception as error:  # Its socket hears of it.
            results[index] = error

    one_room = sorted(
        (
            index
            for index, request in enumerate(requests)
            if results[index] is None and _one_room(request)
        ),
        key=lambda index: requests[index][0][0][0].pk,
    )
    if len(one_room) > 1:  # One transaction, each request a savepoint.
        with transaction.atomic():
            for index in one_room:
                run(index)
    for index in range(len(requests)):
        if results[index] is None:
            run(index)
    return results  # type: ignore[return-value]


def _post_together(
    requests: list[Request], logins: list[Login | None]
) -> list[list[Reply] | Exception]:
    """
    Carry out ``requests`` that only post to one room each (with their
    ``logins``): checked each on its own, stored all together.
    """
    # Retries of stored posts, looked up for all at once.
    repeats = services.messages_repeated(
        [
            (login.user, [c.client_id for c in _sends_of(request) if c.client_id])
            for request, login in zip(requests, logins, strict=True)
            if login is not None
        ]
    )
    results: list[list[Reply] | Exception | None] = []
    postings: dict[int, services.Posting] = {}
    for index, (request, login) in enumerate(zip(requests, logins, strict=True)):
        checked: services.Posting | list[Reply] | Exception
        try:
            checked = _check_posts(request, login, repeats)
        except Exception as error:  # Its socket hears of it.
            checked = error
        if isinstance(checked, services.Posting):
            postings[index] = checked
            results.append(None)
        else:
            results.append(checked)
    try:
        services.messages_store(list(postings.values()))
    except Exception:  # Each stored on its own: only its socket hears.
        for index, posting in postings.items():
            try:
                services.messages_store([posting])
            except Exception as error:
                results[index] = error
    for index, posting in postings.items():
        if results[index] is None:
            room = requests[index][0][0][0]
            sends = _sends_of(requests[index])
            results[index] = _posted(room, sends, posting.results)  # type: ignore[arg-type]
    return results  # type: ignore[return-value]


def _posts_only(request: Request) -> bool:
    return _one_room(request) and len(_sends_of(request)) == len(request[0])


def _check_posts(
    request: Request, login: Login | None, repeats: services.Repeats
) -> services.Posting | list[Reply]:
    """Check a request's posts to one room: what to store, or the replies
    that refuse them all."""
    commands, _key, language = request
    room = commands[0][0]
    sends = _sends_of(request)
    with translation.override(language):
        try:
            _check_writable(login)
            return services.messages_check(
                room=room,
                author=login.user if login else None,
                posts=_posts(sends),
                stop_at_answer=True,
                repeats=repeats,
            )
        except ChatError as error:
            return _refuse_all(error, room, sends)


def _check_writable(login: Login | None) -> None:
    """Raise InsufficientScope if ``login`` may only read (a read token)."""
    if login is not None and not login.can_write:
        raise InsufficientScope()


def _sends_of(request: Request) -> list[protocol.SendMessage]:
    return [c for _room, c in request[0] if isinstance(c, protocol.SendMessage)]


def _one_room(request: Request) -> bool:
    commands = request[0]
    return bool(commands) and all(room == commands[0][0] for room, _c in commands)


def execute(
    commands: list[tuple[Room, protocol.RoomCommand]],
    login: Login | None,
    language: str,
) -> list[Reply]:
    """
    Carry out ``commands`` (each with its room) in order, up to and
    including the first one answered to the sender alone (refused, or a
    repeat); return the replies of those carried out, at least one.

    The sender's own answer to a command must reach it after the
    broadcasts of the commands before it and before those of the commands
    after it: the rest wait for the next call, after this one's replies are
    out. Consecutive commands to one room share one transaction (or one
    savepoint of the caller's) and one lock of the room
    (``stream.room_changes``), so a burst costs one commit and one update
    of the room's row: each command is a savepoint within it, and a refused
    one undoes only itself. Rooms are never locked together here, so two
    sockets' batches cannot wait on each other.
    """
    with translation.override(language):
        replies: list[Reply] = []
        for room, grouped in groupby(commands, key=lambda pair: pair[0]):
            in_room = list(grouped)
            try:
                _check_writable(login)
            except ChatError as refused:
                replies.extend(_refuse_all(refused, room, [c for _r, c in in_room]))
                return replies
            # Reading changes no message: it takes no lock of the room.
            changing = any(not isinstance(c, protocol.Read) for _r, c in in_room)
            with room_changes(room) if changing else transaction.atomic():
                for kind, group in groupby(in_room, key=lambda pair: type(pair[1])):
                    batch = [command for _room, command in group]
                    done = _run(room, login.user if login else None, kind, batch)
                    replies.extend(done)
                    if done[-1] is not None:
                        return replies
        return replies


def _run(
    room: Room, user: Actor, kind: type, batch: list[protocol.RoomCommand]
) -> list[Reply]:
    """
    Carry out commands of one kind in one room, up to the first answered to
    the sender alone; posts are stored together.
    """
    try:
        if kind is protocol.SendMessage:
            return _sends(room, user, batch)  # type: ignore[arg-type]
        handler = _HANDLERS[kind]
        replies: list[Reply] = []
        for command in batch:
            replies.append(handler(room, user, command))
            if replies[-1] is not None:
                break
        return replies
    except ChatError as error:
        # Refused as a whole (say, the login ended).
        return _refuse_all(error, room, batch)


def _refuse_all(
    error: ChatError, room: Room, batch: Sequence[protocol.RoomCommand]
) -> list[Reply]:
    """Answer each command of ``batch`` with ``error``, naming its own client_id."""
    replies: list[Reply] = []
    for command in batch:
        error.client_id = command.client_id
        replies.append(_answer(error, protocol.ERROR, room, command.client_id))
    return replies
