"""What a file is comes from its bytes (libmagic), never from its name or the browser's claim."""

from __future__ import annotations

import pytest

from portal.library.models import Kind
from portal.uploads.sniffing import kind_for_type, sniff, sniffed_kind


@pytest.mark.parametrize(("sample", "declared", "mime", "kind"), [
    ("png", "image/png", "image/png", Kind.IMAGE),
    ("jpg", "image/jpeg", "image/jpeg", Kind.IMAGE),
    ("pdf", "application/pdf", "application/pdf", Kind.DOCUMENT),
    ("mp4", "video/mp4", "video/mp4", Kind.VIDEO),
    ("wav", "audio/wav", "audio/x-wav", Kind.AUDIO),
])
def test_real_files_are_recognised_from_their_first_bytes(media_files, sample, declared, mime, kind):
    assert sniffed_kind(media_files[sample][:8192], declared) == (mime, kind)


def test_html_named_and_declared_as_png_is_html(media_files):
    assert sniffed_kind(media_files["html"], "image/png") == ("text/html", None)


def test_zero_bytes_are_empty_and_of_no_accepted_kind():
    assert sniff(b"") == "application/x-empty"
    assert sniffed_kind(b"", "image/png") == ("application/x-empty", None)


def test_a_jpeg_declared_as_png_is_still_an_image(media_files):
    assert sniffed_kind(media_files["jpg"], "image/png") == ("image/jpeg", Kind.IMAGE)


def test_an_mp4_declared_as_an_image_is_a_video(media_files):
    assert sniffed_kind(media_files["mp4"], "image/png")[1] == Kind.VIDEO


def test_a_zip_counts_as_a_document_only_when_an_office_type_was_declared():
    zip_prefix = b"PK\x03\x04" + b"\x00" * 60
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert sniffed_kind(zip_prefix, docx) == (docx, Kind.DOCUMENT)
    assert sniffed_kind(zip_prefix, "image/png")[1] is None


@pytest.mark.parametrize("declared", ["image/svg+xml", "text/html", "application/x-msdownload", ""])
def test_types_that_can_carry_script_or_code_are_not_accepted(declared):
    assert kind_for_type(declared) is None
