"""``manage.py load_demo_data``: people and photos to look at on a first run. Safe to re-run."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from PIL import Image, ImageDraw

from apps.accounts.models import Follow, User
from apps.accounts.services import profile_update
from apps.photos.services import photo_create, photo_process

DEMO_PASSWORD = "pinstablr-demo"  # noqa: S105 - the demo accounts' documented password
DEMO_PEOPLE = [
    ("ada", "Ada", "Long exposures and night skies.",
     ["Night over the bay #nightsky", "Star trails #longexposure"]),
    ("grace", "Grace", "Street photography, mostly in the rain.",
     ["Rainy crossing #street", "Umbrellas #rain"]),
    ("linus", "Linus", "Birds, badly framed.",
     ["A very blurry heron #birds", "Gulls, probably #birds"]),
]  # fmt: skip
PALETTES = [
    ((16, 24, 64), (240, 180, 60)),
    ((40, 40, 48), (200, 60, 60)),
    ((20, 90, 60), (230, 230, 200)),
]


def demo_image(index: int) -> bytes:
    """A made-up 'photo': a sky-like gradient with a sun, different for each index."""
    top, bottom = PALETTES[index % len(PALETTES)]
    image = Image.new("RGB", (1600, 1200))
    draw = ImageDraw.Draw(image)
    for y in range(1200):
        mix = y / 1199
        draw.line(
            [(0, y), (1600, y)],
            fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)),
        )
    draw.ellipse((300 + index * 150, 250, 600 + index * 150, 550), fill=(250, 240, 210))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


class Command(BaseCommand):
    help = f"Create demo users (password: {DEMO_PASSWORD}) with photos, if they do not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        users = []
        for index, (username, display_name, bio, captions) in enumerate(DEMO_PEOPLE):
            user, created = User.objects.get_or_create(username=username)
            users.append(user)
            if not created:
                continue
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            profile_update(user=user, display_name=display_name, bio=bio)
            for number, caption in enumerate(captions):
                data = demo_image(index * 2 + number)
                upload = SimpleUploadedFile(f"demo{number}.jpg", data)
                photo, _ = photo_create(owner=user, upload=upload, size=len(data), caption=caption)
                photo_process(photo_id=photo.pk)  # ready at once, so the first page has photos
        for follower in users:
            for followee in users:
                if follower != followee:
                    Follow.objects.get_or_create(follower=follower, followee=followee)
        # Dashboards to look at on a first run: every report over the last 30 days.
        call_command("backfill_reports", days=30, stdout=io.StringIO())
        self.stdout.write(self.style.SUCCESS(f"demo data ready: {len(users)} people with photos"))
