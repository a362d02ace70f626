"""A photo's trip through the local stack: presigned POST to S3, the S3 event, the resize
function, and renditions fetched straight from their URLs."""

from __future__ import annotations

import io
from pathlib import Path

import requests
from PIL import Image, ImageOps

from tests.e2e.conftest import RunningStack, wait_until

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "exif-orientation"


def test_an_uploaded_photo_becomes_upright_fetchable_renditions(local_stack: RunningStack) -> None:
    account = local_stack.sign_up("photographer")
    auth = {"Authorization": f"Bearer {account.token}"}
    photo = (SAMPLES / "Portrait_6.jpg").read_bytes()

    created = requests.post(
        f"{local_stack.api_url}/media/uploads",
        json={"content_type": "image/jpeg", "size_bytes": len(photo), "purpose": "post"},
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    upload = created.json()
    sent = requests.post(
        upload["upload"]["url"],
        data=upload["upload"]["fields"],
        files={"file": ("Portrait_6.jpg", photo, "image/jpeg")},
        timeout=30,
    )
    assert sent.status_code == 204, sent.text

    def ready() -> dict | None:
        media = requests.get(
            f"{local_stack.api_url}/media/{upload['media_id']}", headers=auth, timeout=10
        ).json()
        return media if media["status"] != "pending" else None

    media = wait_until(ready)
    assert media["status"] == "ready", media
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(photo)))
    assert (media["width"], media["height"]) == upright.size
    for name, rendition in media["renditions"].items():
        fetched = requests.get(rendition["url"], timeout=10)
        assert fetched.status_code == 200, name
        image = Image.open(io.BytesIO(fetched.content))
        assert image.size == (rendition["width"], rendition["height"])
        assert "exif" not in image.info, name
        if name != "thumb":
            # Portrait in, portrait out: the EXIF rotation was applied.
            assert image.height > image.width, name
