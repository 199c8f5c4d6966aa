"""An organisation's two-factor policy: when it is on, owners and admins must sign in with a
second factor (allauth.mfa), and are sent to set one up until they have."""

from __future__ import annotations

import json

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.utils import is_mfa_enabled
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .models import Membership, Organization

# What a held owner or admin can still open: allauth.mfa's own pages (every name starts with
# "mfa_"), the password check allauth asks for before setup, signing out, and what leads to
# another organisation, which may not require it (switching, an invitation's link).
ALLOWED_VIEWS = frozenset(
    {
        "account_logout",
        "account_reauthenticate",
        "switch_organization",
        "orgs:accept_invitation",
        "healthz",
    }
)
TOAST_EVENT = "sous:toast"  # static/integrations/main.js shows it instead of a generic error


class OwnerMustEnrolFirst(Exception):
    """Turning the policy on would send the owner who did it straight to setup."""


def requirement(organization: Organization) -> str:
    return f"{organization.name} requires two-factor sign-in for owners and admins."


def is_held(membership: Membership | None, user) -> bool:
    """True when the policy applies to this membership and its user has no second factor yet."""
    if not membership or not membership.can_manage:
        return False
    if not membership.organization.require_mfa_for_managers:
        return False
    return not is_mfa_enabled(user)


def set_required(membership: Membership, required: bool) -> None:
    """Owners turn the policy on or off for their organisation.

    An owner without a second factor must set one up first: staff expect the switch they flip
    to hold for themselves too, and a policy that locked its owner out of the page they are on
    would read as a bug."""
    if membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Only owners can change the two-factor policy.")
    if required and not is_mfa_enabled(membership.user):
        raise OwnerMustEnrolFirst
    organization = membership.organization
    organization.require_mfa_for_managers = required
    organization.save(update_fields=["require_mfa_for_managers"])


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


class RequireMFAMiddleware:
    """Holds owners and admins of an organisation that requires two-factor sign-in at setup.

    A page gets a redirect to the authenticator app setup with the reason; htmx and JSON
    requests (which cannot follow a redirect to a page) get a 403 saying the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Why this user is held, or "": the MFA pages' templates show it too.
        request.mfa_hold = SimpleLazyObject(
            lambda: (
                requirement(request.membership.organization)
                if is_held(request.membership, request.user)
                else ""
            )
        )
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_name = request.resolver_match.view_name or ""
        if view_name in ALLOWED_VIEWS or view_name.startswith("mfa_"):
            return None
        reason = str(request.mfa_hold)
        if not reason:
            return None
        if request.htmx:
            response = HttpResponse(reason, status=403, content_type="text/plain; charset=utf-8")
            response["HX-Trigger"] = json.dumps(
                {TOAST_EVENT: {"message": f"{reason} Set it up to continue.", "level": "error"}}
            )
            return response
        if _wants_json(request):
            return JsonResponse(
                {"error": reason, "setup_url": reverse("mfa_activate_totp")}, status=403
            )
        # No flash message: the setup page (and allauth's password check before it) show
        # request.mfa_hold, however the user gets there.
        return redirect("mfa_activate_totp")


class SousMFAAdapter(DefaultMFAAdapter):
    """allauth.mfa as Sous words it: a refused code says what to try next."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": (
            "That code is not right or was already used. Enter the code your authenticator "
            "app shows for Sous now, or an unused recovery code."
        ),
    }
