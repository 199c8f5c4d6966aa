"""Admin > Security: the organisation's two-factor policy. Everyone sees it; owners change it."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods

from . import mfa
from .decorators import org_member_required
from .models import Membership


@org_member_required
@require_http_methods(["GET", "POST"])
def security_page(request):
    me = request.membership
    if request.method == "POST":
        required = request.POST.get("require_mfa_for_managers") == "on"
        try:
            mfa.set_required(me, required)
        except mfa.OwnerMustEnrolFirst:
            messages.error(
                request,
                format_html(
                    'Set up two-factor sign-in for yourself first (<a href="{}">set it up '
                    "now</a>), then require it of your owners and admins.",
                    reverse("mfa_activate_totp"),
                ),
            )
        else:
            messages.success(
                request,
                "Owners and admins now need two-factor sign-in."
                if required
                else "Two-factor sign-in is no longer required.",
            )
        return redirect("orgs:security")
    managers = (
        Membership.objects.filter(organization=request.org, role__in=Membership.MANAGER_ROLES)
        .select_related("user")
        .annotate(has_mfa=Exists(Authenticator.objects.filter(user=OuterRef("user"))))
        .order_by("-role", "user__email")  # owners, then admins
    )
    return render(
        request,
        "orgs/security.html",
        {"managers": managers, "can_change": me.role == Membership.Role.OWNER},
    )
