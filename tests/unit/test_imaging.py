"""The image pipeline on real images: upright, private, the right sizes, every accepted
format and colour model to sRGB JPEG, and every bad file refused with a reason."""

from __future__ import annotations

import io
import random
import struct
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from chalicelib.media import imaging
from chalicelib.media.imaging import (
    MAX_BYTES,
    RENDITIONS,
    ImageRejected,
    ProcessedImage,
    make_renditions,
)
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageOps, ImageStat

from tests.support import png_header_only

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "exif-orientation"
# Mean absolute difference per channel (0-255) between a rendition and a reference resized
# the same way: about 2-4 when both are upright (JPEG noise), 38-88 when the rendition is
# mirrored or turned (measured on every sample; see the test that checks this bound bites).
UPRIGHT_TOLERANCE = 10.0
RESAMPLING = Image.Resampling.LANCZOS


# --- helpers -------------------------------------------------------------------------------


def picture(size: tuple[int, int] = (1200, 900), mode: str = "RGB") -> Image.Image:
    """A picture with structure in it: gradients, and shapes that differ in every corner,
    so a mirrored or turned copy does not look the same."""
    width, height = size
    image = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.radial_gradient("L").resize(size),
        ],
    )
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 4, height // 5), fill=(230, 20, 20))
    draw.ellipse((width * 2 // 3, height * 3 // 5, width - 10, height - 10), fill=(20, 200, 40))
    draw.line((0, height, width, 0), fill=(250, 250, 250), width=max(2, width // 100))
    if mode in ("RGBA", "LA"):
        converted = image.convert(mode)
        converted.putalpha(Image.linear_gradient("L").rotate(90).resize(size))
        return converted
    return image.convert(mode) if mode != "RGB" else image


def encoded(image: Image.Image, format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **params)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_abs_difference(image: Image.Image, reference: Image.Image) -> float:
    assert image.size == reference.size
    difference = ImageChops.difference(image.convert("RGB"), reference.convert("RGB"))
    return sum(ImageStat.Stat(difference).mean) / 3


def resized_like(reference: Image.Image, name: str, size: tuple[int, int]) -> Image.Image:
    """The reference cut the way the named rendition is: centre square, or whole frame."""
    if RENDITIONS[name].square:
        return ImageOps.fit(reference, size, RESAMPLING)
    return reference.resize(size, RESAMPLING)


def looks_upright(image: Image.Image, name: str, upright: Image.Image) -> bool:
    """Whether a rendition is the upright original cut as its spec says: the size the
    spec gives for the upright original, and the same picture within the tolerance."""
    expected_size = RENDITIONS[name].size_for(upright.size)
    if image.size != expected_size:
        return False
    reference = resized_like(upright, name, expected_size)
    return mean_abs_difference(image, reference) < UPRIGHT_TOLERANCE


def assert_four_rgb_jpegs(result: ProcessedImage) -> None:
    assert list(result.renditions) == ["thumb", "small", "medium", "large"]
    for name, rendition in result.renditions.items():
        assert rendition.name == name
        assert rendition.content_type == "image/jpeg"
        image = decoded(rendition.data)
        assert image.format == "JPEG"
        assert image.mode == "RGB"
        assert image.size == (rendition.width, rendition.height)


def rgb_at(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    red, green, blue = image.convert("RGB").getpixel((x, y))  # type: ignore[misc]
    return red, green, blue


def pixel_at_centre(data: bytes) -> tuple[int, int, int]:
    image = decoded(data)
    return rgb_at(image, image.width // 2, image.height // 2)


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the image data."""
    assert data[:2] == b"\xff\xd8"
    segments, position = [], 2
    while True:
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segments.append((marker, data[position + 4 : position + 2 + length]))
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return segments


def display_p3_like_profile() -> bytes:
    """An ICC v2 RGB profile with Display P3's primaries (D50-adapted) and a 2.2 gamma,
    built by hand: ImageCms can only create sRGB, LAB and XYZ profiles."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    description = b"Display P3 (test)\0"
    gamma = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (
            b"desc",
            b"desc\0\0\0\0"
            + struct.pack(">I", len(description))
            + description
            + b"\0" * 4
            + b"\0" * 4
            + b"\0" * 3
            + b"\0" * 67,
        ),
        (b"cprt", b"text\0\0\0\0" + b"No copyright, test data\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.515121, 0.241196, -0.001053)),
        (b"gXYZ", xyz(0.291977, 0.692245, 0.041885)),
        (b"bXYZ", xyz(0.157104, 0.066574, 0.784073)),
        (b"rTRC", gamma),
        (b"gTRC", gamma),
        (b"bTRC", gamma),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        padded = data + b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += padded
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + b"\x02\x10\0\0"
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 11, 20, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + table + body


# --- orientation ---------------------------------------------------------------------------


def orientation_samples() -> list[Path]:
    if not SAMPLES.is_dir():
        raise FileNotFoundError(
            f"the EXIF orientation samples are missing: expected them in {SAMPLES}"
        )
    samples = sorted(SAMPLES.glob("*.jpg"))
    assert len(samples) == 18, f"expected Landscape_0..8 and Portrait_0..8 in {SAMPLES}"
    return samples


@pytest.mark.parametrize("sample", orientation_samples(), ids=lambda path: path.stem)
def test_every_rendition_of_every_orientation_sample_comes_out_upright(sample: Path) -> None:
    # Given a photo stored turned or mirrored, with the EXIF orientation that undoes it
    upright = ImageOps.exif_transpose(Image.open(sample)).convert("RGB")

    # When it is processed
    result = make_renditions(sample.read_bytes())

    # Then each rendition is the upright original cut the same way
    assert (result.width, result.height) == upright.size
    for name, rendition in result.renditions.items():
        assert looks_upright(decoded(rendition.data), name, upright), f"{sample.name} {name}"


@pytest.mark.parametrize("orientation", range(2, 9))
def test_the_upright_check_fails_a_rendition_left_as_stored(orientation: int) -> None:
    # Given a sample processed with its orientation tag removed, so that its renditions
    # come out as the pixels are stored
    sample = SAMPLES / f"Landscape_{orientation}.jpg"
    stored = Image.open(sample)
    exif = stored.getexif()
    del exif[0x0112]
    result = make_renditions(encoded(stored, "JPEG", quality=95, exif=exif))

    # Then the check above rejects every one of them
    upright = ImageOps.exif_transpose(Image.open(sample)).convert("RGB")
    for name, rendition in result.renditions.items():
        assert not looks_upright(decoded(rendition.data), name, upright), name


def test_a_heic_with_a_rotation_comes_out_upright() -> None:
    # Given a HEIC stored turned, as a phone writes it: an irot transform in the container
    # (pillow-heif writes one from the EXIF orientation it is given) and the EXIF tag
    imaging._register_heif_opener()
    stored = picture((600, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    result = make_renditions(encoded(stored, "HEIF", quality=90, exif=exif.tobytes()))

    upright = stored.transpose(Image.Transpose.ROTATE_270)
    assert (result.width, result.height) == (400, 600)
    large = result.renditions["large"]
    assert mean_abs_difference(decoded(large.data), resized_like(upright, "large", (400, 600))) < (
        UPRIGHT_TOLERANCE
    )


# --- privacy -------------------------------------------------------------------------------


def test_no_rendition_keeps_location_camera_time_profile_xmp_or_comment() -> None:
    # Given a phone photo carrying everything that could identify where, when and with what
    exif = Image.Exif()
    exif[0x010F] = "SnoopCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0132] = "2026:11:20 10:00:00"  # DateTime
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 10:00:00"  # DateTimeOriginal
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="51,30N"/></x:xmpmeta>'
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = encoded(
        picture(), "JPEG", exif=exif, icc_profile=srgb, xmp=xmp, comment=b"taken at home"
    )
    assert decoded(photo).getexif().get_ifd(0x8825)  # the GPS block is really there

    # When it is processed
    result = make_renditions(photo)

    # Then the renditions hold pixels and nothing else
    for name, rendition in result.renditions.items():
        image = decoded(rendition.data)
        assert not image.getexif(), name
        for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
            assert key not in image.info, (name, key)
        markers = {marker for marker, _ in jpeg_segments(rendition.data)}
        # Only JFIF (APP0), tables, frame and scan headers: no APP1 (EXIF, XMP), APP2 (ICC),
        # APP13 (IPTC) or COM.
        assert markers <= {0xE0, 0xDB, 0xC4, 0xC2, 0xDA}, (name, sorted(hex(m) for m in markers))
        for needle in (b"SnoopCam", b"Model X", b"2026:11:20", b"GPS", b"taken at home"):
            assert needle not in rendition.data, (name, needle)


# --- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        (
            (4000, 3000),
            {"thumb": (150, 150), "small": (320, 240), "medium": (640, 480), "large": (1080, 810)},
        ),
        (
            (3024, 4032),
            {"thumb": (150, 150), "small": (320, 427), "medium": (640, 853), "large": (1080, 1440)},
        ),
        # Never upscaled: each width is min(target, source width), and the thumb's side
        # min(150, shorter side).
        (
            (500, 400),
            {"thumb": (150, 150), "small": (320, 256), "medium": (500, 400), "large": (500, 400)},
        ),
        (
            (100, 80),
            {"thumb": (80, 80), "small": (100, 80), "medium": (100, 80), "large": (100, 80)},
        ),
        # A panorama: the thumb is cut from the source, not from the much shorter renditions.
        (
            (6000, 600),
            {"thumb": (150, 150), "small": (320, 32), "medium": (640, 64), "large": (1080, 108)},
        ),
    ],
    ids=lambda value: "x".join(map(str, value)) if isinstance(value, tuple) else None,
)
def test_rendition_sizes_keep_the_aspect_ratio_and_never_upscale(
    original: tuple[int, int], expected: dict[str, tuple[int, int]]
) -> None:
    result = make_renditions(encoded(picture(original), "JPEG", quality=90))

    assert (result.width, result.height) == original
    assert {name: (r.width, r.height) for name, r in result.renditions.items()} == expected
    assert_four_rgb_jpegs(result)


def test_the_thumb_is_the_centre_square_of_the_picture() -> None:
    # Given a wide picture whose centre square is green and whose sides are red
    image = Image.new("RGB", (900, 300), (220, 30, 30))
    ImageDraw.Draw(image).rectangle((300, 0, 599, 299), fill=(30, 200, 30))

    thumb = make_renditions(encoded(image, "PNG")).renditions["thumb"]

    corners = decoded(thumb.data)
    for x, y in ((3, 3), (146, 3), (3, 146), (146, 146)):
        red, green, _ = rgb_at(corners, x, y)
        assert green > 150 and red < 80


def test_the_same_upload_gives_the_same_bytes_every_time() -> None:
    # Two threads share the work; the output must not depend on how they were scheduled.
    photo = encoded(picture((2400, 1800)), "JPEG", quality=90)
    first = make_renditions(photo)
    for _ in range(3):
        assert make_renditions(photo) == first


# --- formats and colour models -------------------------------------------------------------


def _png_16_bit_grey() -> bytes:
    image = Image.new("I;16", (640, 480))
    image.putdata([(x * 65535) // 639 for _ in range(480) for x in range(640)])
    return encoded(image, "PNG")


def _animated_gif() -> bytes:
    first = Image.new("RGB", (400, 300), (200, 40, 40))
    second = Image.new("RGB", (400, 300), (40, 40, 200))
    return encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def _heic() -> bytes:
    imaging._register_heif_opener()
    return encoded(picture((800, 600)), "HEIF", quality=90)


ACCEPTED_UPLOADS = {
    "jpeg rgb": lambda: encoded(picture(), "JPEG", quality=90),
    "jpeg progressive": lambda: encoded(picture(), "JPEG", quality=90, progressive=True),
    "jpeg greyscale": lambda: encoded(picture(mode="L"), "JPEG"),
    "jpeg cmyk": lambda: encoded(picture(mode="CMYK"), "JPEG"),
    "png rgb": lambda: encoded(picture(), "PNG"),
    "png rgba": lambda: encoded(picture(mode="RGBA"), "PNG"),
    "png greyscale": lambda: encoded(picture(mode="L"), "PNG"),
    "png greyscale with alpha": lambda: encoded(picture(mode="LA"), "PNG"),
    "png 1-bit": lambda: encoded(picture(mode="1"), "PNG"),
    "png palette": lambda: encoded(picture(mode="P"), "PNG"),
    "png palette with transparency": lambda: encoded(picture(mode="P"), "PNG", transparency=0),
    "png 16-bit greyscale": _png_16_bit_grey,
    "gif animated": _animated_gif,
    "webp lossy": lambda: encoded(picture(), "WEBP", quality=80),
    "webp with alpha": lambda: encoded(picture(mode="RGBA"), "WEBP", lossless=True),
    "heic": _heic,
}


@pytest.mark.parametrize("make_upload", ACCEPTED_UPLOADS.values(), ids=ACCEPTED_UPLOADS.keys())
def test_every_accepted_format_and_colour_model_gives_four_rgb_jpegs(
    make_upload: Callable[[], bytes],
) -> None:
    assert_four_rgb_jpegs(make_renditions(make_upload()))


def test_cmyk_is_converted_to_rgb_colours() -> None:
    red_in_cmyk = Image.new("CMYK", (400, 300), (0, 255, 255, 0))
    red, green, blue = pixel_at_centre(
        make_renditions(encoded(red_in_cmyk, "JPEG")).renditions["small"].data
    )
    assert red > 200 and green < 60 and blue < 60


def test_transparency_is_flattened_on_white() -> None:
    # Given a red square in the middle of a fully transparent picture
    image = Image.new("RGBA", (800, 600), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((300, 200, 499, 399), fill=(220, 20, 20, 255))

    result = make_renditions(encoded(image, "PNG"))

    large = decoded(result.renditions["large"].data)
    assert min(rgb_at(large, 10, 10)) > 245
    red, green, blue = rgb_at(large, 400, 300)
    assert red > 200 and green < 50 and blue < 50


def test_a_transparent_palette_entry_is_flattened_on_white() -> None:
    image = Image.new("P", (400, 300), 0)
    image.putpalette([0, 0, 0, 20, 20, 220] + [0] * 762)
    ImageDraw.Draw(image).rectangle((150, 100, 249, 199), fill=1)

    small = decoded(make_renditions(encoded(image, "PNG", transparency=0)).renditions["small"].data)

    assert min(rgb_at(small, 5, 5)) > 245
    assert rgb_at(small, 160, 120)[2] > 180


def test_16_bit_grey_keeps_its_tones() -> None:
    # Pillow's own conversion to 8 bits would clip every level above 255 to white.
    small = decoded(make_renditions(_png_16_bit_grey()).renditions["small"].data)
    left, middle, right = (rgb_at(small, x, 120)[0] for x in (2, 160, 317))
    assert left < 10 and 110 < middle < 145 and right > 245


def test_a_gif_gives_its_first_frame() -> None:
    red, _, blue = pixel_at_centre(make_renditions(_animated_gif()).renditions["small"].data)
    assert red > 150 and blue < 90


def test_colours_in_a_wide_gamut_profile_are_converted_to_srgb_not_just_untagged() -> None:
    # Given an orange in Display P3, as an iPhone would tag it
    p3 = display_p3_like_profile()
    p3_orange = (200, 100, 50)
    photo = encoded(Image.new("RGB", (400, 300), p3_orange), "JPEG", quality=95, icc_profile=p3)
    converted = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), p3_orange),
        ImageCms.ImageCmsProfile(io.BytesIO(p3)),
        ImageCms.createProfile("sRGB"),
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    assert converted is not None
    expected = rgb_at(converted, 0, 0)

    # When it is processed
    result = make_renditions(photo)

    # Then the renditions hold the same colour in sRGB numbers, which differ from P3's
    assert max(abs(a - b) for a, b in zip(expected, p3_orange, strict=True)) > 10
    for rendition in result.renditions.values():
        delivered = pixel_at_centre(rendition.data)
        assert max(abs(a - b) for a, b in zip(delivered, expected, strict=True)) <= 4


def test_a_damaged_colour_profile_does_not_cost_the_photo() -> None:
    photo = encoded(picture(), "JPEG", icc_profile=b"not a profile at all" * 10)
    assert_four_rgb_jpegs(make_renditions(photo))


# --- refusals ------------------------------------------------------------------------------


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims another size."""
    data = bytearray(encoded(picture((64, 48)), "JPEG"))
    start_of_frame = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, start_of_frame + 5, height, width)
    return bytes(data)


REFUSED_UPLOADS = {
    "empty": (b"", "the file is empty"),
    "text": (b"just some words, not a picture\n" * 20, imaging.NOT_AN_IMAGE),
    "html": (
        b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
        imaging.NOT_AN_IMAGE,
    ),
    "svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<rect width="10" height="10" fill="red"/></svg>',
        imaging.NOT_AN_IMAGE,
    ),
    "pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", imaging.NOT_AN_IMAGE),
    "bmp": (encoded(picture((64, 48)), "BMP"), imaging.NOT_AN_IMAGE),
    "tiff": (encoded(picture((64, 48)), "TIFF"), imaging.NOT_AN_IMAGE),
    "truncated jpeg": (encoded(picture(), "JPEG")[:6000], imaging.CORRUPT),
    "jpeg signature then rubbish": (b"\xff\xd8\xff\xe0" + b"\x13" * 4000, imaging.CORRUPT),
    "truncated png": (encoded(picture(), "PNG")[:3000], imaging.CORRUPT),
    "png bomb 100000x100000": (
        png_header_only(100_000, 100_000),
        "the image is larger than 50 megapixels",
    ),
    "png bomb 10000x10000": (
        png_header_only(10_000, 10_000),
        "the image is larger than 50 megapixels",
    ),
    "jpeg claiming 9000x9000": (
        _jpeg_claiming(9000, 9000),
        "the image is larger than 50 megapixels",
    ),
    "over 20 MB": (b"\xff\xd8\xff" + b"\0" * MAX_BYTES, "the file is larger than 20 MB"),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("upload", "reason"), REFUSED_UPLOADS.values(), ids=REFUSED_UPLOADS.keys())
def test_bad_uploads_are_refused_with_a_reason_and_nothing_else_escapes(
    upload: bytes, reason: str
) -> None:
    with warnings.catch_warnings():
        # Pillow's DecompressionBombWarning (or any other) must not leak out either.
        warnings.simplefilter("error")
        with pytest.raises(ImageRejected) as refused:
            make_renditions(upload)
    assert refused.value.reason == reason


@pytest.mark.timeout(60)
def test_damaged_uploads_give_renditions_or_a_refusal_and_nothing_else() -> None:
    # Given valid uploads of every accepted format, each damaged 60 times at random (seeded):
    # bytes overwritten, cut out or inserted anywhere, headers and metadata included
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[1] = "N"
    small = picture((160, 120))
    uploads = [
        encoded(small, "JPEG", exif=exif),
        encoded(small, "JPEG", progressive=True),
        encoded(small.convert("RGBA"), "PNG", exif=exif),
        encoded(small.convert("P"), "PNG", transparency=3),
        encoded(small.convert("P"), "GIF", save_all=True, append_images=[small.convert("P")]),
        encoded(small, "WEBP", exif=exif),
        _heic(),
    ]
    rng = random.Random(20261120)
    outcomes = {"renditions": 0, "refused": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for upload in uploads:
            for _ in range(60):
                damaged = bytearray(upload)
                for _ in range(rng.choice((1, 2, 4, 16))):
                    at = rng.randrange(len(damaged))
                    action = rng.random()
                    if action < 0.6:
                        damaged[at] = rng.randrange(256)
                    elif action < 0.8:
                        del damaged[at : at + rng.randrange(1, 64)]
                    else:
                        damaged[at:at] = rng.randbytes(rng.randrange(1, 32))

                # When each is processed, then it is either read or refused with a reason
                try:
                    assert_four_rgb_jpegs(make_renditions(bytes(damaged)))
                    outcomes["renditions"] += 1
                except ImageRejected as refused:
                    assert refused.reason
                    outcomes["refused"] += 1
    assert outcomes["renditions"] > 0 and outcomes["refused"] > 0


@pytest.mark.timeout(10)
def test_webp_has_a_lower_pixel_limit_for_its_hungrier_decoder() -> None:
    # 5000 x 5001 is within the 50 MP limit, but over WebP's 25 MP.
    data = bytearray(encoded(picture((64, 48), mode="RGBA"), "WEBP", lossless=True))
    assert data[12:16] == b"VP8L"
    bits = (5000 - 1) | (5001 - 1) << 14 | (int.from_bytes(data[21:25], "little") & ~(2**28 - 1))
    data[21:25] = bits.to_bytes(4, "little")

    with pytest.raises(ImageRejected) as refused:
        make_renditions(bytes(data))
    assert refused.value.reason == "the image is larger than 25 megapixels"


@pytest.mark.timeout(10)
def test_the_pixel_limit_is_the_callers() -> None:
    photo = encoded(picture((1200, 900)), "PNG")
    with pytest.raises(ImageRejected) as refused:
        make_renditions(photo, max_pixels=1_000_000)
    assert refused.value.reason == "the image is larger than 1 megapixels"
    assert make_renditions(photo, max_pixels=1_080_000).width == 1200
