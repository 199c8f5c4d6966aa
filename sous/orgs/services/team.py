"""Admin > Team: who may change whose role, and removing people.

Rules: owners manage everyone; admins manage members and admins but never owners (they
cannot make, demote or remove an owner, nor invite one). An organisation always keeps at
least one owner. Staff may remove themselves, unless they are its last owner.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, When

from ..models import Membership, Organization

log = logging.getLogger(__name__)

Role = Membership.Role


class TeamError(Exception):
    """A change the rules refuse, said in words for staff; nothing was changed."""


def lock_team(organization: Organization) -> None:
    """Changes to one organisation's team run one at a time (the organisation's row is the
    lock), so two owners demoting each other at once cannot leave it with none."""
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def check_can_grant(by: Membership, role: str) -> None:
    if not by.can_manage:
        raise PermissionDenied("Only owners and admins can manage the team.")
    if role == Role.OWNER and by.role != Role.OWNER:
        raise PermissionDenied("Only owners can make someone an owner.")


def check_can_manage(by: Membership, target: Membership) -> None:
    if not by.can_manage:
        raise PermissionDenied("Only owners and admins can manage the team.")
    if target.role == Role.OWNER and by.role != Role.OWNER:
        raise PermissionDenied("Only owners can change or remove an owner.")


def may_manage(by: Membership, target: Membership) -> bool:
    try:
        check_can_manage(by, target)
    except PermissionDenied:
        return False
    return True


def roster(me: Membership) -> list[dict]:
    """Admin > Team's rows, owners first, with the controls `me` may use on each."""
    people = (
        Membership.objects.filter(organization_id=me.organization_id)
        .select_related("user")
        .annotate(
            rank=Case(
                When(role=Role.OWNER, then=0),
                When(role=Role.ADMIN, then=1),
                default=2,
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "user__email")
    )
    owners = sum(1 for person in people if person.role == Role.OWNER)
    return [
        {
            "membership": person,
            "is_me": person.pk == me.pk,
            "last_owner": person.role == Role.OWNER and owners == 1,
            "manageable": may_manage(me, person),
        }
        for person in people
    ]


def _is_last_owner(target: Membership) -> bool:
    return (
        target.role == Role.OWNER
        and not Membership.objects.filter(organization_id=target.organization_id, role=Role.OWNER)
        .exclude(pk=target.pk)
        .exists()
    )


def _fresh(by: Membership, target: Membership) -> tuple[Membership, Membership]:
    """Both memberships as they are now, under the team lock (a role may have changed since
    the page was drawn)."""
    lock_team(target.organization)
    rows = Membership.objects.select_related("user", "organization").in_bulk([by.pk, target.pk])
    if by.pk not in rows:
        raise PermissionDenied("You are no longer on this team.")
    if target.pk not in rows:
        raise TeamError("That person is no longer on the team.")
    return rows[by.pk], rows[target.pk]


def change_role(*, by: Membership, target: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise TeamError("Choose owner, admin or member.")
    with transaction.atomic():
        by, target = _fresh(by, target)
        check_can_manage(by, target)
        check_can_grant(by, role)
        if target.role == role:
            return target
        if role != Role.OWNER and _is_last_owner(target):
            raise TeamError(
                f"{target.user.email} is the only owner of {target.organization.name}. "
                "Make someone else an owner first."
            )
        target.role = role
        target.save(update_fields=["role"])
    log.info("orgs.team.role_changed", extra={"membership": target.pk, "by": by.pk, "role": role})
    return target


def remove(*, by: Membership, target: Membership) -> Membership:
    """Remove `target` from the organisation (their account stays: they may be elsewhere)."""
    with transaction.atomic():
        by, target = _fresh(by, target)
        if by.pk != target.pk:
            check_can_manage(by, target)
        if _is_last_owner(target):
            raise TeamError(
                f"{target.user.email} is the only owner of {target.organization.name} and "
                "cannot be removed. Make someone else an owner first."
            )
        removed_pk = target.pk
        target.delete()
    log.info("orgs.team.removed", extra={"membership": removed_pk, "by": by.pk})
    return target
