"""clean_filename: a user's file name is data to show, never a path, a key or markup to run."""

from __future__ import annotations

import unicodedata

import pytest

from portal.uploads.filenames import MAX_NAME, clean_filename, title_from_filename


def has_control_characters(name: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in name)


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\system.ini", "system.ini"),
    ("/var/www/shell.php.png", "shell.php.png"),
    ("C:\\Users\\ed\\photo.jpg", "photo.jpg"),
])
def test_directory_parts_are_dropped(raw, clean):
    assert clean_filename(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    ("re\x00port.png", "report.png"),
    ("\x1b[31mred\x1b[0m.png", "[31mred[0m.png"),
    ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override: shows as "invoiceexe.png"
    ("line\r\nbreak.pdf", "linebreak.pdf"),
    ("zero\u200bwidth.mp4", "zerowidth.mp4"),
])
def test_control_and_format_characters_are_removed(raw, clean):
    assert clean_filename(raw) == clean
    assert not has_control_characters(clean_filename(raw))


def test_a_300_character_name_is_cut_to_255_and_keeps_its_extension():
    name = clean_filename("a" * 296 + ".png")
    assert len(name) == MAX_NAME
    assert name.endswith("a.png")


def test_a_long_name_without_a_usable_extension_is_cut_to_255():
    assert clean_filename("b" * 300) == "b" * MAX_NAME


def test_markup_in_a_name_is_kept_as_text_for_templates_to_escape():
    assert clean_filename("<img src=x onerror=alert(1)>.png") == "<img src=x onerror=alert(1)>.png"


@pytest.mark.parametrize("raw", ["", "..", "/", "\\", "\x00\x1b", "   ", "../"])
def test_a_name_with_nothing_left_becomes_unnamed(raw):
    assert clean_filename(raw) == "unnamed"


def test_unicode_is_normalised_to_one_spelling():
    decomposed = "Cafe\u0301.jpg"
    assert clean_filename(decomposed) == "Caf\u00e9.jpg"


def test_title_comes_from_the_name_without_extension_or_separators():
    assert title_from_filename("summer_trip-2024.mp4") == "Summer trip 2024"
    assert title_from_filename("unnamed") == "Unnamed"
