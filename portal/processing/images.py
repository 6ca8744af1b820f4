"""Images: size, EXIF and GPS read once, then upright JPEG and WebP renditions with no metadata."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from portal.processing.common import (
    JPEG,
    WEBP,
    Output,
    Progress,
    RawMetadata,
    Stages,
    fit,
    no_progress,
    require_content,
)
from portal.processing.errors import ProcessingError
from portal.processing.exif import GPS, exif_tags, gps_position

# (name, longest side in pixels), largest first: each is resized from the one before it.
RENDITIONS = (("large", 1920), ("medium", 960), ("thumb", 320))
# (extension, Pillow format, content type, save options). JPEG for every browser, WebP for
# smaller files where supported. Neither gets EXIF or XMP: location and camera serials stay private.
FORMATS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("jpg", "JPEG", JPEG, {"quality": 82, "optimize": True, "progressive": True}),
    ("webp", "WEBP", WEBP, {"quality": 80, "method": 4}),
)
# The formats we decode, by Pillow's name: what browsers show, plus TIFF for scans (uploads accept
# it). Pillow knows some forty more (PCX, TGA, PSD, EPS, FITS...); each is parser code an upload
# could reach, for nothing we need, so Image.open is never asked to try them.
ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "AVIF")
NOT_ACCEPTED = "it is not in an image format we accept (JPEG, PNG, GIF, WebP, TIFF or AVIF)."
# EXIF orientations that swap width and height (90° and 270° turns, with or without a mirror).
TURNED = {5, 6, 7, 8}
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
# What Pillow raises on a header or an EXIF block it cannot parse.
PARSE_ERRORS = (SyntaxError, OSError, ValueError, KeyError, IndexError, TypeError, struct.error)


@dataclass(frozen=True)
class Rendition:
    name: str  # "thumb", "medium", "large"
    path: str  # relative to out_dir: "thumb.jpg"
    width: int
    height: int
    content_type: str


@dataclass(frozen=True)
class ImageResult:
    width: int  # upright, as shown
    height: int
    format: str  # Pillow's name for the source format: "JPEG", "PNG", "WEBP"...
    exif: dict[str, Any]  # JSON-safe, keyed by tag name; GPS tags are in `gps` only
    gps: GPS | None
    renditions: list[Rendition] = field(default_factory=list)
    raw: RawMetadata = field(default_factory=lambda: RawMetadata({}), repr=False)

    @property
    def outputs(self) -> list[Output]:
        return [(r.path, r.content_type) for r in self.renditions]

    def raw_metadata(self) -> RawMetadata:
        return self.raw

    def metadata(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "exif": self.exif,
            "gps": asdict(self.gps) if self.gps else None,
            "renditions": {r.name: {"width": r.width, "height": r.height} for r in self.renditions},
        }


def process_image(src: Path, out_dir: Path, progress: Progress = no_progress) -> ImageResult:
    """Read the image's size, EXIF and GPS, then write thumb/medium/large as JPEG and WebP."""
    stages = Stages(progress, {"metadata": 40, "renditions": 60})
    stages.start("metadata")
    require_content(src, "image")
    out_dir.mkdir(parents=True, exist_ok=True)
    with _opened(src) as image:
        exif = image.getexif()
        turned = exif.get(0x0112) in TURNED  # Orientation
        width, height = (image.height, image.width) if turned else image.size
        source_format = image.format or "unknown"
        icc_profile = image.info.get("icc_profile")
        raw = raw_image_metadata(image)  # from the same open file: read once, under the same limits
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale for free: ask for no more than the
        # largest rendition needs, so a 60-megapixel photo does not take 180 MB to decode.
        image.draft(None, fit(image.width, image.height, RENDITIONS[0][1]))
        upright = _decoded(image)
        tags, gps = _camera_data(exif)
    stages.report("metadata", 1.0)
    renditions = _write_renditions(upright, out_dir, icc_profile, stages)
    return ImageResult(width, height, source_format, tags, gps, renditions, raw)


@contextmanager
def _opened(src: Path) -> Iterator[Image.Image]:
    """Image.open of an accepted format within the pixel limit from settings, checked on the
    header's size before any pixel is decoded. Pillow's own process-wide limit is left as it is:
    it refuses at twice its MAX_IMAGE_PIXELS (about 179 megapixels), so a setting above that
    cannot raise the real limit further."""
    limit = int(getattr(settings, "PROCESSING_MAX_IMAGE_PIXELS", 60_000_000))
    try:
        with open_accepted(src) as image:
            if image.width * image.height > limit:
                raise ProcessingError(_bomb_reason(src, limit))
            yield image
    except BOMB_ERRORS as exc:
        raise ProcessingError(_bomb_reason(src, limit)) from exc
    except UnidentifiedImageError as exc:
        raise ProcessingError(f"The image could not be read: {NOT_ACCEPTED}") from exc
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ProcessingError(f"The image could not be read: {exc}.") from exc


@contextmanager
def open_accepted(src: Path) -> Iterator[Image.Image]:
    """Image.open restricted to ACCEPTED_FORMATS. Pillow's DecompressionBombWarning (between its
    limit and twice it) stays a warning: callers check the size themselves."""
    with Image.open(src, formats=ACCEPTED_FORMATS) as image:
        yield image


def raw_image_metadata(image: Image.Image) -> RawMetadata:
    """Every EXIF IFD (GPS and maker data included), XMP and the format's info, for the raw copy
    in MongoDB. The camera's data is often malformed: what cannot be read becomes a note."""
    try:
        exif = image.getexif()
        ifds: dict[str, Any] = {"main": _named(dict(exif), ExifTags.TAGS)}
        for ifd, names in ((ExifTags.IFD.Exif, ExifTags.TAGS), (ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS),
                           (ExifTags.IFD.Interop, ExifTags.TAGS)):
            found = exif.get_ifd(ifd)
            if found:
                ifds[ifd.name.lower()] = _named(dict(found), names)
        info = {key: value for key, value in image.info.items() if key not in ("exif", "icc_profile", "xmp")}
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        return RawMetadata({"image": {
            "format": image.format, "mode": image.mode, "width": image.width, "height": image.height,
            "frames": getattr(image, "n_frames", 1), "exif": ifds, "info": info, "xmp": xmp,
            "icc_profile_bytes": len(image.info.get("icc_profile") or b"")}})
    except PARSE_ERRORS as error:
        return RawMetadata({}, notes=[f"image: could not be read ({type(error).__name__}: {str(error)[:200]})"])


def _named(tags: dict[int, Any], names: dict[int, str]) -> dict[str, Any]:
    return {names.get(tag, f"tag_{tag}"): value for tag, value in tags.items()}


def _decoded(image: Image.Image) -> Image.Image:
    """Decode (first frame only for animations), turn upright per EXIF, in RGB or RGBA."""
    image.load()
    upright = ImageOps.exif_transpose(image)
    if upright.mode.startswith("I") or upright.mode == "F":
        # 16-bit and 32-bit greyscale (scans, TIFFs): Pillow's convert would clip everything
        # above 255 to white, so scale 0-65535 down to 0-255 first.
        upright = upright.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    mode = "RGBA" if has_alpha else "RGB"
    converted = upright if upright.mode == mode else upright.convert(mode)
    converted.info = {}  # nothing of the source's metadata may reach a rendition
    return converted


def _camera_data(exif: Image.Exif) -> tuple[dict[str, Any], GPS | None]:
    """EXIF is the camera's word and often malformed: a bad tag costs the tags, never the image."""
    try:
        return exif_tags(exif), gps_position(exif)
    except PARSE_ERRORS:
        return {}, None


def _write_renditions(
    image: Image.Image, out_dir: Path, icc_profile: bytes | None, stages: Stages
) -> list[Rendition]:
    renditions: list[Rendition] = []
    done = 0
    for name, long_side in RENDITIONS:
        size = fit(image.width, image.height, long_side)
        if size != image.size:
            image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        for extension, pillow_format, content_type, options in FORMATS:
            path = f"{name}.{extension}"
            _save(image, out_dir / path, pillow_format, options, icc_profile)
            renditions.append(Rendition(name, path, image.width, image.height, content_type))
            done += 1
            stages.report("renditions", done / (len(RENDITIONS) * len(FORMATS)))
    return renditions


def _save(
    image: Image.Image, path: Path, pillow_format: str, options: dict[str, Any], icc_profile: bytes | None
) -> None:
    if pillow_format == "JPEG" and image.mode == "RGBA":
        # JPEG has no alpha: transparent areas become white, as on a page, not black.
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    # The colour profile is kept: it is not personal data, and without it wide-gamut photos look dull.
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    image.save(path, pillow_format, **options, **extra)


def _bomb_reason(src: Path, limit: int) -> str:
    megapixels = f"{limit / 1_000_000:g} megapixels"
    size = _declared_size(src)
    if size is None:
        return f"The image is larger than the limit of {megapixels}."
    return f"The image is {size[0]:,} × {size[1]:,} pixels; the limit is {megapixels}."


def _declared_size(src: Path) -> tuple[int, int] | None:
    """The size the file's header declares, parsed by Pillow's format plugin directly: Image.open
    refuses a bomb before it says how big it is. Only the header is read, no pixels."""
    Image.init()
    with src.open("rb") as fp:
        prefix = fp.read(16)
        for name in ACCEPTED_FORMATS:
            factory, accept = Image.OPEN[name]
            verdict = accept(prefix) if accept else True
            if not verdict or isinstance(verdict, str):
                continue
            fp.seek(0)
            try:
                return factory(fp, src.name).size
            except (*PARSE_ERRORS, *BOMB_ERRORS):
                continue
    return None
