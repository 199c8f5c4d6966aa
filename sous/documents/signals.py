"""Signals other Sous domains subscribe to (DESIGN "Downstream").

documents_imported: sent after each committed page of a documents import, with
    organization: the Organization
    source: "google"
    ids: primary keys of the Documents created, updated or removed by that page
"""

from django.dispatch import Signal

documents_imported = Signal()
