"""The chat's Markdown: what it formats, and that nothing it emits can run."""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from chat.formatting import ATTRIBUTES, TAGS, mentioned_names, render


class Tags(HTMLParser):
    """Every tag and attribute of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


# Characters that mean something to Markdown, HTML or URLs.
MARKDOWNISH = st.sampled_from("*_~`>[]()<>!#-+1. \n:/ahjsvx=\"'&;\u202e")


class FormattingTests:
    @pytest.mark.parametrize(
        ("text", "html"),
        [
            ("**bold**", "<p><strong>bold</strong></p>"),
            ("*it* _it_", "<p><em>it</em> <em>it</em></p>"),
            ("~~gone~~", "<p><s>gone</s></p>"),
            ("`x < y`", "<p><code>x &lt; y</code></p>"),
            (
                "```\nif a < b:\n    pass\n```",
                "<pre><code>if a &lt; b:\n    pass\n</code></pre>",
            ),
            ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
            ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
            (
                "3. three\n4. four",
                '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>',
            ),
            ("line\nnext", "<p>line<br>\nnext</p>"),
        ],
    )
    def test_the_subset_is_formatted(self, text: str, html: str) -> None:
        assert render(text).html == html

    def test_urls_become_links_that_leave_no_trace(self) -> None:
        assert render("see https://docs.example.org/x?a=1").html == (
            '<p>see <a href="https://docs.example.org/x?a=1" '
            'rel="nofollow noopener noreferrer">https://docs.example.org/x?a=1</a></p>'
        )
        assert 'href="https://a.example/"' in render("[docs](https://a.example/)").html

    @pytest.mark.parametrize(
        "text",
        [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x](vbscript:msgbox(1))",
            "<javascript:alert(1)>",
        ],
    )
    def test_script_links_are_not_links(self, text: str) -> None:
        html = render(text).html
        assert "href" not in html
        assert "<a" not in html

    def test_raw_html_is_shown_as_text(self) -> None:
        html = render(
            "<img src=x onerror=alert(1)> <script>alert(2)</script> <b>b</b>"
        ).html
        assert "<img" not in html and "<script" not in html and "<b>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    @pytest.mark.parametrize(
        "text",
        ["# not a heading", "---", "    not code", "![pic](https://a.example/p.png)"],
    )
    def test_what_chat_text_means_literally_stays_text(self, text: str) -> None:
        tags = {tag for tag, _attrs in Tags(render(text).html).found}
        assert tags <= {"p", "a"}, render(text).html

    def test_bidirectional_overrides_are_dropped(self) -> None:
        assert render("pay \u202egpj.exe").html == "<p>pay gpj.exe</p>"
        assert render("שלום").html == "<p>שלום</p>"

    @pytest.mark.parametrize(
        "text",
        [
            "> " * 10_000 + "deep",
            "- " * 2_000 + "x",
            "*" * 4_000,
            "[" * 2_000 + "]" * 2_000,
            "```\n" + "x" * 3_990 + "\n```",
        ],
    )
    def test_hostile_input_renders_bounded(self, text: str) -> None:
        started = time.perf_counter()
        html = render(text).html
        assert time.perf_counter() - started < 5  # Generous: a hang would fail.
        assert len(html) < 2 * len(text) + 1_000
        assert html.count("<blockquote>") <= 20

    @hypothesis_settings(max_examples=300)
    @given(st.text(alphabet=MARKDOWNISH, max_size=200) | st.text(max_size=200))
    def test_whatever_the_text_only_allowed_markup_comes_out(self, text: str) -> None:
        for tag, attrs in Tags(render(text).html).found:
            assert tag in TAGS, (text, tag)
            extra = {"a": {"rel"}, "span": {"class"}}.get(tag, set())
            allowed = ATTRIBUTES.get(tag, set()) | extra
            for name, value in attrs:
                assert name in allowed, (text, tag, name)
                if name == "href" and value is not None and ":" in value:
                    # Absolute links only to the web and mail; relative ones
                    # stay on this site.
                    scheme = value.split(":", 1)[0].lower()
                    assert scheme in {"http", "https", "mailto"} or "/" in scheme


USERS = {"bob": "bob", "élan": "Élan", "ann.lee": "ann.lee"}


class MentionTests:
    def test_a_users_name_becomes_a_mention(self) -> None:
        formatted = render("hi @bob and @ÉLAN, and @nobody", users=USERS)
        assert formatted.html == (
            '<p>hi <span class="mention" data-mention="bob">@bob</span> and '
            '<span class="mention" data-mention="Élan">@Élan</span>, '
            "and @nobody</p>"
        )
        assert formatted.mentions == ["bob", "Élan"]

    def test_a_mention_may_end_a_sentence_or_hold_a_dot(self) -> None:
        assert render("thanks @bob.", users=USERS).mentions == ["bob"]
        assert render("ping @ann.lee!", users=USERS).mentions == ["ann.lee"]

    def test_code_and_email_addresses_mention_nobody(self) -> None:
        for text in ("`@bob`", "```\n@bob\n```", "mail bob@bob.example"):
            formatted = render(text, users=USERS)
            assert formatted.mentions == [], text
            assert "mention" not in formatted.html, text

    def test_each_user_is_mentioned_once_in_the_order_written(self) -> None:
        assert render("@ann.lee @bob @ann.lee", users=USERS).mentions == [
            "ann.lee",
            "bob",
        ]

    def test_the_names_to_look_up_are_folded(self) -> None:
        assert mentioned_names("@BOB. hi @Ｍallory x@y") >= {"bob", "bob.", "mallory"}
        assert "y" not in mentioned_names("x@y")
