"""The UX team's experiment schema. Every table lives only in the ``experiments`` database.

Users and teams are referred to by id (``owning_team_id`` is an auth Group's id): no foreign
key crosses databases. Object permissions on experiments live in django-guardian's generic
tables on ``default``, keyed by the experiment's id.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.common.models import TimeStampedModel

from .bucketing import BUCKETS
from .bucketing import RUNNING as SPEC_RUNNING
from .metrics import metric_choices

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY_VALIDATOR = RegexValidator(
    KEY_PATTERN,
    "Use lower-case letters, digits and single hyphens, e.g. home-feed-layout.",
)


def new_salt() -> str:
    return secrets.token_hex(8)


class Experiment(TimeStampedModel):
    """An A/B experiment: who is in it, which variants they see, what it is judged by."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = SPEC_RUNNING  # the value the pure assignment code (bucketing) compares with
        PAUSED = "paused"
        STOPPED = "stopped"
        ARCHIVED = "archived"

    class Audience(models.TextChoices):
        EVERYONE = "everyone", "Everyone (signed-out visitors too)"
        SIGNED_IN = "signed_in", "Signed-in users"
        NEW_USERS = "new_users", "New users (accounts created after the start)"
        STAFF = "staff", "Staff only"

    key = models.SlugField(
        max_length=80,
        unique=True,
        validators=[KEY_VALIDATOR],
        help_text="What the code asks for: variant_for(request, key). Locked once started.",
    )
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(
        blank=True, help_text="We believe that … will … because …; we will know by the metric."
    )
    # The auth Group of the team that owns it (no foreign key across databases).
    owning_team_id = models.BigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional: a running experiment assigns nobody before."
    )
    ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Optional: the experiment stops assigning at this time."
    )
    # When it really started and stopped (set by the actions); a start locks the variants.
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    traffic_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text="Share of the audience in the experiment. Raising it keeps everyone already "
        "in their variant; lowering it takes some people out.",
    )
    audience = models.CharField(max_length=16, choices=Audience.choices, default="signed_in")
    layer = models.SlugField(
        max_length=80,
        blank=True,
        help_text="Experiments in the same layer never share a person (mutually exclusive).",
    )
    # First layer bucket of this experiment's slice, allocated when it starts.
    layer_offset = models.PositiveIntegerField(null=True, blank=True, editable=False)
    primary_metric = models.CharField(max_length=64, choices=metric_choices)
    guardrail_metrics = models.JSONField(default=list, blank=True)
    minimum_detectable_effect = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100"))],
        help_text="Smallest relative change (%) worth detecting; sets the sample size needed.",
    )
    salt = models.CharField(max_length=32, default=new_salt, help_text="Locked once started.")
    # Users are referred to by id: there are no foreign keys across databases.
    created_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("use_analysis_console", "Can use the analysis console")]

    def __str__(self) -> str:
        return self.key

    @property
    def locked(self) -> bool:
        """Started once: variants, weights, key, salt and layer can no longer change."""
        return self.started_at is not None

    @property
    def traffic_buckets(self) -> int:
        return int(self.traffic_percent * BUCKETS / 100)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must come after the start."
        guardrails = list(self.guardrail_metrics or [])
        if self.primary_metric and self.primary_metric in guardrails:
            errors["guardrail_metrics"] = "The primary metric cannot also be a guardrail."
        unknown = sorted(set(guardrails) - {key for key, _ in metric_choices()})
        if unknown:
            errors["guardrail_metrics"] = f"Unknown metrics: {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)


class Variant(models.Model):
    """One arm of an experiment. Frozen once the experiment has started."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=40, validators=[KEY_VALIDATOR])
    name = models.CharField(max_length=120, blank=True)
    weight = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Percent of traffic."
    )
    is_control = models.BooleanField(default=False)
    config = models.JSONField(default=dict, blank=True, help_text="A JSON object for the code.")

    class Meta:
        ordering = ["-is_control", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="variant_key_once"),
        ]

    def __str__(self) -> str:
        return self.key

    def save(self, *args: object, **kwargs: object) -> None:
        # Changing arms after the start would move people between variants mid-experiment.
        if self._frozen_fields_changed():
            raise ValidationError("Variants and weights cannot change once the experiment started.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if Experiment.objects.filter(pk=self.experiment_id, started_at__isnull=False).exists():
            raise ValidationError("Variants cannot be removed once the experiment started.")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.config, dict):
            raise ValidationError({"config": "The configuration must be a JSON object."})

    def _frozen_fields_changed(self) -> bool:
        if not Experiment.objects.filter(pk=self.experiment_id, started_at__isnull=False).exists():
            return False
        if self._state.adding or self.pk is None:
            return True
        before = Variant.objects.filter(pk=self.pk).values("key", "weight", "is_control").first()
        after = {"key": self.key, "weight": self.weight, "is_control": self.is_control}
        return before != after


class ForcedVariant(models.Model):
    """QA: this user always sees this variant (never counted in the results)."""

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="forced_variants"
    )
    user_id = models.BigIntegerField()
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "user_id"], name="forced_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} -> {self.variant_id}"

    def clean(self) -> None:
        super().clean()
        if (
            self.variant_id
            and self.experiment_id
            and self.variant.experiment_id != self.experiment_id
        ):
            raise ValidationError({"variant": "Pick a variant of this experiment."})


class Exposure(models.Model):
    """A unit's first exposure to an experiment: its sticky assignment, and who is analysed.

    One row per experiment and unit (user ``u<id>`` or anonymous ``a<cookie>``), written in
    batches; later exposures of the same unit are duplicates and dropped.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    unit_id = models.CharField(max_length=64)
    user_id = models.BigIntegerField(null=True, blank=True)
    exposed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "unit_id"], name="exposed_once"),
        ]
        indexes = [models.Index(fields=["experiment", "exposed_at"])]

    def __str__(self) -> str:
        return f"{self.unit_id} in {self.experiment_id}/{self.variant_id}"


class Event(models.Model):
    """A conversion event recorded by the site or the JS client (high volume, batched)."""

    metric = models.SlugField(max_length=64)
    unit_id = models.CharField(max_length=64)
    user_id = models.BigIntegerField(null=True, blank=True)
    value = models.FloatField(default=1.0)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["metric", "unit_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.metric} by {self.unit_id}"


class ExperimentResult(models.Model):
    """The latest analysis of an experiment, recomputed periodically by a task."""

    experiment = models.OneToOneField(Experiment, on_delete=models.CASCADE, related_name="result")
    computed_at = models.DateTimeField()
    exposures = models.PositiveBigIntegerField(default=0)
    srm_p_value = models.FloatField(null=True, blank=True)
    srm_alarm = models.BooleanField(default=False)
    data = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"results of {self.experiment_id} at {self.computed_at:%Y-%m-%d %H:%M}"
