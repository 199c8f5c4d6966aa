"""Count what earlier releases imported, once, so an upgraded install shows right figures (from
here on the importers keep them: integrations/services/imported.py); and the indexes the
drawer's latest jobs, activity and webhook event are read from, whatever their numbers."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count
from django.utils import timezone

# label -> (app, model, only rows not deleted at the source); the importers' meanings.
FIGURES = {
    "menu items": ("catalog", "Item", True),
    "categories": ("catalog", "Category", True),
    "modifier lists": ("catalog", "ModifierList", True),
    "orders": ("sales", "Order", False),
    "documents": ("documents", "Document", False),
}


def fill(apps, schema_editor):
    ImportedCount = apps.get_model("integrations", "ImportedCount")
    now = timezone.now()
    for label, (app, name, present) in FIGURES.items():
        rows = apps.get_model(app, name).objects.using(schema_editor.connection.alias)
        if present:
            rows = rows.filter(is_deleted=False)
        grouped = rows.order_by().values("organization_id", "source").annotate(n=Count("pk"))
        ImportedCount.objects.using(schema_editor.connection.alias).bulk_create(
            [
                ImportedCount(
                    organization_id=row["organization_id"],
                    source=row["source"],
                    label=label,
                    count=row["n"],
                    updated_at=now,
                )
                for row in grouped.iterator()
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["organization", "source", "label"],
            update_fields=["count", "updated_at"],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0009_imported_counts_and_cached_lookups"),
        ("catalog", "0001_initial"),
        ("sales", "0003_ledger"),
        ("documents", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="integrationevent",
            name="integration_organiz_7e3b30_idx",
        ),
        migrations.AddIndex(
            model_name="integrationevent",
            index=models.Index(
                fields=["organization", "provider", "-created_at", "-id"], name="event_latest"
            ),
        ),
        migrations.AddIndex(
            model_name="syncjob",
            index=models.Index(
                condition=models.Q(("parent__isnull", True)),
                fields=["config", "-created_at"],
                name="job_latest_top_level",
            ),
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(
                fields=["provider", "account_id", "-received_at"], name="webhook_latest"
            ),
        ),
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(fields=["config", "-received_at"], name="webhook_latest_on_channel"),
        ),
    ]
