from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [path("ops/", views.operations, name="operations")]
