import factory

from apps.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class PhotoFactory(factory.django.DjangoModelFactory):
    """A ready photo with its renditions' rows (no files: list tests need none)."""

    class Meta:
        model = "photos.Photo"
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    caption = factory.Sequence(lambda n: f"photo {n}")
    status = "ready"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    source_format = "JPEG"
    original_key = factory.LazyAttribute(lambda p: f"originals/{p.sha256[:2]}/{p.sha256}.jpg")
    width = 1600
    height = 1200
    pipeline_version = 1

    @factory.post_generation
    def renditions(self, create, extracted, **kwargs):
        if not create:
            return
        from apps.photos.models import Rendition

        Rendition.objects.bulk_create(
            Rendition(
                photo=self,
                width=width,
                height=width * 3 // 4,
                format=fmt,
                bytes=1000,
                storage_key=f"{self.sha256[:2]}/{self.sha256}{width}{fmt}.{fmt}",
            )
            for width in (256, 640)
            for fmt in ("jpeg", "webp")
        )


def team(name: str, purpose: str | None = None):
    """The team named ``name``, made (with ``purpose``, by default its name) if missing.

    Migrations create marketing, ux and ops; transactional tests empty the database after
    them, so tests that run later make them again.
    """
    from apps.teams.models import Team
    from apps.teams.services import team_create

    found = Team.objects.select_related("group").filter(group__name=name).first()
    return found or team_create(name=name, purpose=purpose or name)


def team_member(team_name: str, **kwargs) -> User:
    """A new user in the team named ``team_name`` (staff status refreshed from the team)."""
    from apps.teams.services import team_add_member

    user = UserFactory(**kwargs)
    team_add_member(team=team(team_name), user=user)
    user.refresh_from_db()
    return user


def api_client(user=None):
    """An API client, signed in as ``user`` if given."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
