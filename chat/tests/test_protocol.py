from __future__ import annotations

import json

import pytest

from chat import protocol
from chat.exceptions import BadRequest, TooLarge


class ParseClientFrameTests:
    def test_a_message_frame_is_parsed(self) -> None:
        command = protocol.parse_client_frame(
            '{"type": "message", "text": "hi", "client_id": "a-1"}'
        )
        assert command == protocol.SendMessage(room=None, text="hi", client_id="a-1")

    def test_client_id_is_optional(self) -> None:
        command = protocol.parse_client_frame('{"type": "message", "text": "hi"}')
        assert command.client_id is None

    @pytest.mark.parametrize(
        "raw",
        [
            None,
            "",
            "{",
            "null",
            '"text"',
            "[]",
            "{}",
            '{"type": "message", "text": null}',
            '{"type": "message", "text": "a", "client_id": 5}',
            '{"type": "message", "text": "a", "client_id": ""}',
            '{"type": "message", "text": "a", "client_id": "é"}',
            "[" * 100_000,
            " " * (protocol.MAX_FRAME_CHARS + 1),
        ],
    )
    def test_malformed_frames_are_bad_requests(self, raw: str | None) -> None:
        with pytest.raises(BadRequest) as caught:
            protocol.parse_client_frame(raw)
        assert caught.value.code == "bad_request"
        assert caught.value.detail


class EncodeTests:
    def test_an_error_frame_carries_code_and_detail(self) -> None:
        frame = json.loads(protocol.error_frame(TooLarge("too long")))
        assert frame == {"type": "error", "code": "too_large", "detail": "too long"}

    def test_text_is_encoded_as_utf8_not_escapes(self) -> None:
        message = protocol.encode({"text": "Привет"})
        assert "Привет" in protocol.history_frame([message], room="general", seq=1)
        frame = protocol.change_frame(
            protocol.MESSAGE, message, room="general", seq=1, client_id=None
        )
        assert json.loads(frame) == {
            "type": "message",
            "room": "general",
            "seq": 1,
            "message": {"text": "Привет"},
            "client_id": None,
        }
