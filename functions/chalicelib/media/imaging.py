"""Renditions of an uploaded photo: upright, in sRGB, without metadata, in four sizes.

The upload is untrusted bytes. It is identified by its content, never by a declared type;
its pixel count is checked from the header before a pixel is decoded; and every way a file
can fail to be a readable image ends in ``ImageRejected`` with a reason a person can act on.

Speed comes from doing as little as possible at full resolution:

- A JPEG is decoded at a reduced scale (libjpeg's DCT scaling, ``Image.draft``): the largest
  power of two (up to 8) by which it can shrink with every rendition still a downscale.
  Other formats are decoded in full and ``Image.reduce``-d by an integer factor that leaves
  at least 1.5 times the largest rendition, so the resize after it still filters.
- The largest rendition is resized from that working image (BICUBIC), each smaller one from
  the smallest rendition already made that covers it (a cascade, LANCZOS).
- Only the rendition cut from the working image is turned upright, has its alpha
  flattened on white and is converted to sRGB: at most the largest rendition's pixels,
  never the working image's.
- Two threads share the work: the first resize is split into a top and a bottom band, and
  each rendition is JPEG-encoded while the next one is resized. Pillow releases the GIL while
  resizing, and while encoding into a file descriptor (not into ``BytesIO``), so encoders
  write to an anonymous in-memory file. Each band is filtered from the full source, so it
  matches a single resize (within 1 level where a weight rounds differently), and where the
  split falls depends only on the sizes: the output does not depend on scheduling.
"""

from __future__ import annotations

import functools
import io
import math
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

from PIL import ExifTags, Image, ImageCms, JpegImagePlugin, UnidentifiedImageError

MAX_PIXELS = 50_000_000
MAX_BYTES = 20 * 1024 * 1024
JPEG_QUALITY = 85
CONTENT_TYPE = "image/jpeg"

# Pillow's own names for the formats we accept. "HEIF" is pillow-heif's opener (HEIC, HEIF).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF")

NOT_AN_IMAGE = "the file is not an image we can read (JPEG, PNG, WebP, GIF or HEIC)"
CORRUPT = "the file is incomplete or corrupt"
EMPTY = "the file is empty"
TOO_MANY_BYTES = f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"

# The first resize, from the working image (1 to 3 times the size) to the largest rendition,
# is most of the pipeline's CPU. BICUBIC there takes 30% less CPU than LANCZOS (29 against 42
# ms for a 12 MP JPEG) and its result stays 48 dB PSNR from LANCZOS's, far below the 35 dB
# that JPEG quality 85 itself costs; it is also what Pillow's own thumbnail() uses. The
# cascade steps after it are cheap, so they keep LANCZOS's sharpness.
FIRST_RESAMPLING = Image.Resampling.BICUBIC
CASCADE_RESAMPLING = Image.Resampling.LANCZOS
# Non-JPEG sources are box-reduced only down to this many times the largest rendition, so
# the resize after it still sees enough source pixels per output pixel to filter out what
# would alias. Measured on generated photos of 2.4k to 8k wide: the large rendition is then
# 46-51 dB PSNR from a LANCZOS resize of the full image; a gap of 1 gives 42-47 dB, one of
# 2 gains about 1 dB for up to twice the resize time.
_REDUCING_GAP = 1.5
# Pillow's WebP loader holds about 16 bytes per pixel while it decodes (libwebp's two RGBA
# canvases, the frame copied out as bytes, and the image), four times what the other formats
# need: a 50 MP WebP peaks above 800 MB. WebP uploads are web images, far smaller than this.
_MAX_PIXELS_BY_FORMAT = {"WEBP": 25_000_000}
# One per core of the 2-vCPU machines we measured on; the calling thread resizes meanwhile.
_WORKER_THREADS = 2

# EXIF orientation -> what turns the stored pixels upright (as ImageOps.exif_transpose).
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_QUARTER_TURNS = {_TRANSPOSE_FOR_ORIENTATION[orientation] for orientation in (5, 6, 7, 8)}


class ImageRejected(Exception):
    """The upload cannot become renditions.

    Attributes
    ----------
    reason : str
        Why, as a sentence the uploader can act on (shown to them as the media's reason).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RenditionSpec:
    """How one rendition is cut from the upright original.

    Attributes
    ----------
    width : int
        Target width in pixels. Never upscaled: the rendition is ``min(width, original
        width)`` wide, its height keeps the original's aspect ratio.
    square : bool
        Centre-crop to a square instead: ``min(width, shorter original side)`` on each side.
    """

    width: int
    square: bool = False

    def size_for(self, original: tuple[int, int]) -> tuple[int, int]:
        """The rendition's (width, height) for an upright original of that size."""
        original_width, original_height = original
        if self.square:
            side = min(self.width, original_width, original_height)
            return side, side
        width = min(self.width, original_width)
        return width, max(1, round(original_height * width / original_width))

    def max_reduction(self, original: tuple[int, int]) -> float:
        """How many times the original may shrink before this rendition would be upscaled."""
        width, _ = self.size_for(original)
        covered = min(original) if self.square else original[0]
        return covered / width


RENDITIONS: dict[str, RenditionSpec] = {
    "thumb": RenditionSpec(150, square=True),
    "small": RenditionSpec(320),
    "medium": RenditionSpec(640),
    "large": RenditionSpec(1080),
}


@dataclass(frozen=True)
class Rendition:
    name: str
    data: bytes
    width: int
    height: int
    content_type: str


@dataclass(frozen=True)
class ProcessedImage:
    """The renditions of one upload; ``width`` and ``height`` are the upright original's."""

    width: int
    height: int
    renditions: dict[str, Rendition]


def make_renditions(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ProcessedImage:
    """Turn uploaded bytes into upright, metadata-free sRGB JPEG renditions.

    Parameters
    ----------
    data : bytes
        The uploaded file, untrusted: JPEG, PNG, WebP, GIF (first frame) or HEIC/HEIF,
        recognised by content.
    max_pixels : int
        Refuse images with more pixels than this, judged from the header before decoding.

    Returns
    -------
    ProcessedImage
        One ``Rendition`` per entry of ``RENDITIONS``, in that order: progressive JPEG at
        quality 85, 4:2:0, no EXIF, ICC, XMP or comment.

    Raises
    ------
    ImageRejected
        For anything that is not a readable image of an accepted format within the limits;
        nothing else is raised for bad input.
    """
    working = _decode(data, max_pixels)
    sizes = {name: spec.size_for(working.original_size) for name, spec in RENDITIONS.items()}
    with ThreadPoolExecutor(_WORKER_THREADS, thread_name_prefix="rendition") as workers:
        encoded = {
            name: workers.submit(_encode_jpeg, image)
            for name, image in _cascade(working, sizes, workers)
        }
        renditions = {
            name: Rendition(name, encoded[name].result(), *sizes[name], CONTENT_TYPE)
            for name in RENDITIONS
        }
    width, height = working.original_size
    return ProcessedImage(width, height, renditions)


def _resized_renditions(data: bytes, *, max_pixels: int = MAX_PIXELS) -> dict[str, Image.Image]:
    """The renditions' pixels before JPEG encoding, so the benchmark can judge the resizing
    apart from the encoder's loss."""
    working = _decode(data, max_pixels)
    sizes = {name: spec.size_for(working.original_size) for name, spec in RENDITIONS.items()}
    with ThreadPoolExecutor(_WORKER_THREADS) as workers:
        return dict(_cascade(working, sizes, workers))


# --- decoding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WorkingImage:
    """The decoded, possibly reduced source every rendition is cut from.

    Attributes
    ----------
    image : Image.Image
        In the file's orientation, working mode (see ``_to_working_mode``) and colour space.
    extent : tuple[float, float]
        The part of ``image``, from its top left, that holds the whole original: a
        reduction that does not divide the size rounds up to a last, partial column or row.
    original_size : tuple[int, int]
        The upright original's width and height.
    transpose : Image.Transpose | None
        What turns the file's orientation upright.
    to_srgb : Callable[[Image.Image], Image.Image]
        Finishes pixels resized from ``image`` (see ``_to_srgb``).
    """

    image: Image.Image
    extent: tuple[float, float]
    original_size: tuple[int, int]
    transpose: Image.Transpose | None
    to_srgb: Callable[[Image.Image], Image.Image]


def _decode(data: bytes, max_pixels: int) -> _WorkingImage:
    if not data:
        raise ImageRejected(EMPTY)
    if len(data) > MAX_BYTES:
        raise ImageRejected(TOO_MANY_BYTES)
    _register_heif_opener()
    try:
        with warnings.catch_warnings():
            # Pillow warns about damage it works around (EXIF tags it skips, say) and above
            # its own pixel limit (about 89 MP; ours is checked right after opening, and its
            # hard limit, twice that, raises). Whether a file is readable is decided by the
            # errors alone, so the outcome cannot depend on the process's warning filters.
            warnings.simplefilter("ignore")
            return _decode_checked(data, max_pixels)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected(_too_large(max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(CORRUPT if _has_accepted_signature(data) else NOT_AN_IMAGE) from exc
    except Exception as exc:
        # Everything here parses untrusted bytes, and Pillow's plugins fail in many ways
        # (OSError, SyntaxError, ValueError, struct.error, EOFError, ...). Whatever the way, the
        # file could not be read. The resizing and encoding after this work on pixels already
        # read, so a failure there is a bug of ours and is left to propagate.
        raise ImageRejected(CORRUPT) from exc


def _decode_checked(data: bytes, max_pixels: int) -> _WorkingImage:
    image: Image.Image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    if image.width < 1 or image.height < 1:
        raise ImageRejected(CORRUPT)
    pixel_limit = min(max_pixels, _MAX_PIXELS_BY_FORMAT.get(image.format or "", max_pixels))
    if image.width * image.height > pixel_limit:
        raise ImageRejected(_too_large(pixel_limit))
    icc_profile = image.info.get("icc_profile") or None
    extent: tuple[float, float] = image.size

    if isinstance(image, JpegImagePlugin.JpegImageFile):
        # The JPEG header already holds the EXIF, and the orientation decides which source
        # side becomes the width the renditions need.
        orientation = _orientation(image)
        original_size = _upright_size(image.size, orientation)
        reduction = _max_reduction(original_size)
        requested = (math.ceil(image.width / reduction), math.ceil(image.height / reduction))
        drafted = image.draft(image.mode, requested)
        if drafted is not None:
            extent = drafted[1][2:]
        image.load()
        image = _to_working_mode(image)
    else:
        # PNG may keep its EXIF after the pixels, so read the orientation after loading.
        image.load()
        orientation = _orientation(image)
        original_size = _upright_size(image.size, orientation)
        image = _to_working_mode(image)
        factor = math.floor(_max_reduction(original_size) / _REDUCING_GAP)
        if factor >= 2:
            extent = (image.width / factor, image.height / factor)
            image = image.reduce(factor)

    # Nothing of the upload's metadata may reach an encoder that would copy it (a JPEG
    # comment is copied from .info by default).
    image.info = {}
    transform = _transform_to_srgb(icc_profile, _mode_without_alpha(image.mode))
    return _WorkingImage(
        image,
        extent,
        original_size,
        _TRANSPOSE_FOR_ORIENTATION.get(orientation),
        functools.partial(_to_srgb, colour_transform=transform),
    )


def _too_large(pixel_limit: int) -> str:
    return f"the image is larger than {pixel_limit / 1_000_000:g} megapixels"


def _orientation(image: Image.Image) -> int:
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        # A damaged EXIF block should not cost the uploader their photo; without a readable
        # orientation it is shown as stored, which is what every viewer would do too.
        return 1
    return orientation if orientation in _TRANSPOSE_FOR_ORIENTATION else 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    # Orientations 5 to 8 turn the image a quarter, swapping its sides.
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _max_reduction(original_size: tuple[int, int]) -> float:
    return min(spec.max_reduction(original_size) for spec in RENDITIONS.values())


def _to_working_mode(image: Image.Image) -> Image.Image:
    """L, RGB or CMYK, or La or RGBa with premultiplied alpha; 8 bits per channel.

    Premultiplied, so that reducing and resizing weigh each colour by its opacity (as
    Pillow does for RGBA by converting the whole image on every call, which the two bands
    would each repeat).
    """
    mode = image.mode
    if mode in ("L", "RGB") and "transparency" in image.info:
        # PNG's tRNS chunk makes one grey level or colour transparent.
        image = image.convert("RGBA")
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode == "1":
        image = image.convert("L")
    elif mode.startswith("I"):
        # 16-bit grey: Pillow's convert("L") would clip everything above 255 to white.
        if mode not in ("I", "I;16"):
            image = image.convert("I")
        image = image.point(lambda value: value / 257).convert("L")
    elif mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        image = image.convert("RGB")
    if image.mode in _PREMULTIPLIED:
        image = image.convert(_PREMULTIPLIED[image.mode])
    return image


_PREMULTIPLIED = {"LA": "La", "RGBA": "RGBa"}
_UNPREMULTIPLIED = {"La": "LA", "RGBa": "RGBA"}


def _mode_without_alpha(mode: str) -> str:
    return {"La": "L", "RGBa": "RGB"}.get(mode, mode)


@functools.cache
def _register_heif_opener() -> None:
    # Registering is global to Pillow, so it happens once, on first use. Embedded thumbnails,
    # depth maps and auxiliary images are never used, so pillow-heif need not read them.
    from pillow_heif import register_heif_opener

    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _has_accepted_signature(data: bytes) -> bool:
    """Whether the file starts like an accepted format: then it is corrupt, not foreign."""
    return (
        data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a"))
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or data[4:8] == b"ftyp"
    )


# --- colour --------------------------------------------------------------------------------


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _transform_to_srgb(icc_profile: bytes | None, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded profile to sRGB, or None to take the pixels as sRGB."""
    if icc_profile is None or mode not in ("L", "RGB", "CMYK"):
        return None
    # Phones embed the same few small profiles (Display P3, sRGB: a few KB) in every photo,
    # so their transforms are kept; an unusually large one is not kept in a warm function.
    if len(icc_profile) <= 64 * 1024:
        return _cached_transform_to_srgb(icc_profile, mode)
    return _build_transform_to_srgb(icc_profile, mode)


def _build_transform_to_srgb(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    try:
        return ImageCms.buildTransform(
            ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
            _srgb_profile(),
            mode,
            "RGB",
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            # NOCACHE: one transform serves both bands at once, and lcms' one-pixel cache
            # is not safe to share between threads.
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION | ImageCms.Flags.NOCACHE,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A damaged profile, or one for another colour space than the pixels: show the
        # pixels as they are rather than refuse the photo.
        return None


_cached_transform_to_srgb = functools.lru_cache(maxsize=16)(_build_transform_to_srgb)


def _to_srgb(
    image: Image.Image, colour_transform: ImageCms.ImageCmsTransform | None
) -> Image.Image:
    """8-bit sRGB RGB: alpha flattened on white, then the embedded profile applied."""
    if image.mode in _UNPREMULTIPLIED:
        background = Image.new(_mode_without_alpha(image.mode), image.size, "white")
        straight = image.convert(_UNPREMULTIPLIED[image.mode])
        background.paste(straight, mask=straight.getchannel("A"))
        image = background
    if colour_transform is not None:
        return colour_transform.apply(image)
    return image if image.mode == "RGB" else image.convert("RGB")


# --- resizing ------------------------------------------------------------------------------


def _cascade(
    working: _WorkingImage, sizes: dict[str, tuple[int, int]], workers: Executor
) -> Iterator[tuple[str, Image.Image]]:
    """Yield each rendition's pixels, largest first, each cut from the smallest rendition
    already made that covers it, or else from the working image."""
    made: list[tuple[RenditionSpec, Image.Image]] = []
    for name in sorted(sizes, key=lambda name: sizes[name][0] * sizes[name][1], reverse=True):
        spec, size = RENDITIONS[name], sizes[name]
        parent = next(
            (image for made_spec, image in reversed(made) if _covers(made_spec, image, spec, size)),
            None,
        )
        if parent is None:
            image = _resize_working_image(working, spec, size, workers)
        else:
            image = parent.resize(size, CASCADE_RESAMPLING, box=_crop_box(parent.size, spec))
        made.append((spec, image))
        yield name, image


def _covers(
    parent_spec: RenditionSpec, parent: Image.Image, spec: RenditionSpec, size: tuple[int, int]
) -> bool:
    # A square crop can only give smaller squares; a full frame gives either.
    if parent_spec.square and not spec.square:
        return False
    if spec.square:
        return min(parent.size) >= size[0]
    return parent.width >= size[0] and parent.height >= size[1]


def _crop_box(
    extent: tuple[float, float], spec: RenditionSpec
) -> tuple[float, float, float, float]:
    width, height = extent
    if not spec.square:
        return 0, 0, width, height
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return left, top, left + side, top + side


def _resize_working_image(
    working: _WorkingImage, spec: RenditionSpec, size: tuple[int, int], workers: Executor
) -> Image.Image:
    """Cut a rendition from the working image, finished to sRGB and turned upright.

    Resized in the file's orientation and turned afterwards, so only the rendition's pixels
    are transposed; the centre crop is the same square either way.
    """
    quarter_turn = working.transpose in _QUARTER_TURNS
    stored_size = (size[1], size[0]) if quarter_turn else size
    box = _crop_box(working.extent, spec)
    image = _resize_in_bands(working.image, box, stored_size, working.to_srgb, workers)
    return image if working.transpose is None else image.transpose(working.transpose)


def _resize_in_bands(
    source: Image.Image,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
    finish: Callable[[Image.Image], Image.Image],
    workers: Executor,
) -> Image.Image:
    """Resize ``box`` of ``source`` to ``size`` and ``finish`` it, as a top band on a worker
    and a bottom band here. The same as one resize of the whole, within 1 level where a
    weight rounds differently: Pillow filters each band from the full source, reading past
    the band's box as far as the filter reaches."""
    width, height = size
    left, top, right, bottom = box
    split = height // 2
    if split == 0:
        return finish(source.resize(size, FIRST_RESAMPLING, box=box))
    source_split = top + (bottom - top) * split / height

    def band(rows: int, band_top: float, band_bottom: float) -> Image.Image:
        band_box = (left, band_top, right, band_bottom)
        return finish(source.resize((width, rows), FIRST_RESAMPLING, box=band_box))

    upper = workers.submit(band, split, top, source_split)
    lower = band(height - split, source_split, bottom)
    result = Image.new("RGB", size)
    result.paste(upper.result(), (0, 0))
    result.paste(lower, (0, split))
    return result


# --- encoding ------------------------------------------------------------------------------


def _encode_jpeg(image: Image.Image) -> bytes:
    """Progressive JPEG, quality 85, 4:2:0, and nothing but the pixels."""
    image.info = {}
    with _memory_file() as file:
        image.save(
            file,
            "JPEG",
            quality=JPEG_QUALITY,
            progressive=True,
            optimize=True,
            subsampling="4:2:0",
        )
        file.seek(0)
        return file.read()


def _memory_file() -> IO[bytes]:
    # Pillow encodes into a real file descriptor with the GIL released, into BytesIO with it
    # held; memfd keeps the "file" in memory (Linux, as on Lambda).
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("rendition", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()
