from django.urls import path

from .consumers import IntegrationsConsumer

websocket_urlpatterns = [
    path("ws/integrations/", IntegrationsConsumer.as_asgi()),
]
