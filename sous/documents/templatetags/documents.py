"""The drawer's Documents section reads the documents domain through this tag."""

from __future__ import annotations

from django import template
from django.db.models import Count, Q

from ..models import Document

register = template.Library()

LATEST = 5


@register.simple_tag
def documents_overview(organization, source: str) -> dict:
    """Counts per kind and status, and the latest imported files, for one source."""
    documents = Document.objects.filter(organization=organization, source=source)
    present = Q(status__in=Document.PRESENT)
    counts = documents.aggregate(
        recipes=Count("pk", filter=present & Q(kind=Document.Kind.RECIPE)),
        invoices=Count("pk", filter=present & Q(kind=Document.Kind.INVOICE)),
        skipped=Count("pk", filter=Q(status=Document.Status.SKIPPED)),
        removed=Count("pk", filter=Q(status=Document.Status.REMOVED)),
    )
    latest = documents.filter(status=Document.Status.ACTIVE).order_by(
        "-content_fetched_at", "-updated_at", "-pk"
    )[:LATEST]
    return {**counts, "total": sum(counts.values()), "latest": list(latest)}
