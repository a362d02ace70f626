"""The resize pipeline against a naive Pillow baseline and libvips, on generated photos.

For each input: our ``make_renditions`` time (median of several interleaved runs), the
naive baseline's and pyvips' in the same runs, peak RSS in a fresh process, and the PSNR of
our ``medium`` against a LANCZOS resize of the full upright original. Goals (12 MP JPEG):
at most 0.25x the naive time and 1.1x pyvips'; for every input, medium PSNR >= 40 dB and
peak RSS < 300 MB.

The PSNR goal judges the resizing, so it compares our medium's pixels before JPEG encoding
(``imaging._resized_renditions``). The delivered JPEG is printed next to it, with the "q85
floor": the reference itself through the same encoder. Quality 85 alone takes a photo's
PSNR well below 40 dB (about 35 here), whatever resized it.

pyvips gets the same work and output: the same sizes (forced, so they match ours to the
pixel), EXIF autorotation, the same cascade, quality 85, progressive, optimised Huffman
tables, 4:2:0, no metadata, and the encodes on two threads as ours are.

Run with ``python -m tests.benchmarks media``; ``python -m tests.benchmarks.media FILE``
prints the peak RSS of one run on FILE (used in a subprocess, so each input starts fresh).
"""

from __future__ import annotations

import io
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from chalicelib.media import imaging
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps, ImageStat

RUNS = 7
LANCZOS = Image.Resampling.LANCZOS
SEED = 20261120
GOAL_VS_NAIVE = 0.25
GOAL_VS_PYVIPS = 1.1
GOAL_PSNR_DB = 40.0
GOAL_PEAK_RSS_MB = 300
TIMED_INPUT = "12 MP JPEG"


# --- inputs --------------------------------------------------------------------------------


def natural_photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like RGB image: fractal texture in luma (detail at every scale, like foliage
    or fabric), low-frequency colour, soft shapes with hard edges, and sensor grain."""
    rng = random.Random(seed)

    def noise(cells_across: int) -> Image.Image:
        cells_down = max(2, cells_across * height // width)
        layer = Image.frombytes(
            "L", (cells_across, cells_down), rng.randbytes(cells_across * cells_down)
        )
        return layer.resize((width, height), Image.Resampling.BICUBIC)

    def fractal(octaves: tuple[tuple[int, float], ...]) -> Image.Image:
        total, result = 0.0, None
        for cells_across, weight in octaves:
            total += weight
            layer = noise(cells_across)
            result = layer if result is None else Image.blend(result, layer, weight / total)
        assert result is not None
        return result

    luma = fractal(((4, 5), (16, 3), (64, 2), (256, 1.5), (1000, 1.2)))
    photo = Image.merge("RGB", [Image.blend(luma, fractal(((3, 3), (12, 1))), 0.4) for _ in "RGB"])
    contrast = photo.point(lambda value: min(255, max(0, (value - 128) * 3 + 128)))
    vignette = Image.radial_gradient("L").resize((width, height)).point(lambda v: 255 - v // 3)
    photo = ImageChops.multiply(contrast, vignette.convert("RGB"))

    shapes, opacity = Image.new("RGB", (width, height)), Image.new("L", (width, height))
    draw, draw_opacity = ImageDraw.Draw(shapes), ImageDraw.Draw(opacity)
    for _ in range(25):
        left, top = rng.randrange(width), rng.randrange(height)
        box = (
            left,
            top,
            left + rng.randrange(40, width // 5),
            top + rng.randrange(40, height // 5),
        )
        colour = tuple(rng.randrange(256) for _ in "RGB")
        alpha = rng.randrange(100, 230)
        kind = rng.choice(("ellipse", "rectangle", "line"))
        if kind == "line":
            line_width = rng.randrange(2, 14)
            draw.line(box, fill=colour, width=line_width)
            draw_opacity.line(box, fill=alpha, width=line_width)
        else:
            getattr(draw, kind)(box, fill=colour)
            getattr(draw_opacity, kind)(box, fill=alpha)
    photo = Image.composite(shapes, photo, opacity).filter(ImageFilter.GaussianBlur(0.8))
    grain = Image.merge("RGB", [noise(width).point(lambda v: v // 24) for _ in "RGB"])
    return ImageChops.add(photo, grain, offset=-5)


def phone_exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"  # Make
    exif[0x0110] = "Model 12"  # Model
    exif[0x0132] = "2026:11:20 10:00:00"  # DateTime
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    return exif


def _jpeg(image: Image.Image, orientation: int = 1) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, exif=phone_exif(orientation))
    return buffer.getvalue()


def _png_with_alpha(image: Image.Image) -> bytes:
    # A cut-out: opaque in the middle, fading to fully transparent at the edges.
    alpha = Image.radial_gradient("L").resize(image.size).point(lambda v: max(0, 255 - v * 2))
    rgba = image.convert("RGBA")
    rgba.putalpha(alpha)
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _heic(image: Image.Image) -> bytes:
    imaging._register_heif_opener()
    buffer = io.BytesIO()
    # x265's ultrafast preset keeps generating the input quick; the file is as large as
    # with its default preset and decodes about as fast.
    image.save(buffer, "HEIF", quality=80, exif=phone_exif(1), enc_params={"preset": "ultrafast"})
    return buffer.getvalue()


def make_inputs() -> dict[str, bytes]:
    photo = natural_photo(4000, 3000, SEED)
    return {
        TIMED_INPUT: _jpeg(photo),
        "12 MP JPEG, EXIF orientation 6": _jpeg(photo, orientation=6),
        "1080x1350 JPEG": _jpeg(natural_photo(1080, 1350, SEED + 1)),
        "2048x2048 PNG with alpha": _png_with_alpha(natural_photo(2048, 2048, SEED + 2)),
        "12 MP HEIC": _heic(photo),
    }


# --- the pipelines compared ----------------------------------------------------------------


def ours(data: bytes) -> dict[str, bytes]:
    return {name: r.data for name, r in imaging.make_renditions(data).renditions.items()}


def _upright_rgb(data: bytes) -> Image.Image:
    """The full original, upright, alpha flattened on white: what a naive pipeline resizes."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flattened = Image.new("RGB", image.size, "white")
        flattened.paste(image, mask=image.getchannel("A"))
        return flattened
    return image.convert("RGB")


def _encode_naively(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, progressive=True, optimize=True, subsampling="4:2:0")
    return buffer.getvalue()


def naive(data: bytes) -> dict[str, bytes]:
    """Full decode, transpose, LANCZOS from the full image to each size, encode."""
    image = _upright_rgb(data)
    renditions = {}
    for name, spec in imaging.RENDITIONS.items():
        size = spec.size_for(image.size)
        resized = ImageOps.fit(image, size, LANCZOS) if spec.square else image.resize(size, LANCZOS)
        renditions[name] = _encode_naively(resized)
    return renditions


def pyvips_pipeline() -> Callable[[bytes], dict[str, bytes]] | None:
    """pyvips' fastest way we found: one shrink-on-load thumbnail of the largest size, a
    cascade of thumbnail_image from it, encodes on two threads. None without libvips."""
    try:
        import pyvips
    except (ImportError, OSError):
        return None
    save = {
        "Q": 85,
        "interlace": True,
        "optimize_coding": True,
        "subsample_mode": "on",
        "keep": "none",
    }
    encoders = ThreadPoolExecutor(2)

    def run(data: bytes) -> dict[str, bytes]:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        upright = _vips_upright_size(header)
        specs = sorted(
            imaging.RENDITIONS.items(), key=lambda item: -math.prod(item[1].size_for(upright))
        )
        encoded, parent = {}, None
        for name, spec in specs:
            width, height = spec.size_for(upright)
            if parent is None:
                image = pyvips.Image.thumbnail_buffer(data, width, height=height, size="force")
                if image.hasalpha():
                    image = image.flatten(background=[255, 255, 255])
            elif spec.square:
                image = parent.thumbnail_image(width, height=height, crop="centre")
            else:
                image = parent.thumbnail_image(width, height=height, size="force")
            image = image.copy_memory()
            if not spec.square:
                parent = image
            encoded[name] = encoders.submit(image.jpegsave_buffer, **save)
        return {name: future.result() for name, future in encoded.items()}

    return run


def _vips_upright_size(image) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    return (image.height, image.width) if orientation >= 5 else (image.width, image.height)


# --- measurements --------------------------------------------------------------------------


def psnr(image: Image.Image, reference: Image.Image) -> float:
    difference = ImageStat.Stat(ImageChops.difference(image.convert("RGB"), reference))
    mean_square = sum(difference.sum2) / (3 * reference.width * reference.height)
    return math.inf if mean_square == 0 else 10 * math.log10(255**2 / mean_square)


@dataclass
class Quality:
    resize_db: float  # our medium's pixels before encoding
    delivered_db: float  # our medium as delivered (JPEG q85)
    floor_db: float  # the reference itself through the same encoder


def medium_quality(data: bytes) -> Quality:
    original = _upright_rgb(data)
    size = imaging.RENDITIONS["medium"].size_for(original.size)
    reference = original.resize(size, LANCZOS)
    del original
    ours_pixels = imaging._resized_renditions(data)["medium"]
    delivered = Image.open(io.BytesIO(imaging.make_renditions(data).renditions["medium"].data))
    floor = Image.open(io.BytesIO(_encode_naively(reference)))
    return Quality(psnr(ours_pixels, reference), psnr(delivered, reference), psnr(floor, reference))


def timed_medians(
    pipelines: dict[str, Callable[[bytes], object]], data: bytes, notes: set[str]
) -> dict[str, float]:
    """Median ms per pipeline; runs interleaved so all see the same machine. A comparison
    that cannot read the input is left out, with a note why."""
    able = {}
    for name, pipeline in pipelines.items():
        try:
            pipeline(data)  # warm: imports, plugin registration, caches
        except Exception as exc:
            if name == "ours":
                raise
            first_line = str(exc).strip().splitlines()[-1]
            notes.add(f"{name} cannot read an input: {first_line}")
            continue
        able[name] = pipeline
    pipelines = able
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(RUNS):
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            pipeline(data)
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(samples) for name, samples in times.items()}


def peak_rss_mb(data: bytes) -> float:
    """Peak RSS of a fresh interpreter that imports the pipeline and runs it once."""
    with tempfile.NamedTemporaryFile(suffix=".upload") as upload:
        upload.write(data)
        upload.flush()
        output = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.benchmarks.media", upload.name],
            cwd=Path(__file__).resolve().parents[2],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return float(output.strip())


def _print_own_peak_rss(path: str) -> None:
    imaging.make_renditions(Path(path).read_bytes())
    print(_own_peak_rss_kib() / 1024)


def _own_peak_rss_kib() -> float:
    # Linux carries ru_maxrss across fork and exec, so a child of this (large) benchmark
    # process would report the parent's peak; VmHWM is the high-water mark of this process's
    # own memory only.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


# --- report --------------------------------------------------------------------------------


def run() -> bool:
    print("media: generating inputs ...", flush=True)
    inputs = make_inputs()
    vips = pyvips_pipeline()
    pipelines: dict[str, Callable[[bytes], object]] = {"ours": ours, "naive": naive}
    if vips is not None:
        pipelines["pyvips"] = vips

    header = (
        f"{'input':32} {'MB':>5} {'ours ms':>8} {'naive ms':>9} {'/naive':>7} "
        f"{'pyvips ms':>10} {'/pyvips':>8} {'PSNR dB':>8} {'JPEG dB':>8} {'floor dB':>9} "
        f"{'RSS MB':>7}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    goals: list[tuple[str, bool]] = []
    notes: set[str] = set()
    for name, data in inputs.items():
        times = timed_medians(pipelines, data, notes)
        quality = medium_quality(data)
        rss = peak_rss_mb(data)
        vs_naive = times["ours"] / times["naive"]
        has_vips = "pyvips" in times
        vips_ms = f"{times['pyvips']:10.1f}" if has_vips else f"{'-':>10}"
        vs_vips = f"{times['ours'] / times['pyvips']:8.2f}" if has_vips else f"{'-':>8}"
        print(
            f"{name:32} {len(data) / 1e6:5.1f} {times['ours']:8.1f} {times['naive']:9.1f} "
            f"{vs_naive:7.2f} {vips_ms} {vs_vips} {quality.resize_db:8.1f} "
            f"{quality.delivered_db:8.1f} {quality.floor_db:9.1f} {rss:7.0f}",
            flush=True,
        )
        if name == TIMED_INPUT:
            goals.append(
                (f"{name}: at most {GOAL_VS_NAIVE}x the naive time", vs_naive <= GOAL_VS_NAIVE)
            )
            if has_vips:
                ratio = times["ours"] / times["pyvips"]
                goals.append(
                    (f"{name}: at most {GOAL_VS_PYVIPS}x pyvips' time", ratio <= GOAL_VS_PYVIPS)
                )
        goals.append(
            (f"{name}: medium PSNR >= {GOAL_PSNR_DB:g} dB", quality.resize_db >= GOAL_PSNR_DB)
        )
        goals.append((f"{name}: peak RSS < {GOAL_PEAK_RSS_MB} MB", rss < GOAL_PEAK_RSS_MB))

    print(
        "\nPSNR dB: our medium's pixels vs LANCZOS of the full upright original; JPEG dB: the"
        "\nsame for the delivered JPEG; floor dB: the reference through the same q85 encoder."
    )
    if vips is None:
        notes.add("pyvips is not importable: its comparison is skipped.")
    for note in sorted(notes):
        print(note)
    print()
    for goal, passed in goals:
        print(f"{'pass' if passed else 'FAIL'}  {goal}")
    return all(passed for _, passed in goals)


if __name__ == "__main__":
    _print_own_peak_rss(sys.argv[1])
