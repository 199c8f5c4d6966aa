from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("admin/integrations/", views.index, name="index"),
]
