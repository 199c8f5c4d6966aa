"""Downloads of imported documents, for the members of their organisation."""

from django.http import HttpResponseNotFound
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from sous.orgs.decorators import org_member_required

from . import downloads
from .models import Document


@org_member_required
@require_GET
def download(request, pk: int):
    # Another organisation's document is a 404, as if it did not exist.
    document = get_object_or_404(Document, pk=pk, organization=request.org)
    if not document.content:
        return HttpResponseNotFound(
            f"Sous keeps no copy of “{document.name}”: "
            f"{document.skip_reason or 'its content was not downloaded'}.",
            content_type="text/plain; charset=utf-8",
        )
    return downloads.response(document, request)
