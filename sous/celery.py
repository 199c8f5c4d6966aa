"""The Celery app. Configuration lives in settings (CELERY_*); tasks are autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sous.settings")

app = Celery("sous")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
