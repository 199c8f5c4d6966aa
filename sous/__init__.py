"""The Sous Django project: settings, routing, the Celery app and the platform's domains."""

from .celery import app as celery_app

__all__ = ["celery_app"]
