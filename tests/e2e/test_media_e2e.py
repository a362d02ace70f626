"""A photo's trip through the local stack: presigned POST to S3, the S3 event, the resize
function, renditions fetched straight from their URLs, and all of it gone when its post is
deleted."""

from __future__ import annotations

import io
import time
from pathlib import Path

import boto3
import requests
from PIL import Image, ImageOps

from tests.e2e.conftest import RunningStack, wait_until
from tests.support import objects_of_media

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


def media_objects(stack: RunningStack, media_id: str) -> list[str]:
    """The keys of every object in the embedded AWS's buckets that belongs to ``media_id``."""
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return objects_of_media(s3, media_id)


def test_deleting_a_post_removes_its_five_objects_within_30_seconds(
    local_stack: RunningStack,
) -> None:
    author = local_stack.sign_up("deleter")
    post_id = local_stack.post_photo(author, caption="here for a moment")
    post = local_stack.call("GET", f"/posts/{post_id}", author).json()
    media_id = post["media"][0]["media_id"]
    objects = media_objects(local_stack, media_id)
    assert len(objects) == 5, objects  # the original and four renditions
    renditions = [r["url"] for r in post["media"][0]["renditions"].values()]
    assert all(requests.get(url, timeout=10).status_code == 200 for url in renditions)

    deleted_at = time.monotonic()
    assert local_stack.call("DELETE", f"/posts/{post_id}", author).status_code == 204

    wait_until(lambda: media_objects(local_stack, media_id) == [], timeout=30, every=0.2)
    gone_after = time.monotonic() - deleted_at
    # 404 here; AWS answers 403, as the URLs' signer may not list the bucket.
    assert all(requests.get(url, timeout=10).status_code in (403, 404) for url in renditions)
    assert local_stack.call("GET", f"/media/{media_id}", author).status_code == 404
    print(f"five objects gone {gone_after:.1f} s after the delete")
