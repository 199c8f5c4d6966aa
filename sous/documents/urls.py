from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("documents/<int:pk>/download", views.download, name="download"),
]
