"""The media layer is built from manylinux wheels for CPython 3.12 and works on its own.

Downloads Pillow and pillow-heif from the package index (a few seconds once pip has them).
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from layers.build import build_layer

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def media_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_layer("media", tmp_path_factory.mktemp("layer"))


@pytest.mark.timeout(120)
def test_the_media_layer_holds_pillow_and_pillow_heif_built_for_python_312(
    media_layer: Path,
) -> None:
    names = zipfile.ZipFile(media_layer).namelist()

    assert "python/PIL/__init__.py" in names
    assert "python/PIL/_imaging.cpython-312-x86_64-linux-gnu.so" in names
    assert "python/_pillow_heif.cpython-312-x86_64-linux-gnu.so" in names
    # Bytecode is in the layer: the runtime cannot write it.
    assert "python/PIL/__pycache__/Image.cpython-312.pyc" in names
    assert "python/pillow_heif/__pycache__/as_plugin.cpython-312.pyc" in names

    other_python = [
        name
        for name in names
        if re.search(r"cpython-(?!312)\d+", name) or re.search(r"\.cp(?!312)\d+-", name)
    ]
    assert other_python == []
    assert not any(name.startswith("python/bin/") or "/tests/" in name for name in names)


@pytest.mark.timeout(120)
@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64",
    reason="the layer's binaries are for Lambda's Linux x86_64",
)
def test_the_resize_pipeline_runs_on_the_layer_alone(media_layer: Path, tmp_path: Path) -> None:
    # Given the layer unpacked as Lambda does (/opt/python), and an interpreter that sees
    # nothing else: -S keeps this virtualenv's own Pillow off the path
    opt = tmp_path / "opt"
    zipfile.ZipFile(media_layer).extractall(opt)
    script = (
        "import io, sys\n"
        f"sys.path[:0] = [{str(opt / 'python')!r}, {str(REPO_ROOT / 'functions')!r}]\n"
        "import PIL\n"
        f"assert PIL.__file__.startswith({str(opt)!r}), PIL.__file__\n"
        "from PIL import Image\n"
        "from chalicelib.media import imaging\n"
        "imaging._register_heif_opener()\n"
        "for kind in ('JPEG', 'HEIF'):\n"
        "    upload = io.BytesIO()\n"
        "    Image.new('RGB', (1600, 1200), 'orange').save(upload, kind)\n"
        "    result = imaging.make_renditions(upload.getvalue())\n"
        "    print(kind, result.renditions['large'].width, result.renditions['thumb'].height)\n"
    )

    # When the pipeline runs on it
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-S", "-c", script], capture_output=True, text=True, check=False
    )

    # Then it reads JPEG and HEIC and writes the renditions
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[:2] == ["JPEG 1080 150", "HEIF 1080 150"]
