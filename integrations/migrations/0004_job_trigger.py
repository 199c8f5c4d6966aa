from django.db import migrations, models


def from_labels(apps, schema_editor):
    SyncJob = apps.get_model("integrations", "SyncJob")
    for label in ("command", "schedule"):
        SyncJob.objects.filter(requested_by_label=label).update(trigger=label)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_job_recoveries")]

    operations = [
        migrations.AddField(
            model_name="syncjob",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("manual", "Manual"),
                    ("command", "Command"),
                    ("schedule", "Schedule"),
                    ("webhook", "Webhook"),
                ],
                default="manual",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="syncjob",
            name="trigger_detail",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.RunPython(from_labels, migrations.RunPython.noop),
        migrations.RemoveField(model_name="syncjob", name="requested_by_label"),
    ]
