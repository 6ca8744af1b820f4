"""Captions: SRT converted to WebVTT, bad cues refused by line, the upload straight to the real S3 and
back through the completion step, the player's tracks and private captions kept private."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from portal.library.models import Kind, Status, Visibility
from portal.media.captions import CaptionError, parse, to_webvtt
from portal.media.models import Caption
from tests.factories import UserFactory
from tests.storage import _isolated_storage, test_bucket  # noqa: F401 - autouse fixture and its bucket

SRT = (b"1\r\n00:00:01,000 --> 00:00:04,250\r\n<font color=\"red\">Hello</font> there\r\n\r\n"
       b"2\r\n00:01:02,500 --> 00:01:05,000\r\nThe <i>otter</i> dives\r\nsecond line\r\n")


def test_srt_becomes_webvtt_with_its_cues():
    cues = parse(SRT)
    assert [(cue.start, cue.end) for cue in cues] == [(1.0, 4.25), (62.5, 65.0)]
    assert to_webvtt(cues) == ("WEBVTT\n\n00:00:01.000 --> 00:00:04.250\nHello there\n\n"
                               "00:01:02.500 --> 00:01:05.000\nThe <i>otter</i> dives\nsecond line\n")
    assert parse(to_webvtt(cues).encode()) == cues  # our WebVTT reads back the same


def test_webvtt_notes_and_identifiers_are_understood():
    vtt = b"WEBVTT - a file\n\nNOTE made by hand\n\nintro\n00:01.000 --> 00:02.000 align:start\nHi\n"
    assert [(cue.start, cue.text) for cue in parse(vtt)] == [(1.0, "Hi")]


@pytest.mark.parametrize(("body", "reason"), [
    (b"1\n00:00:01,000 --> 00:00:04,000\nfine\n\n2\n00:00:05 -> 00:00:07,000\nbroken\n", "Line 6: "),
    (b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nbackwards\n", "Line 3: the cue ends before it starts."),
    (b"WEBVTT\n\n\n00:00:01.000 --> 00:00:02.000\n", "Line 4: the cue has no text."),
    (b"1\n00:00:01,000 --> 00:00:02,000\nok\n\xff\xfe broken\n", "Line 4: the file is not UTF-8"),
    (b"WEBVTTX\n\n00:00:01.000 --> 00:00:02.000\nx\n", "Line 1: "),
    (b"WEBVTT\n", "The caption file has no cues."),
])
def test_a_bad_file_is_refused_naming_its_line(body, reason):
    with pytest.raises(CaptionError) as caught:
        parse(body)
    assert caught.value.reason.startswith(reason)


def _upload(client, asset, body: bytes, *, language: str = "en", label: str = "English"):
    page = client.post(reverse("media:caption_start", args=[asset.pk]), {"language": language, "label": label})
    assert page.status_code == 200
    upload = page.context["upload"]
    # What the browser does: the signed fields, then the file, straight to S3, which answers 303 to the
    # completion URL (with bucket, key and etag added); the test client follows it.
    sent = requests.post(upload.url, data=upload.fields, files={"file": ("subs.srt", body)}, timeout=30,
                         allow_redirects=False)
    assert sent.status_code == 303, sent.text
    back = urlsplit(sent.headers["Location"])
    return client.get(f"{back.path}?{back.query}", follow=True)


@pytest.mark.django_db
def test_an_uploaded_srt_is_checked_stored_as_webvtt_and_offered_as_a_track(client_as, editor, asset_factory,
                                                                              visitor):
    asset = asset_factory(kind=Kind.VIDEO, status=Status.READY, visibility=Visibility.PRIVATE, owner=editor)
    editor_client = client_as(editor)

    done = _upload(editor_client, asset, SRT)

    caption = Caption.objects.get(asset=asset)
    assert (caption.language, caption.label, len(caption.cues)) == ("en", "English", 2)
    assert "Captions “English” (2 cues) saved." in done.content.decode()
    track = editor_client.get(reverse("media:caption", args=[asset.slug, "en"]))
    assert track.status_code == 200
    assert track["Content-Type"].startswith("text/vtt")
    assert track.content.decode().startswith("WEBVTT\n\n00:00:01.000 --> 00:00:04.250\nHello there")
    # Someone else's private asset: its captions do not exist for them, nor its page.
    assert client_as(visitor).get(reverse("media:caption", args=[asset.slug, "en"])).status_code == 404
    assert editor_client.get(reverse("media:caption", args=[asset.slug, "fr"])).status_code == 404


@pytest.mark.django_db
def test_an_invalid_upload_is_refused_with_its_line_and_nothing_is_kept(client_as, editor, asset_factory):
    asset = asset_factory(kind=Kind.AUDIO, status=Status.READY, owner=editor)
    done = _upload(client_as(editor), asset, b"1\n00:00:01,000 --> 00:00:04,000\nok\n\n2\nnot a timing\ntext\n")
    assert "Line 6: “not a timing” is not a cue timing" in done.content.decode()
    assert not Caption.objects.filter(asset=asset).exists()


@pytest.mark.django_db
def test_a_ticket_is_only_good_for_the_editor_it_was_made_for(client_as, editor, asset_factory):
    asset = asset_factory(kind=Kind.VIDEO, status=Status.READY, owner=editor)
    other = UserFactory(username="ed2", editor=True)
    page = client_as(editor).post(reverse("media:caption_start", args=[asset.pk]), {"language": "en", "label": "E"})
    ticket = page.context["upload"].fields["success_action_redirect"].split("ticket=", 1)[1]
    done = client_as(other).get(reverse("media:caption_complete", args=[asset.pk]), {"ticket": ticket}, follow=True)
    assert "is not yours" in done.content.decode()


@pytest.mark.django_db
def test_the_page_language_picks_the_default_track(client_as, editor, asset_factory, settings):
    asset = asset_factory(kind=Kind.VIDEO, status=Status.READY, owner=editor, source_key="originals/x")
    for language, label in (("fr", "Français"), ("en", "English")):
        Caption.objects.create(asset=asset, language=language, label=label, key=f"captions/x/{language}.vtt",
                               cues=[{"start": 1.0, "end": 2.0, "text": "hi"}])
    html = client_as(editor).get(asset.get_absolute_url()).content.decode()
    assert 'srclang="en" label="English" default>' in html
    assert 'srclang="fr" label="Français">' in html
