"""
Property-based fuzzing of the room socket (docs/protocol.md).

Each example opens a fresh socket, sends a burst of arbitrary client frames
and checks the contract: exactly one well-formed reply per frame, nothing
stored but valid messages of a logged-in user, and a socket that still works
afterwards. The expected outcome of each frame is derived from the contract
alone, independently of chat/protocol.py.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client
from hypothesis import event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from chat.models import Message, Room
from config.asgi import application
from conftest import MESSAGE_KEYS, client_ids_of

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")
# The host the sockets come to: the Origin check compares it with ORIGIN.
HOST = (b"host", b"127.0.0.1")
TEXT_LIMIT = 4000
CLIENT_ID_LIMIT = 64
FRAME_LIMIT = 64 * 1024
ERROR_CODES = {"auth_required", "bad_request", "too_large", "rate_limited"}
REPLY_TIMEOUT = 3.0

FUZZ = hypothesis_settings(max_examples=150)  # On the profile in conftest.py.


# Frames -------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One client frame: text (a str) or binary (bytes)."""

    data: str | bytes

    def __repr__(self) -> str:  # Keep Hypothesis' report readable.
        shown = self.data if len(self.data) <= 300 else self.data[:300]
        suffix = "" if len(self.data) <= 300 else f"... ({len(self.data)} long)"
        return f"Frame({shown!r}{suffix})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


NASTY_CHARS = [
    "\x00",  # NUL
    "\x1b",  # ESC
    "\x7f",  # DEL
    "\x85",  # NEL, a C1 control character
    "\x9b",  # CSI, a C1 control character
    "\r",
    "\n",
    "\t",
    "\r\n",
    " ",
    "\xa0",  # no-break space
    "\u3000",  # ideographic space
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # BOM
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u0301",  # combining acute accent
    "e\u0301",
    "\U0001f600",  # emoji
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # ZWJ emoji sequence
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "Котики",
    "\u05e9\u05dc\u05d5\u05dd",  # Hebrew, right-to-left
    "<script>",
    '"',
    "\\",
]
# Lone surrogates cannot travel in UTF-8 text, but JSON escapes ("\ud800")
# carry them into the parsed value; json.dumps(ensure_ascii=True) makes them.
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
CLIENT_ID_ALPHABET = st.characters(min_codepoint=0x21, max_codepoint=0x7E)

nasty_text = st.lists(
    st.one_of(st.characters(), st.sampled_from(NASTY_CHARS), SURROGATES),
    max_size=30,
).map("".join)


def _repeat(pieces: tuple[str, int]) -> str:
    return pieces[0] * pieces[1]


# Texts near the 4000-character limit, of one or two repeated chunks.
long_text = st.tuples(
    st.sampled_from(["x", "é", "\U0001f600", " ", "\n", "ab", "\r\n", "\x00"]),
    st.integers(min_value=3990, max_value=4010),
).map(_repeat)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(nasty_text, st.just("type")), children, max_size=4),
    ),
    max_leaves=12,
)

valid_client_ids = st.text(alphabet=CLIENT_ID_ALPHABET, min_size=1, max_size=64)
client_ids = st.one_of(
    st.none(),
    valid_client_ids,
    # Few ids, so that repeats within one burst are common.
    st.sampled_from(["dup", "k1", "a" * 64, "~!", "x"]),
    st.just("a" * 65),
    st.just(""),
    st.text(max_size=70),
    json_values,
)
texts = st.one_of(
    nasty_text,
    st.text(min_size=1, max_size=60),
    long_text,
    st.sampled_from(["", " ", "\n\n", "\t", "\r", "still ok", "\u3000", "\x85"]),
    json_values,
)
types = st.one_of(
    st.sampled_from(
        ["message", "ping", "pong", "MESSAGE", "Message", "message ", "", "history"]
    ),
    st.sampled_from(["error", "heartbeat"]),
    json_values,
)
unknown_fields = st.dictionaries(
    st.text(max_size=10).filter(lambda key: key not in {"type", "text", "client_id"}),
    json_values,
    max_size=3,
)


@st.composite
def message_like(draw: st.DrawFn) -> Any:
    """A dict shaped like a client frame, each field possibly wrong or missing."""
    frame: dict[str, Any] = draw(unknown_fields)
    if draw(st.integers(0, 9)):
        frame["type"] = draw(st.one_of(st.just("message"), types))
    if draw(st.integers(0, 9)):
        frame["text"] = draw(texts)
    if draw(st.booleans()):
        frame["client_id"] = draw(client_ids)
    return frame


def _not_blank(text: str) -> str:
    return text if text.strip() else text + "x"


# Texts a logged-in user may post: no control characters but \n and \t,
# not blank; emoji, combining marks, bidi and zero-width characters welcome.
valid_texts = (
    st.lists(
        st.one_of(
            st.characters(codec="utf-8", exclude_categories=["Cc"]),
            st.sampled_from(
                [
                    piece
                    for piece in NASTY_CHARS
                    if not any(
                        unicodedata.category(c) == "Cc" and c not in "\n\t\r"
                        for c in piece
                    )
                ]
            ),
        ),
        min_size=1,
        max_size=40,
    )
    .map("".join)
    .map(_not_blank)
)


@st.composite
def valid_message(draw: st.DrawFn) -> Any:
    frame: dict[str, Any] = {"type": "message", "text": draw(valid_texts)}
    client_id = draw(st.one_of(st.none(), valid_client_ids, st.sampled_from(["dup"])))
    if client_id is not None or draw(st.booleans()):
        frame["client_id"] = client_id
    return frame


@st.composite
def encoded(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Frame:
    """Encode a JSON value as a text frame a real client could send."""
    value = draw(values)
    ascii_only = draw(st.booleans())
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # Lone surrogates: only escapes can carry them.
        text = json.dumps(value, ensure_ascii=True)
    return Frame(text)


def _number_frame(parts: tuple[str, int, str]) -> Frame:
    before, digits, after = parts
    return Frame(before + "9" * digits + after)


huge_numbers = st.tuples(
    st.sampled_from(
        [
            "",
            "-",
            '{"type": "message", "text": "hi", "client_id": ',
            '{"type": "message", "text": ',
            '{"type": ',
            "[",
        ]
    ),
    st.sampled_from([1, 18, 19, 400, 4300, 4301, 5000, 20_000]),
    st.sampled_from(["", "}", "]", "e999", ".5e-999", "e99999}"]),
).map(_number_frame)


def _nested_frame(parts: tuple[str, str, int, bool]) -> Frame:
    opening, closing, depth, closed = parts
    return Frame(opening * depth + (closing * depth if closed else ""))


deep_nesting = st.tuples(
    st.sampled_from(["[", '{"a":', '{"type":"message","text":[']),
    st.just(""),
    st.sampled_from([100, 1_000, 5_000, 10_000, 50_000]),
    st.booleans(),
).map(_nested_frame) | st.sampled_from([50, 1000, 30_000]).map(
    lambda depth: Frame("[" * depth + "]" * depth)
)


def _oversized(kind: str) -> Frame:
    """A frame beyond the 64 KiB limit."""
    if kind == "plain":
        return Frame("x" * (FRAME_LIMIT + 1))
    if kind == "message":
        return Frame(json.dumps({"type": "message", "text": "x" * (FRAME_LIMIT + 10)}))
    return Frame(json.dumps({"type": "ping", "pad": "x" * FRAME_LIMIT}))


oversized = st.sampled_from(["plain", "message", "ping"]).map(_oversized)

literal_frames = st.sampled_from(
    [
        Frame(""),
        Frame(" "),
        Frame("null"),
        Frame("NaN"),
        Frame("Infinity"),
        Frame('"message"'),
        Frame('{"type": "ping"}'),
        Frame('{"type": "ping", "text": 1}'),
        Frame('{"type": "message", "text": "a\\u0000b"}'),
        Frame('{"type": "message", "text": "\\ud800"}'),
        Frame('{"type": "message", "text": "\\udfff\\ud800", "client_id": "sur"}'),
        Frame('{"type": "\\ud800"}'),
        Frame('{"type": "message", "text": "x", "client_id": "\\ud800"}'),
        Frame('{"type": "message", "text": "dup", "type": "ping"}'),
        Frame('{"type": "ping", "type": "message", "text": "dup key"}'),
        Frame('{"type": "message", "text": "\u202eevil.exe"}'),
        Frame('{"type": "message", "text": "ok", "client_id": null}'),
        Frame('{"type": "message", "text": "ok", "client_id": 7}'),
        Frame('{"type": "message", "text": null}'),
        Frame('{"type": "message", "text": ["x"]}'),
        Frame("\ufeff{}"),
        Frame('{"type": "message", "text": "x"'),
        Frame("[" * 50_000 + "]" * 5),
    ]
)

frames = st.one_of(
    st.binary(max_size=200).map(Frame),
    st.text(max_size=200).map(Frame),
    encoded(json_values),
    encoded(message_like()),
    encoded(valid_message()),
    encoded(st.just({"type": "ping"})),
    huge_numbers,
    deep_nesting,
    oversized,
    literal_frames,
)
bursts = st.lists(frames, min_size=1, max_size=8)
message_bursts = st.lists(
    st.one_of(encoded(message_like()), encoded(valid_message()), literal_frames),
    min_size=1,
    max_size=8,
)


# What the contract says each frame gets -------------------------------------


@dataclass
class Expected:
    """The replies a frame may get, and whether it stores a message."""

    kinds: set[str]  # "pong", "message" or error codes
    # The frame's client_id when the reply must name it (valid, parsed).
    client_id: str | None = None
    names_client_id: bool = False
    stores: bool = False  # A new message, when the reply is a message.
    text: str | None = None  # The stored text of a new message.


def _valid_client_id(value: Any) -> bool:
    return value is None or (
        isinstance(value, str)
        and 1 <= len(value) <= CLIENT_ID_LIMIT
        and all("!" <= char <= "~" for char in value)
    )


def expected_reply(frame: Frame, *, logged_in: bool, used: set[str]) -> Expected:
    """
    Decide from the contract what ``frame`` must get back.

    ``used`` holds the client_ids the user already has stored messages for;
    a new message adds its own.
    """
    if isinstance(frame.data, bytes):
        return Expected({"bad_request"})
    if len(frame.data) > FRAME_LIMIT:
        return Expected({"bad_request", "too_large"})
    try:
        data = json.loads(frame.data)
    except (ValueError, RecursionError):
        return Expected({"bad_request"})
    if not isinstance(data, dict):
        return Expected({"bad_request"})
    kind = data.get("type")
    if isinstance(kind, str) and kind == "ping":
        return Expected({"pong"})
    if not (isinstance(kind, str) and kind == "message"):
        return Expected({"bad_request"})
    client_id = data.get("client_id")
    if not _valid_client_id(client_id):
        return Expected({"bad_request"})
    named = client_id is not None
    text = data.get("text")
    if not isinstance(text, str):
        return Expected({"bad_request"}, client_id, named)
    if not logged_in:
        return Expected({"auth_required"}, client_id, named)
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    problems = set()
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in normalized):
        problems.add("bad_request")  # Control characters.
    if len(normalized) > TEXT_LIMIT:
        problems.add("too_large")
    if not normalized.strip():
        problems.add("bad_request")  # Blank.
    if problems:
        return Expected(problems, client_id, named)
    if client_id is not None and client_id in used:
        # A retry: the stored message comes back, nothing new is stored.
        return Expected({"message"}, client_id, True)
    if any(unicodedata.category(c) == "Cs" for c in text):
        # A lone surrogate is no character: it may be refused, or stored in
        # some repaired form, but must not break anything.
        return Expected({"message", "bad_request"}, client_id, True, stores=True)
    return Expected(
        {"message"}, client_id, True, stores=True, text=normalized.strip("\n")
    )


def check_reply(reply: Any, expected: Expected, frame: Frame, room: Room) -> str:
    """Assert ``reply`` is well-formed and what ``expected`` allows; return its kind."""
    assert isinstance(reply, dict), reply
    kind = reply.get("type")
    if kind == "error":
        assert set(reply) <= {"type", "code", "detail", "client_id", "room"}, reply
        assert reply["code"] in ERROR_CODES, reply
        assert isinstance(reply["detail"], str), reply
        assert reply["detail"].strip(), reply
        outcome = reply["code"]
        if outcome != "rate_limited":
            assert outcome in expected.kinds, (frame, reply, expected)
        if expected.names_client_id:
            assert reply.get("client_id") == expected.client_id, (frame, reply)
        else:
            assert "client_id" not in reply, (frame, reply)
        return outcome
    if kind == "pong":
        assert reply == {"type": "pong"}, reply
        assert "pong" in expected.kinds, (frame, reply, expected)
        return "pong"
    assert kind == "message", (frame, reply)
    assert "message" in expected.kinds, (frame, reply, expected)
    assert set(reply) == {"type", "room", "seq", "message", "client_id"}, reply
    assert reply["client_id"] == expected.client_id, (frame, reply)
    message = reply["message"]
    assert set(message) == MESSAGE_KEYS, reply
    assert message["room"] == room.slug, reply
    assert isinstance(message["id"], int), reply
    if expected.stores and expected.text is not None:
        assert message["text"] == expected.text, (frame, reply)
    return "message"


# Driving a socket ------------------------------------------------------------


def session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def next_output(communicator: WebsocketCommunicator) -> dict[str, Any]:
    """
    Return the next ASGI message the socket sends.

    Unlike receive_output(), an application that crashes raises its
    exception at once instead of after the whole timeout.
    """
    getter = asyncio.ensure_future(communicator.output_queue.get())
    done, _ = await asyncio.wait(
        {getter, communicator.future},
        timeout=REPLY_TIMEOUT,
        return_when=asyncio.FIRST_COMPLETED,
    )
    if getter not in done:
        getter.cancel()
        if communicator.future.done():
            communicator.future.result()  # The application's own exception.
        raise AssertionError("the socket sent nothing when it should have")
    return getter.result()


async def receive(communicator: WebsocketCommunicator) -> Any:
    """Return the next frame the socket sends, decoded."""
    output = await next_output(communicator)
    assert output["type"] == "websocket.send", f"the socket ended: {output}"
    assert output.get("text") is not None, output
    return json.loads(output["text"])


async def next_reply(communicator: WebsocketCommunicator) -> Any:
    """Return the next frame that is not a heartbeat."""
    while True:
        reply = await receive(communicator)
        if not (isinstance(reply, dict) and reply.get("type") == "heartbeat"):
            return reply
        assert isinstance(reply.get("last_id"), int), reply


async def converse(
    path: str, cookie: bytes | None, burst: list[Frame], probe: dict[str, Any]
) -> tuple[list[Any], Any]:
    """Send ``burst`` and then ``probe``; return the burst's replies and the probe's."""
    headers = [HOST, ORIGIN]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    try:
        await communicator.send_input({"type": "websocket.connect"})
        handshake = await next_output(communicator)
        assert handshake["type"] == "websocket.accept", handshake
        history = await receive(communicator)
        assert history["type"] == "history"
        for frame in burst:
            # As a server hands frames over; send_to() refuses empty ones.
            key = "bytes" if isinstance(frame.data, bytes) else "text"
            await communicator.send_input(
                {"type": "websocket.receive", key: frame.data}
            )
        replies = [await next_reply(communicator) for _ in burst]
        await communicator.send_json_to(probe)
        probe_reply = await next_reply(communicator)
        assert await communicator.receive_nothing(timeout=0.02)
    finally:
        await communicator.disconnect()
    return replies, probe_reply


def fuzz_socket(
    room: Room, user: User, cookie: bytes | None, burst: list[Frame]
) -> None:
    """Run one example: the burst, the checks, the probe."""
    channel_layers.backends.clear()
    logged_in = cookie is not None
    used = client_ids_of(user)
    if logged_in:
        probe_id = f"probe-{uuid.uuid4().hex}"
        probe = {"type": "message", "text": "still ok", "client_id": probe_id}
    else:
        probe = {"type": "ping"}
    before = Message.objects.count()

    replies, probe_reply = async_to_sync(converse)(
        f"/ws/rooms/{room.slug}/", cookie, burst, probe
    )

    # The socket handles frames one at a time, in order: the expectation for
    # each frame follows from the outcomes of the frames before it.
    stored = 0
    for frame, reply in zip(burst, replies, strict=True):
        expected = expected_reply(frame, logged_in=logged_in, used=used)
        outcome = check_reply(reply, expected, frame, room)
        event(f"reply {outcome}" + (" (new)" if expected.stores else ""))
        if outcome == "message" and expected.stores:
            stored += 1
        if outcome == "message" and expected.client_id is not None:
            used.add(expected.client_id)
    if logged_in:
        assert probe_reply["type"] == "message", probe_reply
        assert probe_reply["client_id"] == probe_id, probe_reply
        assert probe_reply["message"]["text"] == "still ok", probe_reply
        stored += 1
    else:
        assert probe_reply == {"type": "pong"}, probe_reply
    assert Message.objects.count() - before == stored, (burst, replies)


# The tests -------------------------------------------------------------------


class RoomConsumerFuzzTests:
    @FUZZ
    @given(burst=bursts)
    def test_an_anonymous_visitor_gets_one_contract_reply_per_frame(
        self, room: Room, user: User, burst: list[Frame]
    ) -> None:
        fuzz_socket(room, user, None, burst)

    @FUZZ
    @given(burst=bursts)
    def test_a_logged_in_user_gets_one_contract_reply_per_frame(
        self, room: Room, user: User, burst: list[Frame]
    ) -> None:
        fuzz_socket(room, user, session_cookie(user), burst)

    @FUZZ
    @given(burst=message_bursts)
    def test_message_shaped_frames_store_exactly_the_valid_ones(
        self, room: Room, user: User, burst: list[Frame]
    ) -> None:
        fuzz_socket(room, user, session_cookie(user), burst)


async def open_with_query(path: str) -> tuple[bool, list[Any], Any]:
    """Connect to ``path``; return accepted, frames sent, and how it ended."""
    communicator = WebsocketCommunicator(application, path, headers=[HOST, ORIGIN])
    try:
        await communicator.send_input({"type": "websocket.connect"})
        handshake = await next_output(communicator)
        if handshake["type"] != "websocket.accept":
            return False, [], handshake
        sent = [await receive(communicator)]
        if sent[0].get("type") == "error":
            return True, sent, await next_output(communicator)
        await communicator.send_json_to({"type": "ping"})
        sent.append(await next_reply(communicator))
        return True, sent, None
    finally:
        await communicator.disconnect()


class RoomConsumerAfterFuzzTests:
    @hypothesis_settings(FUZZ, max_examples=100)
    @given(
        after=st.one_of(
            st.text(max_size=30),
            st.integers(min_value=-(10**30), max_value=10**30).map(str),
            st.sampled_from(["", "0", "00", "1e3", "+1", " 1", "²", "١٢", "½", "\x00"]),
        )
    )
    def test_any_after_gets_a_history_or_a_bad_request(
        self, room: Room, after: str
    ) -> None:
        channel_layers.backends.clear()
        path = f"/ws/rooms/{room.slug}/?after={quote(after, safe='')}"
        accepted, sent, ending = async_to_sync(open_with_query)(path)
        assert accepted
        if sent[0]["type"] == "history":
            assert isinstance(sent[0]["messages"], list)
            assert sent[1] == {"type": "pong"}
        else:
            assert sent[0]["type"] == "error", sent
            assert sent[0]["code"] == "bad_request", sent
            assert sent[0]["detail"], sent
            assert ending == {"type": "websocket.close", "code": 4400}, ending
