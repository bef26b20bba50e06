"""kit/ansi.py: terminal colours as escaped HTML spans."""

from __future__ import annotations

from playdeck.kit.ansi import ansi_to_html
from playdeck.kit.filenames import download_name


def test_colours_become_classed_spans_and_text_is_escaped() -> None:
    html = ansi_to_html('Expected: \x1b[32m"<b>ok</b>"\x1b[39m\nReceived: \x1b[31m\x1b[1mx\x1b[0m')
    assert html == (
        'Expected: <span class="ansi-fg-2">&#34;&lt;b&gt;ok&lt;/b&gt;&#34;</span>\n'
        'Received: <span class="ansi-fg-1 ansi-bold">x</span>'
    )


def test_other_escape_sequences_are_dropped_and_extended_colours_read_past() -> None:
    html = ansi_to_html(
        "\x1b]8;;https://evil\x07link\x1b]8;;\x07 \x1b[2K\x1b[38;5;196mred\x1b[0m\x1b"
    )
    assert html == "link red"


def test_no_attribute_can_be_injected_through_codes() -> None:
    html = ansi_to_html('\x1b[31;"onmouseover=alert(1)mx\x1b[0m<i>')
    assert '"' not in html and "<" not in html  # no span was opened, the text is escaped


def test_download_names_get_the_extension_of_their_type() -> None:
    assert download_name("trace", "application/zip") == "trace.zip"
    assert download_name("screenshot", "image/png") == "screenshot.png"
    assert download_name("error-context", "text/markdown") == "error-context.md"
    assert download_name("error-context.md", "text/markdown") == "error-context.md"
    assert download_name("../../etc/passwd", "text/plain") == "passwd.txt"
    assert download_name("blob", "application/x-unknown-thing") == "blob"
