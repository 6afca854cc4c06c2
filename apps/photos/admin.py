from django.contrib import admin

from .models import Photo, Rendition


class RenditionInline(admin.TabularInline):
    model = Rendition
    extra = 0
    can_delete = False
    readonly_fields = ["width", "height", "format", "bytes", "storage_key"]


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "status", "width", "height", "pipeline_version", "created_at"]
    list_filter = ["status", "source_format", "pipeline_version"]
    search_fields = ["owner__username", "caption", "sha256"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]
    readonly_fields = [
        "sha256", "source_format", "upload_key", "original_key", "original_bytes",
        "placeholder", "dominant_color", "pipeline_version", "processed_at",
    ]  # fmt: skip
    inlines = [RenditionInline]
