"""Untrusted text is reduced to printable, single-line, bounded text."""

from hypothesis import given
from hypothesis import strategies as st

from shiftboard.text import clean


def test_escape_sequences_are_removed():
    assert clean("\x1b[31mred\x1b[0m alert") == "red alert"
    assert clean("title\x1b]0;pwned\x07 rest") == "title rest"
    assert clean("link \x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\") == "link click"


def test_controls_bidi_and_nul_are_removed_and_lines_joined():
    assert clean("a\x00b\x07c") == "abc"
    assert clean("invoice \u202eexe.pdf") == "invoice exe.pdf"
    assert clean("line one\r\nline two\tend") == "line one line two end"


def test_markup_is_kept_as_literal_characters():
    assert clean("refund [/bold] please [@click=app.quit]x[/]") == "refund [/bold] please [@click=app.quit]x[/]"


def test_long_text_is_cut_with_an_ellipsis_and_wide_characters_survive():
    assert clean("x" * 10_000, limit=50) == "x" * 49 + "…"
    assert clean("😀 客服") == "😀 客服"


def test_invalid_utf8_bytes_are_replaced_not_fatal():
    assert clean(b"caf\xe9") == "caf\ufffd"


@given(st.text())
def test_output_never_holds_a_control_character_or_escape(value):
    out = clean(value)
    assert "\x1b" not in out and "\n" not in out and "\x00" not in out
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) < 0xA0 for ch in out)


@given(st.text())
def test_printable_text_takes_the_short_way_to_the_same_result(value):
    from shiftboard.text import _printable

    assert clean(value, limit=10**6) == _printable(value)
