"""What the header's bell shows a person: their newest notifications in the current
organisation and how many are unread."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import SimpleLazyObject

from .models import Notification

SHOWN = 20


@dataclass(frozen=True)
class Bell:
    unread: int
    latest: list[Notification]

    @property
    def unread_label(self) -> str:
        return "99+" if self.unread > 99 else str(self.unread)


def for_member(user, organization) -> Bell:
    mine = Notification.objects.filter(user=user, organization=organization)
    return Bell(unread=mine.filter(read_at__isnull=True).count(), latest=list(mine[:SHOWN]))


def context(request) -> dict:
    """Template context processor: the bell, for a member signed in to an organisation.

    Read only by a template that shows it: the drawer and the other fragments never do, and
    would otherwise pay its two queries on every render."""
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    return {"bell": SimpleLazyObject(lambda: for_member(request.user, membership.organization))}
