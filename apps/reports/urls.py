from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/r/<slug:key>/", views.dashboard, name="dashboard"),
    path("reports/r/<slug:key>/export.csv", views.export_csv, name="export"),
    path("reports/console/", views.console, name="console"),
    path("reports/queries/", views.saved_queries, name="saved-queries"),
    path("reports/queries/<int:query_id>/", views.saved_query, name="saved-query"),
    path("reports/queries/<int:query_id>/edit/", views.saved_query_edit, name="saved-query-edit"),
    path(
        "reports/queries/<int:query_id>/delete/",
        views.saved_query_remove,
        name="saved-query-delete",
    ),
    path(
        "reports/queries/<int:query_id>/share/",
        views.saved_query_sharing,
        name="saved-query-share",
    ),
]
