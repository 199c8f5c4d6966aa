from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/bell/", views.bell_fragment, name="bell"),
    path("notifications/<int:pk>/", views.open_notification, name="open"),
    path("notifications/read/", views.read_all, name="read_all"),
    path("notifications/email/", views.email_choices, name="email_choices"),
]
