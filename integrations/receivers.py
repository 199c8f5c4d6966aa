"""What the integrations app hears from other Sous domains."""

from django.dispatch import receiver

from sous.documents.models import Document
from sous.documents.signals import document_downloaded

from .models import IntegrationConfig, IntegrationEvent
from .services import activity


@receiver(document_downloaded, sender=Document)
def record_download(sender, document: Document, user, **_) -> None:
    # By organisation and provider, as the drawer lists activity: recorded also while the
    # connection is gone, and shown again once it is back.
    activity.record(
        IntegrationConfig.objects.filter(
            organization_id=document.organization_id, provider=document.source
        ).first(),
        IntegrationEvent.Kind.DOCUMENT_DOWNLOADED,
        document.name,
        actor=user,
        organization=document.organization,
        provider=document.source,
    )
