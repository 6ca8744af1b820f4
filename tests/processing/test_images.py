"""Images: EXIF and GPS read, renditions upright and stripped, bombs refused before decoding."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from portal.processing.errors import ProcessingError
from portal.processing.images import ImageResult, process_image
from tests.processing.media import make_photo, make_png_bomb

SYDNEY = (-33.8688, 151.2093)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImageResult, Path]:
    """A 2400x1600 photo stored sideways (Orientation 6: turn 90° clockwise to view) with GPS."""
    folder = tmp_path_factory.mktemp("photo")
    src = make_photo(folder / "IMG_0001.jpg", lat=SYDNEY[0], lon=SYDNEY[1], orientation=6)
    return process_image(src, folder / "out"), folder / "out"


def test_gps_is_read_as_signed_decimal_degrees(photo: tuple[ImageResult, Path]) -> None:
    result, _ = photo
    assert result.gps is not None
    assert result.gps.lat == pytest.approx(SYDNEY[0], abs=1e-5)
    assert result.gps.lon == pytest.approx(SYDNEY[1], abs=1e-5)
    assert result.metadata()["gps"] == {"lat": result.gps.lat, "lon": result.gps.lon}


def test_exif_is_json_safe_and_keyed_by_tag_name(photo: tuple[ImageResult, Path]) -> None:
    result, _ = photo
    exif = result.exif
    assert exif["Make"] == "Portal Camera Co"
    assert exif["Model"] == "PC-1"  # the NUL PostgreSQL's JSONB refuses is gone
    assert exif["ExposureTime"] == pytest.approx(1 / 250)
    assert exif["UserComment"] == "holiday"
    assert "GPSInfo" not in exif
    json.dumps(result.metadata(), allow_nan=False)


def test_size_is_reported_upright(photo: tuple[ImageResult, Path]) -> None:
    result, _ = photo
    assert (result.width, result.height, result.format) == (1600, 2400, "JPEG")


def test_renditions_are_upright_capped_and_in_both_formats(photo: tuple[ImageResult, Path]) -> None:
    result, out_dir = photo
    sizes = {(r.name, r.content_type): (r.width, r.height) for r in result.renditions}
    assert sizes == {
        ("large", "image/jpeg"): (1280, 1920), ("large", "image/webp"): (1280, 1920),
        ("medium", "image/jpeg"): (640, 960), ("medium", "image/webp"): (640, 960),
        ("thumb", "image/jpeg"): (213, 320), ("thumb", "image/webp"): (213, 320),
    }
    for rendition in result.renditions:
        with Image.open(out_dir / rendition.path) as image:
            assert image.size == (rendition.width, rendition.height)
            assert Image.MIME[image.format or ""] == rendition.content_type
    assert sorted(path for path, _ in result.outputs) == sorted(r.path for r in result.renditions)


def test_renditions_carry_no_exif_or_gps(photo: tuple[ImageResult, Path]) -> None:
    result, out_dir = photo
    for rendition in result.renditions:
        with Image.open(out_dir / rendition.path) as image:
            assert len(image.getexif()) == 0, rendition.path
            assert "exif" not in image.info
            assert "xmp" not in image.info
        assert b"Portal Camera Co" not in (out_dir / rendition.path).read_bytes()


def test_small_image_is_never_upscaled_and_transparency_survives_in_webp(tmp_path: Path) -> None:
    src = tmp_path / "logo.png"
    image = Image.new("RGBA", (200, 100), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (50, 25, 150, 75))
    image.save(src)
    result = process_image(src, tmp_path / "out")
    assert {(r.width, r.height) for r in result.renditions} == {(200, 100)}
    assert result.gps is None
    assert result.format == "PNG"
    with Image.open(tmp_path / "out" / "thumb.webp") as webp:
        assert webp.mode == "RGBA"
        assert webp.getchannel("A").getpixel((0, 0)) == 0  # transparent
    with Image.open(tmp_path / "out" / "thumb.jpg") as jpeg:
        assert jpeg.getpixel((0, 0)) == pytest.approx((255, 255, 255), abs=3)  # flattened on white


def test_png_bomb_is_refused_with_its_size_before_decoding(tmp_path: Path) -> None:
    src = make_png_bomb(tmp_path / "bomb.png", 20_000, 20_000)  # 400 megapixels in ~50 KB
    started = time.monotonic()
    with pytest.raises(ProcessingError) as caught:
        process_image(src, tmp_path / "out")
    assert caught.value.reason == "The image is 20,000 × 20,000 pixels; the limit is 60 megapixels."
    assert time.monotonic() - started < 2
    assert not list((tmp_path / "out").glob("*"))


def test_image_just_over_the_limit_is_refused_too(tmp_path: Path, settings: Any) -> None:
    """Pillow only warns between the limit and twice the limit; that must still refuse."""
    settings.PROCESSING_MAX_IMAGE_PIXELS = 2_000_000
    src = make_png_bomb(tmp_path / "big.png", 1600, 1600)  # 2.56 megapixels
    with pytest.raises(ProcessingError, match=r"1,600 × 1,600 pixels; the limit is 2 megapixels"):
        process_image(src, tmp_path / "out")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ProcessingError, match=r"^The image file is empty \(0 bytes\)\.$"):
        process_image(tmp_path / "empty.jpg", tmp_path / "out")


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "noise.jpg").write_bytes(bytes(range(256)) * 64)
    with pytest.raises(ProcessingError, match=r"it is not in an image format we accept \(JPEG, PNG, GIF"):
        process_image(tmp_path / "noise.jpg", tmp_path / "out")


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    whole = make_photo(tmp_path / "whole.jpg", size=(640, 480)).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ProcessingError, match=r"^The image could not be read: image file is truncated"):
        process_image(tmp_path / "cut.jpg", tmp_path / "out")


def test_sixteen_bit_greyscale_keeps_its_tones(tmp_path: Path) -> None:
    Image.new("I;16", (300, 200), 40_000).save(tmp_path / "scan.png")
    result = process_image(tmp_path / "scan.png", tmp_path / "out")
    assert result.format == "PNG"
    with Image.open(tmp_path / "out" / "thumb.jpg") as thumb:
        assert thumb.convert("L").getpixel((5, 5)) == pytest.approx(40_000 / 256, abs=2)  # not clipped white
