"""Staff read a document's stored copy through Sous, never from a storage URL: the bytes come
from whichever storage holds them (local disk or an S3 bucket). Every read is announced
(`document_downloaded`); the integrations app records it in the connection's Activity list."""

from __future__ import annotations

from pathlib import PurePosixPath

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse

from .models import Document
from .signals import document_downloaded

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
    """Stream the stored copy as an attachment, and say who downloaded it."""
    handle = document.content.open("rb")
    document_downloaded.send(Document, document=document, user=request.user)
    download = FileResponse(
        handle,
        as_attachment=True,
        filename=filename(document),
        content_type=document.content_type or FALLBACK_TYPE,
    )
    if isinstance(request, ASGIRequest):
        # Under ASGI Django would first read a synchronous file whole into memory; an
        # asynchronous iterator streams it. (The response still closes the file when done.)
        download.streaming_content = _chunks(handle)
    # Content from outside: a browser must never guess it is a page and run it.
    download["X-Content-Type-Options"] = "nosniff"
    download["Cache-Control"] = "private, no-store"
    return download
