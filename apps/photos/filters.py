import django_filters

from .models import Photo


class PhotoFilter(django_filters.FilterSet):
    """Narrow a photo list: ``?owner=ada``, ``?tag=sunset``. Serves the API and the pages."""

    owner = django_filters.CharFilter(field_name="owner__username")
    tag = django_filters.CharFilter(method="filter_tag")

    class Meta:
        model = Photo
        fields = ["owner", "tag"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.lstrip("#").lower())
