"""The bell (its fragment for live redraws), opening and reading notifications, and each
person's email choices. A person only ever reaches their own notifications (others: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from sous.orgs.decorators import org_member_required

from . import bell
from .models import EmailChoice, Kind, Notification


@org_member_required
@require_GET
def bell_fragment(request):
    return _bell(request, open_=request.GET.get("open") == "1")


def _bell(request, *, open_: bool):
    context = {"bell": bell.for_member(request.user, request.org), "bell_open": open_}
    return render(request, "notifications/_bell.html", context)


@org_member_required
@require_GET
def open_notification(request, pk: int):
    notification = get_object_or_404(
        Notification, pk=pk, user=request.user, organization=request.org
    )
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "integrations:index"
    return redirect(target)


@org_member_required
@require_POST
def read_all(request):
    Notification.objects.filter(
        user=request.user, organization=request.org, read_at__isnull=True
    ).update(read_at=timezone.now())
    if request.POST.get("fragment"):  # the bell's script: answer with the bell redrawn
        return _bell(request, open_=True)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "integrations:index"
    return redirect(target)


@org_member_required
def email_choices(request):
    if request.method == "POST":
        for kind in Kind:
            EmailChoice.objects.update_or_create(
                user=request.user, kind=kind, defaults={"email": f"email.{kind}" in request.POST}
            )
        messages.success(request, "Email choices saved")
        return redirect("notifications:email_choices")
    chosen = dict(EmailChoice.objects.filter(user=request.user).values_list("kind", "email"))
    kinds = [
        {
            "value": kind.value,
            "label": kind.label,
            "email": chosen.get(kind.value, Kind.emailed_by_default(kind)),
        }
        for kind in Kind
    ]
    return render(request, "notifications/email_choices.html", {"kinds": kinds})
