"""Admin > Integrations. Views validate, call one service and respond; logic lives in services."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sous.orgs.decorators import org_manager_required, org_member_required

from .models import IntegrationConfig, IntegrationEvent, OAuthState, SyncJob
from .services import apps, callback, connect, disconnect, grid, health

TOAST_EVENT = "sous:toast"


def _config_or_404(request, key: str) -> IntegrationConfig:
    apps.provider_or_404(key)
    return get_object_or_404(IntegrationConfig, organization=request.org, provider=key)


def _with_toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    response["HX-Trigger"] = json.dumps({TOAST_EVENT: {"message": message, "level": level}})
    return response


@org_member_required
def index(request):
    return render(request, "integrations/index.html", {"cards": grid.cards(request.org)})


@org_member_required
@require_GET
def card(request, key):
    apps.provider_or_404(key)
    return render(request, "integrations/_card.html", {"card": grid.card(request.org, key)})


@org_member_required
@require_GET
def manage(request, key):
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    context = {
        "card": grid.card(request.org, key, config=config),
        "config": config,
        "provider": provider,
        "events": IntegrationEvent.objects.filter(
            organization=request.org, provider=key
        ).select_related("actor")[:10],
        "jobs": SyncJob.objects.filter(config=config, parent__isnull=True)[:10],
    }
    return render(request, "integrations/_drawer.html", context)


@org_member_required
@require_GET
def health_check(request, key):
    config = _config_or_404(request, key)
    report = health.check(config, force=request.GET.get("force") == "1")
    return render(request, "integrations/_health.html", {"config": config, "report": report})


@org_manager_required
@require_GET
def connect_start(request, key):
    apps.provider_or_404(key)
    current = grid.card(request.org, key)
    if current.state == grid.CardState.NOT_CONFIGURED:
        raise Http404("This integration is not configured in this environment")
    mode = request.GET.get("mode", OAuthState.Mode.POPUP)
    return redirect(connect.begin(request, key, mode=mode))


@org_member_required
@require_GET
def connect_callback(request, key):
    apps.provider_or_404(key)
    return _finish(request, callback.complete(request, key))


@org_manager_required
@require_POST
def switch_account(request, key):
    apps.provider_or_404(key)
    result = callback.resolve_switch(
        request,
        key,
        request.POST.get("pending", ""),
        confirm=request.POST.get("action") == "switch",
    )
    return _finish(request, result)


def _finish(request, result: callback.Result):
    """Popup: a page that tells the opener and closes. Full page: back to the grid."""
    if result.outcome == callback.Outcome.SWITCH_NEEDED:
        return render(request, "integrations/switch_account.html", {"result": result})
    level = "success" if result.ok else ("info" if result.outcome == "cancelled" else "error")
    if result.mode == OAuthState.Mode.PAGE:
        messages.add_message(
            request, messages.SUCCESS if result.ok else messages.ERROR, result.message
        )
        return redirect("integrations:index")
    payload = {
        "type": "sous:integration",
        "provider": result.provider,
        "outcome": result.outcome,
        "message": result.message,
        "level": level,
    }
    status = 200 if result.outcome != callback.Outcome.FAILED else 400
    return render(
        request,
        "integrations/callback_done.html",
        {"result": result, "payload": payload, "level": level},
        status=status,
    )


@org_manager_required
@require_POST
def disconnect_view(request, key):
    config = _config_or_404(request, key)
    message = disconnect.disconnect(config, actor=request.user)
    if request.htmx:
        response = render(request, "integrations/_card.html", {"card": grid.card(request.org, key)})
        return _with_toast(response, message)
    messages.success(request, message)
    return redirect(reverse("integrations:index"))
