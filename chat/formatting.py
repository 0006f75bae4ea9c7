"""
The Markdown a message may use, rendered to safe HTML once per change.

A small subset (docs/protocol.md): **bold**, *italic*, ~~strike~~,
`inline code`, fenced code blocks, > quotes, lists, links and bare URLs made
into links; a line break is a line break. Headings, images, rules, indented
code and raw HTML are not formatting here: they show as the text that was
written. markdown-it-py parses (CommonMark, its nesting bounded), and nh3
(the Ammonia sanitizer) keeps only the tags and link schemes listed below,
so what reaches a page is inert whatever the text was.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from accounts.validators import fold

TAGS = {
    "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "span",
}  # fmt: skip
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "span": {"data-mention"}}
CLASSES = {"span": {"mention"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Explicit embeddings, overrides and isolates: "pay \u202egpj.exe" would read
# "pay exe.jpg". Letters of right-to-left scripts need none of them.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


# "@name": a username's characters (Django's: letters, digits, @.+-_), not
# right after another of them (an email address is no mention).
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]{1,150})")


def _spellings(name: str) -> tuple[str, str]:
    """The name as written, and without the dots that may end a sentence."""
    return name, name.rstrip(".")


# "@room" mentions everyone in the room (a user named "room" cannot be
# mentioned by name).
ROOM_MENTION = "room"


def mentioned_names(text: str) -> set[str]:
    """
    Return the folded names ``text`` mentions as ``@name``, also in code.

    A name may end a sentence (``@bob.``): each is also tried without its
    trailing dots. Which of them are users, the caller looks up.
    """
    names: set[str] = set()
    for match in _MENTION.finditer(_BIDI_CONTROLS.sub("", text)):
        names.update(fold(spelling) for spelling in _spellings(match.group(1)))
    names.discard("")
    return names


def _mention(state: StateInline, silent: bool) -> bool:
    """Turn ``@name`` of a user the message mentions into a mention token."""
    src, pos = state.src, state.pos
    users: Mapping[str, str] = state.env.get("mentions", {})
    everyone: bool = state.env.get("everyone", False)
    if src[pos] != "@" or not (users or everyone):
        return False
    # Its look-behind sees the text before pos: no mention inside a name.
    match = _MENTION.match(src, pos)
    if match is None:
        return False
    for candidate in _spellings(match.group(1)):
        folded = fold(candidate)
        if folded == ROOM_MENTION:
            if not everyone:
                return False
            username = None
        else:
            username = users.get(folded)
            if username is None:
                continue
        if not silent:
            token = state.push("mention", "span", 0)
            token.meta["username"] = username
        state.pos = pos + 1 + len(candidate)
        return True
    return False


def _render_mention(
    self: RendererHTML,
    tokens: list[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    username = tokens[idx].meta["username"]
    if username is None:
        env["everyone_mentioned"] = True
        return '<span class="mention" data-mention="@room">@room</span>'
    env["mentioned"].setdefault(username)
    username = escape(username)
    return f'<span class="mention" data-mention="{username}">@{username}</span>'


@functools.cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt(
        "commonmark",
        # Links of bare URLs; newlines as written; raw HTML as text.
        {"html": False, "linkify": True, "breaks": True, "typographer": False},
    )
    parser.enable(["strikethrough", "linkify"])
    # Chat text: "# 1" or "    indented" or "---" mean what they say.
    parser.disable(["heading", "lheading", "code", "hr", "image", "html_block"])
    # Before "text", which would take the "@" with the words around it.
    parser.inline.ruler.before("text", "mention", _mention)
    parser.add_render_rule("mention", _render_mention)
    return parser


@dataclass(frozen=True)
class Formatted:
    """A message's text as HTML, and the users it mentions."""

    html: str
    # Usernames mentioned outside code, each once, in the order written.
    mentions: list[str]
    # Whether "@room" (when allowed) mentions everyone in the room.
    everyone: bool = False


def render(
    text: str, *, users: Mapping[str, str] | None = None, everyone: bool = False
) -> Formatted:
    """
    Return ``text`` as the sanitized HTML of the chat's Markdown subset.

    ``users`` maps folded names to the usernames of the users they are
    (see mentioned_names): ``@name`` of one of them, outside code, becomes a
    mention; so does ``@room`` if ``everyone`` may be mentioned.
    """
    env: dict[str, Any] = {
        "mentions": dict(users or {}),
        "mentioned": {},
        "everyone": everyone,
    }
    html = _parser().render(_BIDI_CONTROLS.sub("", text), env)
    return Formatted(
        html=_clean(html),
        mentions=list(env["mentioned"]),
        everyone=env.get("everyone_mentioned", False),
    )


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        allowed_classes=CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    ).strip()
