"""Engagement: likes and comments per photo and per person, and the top photos and creators."""

from __future__ import annotations

import datetime as dt

from apps.accounts.models import User
from apps.photos.models import Comment, Like, Photo
from pinstablr.db.config import REPORTING

from .base import (
    Column,
    Grain,
    Layout,
    ReportDefinition,
    ResultRow,
    Window,
    db_datetime,
    fetch,
    qn,
    ratio,
    register,
    start_of,
)

# Leaderboards are kept for the day and the 7 and 30 days ending it: exact for those periods
# and a fixed number of rows per day, whatever the traffic.
PERIODS = (1, 7, 30)
TOP = 20
CAPTION_CHARS = 80


def engagement_union_sql() -> str:
    """Every like and comment between two bounds as ``(photo, user, is_like, is_comment)``."""
    like, comment = Like._meta.db_table, Comment._meta.db_table
    created = qn("created_at")
    return (
        f"SELECT {qn('photo_id')} AS p, {qn('user_id')} AS u, 1 AS l, 0 AS c "  # noqa: S608
        f"FROM {qn(like)} WHERE {created} >= %s AND {created} < %s "
        f"UNION ALL SELECT {qn('photo_id')}, {qn('author_id')}, 0, 1 "
        f"FROM {qn(comment)} WHERE {created} >= %s AND {created} < %s"
    )


def _bounds(start: dt.datetime, end: dt.datetime) -> list[object]:
    return [db_datetime(start), db_datetime(end)] * 2


def compute_engagement(window: Window) -> list[ResultRow]:
    sql = (
        "SELECT COALESCE(SUM(e.l), 0), COALESCE(SUM(e.c), 0), COUNT(DISTINCT e.p), "  # noqa: S608
        f"COUNT(DISTINCT e.u) FROM ({engagement_union_sql()}) e"
    )
    rows = []
    for day in window.days:
        likes, comments, photos, people = fetch(
            sql, _bounds(start_of(day), start_of(day) + dt.timedelta(days=1))
        )[0]
        likes, comments = int(likes), int(comments)
        rows.append(
            ResultRow(
                day,
                {
                    "likes": likes,
                    "comments": comments,
                    "photos": photos,
                    "people": people,
                    "likes_per_photo": ratio(likes, photos),
                    "comments_per_photo": ratio(comments, photos),
                    "likes_per_person": ratio(likes, people),
                    "comments_per_person": ratio(comments, people),
                },
            )
        )
    return rows


def _leaderboard_sql(*, by_creator: bool) -> str:
    photo = qn(Photo._meta.db_table)
    if by_creator:
        return (
            f"SELECT ph.{qn('owner_id')} AS k, SUM(e.l), SUM(e.c), SUM(e.l) + SUM(e.c) AS s "  # noqa: S608
            f"FROM ({engagement_union_sql()}) e JOIN {photo} ph ON ph.{qn('id')} = e.p "
            f"GROUP BY ph.{qn('owner_id')} ORDER BY s DESC, k LIMIT {TOP}"
        )
    return (
        "SELECT e.p AS k, SUM(e.l), SUM(e.c), SUM(e.l) + SUM(e.c) AS s "  # noqa: S608
        f"FROM ({engagement_union_sql()}) e GROUP BY e.p ORDER BY s DESC, k LIMIT {TOP}"
    )


def _leaderboards(window: Window, *, by_creator: bool) -> list[ResultRow]:
    sql = _leaderboard_sql(by_creator=by_creator)
    ranked: list[tuple[dt.date, int, list[tuple[int, int, int, int]]]] = []
    for day in window.days:
        end = start_of(day) + dt.timedelta(days=1)
        for period in PERIODS:
            ranked.append((day, period, fetch(sql, _bounds(end - dt.timedelta(days=period), end))))
    ids = {row[0] for _, _, board in ranked for row in board}
    # Names for the ids in one query (at most TOP x periods x days of them).
    if by_creator:
        labels = {
            pk: {"user_id": pk, "username": username}
            for pk, username in User.objects.using(REPORTING)
            .filter(pk__in=ids)
            .values_list("pk", "username")
        }
    else:
        labels = {
            pk: {"photo_id": pk, "caption": caption[:CAPTION_CHARS], "owner": owner}
            for pk, caption, owner in Photo.objects.using(REPORTING)
            .filter(pk__in=ids)
            .values_list("pk", "caption", "owner__username")
        }
    rows = []
    for day, period, board in ranked:
        for rank, (key, likes, comments, score) in enumerate(board, start=1):
            label = labels.get(key) or ({"user_id": key} if by_creator else {"photo_id": key})
            rows.append(
                ResultRow(
                    day,
                    {
                        "period": period,
                        "rank": rank,
                        **label,
                        "likes": int(likes),
                        "comments": int(comments),
                        "score": int(score),
                    },
                    dimension=f"{period}d:{rank:02d}",
                )
            )
    return rows


def compute_top_photos(window: Window) -> list[ResultRow]:
    return _leaderboards(window, by_creator=False)


def compute_top_creators(window: Window) -> list[ResultRow]:
    return _leaderboards(window, by_creator=True)


ENGAGEMENT = register(
    ReportDefinition(
        key="engagement",
        name="Engagement",
        description=(
            "Likes and comments given per UTC day; per photo means per photo that received "
            "any, per person per person who gave any."
        ),
        grain=Grain.DAY,
        layout=Layout.SERIES,
        columns=(
            Column("likes", "Likes"),
            Column("comments", "Comments"),
            Column("photos", "Photos engaged with"),
            Column("people", "People engaging"),
            Column("likes_per_photo", "Likes per photo", "float"),
            Column("comments_per_photo", "Comments per photo", "float"),
            Column("likes_per_person", "Likes per person", "float"),
            Column("comments_per_person", "Comments per person", "float"),
        ),
        compute=compute_engagement,
        chart_series=("likes", "comments"),
    )
)

_LEADER_COLUMNS = (
    Column("period", "Period (days)"),
    Column("rank", "Rank"),
)
_SCORE_COLUMNS = (
    Column("likes", "Likes"),
    Column("comments", "Comments"),
    Column("score", "Score"),
)

TOP_PHOTOS = register(
    ReportDefinition(
        key="top_photos",
        name="Top photos",
        description=(
            f"The {TOP} photos with the most likes plus comments received in the day, and in "
            "the 7 and 30 days ending it."
        ),
        grain=Grain.DAY,
        layout=Layout.LEADERBOARD,
        columns=(
            *_LEADER_COLUMNS,
            Column("photo_id", "Photo"),
            Column("caption", "Caption", "text"),
            Column("owner", "Owner", "text"),
            *_SCORE_COLUMNS,
        ),
        compute=compute_top_photos,
        chart_series=("score",),
        chart_type="bar",
    )
)

TOP_CREATORS = register(
    ReportDefinition(
        key="top_creators",
        name="Top creators",
        description=(
            f"The {TOP} people whose photos received the most likes plus comments in the day, "
            "and in the 7 and 30 days ending it."
        ),
        grain=Grain.DAY,
        layout=Layout.LEADERBOARD,
        columns=(
            *_LEADER_COLUMNS,
            Column("user_id", "User"),
            Column("username", "Username", "text"),
            *_SCORE_COLUMNS,
        ),
        compute=compute_top_creators,
        chart_series=("score",),
        chart_type="bar",
    )
)
