from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.accounts.models import User

from .models import Photo, Rendition
from .permissions import can_moderate
from .services.moderation import photo_hide, photo_restore


class RenditionInline(admin.TabularInline):
    model = Rendition
    extra = 0
    can_delete = False
    readonly_fields = ["width", "height", "format", "bytes", "storage_key"]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "status", "hidden", "width", "height", "created_at"]
    list_filter = [
        "status",
        "source_format",
        "pipeline_version",
        ("hidden_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["owner__username", "caption", "sha256"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    readonly_fields = [
        "sha256", "source_format", "upload_key", "original_key", "original_bytes",
        "placeholder", "dominant_color", "pipeline_version", "processed_at",
        "hidden_at", "hidden_reason", "hidden_by",
    ]  # fmt: skip
    inlines = [RenditionInline]
    actions = ["hide_photos", "restore_photos"]

    @admin.display(boolean=True, description="hidden")
    def hidden(self, photo: Photo) -> bool:
        return photo.hidden_at is not None

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return can_moderate(request.user)

    @admin.action(description="Hide selected photos (asks for a reason)", permissions=["moderate"])
    def hide_photos(self, request: HttpRequest, queryset: QuerySet[Photo]) -> HttpResponse | None:
        assert isinstance(request.user, User)
        reason = request.POST.get("reason", "")
        if "confirm" in request.POST:
            try:
                for photo in queryset:
                    photo_hide(photo=photo, moderator=request.user, reason=reason)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"{queryset.count()} photo(s) hidden.")
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Hide photos",
            "photos": queryset,
            "reason": reason,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/photos/photo/hide_photos.html", context)

    @admin.action(description="Restore selected hidden photos", permissions=["moderate"])
    def restore_photos(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        assert isinstance(request.user, User)
        hidden = queryset.filter(hidden_at__isnull=False)
        for photo in hidden:
            photo_restore(photo=photo, moderator=request.user)
        self.message_user(request, f"{len(hidden)} photo(s) restored.")
