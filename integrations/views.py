"""Admin > Integrations. Views validate, call one service and respond; logic lives in services."""

from __future__ import annotations

import json
from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from providers.base import InvalidParams
from providers.errors import ProviderError
from sous.orgs.decorators import org_manager_required, org_member_required

from .jobs import control, events, schedules, triggers
from .models import IntegrationConfig, IntegrationEvent, OAuthState, Schedule, SyncJob
from .services import (
    activity,
    apps,
    callback,
    connect,
    disconnect,
    estimates,
    freshness,
    grid,
    health,
    imported,
    ledger,
    lookups,
    tokens,
)
from .webhooks import channels
from .webhooks import status as live_updates

TOAST_EVENT = "sous:toast"


def _config_or_404(request, key: str) -> IntegrationConfig:
    apps.provider_or_404(key)
    config = get_object_or_404(IntegrationConfig, organization=request.org, provider=key)
    config.organization = request.org  # read again and again while rendering
    return config


def _with_toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    response["HX-Trigger"] = json.dumps({TOAST_EVENT: {"message": message, "level": level}})
    return response


@org_member_required
def index(request):
    context = {"cards": grid.cards(request.org), "stylesheets": grid.stylesheets()}
    return render(request, "integrations/index.html", context)


@org_member_required
@require_GET
def card(request, key):
    apps.provider_or_404(key)
    return render(request, "integrations/_card.html", {"card": grid.card(request.org, key)})


def _action_context(config, action, provider, schedule=None, card=None, **extra) -> dict:
    kind = action.kind(provider.key)
    if schedule is None and action.schedule is not None:
        schedule = next((s for s in schedules.ensure(config) if s.action == action.key), None)
    if card is None:
        active_job = control.active_for(config).filter(kind=kind).order_by("created_at").first()
        line = freshness.for_action(config, action, schedule, now=timezone.now())
    else:  # the drawer: its card has read the active jobs and the freshness of every action
        active_job = next((job for job in card.active_jobs if job.kind == kind), None)
        line = next((line for line in card.freshness if line.kind == kind), None)
    return {
        "schedule": _schedule_context(schedule, action) if schedule else None,
        "config": config,
        "provider": provider,
        "action": action,
        "active_job": active_job,
        # Rendered in words: a section swapped in by htmx is not rewritten by times.js.
        "last_sync": parse_datetime(config.last_synced.get(kind) or ""),
        "live": live_updates.live(config, action),
        "freshness": line,
        **extra,
    }


@org_member_required
@require_GET
def manage(request, key):
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    planned = {schedule.action: schedule for schedule in schedules.ensure(config)}
    card = grid.card(request.org, key, config=config)
    context = {
        "card": card,
        "config": config,
        "provider": provider,
        "actions": [
            _action_context(config, action, provider, schedule=planned.get(action.key), card=card)
            for action in provider.actions
            if action.manual
        ],
        "events": IntegrationEvent.objects.filter(
            organization=request.org, provider=key
        ).select_related("actor")[:10],
        "jobs": SyncJob.objects.filter(config=config, parent__isnull=True)
        .exclude(
            kind__in=[a.kind(key) for a in provider.actions if not a.listed],
            status=SyncJob.Status.SUCCEEDED,
        )
        .select_related("requested_by")[:10],
        "imported_counts": imported.counts(request.org, key),
        "live": live_updates.live(config),
        # The drawer redraws when a job starts and ends: no spinner for a check just made.
        "report": health.cached(config),
    }
    return render(request, "integrations/_drawer.html", context)


@org_manager_required
@require_POST
def start_action(request, key, action_key):
    """Start a provider action as a job; bad parameters come back next to the form."""
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    action = provider.action(action_key)
    if action is None or not action.manual:
        raise Http404("No such action")
    try:
        params = action.validate(request.POST, settings=config.settings, now=timezone.now())
    except InvalidParams as exc:
        context = _action_context(config, action, provider, error=str(exc), form=request.POST)
        # The form comes back with the reason beside it. For htmx that is a normal swap (200):
        # browsers log every 4xx as a console error, and this is the page working as meant.
        status = 200 if request.htmx else 400
        return render(request, "integrations/_action.html", context, status=status)
    if not request.POST.get("confirmed"):
        # Big requests are confirmed first, inside the drawer: Start posts again, confirmed.
        preview = estimates.preview(config, action, params)
        if preview is not None:
            context = _action_context(
                config, action, provider, form=request.POST, preview=preview, params=params
            )
            return render(request, "integrations/_action.html", context)
    job, created = triggers.request(config, action_key, params, user=request.user)
    if not created:
        message = (
            "Sync already in progress"
            if job.started_at
            else f"{action.label} already waiting to start: your request is part of it"
        )
    elif control.active_for(config).filter(kind=job.kind, started_at__isnull=False).exists():
        message = f"{action.label} queued: it runs once the one in progress ends"
    elif job.dispatch_failed:
        message = (
            f"{action.label} queued. Our job queue is unreachable just now: "
            "it starts once it is back."
        )
    else:
        message = f"{action.label} started. We'll notify you when it's ready."
    if request.htmx:
        context = _action_context(config, action, provider, form=request.POST)
        response = render(request, "integrations/_action.html", context, status=202)
        return _with_toast(response, message, "success" if created else "info")
    messages.success(request, message)
    return redirect("integrations:index")


@org_member_required
@require_GET
def action_form(request, key, action_key):
    """An action's section as it was before a preview: Cancel's way back to the form."""
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    action = provider.action(action_key)
    if action is None or not action.manual:
        raise Http404("No such action")
    context = _action_context(config, action, provider, form=request.GET)
    return render(request, "integrations/_action.html", context)


def _ledger_or_404(request, key):
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    action = ledger.ledger_action(provider)
    if action is None:
        raise Http404("This integration keeps no sales ledger")
    return config, provider, action


@org_member_required
@require_GET
def ledger_calendar(request, key):
    """The completeness calendar: each synced location's last 13 weeks of business days."""
    config, provider, action = _ledger_or_404(request, key)
    context = {
        "config": config,
        "provider": provider,
        "action": action,
        "calendars": ledger.calendars(config, action),
        # Reversed once: the calendar has a button for each of 13 weeks' days per location.
        "day_url": reverse("integrations:ledger_day", args=[provider.key]),
        "legend": ledger.LEGEND,
        "weekdays": ledger.WEEKDAYS,
    }
    return render(request, action.ledger_template, context)


@org_member_required
@require_GET
def ledger_day(request, key):
    """One business day's figures beside the calendar, with "Re-pull this day"."""
    config, provider, action = _ledger_or_404(request, key)
    location_id = request.GET.get("location", "")
    try:
        business_date = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        raise Http404("No such day") from None
    if location_id not in ledger.locations(config, action, timezone.now()):
        raise Http404("No such location")
    context = {
        "config": config,
        "provider": provider,
        "action": action,
        "day": ledger.day(config, location_id, business_date),
        "location_id": location_id,
    }
    return render(request, action.ledger_day_template, context)


@org_member_required
@require_GET
def job_status(request, job_id):
    """The polling fallback while the socket is down: the same payload as the live events."""
    job = get_object_or_404(SyncJob, pk=job_id, organization=request.org)
    return JsonResponse(events.payload(job))


@org_manager_required
@require_POST
def cancel_job(request, job_id):
    job = get_object_or_404(SyncJob, pk=job_id, organization=request.org, parent__isnull=True)
    control.cancel(job)
    if request.htmx:
        return _with_toast(JsonResponse(events.payload(job)), "Stopping the sync…", "info")
    return redirect("integrations:index")


@org_member_required
@require_GET
def lookup(request, key, name):
    """Data for a drawer picker, server-side so no token leaves: kept ones (locations, watched
    folders) from the connection, the folder browser live from the provider."""
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    if name not in provider.lookups:
        raise Http404("No such lookup")
    if name in provider.cached_lookups:
        return _kept_lookup(request, config, provider, name, lookups.read(config, name))
    try:
        token = tokens.access_token(config)
        data = provider.lookup(name, token, request.GET, account_id=config.external_account_id)
        error = ""
    except (ProviderError, tokens.CredentialsUnavailable) as exc:
        data, error = {}, str(exc)
    context = {
        "config": config,
        "provider": provider,
        "data": data,
        "error": error,
        "params": request.GET,
    }
    return render(request, f"{key}/{name}.html", context)


@org_member_required
@require_POST
def refresh_lookup(request, key, name):
    """The drawer's Refresh beside a kept lookup: ask the provider again now."""
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    if name not in provider.cached_lookups:
        raise Http404("No such lookup")
    kept = lookups.refresh(config, name)
    if not request.htmx:
        if kept.error:
            messages.error(request, f"Could not refresh from {provider.name}: {kept.error}")
        return redirect("integrations:index")
    return _kept_lookup(request, config, provider, name, kept, refreshed=True)


def _kept_lookup(request, config, provider, name, kept: lookups.Kept, **extra) -> HttpResponse:
    """A kept lookup drawn for the request's saved choices (`request.GET`), at this moment."""
    data = {}
    if kept.data is not None:
        data = provider.show_lookup(
            name,
            kept.data,
            request.GET,
            account_id=config.external_account_id,
            now=timezone.now(),
        )
    refresh_url = reverse("integrations:lookup_refresh", args=[provider.key, name])
    context = {
        "config": config,
        "provider": provider,
        "data": data,
        "error": kept.error if kept.data is None else "",  # nothing to show
        "params": request.GET,
        "kept": kept,
        "refresh_url": f"{refresh_url}?{request.GET.urlencode()}",
        **extra,
    }
    return render(request, f"{provider.key}/{name}.html", context)


@org_manager_required
@require_POST
def save_settings(request, key):
    config = _config_or_404(request, key)
    provider = apps.provider(key)
    try:
        config.settings = provider.clean_settings(
            request.POST, dict(config.settings), account_id=config.external_account_id
        )
    except InvalidParams as exc:
        if request.htmx:  # nothing to swap: the toast says what to fix
            response = HttpResponse(status=200)
            response["HX-Reswap"] = "none"
            return _with_toast(response, str(exc), "error")
        return HttpResponse(str(exc), status=400)
    config.save(update_fields=["settings", "updated_at"])
    schedules.replan(config)  # new locations, cutoffs or folders move the next runs
    channels.reconcile_soon(config)  # folders chosen or cleared: open or stop Drive's channel
    activity.record(
        config, IntegrationEvent.Kind.SETTINGS_CHANGED, "Settings saved", actor=request.user
    )
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps(
            {
                TOAST_EVENT: {"message": "Settings saved", "level": "success"},
                "sous:settings-saved": {"provider": key},
            }
        )
        return response
    messages.success(request, "Settings saved")
    return redirect("integrations:index")


def _schedule_context(schedule: Schedule, action, **extra) -> dict:
    return {
        "object": schedule,
        "cadence": action.schedule,
        "described": schedules.describe(schedule),
        "next": schedules.next_run_words(schedule),
        **extra,
    }


@org_manager_required
@require_POST
def save_schedule(request, key, action_key):
    """Staff turn an action's schedule on or off, or choose how often it runs."""
    config = _config_or_404(request, key)
    action = apps.provider(key).action(action_key)
    schedule = get_object_or_404(Schedule, config=config, action=action_key)
    enabled = request.POST.get("enabled") == "on"
    try:
        minutes = int(request.POST["minutes"]) if request.POST.get("minutes") else None
        if minutes is None and enabled:
            raise InvalidParams("Choose how often it runs.")
        schedules.update(schedule, enabled=enabled, minutes=minutes, user=request.user)
    except (ValueError, InvalidParams) as exc:
        message = str(exc) if isinstance(exc, InvalidParams) else "Choose one of the listed times."
        schedule.refresh_from_db()
        context = {"provider": apps.provider(key), "action": action}
        context["schedule"] = _schedule_context(schedule, action, error=message)
        return render(
            request, "integrations/_schedule.html", context, status=200 if request.htmx else 400
        )
    words = schedules.describe(schedule) if schedule.enabled else "automatic syncs off"
    activity.record(
        config,
        IntegrationEvent.Kind.SETTINGS_CHANGED,
        f"{action.label}: {words}",
        actor=request.user,
    )
    context = {"provider": apps.provider(key), "action": action}
    context["schedule"] = _schedule_context(schedule, action)
    response = render(request, "integrations/_schedule.html", context)
    return _with_toast(response, f"{action.label}: {words[0].lower()}{words[1:]}")


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
        return _keep_opener(render(request, "integrations/switch_account.html", {"result": result}))
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
    response = render(
        request,
        "integrations/callback_done.html",
        {"result": result, "payload": payload, "level": level},
        status=status,
    )
    return _keep_opener(response)


def _keep_opener(response: HttpResponse) -> HttpResponse:
    """The popup arrives here from the provider's origin; a COOP header on this page would
    put it in a new browsing context group and cut window.opener, so the grid would never
    hear that the flow ended. The grid itself keeps same-origin-allow-popups."""
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


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
