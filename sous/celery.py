"""The Celery app. Configuration lives in settings (CELERY_*); tasks are autodiscovered."""

import os

from celery import Celery, signals

from sous import heartbeat, logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sous.settings")

app = Celery("sous")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_our_logging(**_) -> None:
    """Workers and beat log through settings.LOGGING (sous/logs.py), not in Celery's format:
    with a receiver for this signal Celery leaves the root logger alone (it would otherwise
    replace its handlers with its own), and ignores --loglevel: LOG_LEVEL decides."""
    from django.conf import settings

    logs.configure(settings.LOGGING)


# Each task's log lines carry its id and name.
signals.task_prerun.connect(logs.task_started, weak=False)
signals.task_postrun.connect(logs.task_finished, weak=False)
# Beat's pulse for /healthz: publishing the heartbeat, in the beat process only.
signals.beat_init.connect(heartbeat.beat_started, weak=False)
signals.after_task_publish.connect(heartbeat.beat_published, weak=False)
