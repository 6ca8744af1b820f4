"""Only the formats we accept are decoded: images by an allow-list of Pillow formats, video and
audio by an allow-list of ffprobe's container names. Anything else fails with the reason."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from portal.integrations import s3
from portal.jobs.services import job_create
from portal.library.models import Kind, Status
from portal.processing.audio import process_audio
from portal.processing.errors import ProcessingError
from portal.processing.images import process_image
from portal.processing.services import processing_run
from portal.processing.video import process_video
from tests.processing.media import FFMPEG


def picture(dest: Path, pillow_format: str) -> Path:
    Image.new("RGB", (64, 48), (200, 40, 40)).save(dest, pillow_format)
    return dest


def encoded(dest: Path, *args: str) -> Path:
    subprocess.run([*FFMPEG, *args, str(dest)], check=True)
    return dest


@pytest.mark.parametrize("pillow_format", ["PCX", "TGA", "BMP", "PPM"])
def test_valid_images_in_formats_pillow_knows_but_we_do_not_accept_are_refused(tmp_path, pillow_format):
    with pytest.raises(ProcessingError) as refused:
        process_image(picture(tmp_path / "scan", pillow_format), tmp_path / "out")
    assert refused.value.reason == ("The image could not be read: it is not in an image format we accept "
                                    "(JPEG, PNG, GIF, WebP, TIFF or AVIF).")


@pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "GIF", "WEBP", "TIFF"])
def test_the_accepted_image_formats_are_processed(tmp_path, pillow_format):
    result = process_image(picture(tmp_path / "in", pillow_format), tmp_path / "out")
    assert (result.format, result.width) == (pillow_format, 64)


def test_a_still_image_uploaded_as_video_is_refused_though_ffprobe_reads_it(tmp_path):
    src = picture(tmp_path / "upload", "PNG")  # ffprobe reads it as png_pipe, a one-frame "video"
    reason = r"^The video is in a format we do not accept \(png_pipe\); we accept MP4"
    with pytest.raises(ProcessingError, match=reason):
        process_video(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_animated_gif_uploaded_as_video_is_refused(tmp_path):
    src = encoded(tmp_path / "clip.gif", "-f", "lavfi", "-i", "testsrc=d=0.5:s=64x48")
    with pytest.raises(ProcessingError, match=r"format we do not accept \(gif\)"):
        process_video(src, tmp_path / "out")


def test_sun_audio_is_refused_and_wav_is_accepted(tmp_path):
    au = encoded(tmp_path / "tone.au", "-f", "lavfi", "-i", "sine=d=0.5")
    with pytest.raises(ProcessingError, match=r"^The audio is in a format we do not accept \(au\); we accept WAV"):
        process_audio(au, tmp_path / "out-au")
    wav = encoded(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=0.5")
    assert process_audio(wav, tmp_path / "out-wav").duration == pytest.approx(0.5, abs=0.05)


def test_a_text_file_named_mp4_is_refused(tmp_path):
    src = tmp_path / "holiday.mp4"
    src.write_text("#!/bin/sh\necho this is not a video\n" * 20)
    with pytest.raises(ProcessingError, match=r"^The video could not be read: "):
        process_video(src, tmp_path / "out")


@pytest.mark.django_db
def test_a_refused_format_fails_the_job_with_the_reason(asset_factory, tmp_path):
    body = picture(tmp_path / "scan.pcx", "PCX").read_bytes()
    key = f"originals/test-{uuid.uuid4().hex}"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=body, content_type="image/png")
    asset = asset_factory(kind=Kind.IMAGE, status=Status.PROCESSING, published_at=None, source_key=key,
                          source_size=len(body), source_type="image/png", original_filename="scan.png")
    job = job_create(asset_id=asset.pk, queue="interactive", enqueue=False)

    processing_run(job_id=job.pk)

    job.refresh_from_db()
    asset.refresh_from_db()
    assert job.status == "failed"
    assert "not in an image format we accept" in job.error
    assert (asset.status, asset.processing_error) == (Status.FAILED, job.error)
