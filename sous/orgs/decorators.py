"""View decorators for tenancy: a logged-in member of the current organisation, or a manager."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render


def org_member_required(view):
    """Login required. A user with no organisation (made with createsuperuser, say) gets a page
    saying what to do when they open one; anything else of theirs is a 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership:
            if request.method == "GET" and not request.htmx:
                return render(request, "orgs/no_organisation.html", status=403)
            raise Http404("No organisation")
        return view(request, *args, **kwargs)

    return wrapper


def org_manager_required(view):
    """Owners and admins only: members see pages read-only and get 403 on actions."""

    @org_member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.can_manage:
            raise PermissionDenied("Only owners and admins can do this.")
        return view(request, *args, **kwargs)

    return wrapper
