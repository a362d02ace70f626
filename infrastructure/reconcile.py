"""``make reconcile STAGE=name [DELETE=1]``: the media bucket's objects that no media owns.

A media's objects are deleted when its item goes (the media stream's REMOVE record,
``functions/chalicelib/media/cleanup.py``); this finds what that missed: a stream batch that
ran out of retries, renditions written after their item was deleted, objects put there by
hand. An object is an orphan when its key names a media (``uploads/<owner>/<media_id>``,
``renditions/<media_id>/...``; ``chalicelib.media.domain.media_id_of_key``) whose item does
not exist, and that no post, story or profile still shows. Those still shown are reported
apart and never deleted (a post pointing at a media with no item is a bug to look into, not
something to make worse); so are keys outside the layout.

    python -m infrastructure.reconcile --stage prod [--delete] [--region R] [--endpoint-url U]

Uses the account your credentials name (``AWS_PROFILE``, ``AWS_REGION``), as ``make deploy``.

It reads the bucket's listing (one request per 1,000 objects) and the media table (one
consistent BatchGetItem per 100 media). Only when something looks orphaned does it Scan the
posts, stories and users tables, projecting just their photos' media ids: whole tables, so
run it off-peak on a big stage. It deletes only with ``--delete``, 1,000 keys a request.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import batched
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infrastructure.resources import bucket_name, resource_name

FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
if str(FUNCTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS_DIR))

from chalicelib.media.domain import media_id_of_key  # noqa: E402 - after functions/ is on the path

# Where items show media, by table family: the attributes naming it. A post's ``media`` is a
# list of photos, a story's ``media`` one photo (each a map with its ``media_id``); a
# profile names its avatar's media id (``avatar_media_id``), or keeps the photo (``avatar``).
REFERENCES: dict[str, tuple[str, ...]] = {
    "posts": ("media",),
    "stories": ("media",),
    "users": ("avatar_media_id", "avatar"),
}


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


@dataclass
class Report:
    """What the bucket holds that no media owns.

    Attributes
    ----------
    orphans:
        Objects by media id, for media whose item does not exist and that nothing shows.
    shown_without_item:
        Objects by media id, for media with no item that a post, story or profile shows.
    outside_layout:
        Objects whose key names no media.
    objects, media:
        How many objects the bucket holds, and of how many media.
    """

    bucket: str
    objects: int = 0
    media: int = 0
    orphans: dict[str, list[StoredObject]] = field(default_factory=dict)
    shown_without_item: dict[str, list[StoredObject]] = field(default_factory=dict)
    outside_layout: list[StoredObject] = field(default_factory=list)

    @property
    def orphan_keys(self) -> list[str]:
        return [stored.key for objects in self.orphans.values() for stored in objects]

    def lines(self) -> Iterator[str]:
        yield f"{self.bucket}: {self.objects} objects of {self.media} media"
        yield (
            f"orphans: {len(self.orphans)} media, {len(self.orphan_keys)} objects, "
            f"{_size(self.orphans)} (no media item, shown nowhere)"
        )
        for media_id, objects in sorted(self.orphans.items()):
            yield f"  {media_id}  {len(objects)} objects  {_size({media_id: objects})}"
        if self.shown_without_item:
            yield (
                f"shown without a media item, NOT deleted (look into these): "
                f"{len(self.shown_without_item)} media"
            )
            for media_id in sorted(self.shown_without_item):
                yield f"  {media_id}"
        if self.outside_layout:
            yield f"outside the media layout, NOT deleted: {len(self.outside_layout)} objects"
            for stored in self.outside_layout:
                yield f"  {stored.key}"


def _size(groups: dict[str, list[StoredObject]]) -> str:
    total = sum(stored.size for objects in groups.values() for stored in objects)
    return f"{total / 1_000_000:.1f} MB" if total >= 100_000 else f"{total} bytes"


class MediaReconciler:
    """Finds, and on request deletes, one stage's orphaned media objects.

    Parameters
    ----------
    stage:
        The stage whose bucket and tables to read (``shutter-<stage>-...``).
    session:
        A boto3 session; its configuration (region, ``AWS_ENDPOINT_URL``) says where.
    """

    def __init__(self, stage: str, session: boto3.session.Session | None = None) -> None:
        self.stage = stage
        self._session = session or boto3.session.Session()
        self._s3 = self._session.client("s3")
        self._dynamodb = self._session.client("dynamodb")

    @property
    def bucket(self) -> str:
        account = self._session.client("sts").get_caller_identity()["Account"]
        return bucket_name(self.stage, "media", account, self._s3.meta.region_name)

    def find(self) -> Report:
        report = Report(self.bucket)
        by_media: dict[str, list[StoredObject]] = defaultdict(list)
        for stored in self._objects(report.bucket):
            report.objects += 1
            media_id = media_id_of_key(stored.key)
            if media_id is None:
                report.outside_layout.append(stored)
            else:
                by_media[media_id].append(stored)
        report.media = len(by_media)
        missing = set(by_media) - self._existing_media(by_media)
        shown = self._shown_media() if missing else set()
        for media_id in missing:
            target = report.shown_without_item if media_id in shown else report.orphans
            target[media_id] = by_media[media_id]
        return report

    def delete(self, report: Report) -> int:
        """Delete the report's orphans (never anything else); returns how many objects."""
        deleted = 0
        for keys in batched(report.orphan_keys, 1000):
            response = self._s3.delete_objects(
                Bucket=report.bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
            errors = response.get("Errors") or []
            if errors:
                raise RuntimeError(f"S3 refused to delete {len(errors)} objects: {errors[:3]}")
            deleted += len(keys)
        return deleted

    def _objects(self, bucket: str) -> Iterator[StoredObject]:
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"], int(item["Size"]))

    def _existing_media(self, media_ids: Iterable[str]) -> set[str]:
        """The ids among ``media_ids`` that have an item (consistent reads, 100 a request)."""
        table = resource_name(self.stage, "media")
        found: set[str] = set()
        for chunk in batched(media_ids, 100):
            request: dict[str, Any] = {
                table: {
                    "Keys": [{"media_id": {"S": media_id}} for media_id in chunk],
                    "ProjectionExpression": "media_id",
                    "ConsistentRead": True,
                }
            }
            for attempt in range(8):
                response = self._dynamodb.batch_get_item(RequestItems=request)
                found |= {item["media_id"]["S"] for item in response["Responses"].get(table, [])}
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError("DynamoDB left keys unprocessed; run again later")
        return found

    def _shown_media(self) -> set[str]:
        """Every media id a post, story or profile shows (Scans, projecting just those)."""
        shown: set[str] = set()
        for family, attributes in REFERENCES.items():
            names = {f"#a{index}": attribute for index, attribute in enumerate(attributes)}
            pages = self._dynamodb.get_paginator("scan").paginate(
                TableName=resource_name(self.stage, family),
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
            for page in pages:
                for item in page["Items"]:
                    for attribute in attributes:
                        shown |= set(_media_ids(item.get(attribute)))
        return shown


def _media_ids(value: dict[str, Any] | None) -> Iterator[str]:
    """The media ids in one attribute value as DynamoDB writes it: an id, a photo (a map
    with its ``media_id``) or a list of photos."""
    if not value:
        return
    if "S" in value:
        yield value["S"]
        return
    for photo in value.get("L", [value]):
        media_id = photo.get("M", {}).get("media_id", {}).get("S")
        if media_id:
            yield media_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--delete", action="store_true", help="delete the orphans found")
    parser.add_argument("--region", help="default: the profile's or AWS_REGION")
    parser.add_argument("--endpoint-url", help="an embedded AWS (the local stack's, say)")
    args = parser.parse_args(argv)
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    region = args.region or os.environ.get("AWS_REGION") or boto3.session.Session().region_name
    if region is None:
        parser.error("no region: pass --region, set AWS_REGION or give the profile one")
    reconciler = MediaReconciler(args.stage, boto3.session.Session(region_name=region))
    try:
        report = reconciler.find()
    except ClientError as exc:
        print(f"could not read stage {args.stage}: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    if args.delete:
        print(f"deleted {reconciler.delete(report)} objects")
    elif report.orphans:
        print("run again with DELETE=1 (--delete) to delete the orphans")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
