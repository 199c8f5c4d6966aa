"""WSGI entry point (HTTP only; production serves sous.asgi with uvicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sous.settings")

application = get_wsgi_application()
