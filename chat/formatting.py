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

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
}  # fmt: skip
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Explicit embeddings, overrides and isolates: "pay \u202egpj.exe" would read
# "pay exe.jpg". Letters of right-to-left scripts need none of them.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


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
    return parser


def render(text: str) -> str:
    """Return ``text`` as the sanitized HTML of the chat's Markdown subset."""
    html = _parser().render(_BIDI_CONTROLS.sub("", text))
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    ).strip()
