"""
Property-based fuzzing of the JSON API (docs/protocol.md, "HTTP").

Whatever a client sends, the API answers with a status from the contract,
a JSON error body for every 4xx, and stores nothing unless it says it did.
Data persists across the examples of one test, so each example compares
counts before and after itself.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.http import QueryDict
from django.test import Client
from hypothesis import event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from chat.models import Attachment, Message, Room
from chat.services import message_create
from conftest import MESSAGE_KEYS, ROOM_KEYS, client_ids_of, image_bytes

pytestmark = pytest.mark.django_db

STATUSES = {200, 201, 400, 403, 404, 405, 413}
ERROR_CODES_BY_STATUS = {
    400: {"bad_request"},
    403: {"auth_required", "csrf_failed"},
    404: {"not_found"},
    405: {"bad_request", "method_not_allowed"},
    413: {"too_large"},
}
ATTACHMENT_KEYS = {"name", "size", "content_type", "url", "thumbnail_url"}
CONTENT_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/octet-stream",
}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
TEXT_LIMIT = 4000
ROOM_NAME_LIMIT = 80
FILE_NAME_LIMIT = 255
SLUG = re.compile(r"[-a-zA-Z0-9_]+")
ASCII_DIGITS = re.compile(r"[0-9]+")
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

FUZZ = hypothesis_settings(max_examples=200)  # On the profile in conftest.py.


def check_response(response: Any) -> Any:
    """Assert the contract's status and error shape; return the JSON body."""
    status = response.status_code
    event(f"status {status}")
    assert status in STATUSES, (status, response.content[:500])
    if 400 <= status < 500:
        assert response["Content-Type"].startswith("application/json"), (
            status,
            response["Content-Type"],
            response.content[:500],
        )
        body = json.loads(response.content)
        assert isinstance(body, dict), body
        assert body.get("type") == "error", body
        assert body.get("code") in ERROR_CODES_BY_STATUS[status], (status, body)
        assert isinstance(body.get("detail"), str), body
        assert body["detail"].strip(), body
        return body
    return json.loads(response.content)


NASTY_CHARS = [
    "\x00",
    "\x1b",
    "\x7f",
    "\x85",
    "\r",
    "\n",
    "\t",
    "\r\n",
    " ",
    ".",
    "/",
    "\\",
    "..",
    "&amp;",
    "&#47;",
    "%2F",
    "\xa0",
    "\u3000",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\u202e",
    "\u2066",
    "\u0301",
    "e\u0301",
    "\U0001f600",
    "\ufffd",
    "\uffff",
    "Котики",
    "\u05e9\u05dc\u05d5\u05dd",
    "²",
    "١٢",
    "½",
    "<b>",
    '"',
    "'",
    ";",
    "=",
    "&",
    "?",
    "#",
]
# HTTP carries UTF-8, so no lone surrogates in paths, queries and forms...
nasty_text = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY_CHARS)),
    max_size=30,
).map("".join)
# ...but JSON escapes ("\ud800") carry them into a parsed body.
json_text = st.lists(
    st.one_of(st.characters(), st.sampled_from(NASTY_CHARS)), max_size=30
).map("".join)


# GET /api/rooms/<slug>/messages ---------------------------------------------

query_values = st.one_of(
    st.none(),  # Absent.
    st.just(""),
    st.integers(min_value=-5, max_value=10**6).map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(
        ["0", "1", "200", "201", "00050", "9" * 18, "9" * 19, "1" * 5000, "1e3", "+1"]
    ),
    st.sampled_from([" 1", "1 ", "0x10", "1.0", "-0", "²", "¹²", "١٢", "٣", "½"]),
    st.sampled_from(["\x00", "1\x00", "NaN", "∞", "一"]),
    nasty_text,
)


def _id_ok(value: str | None) -> bool | None:
    """Whether ``value`` is an acceptable message id: True, False, or either."""
    if value is None or value == "":
        return True
    if ASCII_DIGITS.fullmatch(value):
        return True if len(value) <= 18 else None  # Huge ids may be refused.
    if value.isdigit():
        return None  # Non-ASCII digits: a contract gap, either answer will do.
    return False


def _limit_ok(value: str | None) -> bool | None:
    if value is None or value == "":
        return True
    if ASCII_DIGITS.fullmatch(value):
        digits = value.lstrip("0")  # int() refuses over 4300 digits.
        return 1 <= len(digits) <= 3 and int(digits) <= MAX_PAGE_SIZE
    if value.isdigit():
        return None
    return False


@st.composite
def raw_queries(draw: st.DrawFn) -> str:
    """A query string: well-formed, repeated keys, or raw and percent-mangled."""
    if draw(st.integers(0, 4)):
        pairs = []
        for name in ("before", "after", "limit"):
            value = draw(query_values)
            if value is not None:
                pairs.append((name, value))
        if draw(st.booleans()):
            pairs.append((draw(nasty_text), draw(nasty_text)))
        pairs = draw(st.permutations(pairs))
        return urlencode(pairs)
    return draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    ["before=", "after=", "limit=", "&", "=", "%", "%ZZ", "%C0%AF"]
                ),
                st.sampled_from(["%00", "%B2", "%C2%B2", "+", ";", "1", "9" * 20]),
                nasty_text,
            ),
            max_size=8,
        ).map("".join)
    )


def check_page(body: Any, query: QueryDict, room: Room) -> None:
    assert set(body) == {"messages"}, body
    messages = body["messages"]
    limit = query.get("limit") or str(PAGE_SIZE)
    assert len(messages) <= int(limit)
    ids = [message["id"] for message in messages]
    assert ids == sorted(ids), ids
    for message in messages:
        assert set(message) == MESSAGE_KEYS, message
        assert message["room"] == room.slug
    if query.get("before"):
        assert all(i < int(str(query["before"])) for i in ids), (query, ids)
    if query.get("after"):
        assert all(i > int(str(query["after"])) for i in ids), (query, ids)


class MessageListApiFuzzTests:
    @pytest.fixture
    def history(self, room: Room, user: User) -> Room:
        for n in range(60):
            message_create(room=room, author=user, text=f"m{n}")
        return room

    @FUZZ
    @given(raw=raw_queries(), logged_in=st.booleans())
    def test_any_query_gets_a_page_or_a_json_400(
        self,
        client: Client,
        user_client: Client,
        history: Room,
        raw: str,
        logged_in: bool,
    ) -> None:
        http = user_client if logged_in else client
        # As a browser sends it: UTF-8 bytes, which WSGI carries as latin-1.
        environ_query = raw.encode("utf-8").decode("latin-1")
        before = Message.objects.count()
        response = http.get(
            f"/api/rooms/{history.slug}/messages", QUERY_STRING=environ_query
        )
        body = check_response(response)
        assert Message.objects.count() == before
        query = QueryDict(raw)
        verdicts = [
            _id_ok(query.get("before")),
            _id_ok(query.get("after")),
            _limit_ok(query.get("limit")),
        ]
        if False in verdicts:
            assert response.status_code == 400, (raw, body)
        elif all(verdicts):
            assert response.status_code == 200, (raw, body)
        else:
            assert response.status_code in {200, 400}, (raw, body)
        if response.status_code == 200:
            check_page(body, query, history)

    @FUZZ
    @given(slug=st.one_of(nasty_text, st.from_regex(SLUG, fullmatch=True)))
    def test_any_room_address_gets_messages_or_a_json_404(
        self, client: Client, room: Room, slug: str
    ) -> None:
        response = client.get(f"/api/rooms/{quote(slug, safe='')}/messages")
        body = check_response(response)
        if slug == room.slug:
            assert response.status_code == 200, body
        elif SLUG.fullmatch(slug):
            assert response.status_code == 404, body
        else:
            assert response.status_code in {400, 404}, body


# POST /api/rooms -------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        json_text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(json_text, st.just("name")), children, max_size=4),
    ),
    max_leaves=10,
)
room_names = st.one_of(
    json_text,
    st.text(min_size=1, max_size=90),
    st.sampled_from(
        [
            "Plants",
            "  Plants  ",
            "Котики",
            "!!!",
            "-",
            "x" * 80,
            "x" * 81,
            "a\u202eb",
            "a\u200bb",
            "a\x00b",
            "\u3000",
            "e\u0301" * 40,
            "\U0001f600",
            "lobby",
        ]
    ),
    json_values,
)


def encoded(value: Any, *, ascii_only: bool) -> bytes:
    """Encode ``value`` as a client could: lone surrogates only as escapes."""
    try:
        return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True).encode("utf-8")


class Body(bytes):
    """A request body whose repr stays short in Hypothesis' reports."""

    def __repr__(self) -> str:
        if len(self) <= 300:
            return bytes(self).__repr__()
        return f"{bytes(self[:300])!r}... ({len(self)} bytes)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@st.composite
def _room_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 6))
    if kind <= 2:
        body: dict[str, Any] = draw(
            st.dictionaries(nasty_text, json_values, max_size=2)
        )
        if kind:
            body["name"] = draw(room_names)
        return encoded(body, ascii_only=draw(st.booleans()))
    if kind == 3:
        return encoded(draw(json_values), ascii_only=draw(st.booleans()))
    if kind == 4:
        return draw(st.binary(max_size=100))
    if kind == 5:
        return draw(
            st.sampled_from(
                [
                    b"",
                    b"null",
                    b"{}",
                    b'{"name": "\\ud800"}',
                    b'{"name": "a\\udfffb"}',
                    b'{"name": "\\u0000"}',
                    b'{"name": "Plants", "name": 1}',
                    b'{"name": 1, "name": "Dup"}',
                    b"\xef\xbb\xbf{}",
                    '{"name": "Plants"}'.encode("utf-16"),
                    b'{"name": "\xff"}',
                    b'{"name": ' + b"9" * 5000 + b"}",
                    b'{"name": 1e999}',
                    b"NaN",
                ]
            )
        )
    opening = draw(st.sampled_from([b"[", b'{"name":', b'{"a":']))
    depth = draw(st.sampled_from([100, 1_000, 10_000, 50_000]))
    closing = b"]" * depth if opening == b"[" and draw(st.booleans()) else b""
    return opening * depth + closing


room_bodies = _room_bodies().map(Body)


def expected_room(body: bytes) -> tuple[set[int], str | None]:
    """Return the statuses the contract allows and, for 201, the stored name."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {400}, None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return {400}, None
    name = unicodedata.normalize("NFC", data["name"]).strip()
    if (
        not name
        or len(name) > ROOM_NAME_LIMIT
        or any(
            char in BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cf"}
            for char in name
        )
    ):
        return {400}, None
    if any(unicodedata.category(char) == "Cs" for char in name):
        return {201, 400}, name  # A lone surrogate: refused, or repaired.
    return {201}, name


request_content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zzz",
        "multipart/form-data",
        "",
        "garbage",
        "application/json; boundary=;;;",
    ]
)


class RoomCreateApiFuzzTests:
    @FUZZ
    @given(body=room_bodies, content_type=request_content_types)
    def test_a_logged_in_user_gets_a_room_or_a_json_400(
        self, user_client: Client, body: bytes, content_type: str
    ) -> None:
        before = Room.objects.count()
        response = user_client.post("/api/rooms", body, content_type=content_type)
        payload = check_response(response)
        statuses, name = expected_room(body)
        assert response.status_code in statuses, (body, payload)
        if response.status_code != 201:
            assert Room.objects.count() == before
            return
        assert Room.objects.count() == before + 1
        room = payload["room"]
        assert set(room) == ROOM_KEYS, room
        if name is not None and not any(
            unicodedata.category(char) == "Cs" for char in name
        ):
            assert room["name"] == name, (body, room)
        assert SLUG.fullmatch(room["slug"]), room
        assert room["url"] == f"/rooms/{room['slug']}/", room
        listed = check_response(user_client.get(f"/api/rooms/{room['slug']}/messages"))
        assert listed == {"messages": []}

    @FUZZ
    @given(body=room_bodies, content_type=request_content_types)
    def test_an_anonymous_visitor_gets_a_json_403_and_no_room(
        self, client: Client, db: None, body: bytes, content_type: str
    ) -> None:
        before = Room.objects.count()
        response = client.post("/api/rooms", body, content_type=content_type)
        payload = check_response(response)
        assert response.status_code == 403, payload
        assert payload["code"] == "auth_required", payload
        assert Room.objects.count() == before


# POST /api/rooms/<slug>/files -------------------------------------------------

file_names = st.one_of(
    nasty_text,
    st.text(max_size=20),
    st.sampled_from(
        [
            "cat.png",
            "../../etc/passwd",
            "..\\..\\boot.ini",
            "C:\\Windows\\x.exe",
            "/abs/path.txt",
            "dir/",
            "..",
            ".",
            "",
            " ",
            "...",
            "a\x00b.txt",
            "evil\u202egnp.exe",
            "\u2066x\u2069.txt",
            "zero\u200bwidth.txt",
            "e\u0301.txt",
            "Котики.jpg",
            "x" * 300 + ".txt",
            "x" * 300,
            "y" * 250 + "." + "z" * 20,
            "&#47;etc&#47;passwd",
            "a&amp;b.txt",
            "line\nbreak.txt",
            "tab\there.txt",
            'quote".txt',
            "semi;colon=.txt",
        ]
    ),
)
file_contents = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"",
            b"hello",
            b"%PDF-1.4\n",
            b"\x00\x01\x02",
            "héllo".encode(),
            b"\x89PNG\r\n\x1a\n",  # A PNG signature and nothing else.
            image_bytes((8, 8)),
            image_bytes((8, 8), "GIF"),
            image_bytes((8, 8), "JPEG"),
            image_bytes((8, 8), "BMP"),
        ]
    ),
)
texts = st.one_of(
    nasty_text,
    st.sampled_from(
        ["", " ", "my cat", "\x00", "x" * 4000, "x" * 4001, "a\r\nb", "a\x85b"]
    ),
    st.text(max_size=50),
)
client_ids = st.one_of(
    st.none(),
    st.just(""),
    st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E),
        min_size=1,
        max_size=64,
    ),
    st.sampled_from(["dup", "k1", "a" * 64, "a" * 65, "has space", "é"]),
    nasty_text,
)


def _part(headers: list[str], content: bytes) -> bytes:
    return "\r\n".join(headers).encode("utf-8") + b"\r\n\r\n" + content + b"\r\n"


def multipart(
    boundary: str,
    name: str | None,
    quoted_name: bool,
    content: bytes,
    part_type: str,
    fields: dict[str, str],
) -> bytes:
    """Build a multipart body with the file part named ``name`` (None: no file)."""
    parts = []
    if name is not None:
        if quoted_name:
            param = 'filename="{}"'.format(
                name.replace("\\", "\\\\").replace('"', '\\"')
            )
        else:  # RFC 2231: any character, percent-encoded UTF-8.
            param = "filename*=UTF-8''" + quote(name, safe="")
        parts.append(
            _part(
                [
                    f'Content-Disposition: form-data; name="file"; {param}',
                    f"Content-Type: {part_type}",
                ],
                content,
            )
        )
    for key, value in fields.items():
        parts.append(
            _part(
                [f'Content-Disposition: form-data; name="{key}"'],
                value.encode("utf-8"),
            )
        )
    delimiter = f"--{boundary}\r\n".encode()
    return delimiter + delimiter.join(parts) + f"--{boundary}--\r\n".encode()


def _quotable(name: str) -> bool:
    """Whether a plain quoted filename parameter can carry ``name`` intact."""
    return not any(
        char in "\r\n" or unicodedata.category(char) == "Cc" for char in name
    )


def stored_files(media_root: Path) -> set[str]:
    if not media_root.exists():
        return set()
    return {
        path.relative_to(media_root).as_posix()
        for path in media_root.rglob("*")
        if path.is_file()
    }


def referenced_files() -> set[str]:
    names: set[str] = set()
    for attachment in Attachment.objects.all():
        names.add(str(attachment.file.name))
        if attachment.thumbnail:
            names.add(str(attachment.thumbnail.name))
    return names


def expected_upload(
    *, received_name: bool, content: bytes, text: str, client_id: str, used: set[str]
) -> set[int]:
    """The statuses the contract allows for an upload by a logged-in user."""
    problems = set()
    if not received_name or not content:
        problems.add(400)
    if client_id and not (
        len(client_id) <= 64 and all("!" <= char <= "~" for char in client_id)
    ):
        problems.add(400)
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in normalized):
        problems.add(400)
    if len(normalized) > TEXT_LIMIT:
        problems.add(413)
    if problems:
        return problems
    return {200} if client_id in used else {201}


def django_keeps_name(name: str) -> bool | None:
    """
    Whether Django's multipart parser hands the upload to the view.

    It drops a part whose file name, after taking the last path component
    and removing unprintable characters, is empty, "." or "..". None when
    HTML entities make it hard to say.
    """
    if "&" in name:
        return None
    last = re.split(r"[/\\]", name)[-1]
    kept = "".join(char for char in last if char.isprintable())
    return kept not in {"", ".", ".."}


class AttachmentUploadApiFuzzTests:
    @FUZZ
    @given(
        name=file_names,
        quoted_name=st.booleans(),
        content=file_contents,
        part_type=st.sampled_from(
            ["application/octet-stream", "image/png", "text/html", "x/y"]
        ),
        text=st.none() | texts,
        client_id=st.none() | client_ids,
        with_file=st.integers(0, 9),
    )
    def test_a_logged_in_upload_is_stored_safely_or_refused_in_json(
        self,
        user_client: Client,
        room: Room,
        user: User,
        media_root: Path,
        name: str,
        quoted_name: bool,
        content: bytes,
        part_type: str,
        text: str | None,
        client_id: str | None,
        with_file: int,
    ) -> None:
        if quoted_name and not _quotable(name):
            quoted_name = False
        fields = {}
        if text is not None:
            fields["text"] = text
        if client_id is not None:
            fields["client_id"] = client_id
        boundary = f"fuzz-{uuid.uuid4().hex}"
        body = multipart(
            boundary,
            name if with_file else None,
            quoted_name,
            content,
            part_type,
            fields,
        )
        used = client_ids_of(user)
        messages, attachments = Message.objects.count(), Attachment.objects.count()

        response = user_client.post(
            f"/api/rooms/{room.slug}/files",
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

        payload = check_response(response)
        kept = django_keeps_name(name) if with_file else False
        statuses = set()
        for received_name in {True, False} if kept is None else {kept}:
            statuses |= expected_upload(
                received_name=received_name,
                content=content,
                text=text or "",
                client_id=client_id or "",
                used=used,
            )
        assert response.status_code in statuses, (name, payload)
        added = 1 if response.status_code == 201 else 0
        assert Message.objects.count() == messages + added
        assert Attachment.objects.count() == attachments + added
        assert stored_files(media_root) == referenced_files()
        if response.status_code not in {200, 201}:
            return
        message = payload["message"]
        assert set(message) == MESSAGE_KEYS, message
        attachment = message["attachment"]
        assert set(attachment) == ATTACHMENT_KEYS, attachment
        stored = attachment["name"]
        assert stored == Attachment.objects.get(message_id=message["id"]).name
        assert 1 <= len(stored) <= FILE_NAME_LIMIT, stored
        assert not set(stored) & {"/", "\\", "\x00"}, stored
        assert not any(unicodedata.category(c) in {"Cc", "Cf"} for c in stored), stored
        if response.status_code == 201:
            assert attachment["size"] == len(content)
            assert attachment["content_type"] in CONTENT_TYPES, attachment
            has_thumbnail = attachment["thumbnail_url"] is not None
            assert has_thumbnail == (attachment["content_type"] in IMAGE_TYPES)
            simple = unicodedata.normalize("NFC", name)
            if (
                "&" not in simple
                and all(char.isprintable() for char in simple)
                and not set(simple) & {"/", "\\"}
                and not any(unicodedata.category(c) == "Cf" for c in simple)
                and simple == simple.strip(" .")
                and len(simple) <= FILE_NAME_LIMIT
            ):
                assert stored == simple, (name, stored)

    @FUZZ
    @given(
        name=file_names,
        content=file_contents,
        text=st.none() | texts,
        client_id=st.none() | client_ids,
    )
    def test_an_anonymous_upload_is_a_json_403_and_stores_nothing(
        self,
        client: Client,
        room: Room,
        media_root: Path,
        name: str,
        content: bytes,
        text: str | None,
        client_id: str | None,
    ) -> None:
        fields = {"text": text or "", "client_id": client_id or ""}
        boundary = f"fuzz-{uuid.uuid4().hex}"
        body = multipart(boundary, name, False, content, "x/y", fields)
        messages, files = Message.objects.count(), stored_files(media_root)
        response = client.post(
            f"/api/rooms/{room.slug}/files",
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        payload = check_response(response)
        assert response.status_code == 403, payload
        assert payload["code"] == "auth_required", payload
        assert Message.objects.count() == messages
        assert stored_files(media_root) == files

    @FUZZ
    @given(
        body=st.one_of(
            st.binary(max_size=300),
            st.sampled_from(
                [
                    b"",
                    b"--zzz\r\n",
                    b"--zzz--\r\n",
                    b'--zzz\r\nContent-Disposition: form-data; name="file"\r\n\r\n',
                    b'--zzz\r\nContent-Disposition: form-data; name="file"; '
                    b'filename="a.txt"\r\n\r\nabc',
                    b"file=abc&text=hi",
                ]
            ),
        ),
        content_type=request_content_types,
    )
    def test_a_malformed_upload_body_is_refused_in_json(
        self,
        user_client: Client,
        room: Room,
        media_root: Path,
        body: bytes,
        content_type: str,
    ) -> None:
        messages, files = Message.objects.count(), stored_files(media_root)
        response = user_client.post(
            f"/api/rooms/{room.slug}/files", body, content_type=content_type
        )
        check_response(response)
        if response.status_code not in {200, 201}:
            assert Message.objects.count() == messages
            assert stored_files(media_root) == files


# What a search may type: nasty text, the syntax of other engines, filters.
search_text = st.lists(
    st.one_of(
        nasty_text,
        st.sampled_from(['"', "-", "*", "NEAR", "(", ")", "OR", "AND", ":", "^"]),
        st.sampled_from(["in:", "from:", "has:", "is:", "before:", "after:"]).map(
            lambda name: name + "x"
        ),
        st.sampled_from(["сообщение", "release", "2026-01-01", "mention", "file"]),
    ),
    max_size=8,
).map(" ".join)
SNIPPET_MARKUP = re.compile(r"<(?!/?mark>)")


class SearchApiFuzzTests:
    @pytest.fixture
    def found(self, room: Room, user: User) -> None:
        for text in ("<b>release</b> & file", "<i>сообщение</i> mention 2026-01-01"):
            message_create(room=room, author=user, text=text)

    @FUZZ
    @given(q=search_text, logged_in=st.booleans())
    def test_any_search_gets_results_or_a_json_error(
        self, client: Client, user_client: Client, found: None, q: str, logged_in: bool
    ) -> None:
        http = user_client if logged_in else client
        response = http.get("/api/search", {"q": q})
        body = check_response(response)
        assert response.status_code in {200, 400, 404}, (q, body)
        if response.status_code == 200:
            for result in body["results"]:
                assert set(result["message"]) == MESSAGE_KEYS
                # Only <mark> is markup; the text is escaped.
                assert not SNIPPET_MARKUP.search(result["snippet"]), result
