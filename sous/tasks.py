"""Celery tasks of the platform (queue "default" unless beat's entry says otherwise)."""

from celery import shared_task

from . import heartbeat


@shared_task(name=heartbeat.TASK, ignore_result=True)
def answer_heartbeat(queue: str) -> None:
    """Sent by beat to each queue: a worker consuming `queue` is alive (see sous/heartbeat.py)."""
    heartbeat.stamp(heartbeat.worker_part(queue))
