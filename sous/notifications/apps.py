from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "sous.notifications"
    label = "notifications"
    verbose_name = "Notifications"
