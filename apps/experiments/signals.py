"""Any change to what assignment reads refreshes the live experiments everywhere."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from .models import Experiment, ForcedVariant, Variant
from .snapshot import experiments_changed


def _changed(sender: Any, **kwargs: Any) -> None:
    experiments_changed()


def connect() -> None:
    for model in (Experiment, Variant, ForcedVariant):
        post_save.connect(_changed, sender=model, dispatch_uid=f"experiments-live-{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"experiments-live-del-{model.__name__}"
        )
