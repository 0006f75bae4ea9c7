"""What the client raises."""

from __future__ import annotations


class ChatError(Exception):
    """The server refused a command: its error ``code`` and ``detail``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ChatApiError(ChatError):
    """An HTTP request was answered with an error status."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.status = status
        self.args = (f"{status} {code}: {detail}",)


class StreamClosed(Exception):
    """The live stream ended for good (closed, or closed by the server)."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
