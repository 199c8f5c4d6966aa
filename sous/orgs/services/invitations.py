"""Team invitations: a signed, expiring, single-use link that brings one email into one
organisation with one role.

The link carries the invitation id and a random nonce, signed with SECRET_KEY (Django's
signing). Only the nonce's SHA-256 is stored, so resending (a new nonce) invalidates every
earlier link, and a database dump holds no usable link. Single use is settled in the database:
accepting locks the row and sets `accepted_at` once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import user_email, user_username
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..models import Invitation, Membership, Organization
from .team import TeamError, check_can_grant, lock_team

log = logging.getLogger(__name__)

SALT = "sous.orgs.invitation"


class InvalidInvitation(Exception):
    """The link cannot be used. `reason` is one of REASONS; nothing was changed."""

    REASONS = {
        "invalid": "This invitation link is not valid. Check that you copied the whole link "
        "from the email, or ask for a new invitation.",
        "expired": "This invitation has expired. Ask whoever invited you to send it again.",
        "revoked": "This invitation was withdrawn. Ask the organisation's owners or admins if "
        "you still need access.",
        "used": "This invitation has already been used. Log in with the account it created.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        return self.REASONS[self.reason]


class WrongAccount(Exception):
    """The invited email belongs to an account other than the logged-in user (or nobody is
    logged in): that account must log in to accept."""


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    emailed: bool


def max_age() -> timedelta:
    return timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _issue(invitation: Invitation, now: datetime) -> str:
    """Give the invitation a fresh nonce and expiry (the caller saves it); returns the token."""
    nonce = secrets.token_urlsafe(32)
    invitation.token_digest = _digest(nonce)
    invitation.expires_at = now + max_age()
    return signing.dumps({"i": invitation.pk, "n": nonce}, salt=SALT)


def link(token: str) -> str:
    # Never from the Host header: a forged Host would put an attacker's domain in the mail.
    return settings.PUBLIC_BASE_URL + reverse("orgs:accept_invitation", args=[token])


def _send(invitation: Invitation, token: str) -> bool:
    """Email the link; False (logged) when the mail server refused, so staff can Resend."""
    inviter = invitation.invited_by
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "inviter": (inviter.get_full_name() or inviter.email) if inviter else "An administrator",
        "link": link(token),
        "login_link": settings.PUBLIC_BASE_URL + reverse("account_login"),
    }
    message = EmailMessage(
        subject=f"[Sous] Join {invitation.organization.name} on Sous",
        body=render_to_string("orgs/emails/invitation.txt", context),
        to=[invitation.email],
    )
    try:
        message.send()
    except Exception:
        log.warning("orgs.invitation.email_failed", exc_info=True, extra={"id": invitation.pk})
        return False
    log.info("orgs.invitation.emailed", extra={"id": invitation.pk})
    return True


def invite(*, organization: Organization, by: Membership, email: str, role: str) -> Sent:
    """Invite `email` as `role`. Inviting an email that has a pending invitation sends that
    one again with the new role (one pending invitation per email)."""
    email = email.strip().lower()
    with transaction.atomic():
        lock_team(organization)
        check_can_grant(by, role)
        if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
            raise TeamError(f"{email} is already on the team.")
        now = timezone.now()
        invitation = Invitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).first() or Invitation(organization=organization, email=email)
        if invitation.pk and invitation.role == Membership.Role.OWNER:
            check_can_grant(by, invitation.role)
        invitation.role = role
        invitation.invited_by = by.user
        if invitation.pk is None:
            # The id goes into the signed token, so the row exists before the token is made.
            invitation.expires_at = now
            invitation.save()
        token = _issue(invitation, now)
        invitation.save()
    log.info("orgs.invitation.created", extra={"id": invitation.pk, "org": organization.pk})
    return Sent(invitation, _send(invitation, token))


def pending(organization: Organization):
    """Invitations not yet accepted or revoked, expired ones included (they can be resent)."""
    return Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def _pending(by: Membership, invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise TeamError(f"The invitation for {invitation.email} is no longer pending.")
    check_can_grant(by, invitation.role)
    return invitation


def resend(*, by: Membership, invitation: Invitation) -> Sent:
    """A new link with a new expiry; the link sent before stops working."""
    with transaction.atomic():
        invitation = _pending(by, invitation)
        token = _issue(invitation, timezone.now())
        invitation.invited_by = by.user
        invitation.save(update_fields=["token_digest", "expires_at", "invited_by"])
    return Sent(invitation, _send(invitation, token))


def revoke(*, by: Membership, invitation: Invitation) -> Invitation:
    with transaction.atomic():
        invitation = _pending(by, invitation)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    log.info("orgs.invitation.revoked", extra={"id": invitation.pk})
    return invitation


def _unsign(token: str) -> tuple[int, str]:
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age())
        return int(payload["i"]), str(payload["n"])
    except signing.SignatureExpired:
        raise InvalidInvitation("expired") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInvitation("invalid") from None


def _checked(invitation: Invitation | None, nonce: str, now: datetime) -> Invitation:
    # A link replaced by Resend is "invalid", not "revoked": the newer mail is the one to use.
    if invitation is None or not secrets.compare_digest(invitation.token_digest, _digest(nonce)):
        raise InvalidInvitation("invalid")
    if invitation.revoked_at:
        raise InvalidInvitation("revoked")
    if invitation.accepted_at:
        raise InvalidInvitation("used")
    if invitation.expires_at <= now:
        raise InvalidInvitation("expired")
    return invitation


def check(token: str) -> Invitation:
    """The pending invitation the link stands for, or InvalidInvitation."""
    pk, nonce = _unsign(token)
    invitation = Invitation.objects.select_related("organization").filter(pk=pk).first()
    return _checked(invitation, nonce, timezone.now())


def existing_account(invitation: Invitation):
    return get_user_model().objects.filter(email__iexact=invitation.email).first()


def _claim(token: str) -> Invitation:
    """Lock the invitation's row and check it again: of two accepts racing, one wins."""
    pk, nonce = _unsign(token)
    invitation = (
        Invitation.objects.select_for_update().select_related("organization").filter(pk=pk).first()
    )
    return _checked(invitation, nonce, timezone.now())


def _join(invitation: Invitation, user) -> Membership:
    now = timezone.now()
    membership, _ = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = now
    invitation.save(update_fields=["accepted_at"])
    log.info("orgs.invitation.accepted", extra={"id": invitation.pk, "user": user.pk})
    return membership


def accept_with_new_account(request, token: str, password: str) -> Membership:
    """Create the invited person's account (allauth's adapter; the email is verified, since the
    link proved the inbox) and their membership. WrongAccount if the email has an account."""
    with transaction.atomic():
        invitation = _claim(token)
        if existing_account(invitation):
            raise WrongAccount
        adapter = get_adapter(request)
        user = adapter.new_user(request)
        user_email(user, invitation.email)
        # The email as username, as `create_organization` does, unless another account has it.
        username = invitation.email
        if len(username) > 150 or get_user_model().objects.filter(username=username).exists():
            username = adapter.generate_unique_username([invitation.email, "user"])
        user_username(user, username)
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=invitation.email, primary=True, verified=True)
        return _join(invitation, user)


def accept_as(user, token: str) -> Membership:
    """Join with the logged-in account, which must be the one the invitation was sent to."""
    with transaction.atomic():
        invitation = _claim(token)
        if not user.is_authenticated or user.email.lower() != invitation.email.lower():
            raise WrongAccount
        return _join(invitation, user)
