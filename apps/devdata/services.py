"""Synthetic production data at scale, for benchmarks of the reports and load tests.

Rows go straight to the primary in batches (``executemany`` of multi-row INSERTs on MariaDB),
with their timestamps spread over the last ``days`` days: ORM saves would take hours for ten
million rows and would stamp everything "now". Popularity is skewed (a few photos and people
get most of the likes and comments) because that is what leaderboards and distinct counts
must cope with. Likes and follows that would repeat a pair are skipped by the database
(INSERT IGNORE), so their counts come out a little under what was asked.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import connections, transaction
from django.db.models import Model
from django.utils import timezone

from apps.accounts.models import Follow, Profile, User
from apps.photos.models import Comment, Like, Photo
from pinstablr.db.config import PRIMARY

logger = logging.getLogger(__name__)

# Shares of the events: likes, comments, follows.
EVENT_MIX = (0.6, 0.3, 0.1)
FAILED_SHARE = 0.02
PENDING_SHARE = 0.01


@dataclass
class LoadSummary:
    """How many rows each table received, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _insert(
    model: type[Model],
    rows: Iterable[dict[str, Any]],
    *,
    batch_size: int,
    ignore_duplicates: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Insert ``rows`` (attribute name -> value) into ``model``'s table on the primary.

    Columns left out get the field's default; values are prepared by the field itself, as
    the ORM would, so datetimes and booleans suit the backend.
    """
    connection = connections[PRIMARY]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    prepare = {f.attname: f for f in fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields if f.column)
    marks = ", ".join(["%s"] * len(fields))
    verb = "INSERT"
    if ignore_duplicates:
        verb = "INSERT IGNORE" if connection.vendor == "mysql" else "INSERT OR IGNORE"
    sql = f"{verb} INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
    total = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        values = [
            tuple(
                prepare[name].get_db_prep_save(row[name], connection)
                if name in row
                else defaults[name]
                for name in prepare
            )
            for row in batch
        ]
        with transaction.atomic(using=PRIMARY), connection.cursor() as cursor:
            cursor.executemany(sql, values)
        total += len(values)
        if progress:
            progress(model._meta.db_table, total)
    return total


def _skewed(rng: random.Random, size: int, power: float) -> int:
    """An index in ``range(size)``, low indexes far more likely (a long-tailed popularity)."""
    return min(size - 1, int(size * rng.random() ** power))


def generate_load_data(
    *,
    users: int,
    photos: int,
    events: int,
    days: int = 30,
    batch_size: int = 5000,
    seed: int = 1,
    now: dt.datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LoadSummary:
    """Add ``users`` people, ``photos`` photos and ``events`` likes, comments and follows,
    all in the ``days`` days before ``now``, to the primary. Returns the row counts."""
    if min(users, photos) < 1 or events < 0 or days < 1:
        raise ValueError("users and photos must be at least 1, days at least 1")
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - made-up data, not secrets
    now = now or timezone.now()
    first = now - dt.timedelta(days=days)
    span = (now - first).total_seconds()
    run = uuid.uuid4().hex[:8]
    summary = LoadSummary()

    def moment() -> dt.datetime:
        return first + dt.timedelta(seconds=rng.random() * span)

    # People sign up through the period (a third of them before it: activity needs actors).
    def people() -> Iterator[dict[str, Any]]:
        for n in range(users):
            joined = moment() if n % 3 else first - dt.timedelta(seconds=rng.random() * span)
            yield {"username": f"load-{run}-{n}", "password": "!", "date_joined": joined}

    last_user = User.objects.using(PRIMARY).order_by("-pk").values_list("pk", flat=True).first()
    summary.rows["users"] = _insert(User, people(), batch_size=batch_size, progress=progress)
    user_ids = list(
        User.objects.using(PRIMARY)
        .filter(pk__gt=last_user or 0, username__startswith=f"load-{run}-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    stamp = timezone.now()
    summary.rows["profiles"] = _insert(
        Profile,
        ({"user_id": pk, "created_at": stamp, "updated_at": stamp} for pk in user_ids),
        batch_size=batch_size,
    )

    def pictures() -> Iterator[dict[str, Any]]:
        for n in range(photos):
            created = moment()
            roll = rng.random()
            status = Photo.Status.READY
            processed: dt.datetime | None = created + dt.timedelta(
                seconds=1 + rng.expovariate(1 / 6) + (rng.random() < 0.01) * rng.random() * 600
            )
            if roll < FAILED_SHARE:
                status, processed = Photo.Status.FAILED, None
            elif roll < FAILED_SHARE + PENDING_SHARE:
                status, processed = Photo.Status.PENDING, None
            yield {
                "owner_id": user_ids[_skewed(rng, len(user_ids), 2.0)],
                "caption": f"load photo {n}",
                "status": status,
                "sha256": f"{run}{n:056x}",
                "source_format": "JPEG",
                "original_bytes": rng.randint(200_000, 6_000_000),
                "width": 4032,
                "height": 3024,
                "pipeline_version": 1,
                "processed_at": processed,
                "created_at": created,
                "updated_at": processed or created,
            }

    last_photo = Photo.objects.using(PRIMARY).order_by("-pk").values_list("pk", flat=True).first()
    summary.rows["photos"] = _insert(Photo, pictures(), batch_size=batch_size, progress=progress)
    photo_rows = list(
        Photo.objects.using(PRIMARY)
        .filter(pk__gt=last_photo or 0, sha256__startswith=run)
        .order_by("pk")
        .values_list("pk", "created_at")
    )
    photo_ids = [pk for pk, _ in photo_rows]
    likes, comments = int(events * EVENT_MIX[0]), int(events * EVENT_MIX[1])
    follows = events - likes - comments

    def actor() -> int:
        return user_ids[_skewed(rng, len(user_ids), 1.5)]

    def target() -> int:
        return photo_ids[_skewed(rng, len(photo_ids), 3.0)]

    summary.rows["likes"] = _insert(
        Like,
        ({"user_id": actor(), "photo_id": target(), "created_at": moment()} for _ in range(likes)),
        batch_size=batch_size,
        ignore_duplicates=True,
        progress=progress,
    )

    def remarks() -> Iterator[dict[str, Any]]:
        for _ in range(comments):
            when = moment()
            yield {
                "photo_id": target(),
                "author_id": actor(),
                "text": "nice",
                "created_at": when,
                "updated_at": when,
            }

    summary.rows["comments"] = _insert(Comment, remarks(), batch_size=batch_size, progress=progress)

    def follow_pairs() -> Iterator[dict[str, Any]]:
        for _ in range(follows):
            follower, followee = actor(), user_ids[_skewed(rng, len(user_ids), 2.5)]
            if follower != followee:
                yield {"follower_id": follower, "followee_id": followee, "created_at": moment()}

    summary.rows["follows"] = _insert(
        Follow, follow_pairs(), batch_size=batch_size, ignore_duplicates=True, progress=progress
    )
    summary.seconds = time.monotonic() - started
    return summary
