"""A small, fully known data set: every report's numbers for DAY can be worked out by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from apps.accounts.models import Follow, User
from apps.photos.models import Comment, Like, Photo
from tests.factories import PhotoFactory, UserFactory

DAY = dt.date(2026, 3, 2)  # a Monday
UTC = dt.UTC


def at(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


@dataclass
class Seed:
    users: dict[str, User]
    photos: dict[str, Photo]


def _user(name: str, joined: dt.datetime) -> User:
    user = UserFactory(username=name)
    User.objects.filter(pk=user.pk).update(date_joined=joined)
    return user


def _photo(owner: User, created: dt.datetime, processed: dt.datetime | None, status: str) -> Photo:
    photo = PhotoFactory(owner=owner, status=status, original_bytes=1000)
    Photo.objects.filter(pk=photo.pk).update(created_at=created, processed_at=processed)
    return photo


def _like(user: User, photo: Photo, when: dt.datetime) -> None:
    like = Like.objects.create(user=user, photo=photo)
    Like.objects.filter(pk=like.pk).update(created_at=when)


def _comment(author: User, photo: Photo, when: dt.datetime) -> None:
    comment = Comment.objects.create(author=author, photo=photo, text="nice")
    Comment.objects.filter(pk=comment.pk).update(created_at=when)


def seed() -> Seed:
    """Users u0..u5 and photos p1..p5 with likes, comments and follows around DAY."""
    u = {
        "u0": _user("u0", at(days(-40))),
        "u1": _user("u1", at(days(-10))),  # a Friday: the cohort of the week of days(-14)
        "u2": _user("u2", at(DAY, 10)),
        "u3": _user("u3", at(DAY, 23, 59, 59)),
        "u4": _user("u4", at(days(1))),
        "u5": _user("u5", at(days(-60))),
    }
    p = {
        "p1": _photo(u["u1"], at(DAY, 8), at(DAY, 8, 0, 10), "ready"),  # 10 s
        "p2": _photo(u["u1"], at(DAY, 9), at(DAY, 9, 0, 30), "ready"),  # 30 s
        "p3": _photo(u["u2"], at(DAY, 12), at(DAY, 12, 1, 40), "ready"),  # 100 s
        "p4": _photo(u["u2"], at(DAY, 13), None, "failed"),
        "p5": _photo(u["u1"], at(days(-1), 23), at(DAY, 0, 0, 20), "ready"),  # 4,820 s
    }
    _like(u["u2"], p["p1"], at(DAY, 10, 30))
    _like(u["u3"], p["p1"], at(DAY, 23, 59, 59))
    _like(u["u3"], p["p3"], at(DAY, 23, 59, 59))
    _like(u["u0"], p["p5"], at(days(-20), 12))
    _like(u["u4"], p["p1"], at(days(1)))  # the next day: in no count for DAY
    _comment(u["u1"], p["p3"], at(DAY, 14))
    _comment(u["u1"], p["p3"], at(DAY, 15))
    _comment(u["u3"], p["p1"], at(DAY, 16))
    Follow.objects.create(follower=u["u1"], followee=u["u2"])
    Follow.objects.filter(follower=u["u1"]).update(created_at=at(days(-5)))
    follow = Follow.objects.create(follower=u["u5"], followee=u["u1"])
    Follow.objects.filter(pk=follow.pk).update(created_at=at(days(-30)))  # just outside MAU
    return Seed(users=u, photos=p)
