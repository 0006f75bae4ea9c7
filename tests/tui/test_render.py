"""A message's formatting, as the terminal shows it."""

from __future__ import annotations

import pytest

from chat_tui.render import formatted


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        (
            "<p>Hello, <strong>world</strong>!<br>\nSecond line</p>",
            "Hello, world!\nSecond line",
        ),
        (
            '<ul><li>one</li><li>two</li></ul><ol start="3"><li>c</li></ol>',
            "• one\n• two\n3. c",
        ),
        (
            "<blockquote><p>quoted<br>\ntwo</p></blockquote><p>after</p>",
            "▎ quoted\n▎ two\nafter",
        ),
        ("<pre><code>a = 1\n  b = 2\n</code></pre>", "a = 1\n  b = 2"),
        ('<p>1 &lt; 2 &amp; <a href="https://x.org">x</a></p>', "1 < 2 & x"),
    ],
)
def test_the_text_reads_as_written(html: str, plain: str) -> None:
    assert formatted(html).plain == plain


def test_styles_follow_the_markup() -> None:
    text = formatted(
        "<p><strong>bold</strong> <em>it</em> <code>code</code> "
        '<span class="mention" data-mention="anna">@anna</span> '
        '<a href="https://example.org/">link</a></p>'
    )
    styles = {text.plain[span.start : span.end]: span.style for span in text.spans}
    assert styles["bold"].bold and styles["it"].italic
    assert str(styles["code"].color.name) == "magenta"
    assert styles["@anna"].bold
    assert styles["link"].link == "https://example.org/"


def test_a_script_tag_is_only_text() -> None:
    # The server never sends one (its HTML is sanitized); were it there, it
    # would show as nothing more than its text.
    assert formatted("<p><script>alert(1)</script>hi</p>").plain == "alert(1)hi"
