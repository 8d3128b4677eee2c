"""Hostile marketplace text made safe for terminals, CSV and one-line display."""

from __future__ import annotations

import pytest

from gpuscout.jobs.text import clean_text, csv_cell, terminal_text


@pytest.mark.parametrize(("raw", "safe"), [
    ("RTX 3090 \x1b[2J\x1b[H cleared", "RTX 3090  cleared"),
    ("\x1b[31mred\x1b[0m title", "red title"),
    ("\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\", "click me"),
    ("\x1b]8;;https://evil.example/\x07bell link\x1b]8;;\x07", "bell link"),
    ("\x9b31mC1 CSI", "C1 CSI"),
    ("bidi \u202eevil\u202c text", "bidi evil text"),
    ("line one\nline two", "line one\nline two"),
    ("nul\x00 and bell\x07", "nul and bell"),
])
def test_terminal_text_removes_escapes_and_controls(raw: str, safe: str) -> None:
    assert terminal_text(raw) == safe


def test_clean_text_is_one_line() -> None:
    assert clean_text("a\r\nb\u2028c\td  \x1b[1me") == "a b c d e"
    assert clean_text("x" * 10, 5) == "xxxx…"


@pytest.mark.parametrize(("raw", "safe"), [
    ("=HYPERLINK(\"https://evil.example\")", "'=HYPERLINK(\"https://evil.example\")"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "' =1"),
    ("RTX 3090 = good", "RTX 3090 = good"),
])
def test_csv_cells_never_start_a_formula(raw: str, safe: str) -> None:
    assert csv_cell(raw) == safe
