"""Resolve the request's current organisation from the session and the user's memberships."""

from django.utils.functional import SimpleLazyObject

from .models import Membership

SESSION_KEY = "current_org_id"


def membership_for(user, session) -> Membership | None:
    """The membership for the session's chosen organisation, else the user's first one.

    Shared by HTTP (the middleware) and websockets (the consumer), so both agree on "current".
    """
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization").filter(user=user)
    chosen = session.get(SESSION_KEY) if session is not None else None
    membership = memberships.filter(organization_id=chosen).first() if chosen else None
    return membership or memberships.order_by("created_at", "id").first()


class CurrentOrganizationMiddleware:
    """Sets `request.membership` and `request.org` (None when logged out or in no organisation)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: membership_for(request.user, request.session))
        request.org = SimpleLazyObject(
            lambda: request.membership.organization if request.membership else None
        )
        return self.get_response(request)
