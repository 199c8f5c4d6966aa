"""Admin > Team and the invitation link. Views validate, call one service and respond."""

from __future__ import annotations

from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from .decorators import org_manager_required, org_member_required
from .forms import InviteForm, RoleForm, SetPasswordForm, grantable_roles
from .middleware import SESSION_KEY
from .models import Invitation, Membership
from .services import invitations, team


def _team_page(request, invite_form: InviteForm | None = None):
    me = request.membership
    context = {
        "rows": team.roster(me),
        "invitations": invitations.pending(request.org),
        "now": timezone.now(),
        "roles": grantable_roles(me),
        "invite_form": invite_form or InviteForm(by=me),
        "invite_open": invite_form is not None,
        "invite_days": settings.INVITATION_MAX_AGE_DAYS,
    }
    return render(request, "orgs/team.html", context)


def _back():
    return redirect("orgs:team")


@org_member_required
def team_page(request):
    return _team_page(request)


@org_manager_required
@require_POST
def invite(request):
    form = InviteForm(request.POST, by=request.membership)
    if not form.is_valid():
        # The dialog opens again with the reasons beside the fields.
        return _team_page(request, invite_form=form)
    try:
        sent = invitations.invite(
            organization=request.org,
            by=request.membership,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
        )
    except team.TeamError as exc:
        form.add_error("email", str(exc))
        return _team_page(request, invite_form=form)
    _said_sent(request, sent, "Invitation sent to")
    return _back()


def _said_sent(request, sent: invitations.Sent, what: str) -> None:
    if sent.emailed:
        messages.success(request, f"{what} {sent.invitation.email}")
    else:
        messages.error(
            request,
            f"The invitation for {sent.invitation.email} is saved, but the email could not be "
            "sent. Try Resend in a few minutes.",
        )


def _invitation_or_404(request, pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, organization=request.org)


def _membership_or_404(request, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=pk, organization=request.org
    )


@org_manager_required
@require_POST
def resend_invitation(request, pk):
    invitation = _invitation_or_404(request, pk)
    try:
        sent = invitations.resend(by=request.membership, invitation=invitation)
    except team.TeamError as exc:
        messages.error(request, str(exc))
    else:
        _said_sent(request, sent, "New invitation link sent to")
    return _back()


@org_manager_required
@require_POST
def revoke_invitation(request, pk):
    invitation = _invitation_or_404(request, pk)
    try:
        invitations.revoke(by=request.membership, invitation=invitation)
    except team.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation for {invitation.email} revoked")
    return _back()


@org_manager_required
@require_POST
def change_role(request, pk):
    target = _membership_or_404(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, admin or member.")
        return _back()
    try:
        changed = team.change_role(
            by=request.membership, target=target, role=form.cleaned_data["role"]
        )
    except team.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{changed.user.email} is now {changed.get_role_display().lower()}"
        )
    return _back()


@org_manager_required
@require_POST
def remove_member(request, pk):
    target = _membership_or_404(request, pk)
    try:
        team.remove(by=request.membership, target=target)
    except team.TeamError as exc:
        messages.error(request, str(exc))
        return _back()
    if target.user_id == request.user.pk:
        messages.success(request, f"You left {request.org.name}")
        request.session.pop(SESSION_KEY, None)
        return redirect("home")
    messages.success(request, f"{target.user.email} removed from {request.org.name}")
    return _back()


def _invalid(request, exc: invitations.InvalidInvitation):
    status = 404 if exc.reason == "invalid" else 410
    return render(request, "orgs/invitation_invalid.html", {"reason": exc.message}, status=status)


def accept_invitation(request, token):
    """The emailed link: set a password (new account) or join with the logged-in account."""
    try:
        invitation = invitations.check(token)
    except invitations.InvalidInvitation as exc:
        return _invalid(request, exc)
    context = {"invitation": invitation, "organization": invitation.organization}
    account = invitations.existing_account(invitation)
    if account is not None:
        return _accept_existing(request, token, account, context)
    form = SetPasswordForm(request.POST or None, request=request, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = invitations.accept_with_new_account(
                request, token, form.cleaned_data["password1"]
            )
        except invitations.InvalidInvitation as exc:
            return _invalid(request, exc)
        except invitations.WrongAccount:
            # The account was made meanwhile (another tab): this GET asks it to log in.
            return redirect(request.path)
        response = perform_login(
            request, membership.user, redirect_url=_landing(request, membership)
        )
        messages.success(request, f"Welcome to {membership.organization.name} on Sous")
        return response
    return render(request, "orgs/accept_invitation.html", {**context, "form": form})


def _accept_existing(request, token, account, context):
    if request.user.pk != account.pk:
        login = reverse("account_login") + "?" + urlencode({REDIRECT_FIELD_NAME: request.path})
        context |= {"login_url": login, "needs_login": True}
        return render(request, "orgs/accept_invitation.html", context)
    if request.method != "POST":
        return render(request, "orgs/accept_invitation.html", {**context, "join": True})
    try:
        membership = invitations.accept_as(request.user, token)
    except invitations.InvalidInvitation as exc:
        return _invalid(request, exc)
    except invitations.WrongAccount:
        raise PermissionDenied("This invitation is for another account.") from None
    messages.success(request, f"You joined {membership.organization.name}")
    return redirect(_landing(request, membership))


def _landing(request, membership: Membership) -> str:
    """Integrations, in the organisation just joined (not the person's first one)."""
    request.session[SESSION_KEY] = membership.organization_id
    return reverse("integrations:index")
