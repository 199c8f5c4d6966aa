"""Requesting, cancelling and describing SyncJobs (the job machinery's front door)."""

from __future__ import annotations

from django.utils import timezone

from integrations import progress
from integrations.models import IntegrationConfig, SyncJob


def active_for(config: IntegrationConfig):
    return SyncJob.objects.filter(config=config, parent__isnull=True, status__in=SyncJob.ACTIVE)


def cancel_active(config: IntegrationConfig, *, reason: str) -> int:
    """Ask running jobs to stop at their next page; queued ones never start."""
    now = timezone.now()
    jobs = SyncJob.objects.filter(config=config, status__in=SyncJob.ACTIVE)
    queued = jobs.filter(status=SyncJob.Status.QUEUED).update(
        status=SyncJob.Status.CANCELLED, finished_at=now, summary=reason, cancel_requested=True
    )
    running = jobs.filter(status=SyncJob.Status.RUNNING).update(cancel_requested=True)
    for job in SyncJob.objects.filter(config=config, parent__isnull=True, finished_at=now):
        progress.publish(job.organization_id, job_payload(job))
    return queued + running


def job_payload(job: SyncJob) -> dict:
    """What the page shows of a job: ids, state, progress and counts, never secrets."""
    return {
        "type": "job",
        "id": str(job.id),
        "provider": job.provider,
        "kind": job.kind,
        "status": job.status,
        "done": job.progress_done,
        "total": job.progress_total,
        "percent": job.percent,
        "unit": job.progress_unit,
        "message": job.progress_message,
        "counts": job.counts,
        "summary": job.summary,
        "error": job.error,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
