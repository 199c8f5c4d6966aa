from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
        ("orgs", "0003_organization_require_mfa"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=[
                    "organization",
                    "source",
                    "status",
                    "-content_fetched_at",
                    "-updated_at",
                    "-id",
                ],
                name="document_latest",
            ),
        ),
    ]
