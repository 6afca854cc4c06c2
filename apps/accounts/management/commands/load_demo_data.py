"""``manage.py load_demo_data``: a few people to look at on a first run. Safe to run again."""

from typing import Any

from django.core.management.base import BaseCommand

from apps.accounts.models import User
from apps.accounts.services import profile_update

DEMO_PEOPLE = [
    ("ada", "Ada", "Long exposures and night skies."),
    ("grace", "Grace", "Street photography, mostly in the rain."),
    ("linus", "Linus", "Birds, badly framed."),
]


class Command(BaseCommand):
    help = "Create demo users (password: pinstablr-demo) if they do not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        for username, display_name, bio in DEMO_PEOPLE:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password("pinstablr-demo")
                user.save(update_fields=["password"])
                profile_update(user=user, display_name=display_name, bio=bio)
        self.stdout.write(self.style.SUCCESS(f"demo data ready: {len(DEMO_PEOPLE)} people"))
