"""The endpoints providers post notifications to. No login and no CSRF token: the provider's
signature over the raw body is the authentication."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.services import apps

from .receive import receive


@csrf_exempt
@require_POST
def notification(request, key):
    provider = apps.provider_or_404(key)
    return HttpResponse(status=receive(provider, request.headers, request.body).status)
