from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One change of who may do what, or one moderation action: who, when, what, on what."""

    class Action(models.TextChoices):
        GRANT = "grant", "Permission granted"
        REVOKE = "revoke", "Permission revoked"
        JOIN = "join", "Joined a team"
        LEAVE = "leave", "Left a team"
        HIDE = "hide", "Photo hidden"
        RESTORE = "restore", "Photo restored"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Kept by name too: the entry outlives the account that made the change.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    target_type = models.CharField(max_length=100, help_text="app_label.model")
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target_repr}"
