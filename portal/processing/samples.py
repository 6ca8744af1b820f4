"""Sample media made on the spot (ffmpeg's test sources, Pillow, a hand-written PDF): the demo
content runs these through the real pipeline, and the tests use them as inputs."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFont, TiffImagePlugin

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]


def make_video(dest: Path, *, seconds: float = 2, size: str = "320x240", audio: bool = True,
               source: str = "testsrc") -> Path:
    """H.264 + AAC in MP4, moov at the end (ffmpeg's default): cutting the file loses the index.
    `source` is an ffmpeg lavfi video source: testsrc, testsrc2, smptebars, mandelbrot…"""
    inputs = ["-f", "lavfi", "-i", f"{source}=size={size}:rate=15:duration={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    codecs += ["-c:a", "aac", "-shortest"] if audio else []
    subprocess.run([*FFMPEG, *inputs, *codecs, str(dest)], check=True)
    return dest


def make_audio(dest: Path, *, seconds: float = 1, frequency: int = 440, tremolo: bool = False) -> Path:
    """A sine tone; the container follows dest's extension and the codec is AAC: use .m4a.
    tremolo=True swells the volume up and down, so a waveform drawing has a shape to show."""
    shaping = ["-af", "tremolo=f=0.6:d=0.9,volume=6"] if tremolo else []
    subprocess.run([*FFMPEG, "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}", *shaping,
                    "-c:a", "aac", "-b:a", "64k", str(dest)], check=True)
    return dest


def dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    """Decimal degrees as EXIF's (degrees, minutes, seconds) rationals."""
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction((value - degrees - minutes / 60) * 3600).limit_denominator(10_000)
    return (TiffImagePlugin.IFDRational(degrees), TiffImagePlugin.IFDRational(minutes),
            TiffImagePlugin.IFDRational(seconds.numerator, seconds.denominator))


def make_photo(dest: Path, *, size: tuple[int, int] = (2400, 1600), lat: float | None = None,
               lon: float | None = None, orientation: int = 1) -> Path:
    """A JPEG as a phone writes it: camera tags, an Orientation, and optionally a GPS position
    (south and west written as refs, as EXIF does)."""
    image = _picture(size, seed=int(abs(lat or 0) * 1000) % 360)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Portal Camera Co"
    exif[ExifTags.Base.Model] = "PC-1\x00"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.ExposureTime] = TiffImagePlugin.IFDRational(1, 250)
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = b"ASCII\x00\x00\x00holiday"
    if lat is not None and lon is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        gps[ExifTags.GPS.GPSLatitude] = dms(abs(lat))
        gps[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        gps[ExifTags.GPS.GPSLongitude] = dms(abs(lon))
    image.save(dest, "JPEG", quality=80, exif=exif)
    return dest


def make_pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF 1.4: one line of Helvetica text per page, with a correct xref table,
    so pdftotext finds the words (a PDF of images from Pillow would have no text)."""
    count = len(pages)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode()]
    for i, text in enumerate(pages):
        stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _picture(size: tuple[int, int], seed: int) -> Image.Image:
    """A colourful gradient, different per seed, so demo photos are told apart at a glance."""
    hue = Image.linear_gradient("L").resize(size).point(lambda v: (v + seed) % 256)
    saturation = Image.new("L", size, 160)
    value = Image.linear_gradient("L").rotate(90).resize(size).point(lambda v: 96 + v // 2)
    return Image.merge("HSV", (hue, saturation, value)).convert("RGB")


def scanned_page(lines: list[str], *, size: tuple[int, int] = (1275, 1650)) -> Image.Image:
    """A letter page at 150 dpi as a scanner sees it: black text on white, pixels only."""
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=44)
    for number, line in enumerate(lines):
        draw.text((110, 160 + number * 80), line, fill=0, font=font)
    return page


def make_scan(dest: Path, pages: list[list[str]], *, resolution: float = 150) -> Path:
    """A PDF of scanned pages: each page one image, no text layer (pdftotext finds nothing)."""
    images = [scanned_page(lines) for lines in pages]
    images[0].save(dest, "PDF", resolution=resolution, save_all=True, append_images=images[1:])
    return dest
