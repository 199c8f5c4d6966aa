"""The endpoints providers post notifications to. No login and no CSRF token: the provider's
signature over the raw body is the authentication."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.services import apps

from . import channels
from .receive import receive


@csrf_exempt
@require_POST
def notification(request, key):
    provider = apps.provider_or_404(key)
    if provider.push_channels:  # authenticated by the token of a channel Sous opened
        return HttpResponse(status=channels.receive(provider, request.headers).status)
    return HttpResponse(status=receive(provider, request.headers, request.body).status)
