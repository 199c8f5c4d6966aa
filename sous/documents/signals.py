"""Signals other Sous domains subscribe to (DESIGN "Downstream").

documents_imported: sent after each committed page of a documents import, with
    organization: the Organization
    source: "google"
    ids: primary keys of the Documents created, updated or removed by that page

document_downloaded: sent when someone downloads a document's stored copy, with
    document: the Document
    user: who downloaded it
"""

from django.dispatch import Signal

documents_imported = Signal()
document_downloaded = Signal()
