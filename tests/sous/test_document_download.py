"""Staff download an imported document's stored copy from Sous: their organisation's only,
streamed as an attachment, and recorded in the Google connection's Activity list."""

from __future__ import annotations

import warnings

import pytest
from asgiref.sync import async_to_sync
from django.core.files.base import ContentFile
from django.test import AsyncClient
from django.urls import reverse

from integrations.models import IntegrationEvent
from sous.documents.models import Document

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 bechamel: butter, flour, milk\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_document(org):
    def make(name="Béchamel.pdf", content=PDF, content_type="application/pdf", **fields):
        document = Document(
            organization=fields.pop("organization", org),
            source="google",
            external_id=f"file-{Document.objects.count() + 1}",
            kind=Document.Kind.RECIPE,
            name=name,
            content_type=content_type if content is not None else "",
            **{"mime_type": content_type, **fields},
        )
        if content is not None:
            stored_as = "Recipe-index.pdf" if content_type == "application/pdf" else "file.txt"
            document.content.save(stored_as, ContentFile(content), save=False)
        document.save()
        return document

    return make


def download_url(document: Document) -> str:
    return reverse("documents:download", args=[document.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_member_downloads_the_stored_copy_as_an_attachment(
    client, org, member, make_document, make_connection
):
    make_connection(org, "google")
    document = make_document()
    client.force_login(member)  # members see the page read-only, and may read documents

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert response.streaming
    assert body(response) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(PDF))
    # RFC 6266 with RFC 5987's encoding: browsers save it as "Béchamel.pdf".
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''B%C3%A9chamel.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = IntegrationEvent.objects.get(kind=IntegrationEvent.Kind.DOCUMENT_DOWNLOADED)
    assert (event.organization, event.provider, event.actor) == (org, "google", member)
    assert event.config is not None

    drawer = client.get("/integrations/google/manage/").content.decode()
    assert "Downloaded: Béchamel.pdf" in drawer
    assert f'href="{download_url(document)}"' in drawer


def test_under_asgi_it_streams_in_chunks_without_reading_the_file_whole(owner, make_document):
    content = PDF * 5000  # about 200 KB
    document = make_document(content=content)
    client = AsyncClient()

    async def download():
        await client.aforce_login(owner)
        response = await client.get(download_url(document))
        return response, [chunk async for chunk in response.streaming_content]

    with warnings.catch_warnings():
        # Django warns when it must read a synchronous iterator whole to serve it under ASGI.
        warnings.filterwarnings("error", "StreamingHttpResponse must consume")
        response, chunks = async_to_sync(download)()

    assert response.status_code == 200
    assert len(chunks) > 1
    assert b"".join(chunks) == content
    assert response["Content-Length"] == str(len(content))


def test_an_exported_google_doc_downloads_with_its_pdf_extension(owner_client, make_document):
    document = make_document(name="Recipe index", mime_type="application/vnd.google-apps.document")

    response = owner_client.get(download_url(document))

    assert response["Content-Disposition"] == 'attachment; filename="Recipe index.pdf"'
    assert body(response) == PDF


def test_another_organisations_document_is_not_found(client, outsider, make_document):
    document = make_document()
    client.force_login(outsider)

    response = client.get(download_url(document))

    assert response.status_code == 404
    assert PDF not in response.content
    assert not IntegrationEvent.objects.exists()


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(client, make_document):
    response = client.get(download_url(make_document()))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_document_without_a_stored_copy_says_so(owner_client, make_document):
    skipped = make_document(
        name="Walk-in fridge tour.mp4",
        content=None,
        status=Document.Status.SKIPPED,
        skip_reason="Sous does not read this type of file",
    )

    response = owner_client.get(download_url(skipped))

    assert response.status_code == 404
    assert response.content.decode() == (
        "Sous keeps no copy of “Walk-in fridge tour.mp4”: Sous does not read this type of file."
    )


def test_a_removed_document_keeps_its_copy_for_download(owner_client, make_document):
    document = make_document(status=Document.Status.REMOVED, removed_reason="moved to the trash")

    assert body(owner_client.get(download_url(document))) == PDF


def test_a_download_is_recorded_while_the_connection_is_gone(owner_client, owner, make_document):
    owner_client.get(download_url(make_document()))

    event = IntegrationEvent.objects.get()
    assert (event.kind, event.message, event.config, event.actor) == (
        "document_downloaded",
        "Béchamel.pdf",
        None,
        owner,
    )


def test_the_django_admin_links_to_and_serves_the_stored_copy(admin_client, make_document):
    document = make_document()
    link = reverse("admin:documents_document_download", args=[document.pk])

    listing = admin_client.get(reverse("admin:documents_document_changelist")).content.decode()
    page = admin_client.get(
        reverse("admin:documents_document_change", args=[document.pk])
    ).content.decode()

    assert f'href="{link}"' in listing and f'href="{link}"' in page
    assert "/media/" not in listing + page
    response = admin_client.get(link)
    assert body(response) == PDF
    assert response["Content-Disposition"].startswith("attachment;")


def test_the_django_admin_requires_staff(client, owner, make_document):
    client.force_login(owner)  # an organisation's owner is not site staff
    link = reverse("admin:documents_document_download", args=[make_document().pk])

    assert client.get(link).status_code == 302  # to the admin's login


def test_it_streams_from_an_s3_bucket_as_from_disk(
    owner_client, make_document, s3_server, s3_storage
):
    document = make_document()
    assert s3_server.objects(s3_storage) == {document.content.name: PDF}

    response = owner_client.get(download_url(document))

    assert body(response) == PDF
    assert response["Content-Length"] == str(len(PDF))
    assert response["Content-Type"] == "application/pdf"
