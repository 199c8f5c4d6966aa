"""Staff read a document's stored copy through Sous, never from a storage URL: the bytes come
from whichever storage holds them (local disk or an S3 bucket), and every read is recorded
in the connection's Activity list."""

from __future__ import annotations

from pathlib import PurePosixPath

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse

from integrations.models import IntegrationConfig, IntegrationEvent
from integrations.services import activity

from .models import Document

FALLBACK_TYPE = "application/octet-stream"
CHUNK_BYTES = 64 * 1024


def filename(document: Document) -> str:
    """The document's name, with the stored copy's extension when the name lacks it (a
    Google Doc exported to PDF is named "Recipe index" in Drive)."""
    extension = PurePosixPath(document.content.name).suffix
    if extension and not document.name.lower().endswith(extension.lower()):
        return document.name + extension
    return document.name


async def _chunks(handle):
    # Reads run in worker threads (a file on disk or an S3 stream), one at a time.
    read = sync_to_async(handle.read, thread_sensitive=False)
    while chunk := await read(CHUNK_BYTES):
        yield chunk


def response(document: Document, request) -> FileResponse:
    """Stream the stored copy as an attachment, and record who downloaded it."""
    handle = document.content.open("rb")
    # Read by organisation and provider, as the drawer lists them: recorded also while the
    # connection is gone, and shown again once it is back.
    activity.record(
        IntegrationConfig.objects.filter(
            organization_id=document.organization_id, provider=document.source
        ).first(),
        IntegrationEvent.Kind.DOCUMENT_DOWNLOADED,
        document.name,
        actor=request.user,
        organization=document.organization,
        provider=document.source,
    )
    download = FileResponse(
        handle,
        as_attachment=True,
        filename=filename(document),
        content_type=document.content_type or FALLBACK_TYPE,
    )
    if isinstance(request, ASGIRequest):
        # Under daphne Django would first read a synchronous file whole into memory; an
        # asynchronous iterator streams it. (The response still closes the file when done.)
        download.streaming_content = _chunks(handle)
    # Content from outside: a browser must never guess it is a page and run it.
    download["X-Content-Type-Options"] = "nosniff"
    download["Cache-Control"] = "private, no-store"
    return download
