"""The job state machine: every legal move happens, every illegal one raises and changes
nothing, and a job that moved meanwhile is left alone."""

import itertools
import pathlib
import re

import pytest

from integrations.jobs import states
from integrations.models import SyncJob

Status = SyncJob.Status

LEGAL = {
    (Status.QUEUED, Status.RUNNING),
    (Status.QUEUED, Status.FAILED),
    (Status.QUEUED, Status.CANCELLED),
    (Status.RUNNING, Status.RUNNING),
    (Status.RUNNING, Status.QUEUED),
    (Status.RUNNING, Status.SUCCEEDED),
    (Status.RUNNING, Status.FAILED),
    (Status.RUNNING, Status.CANCELLED),
}
EVERY_MOVE = list(itertools.product(Status.values, repeat=2))


@pytest.fixture
def job(org, make_connection):
    config = make_connection(org)
    return SyncJob.objects.create(
        organization_id=org.pk, provider="square", config=config, kind="square.catalog"
    )


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
def test_a_legal_move_changes_the_state_and_the_fields_given(job, source, target):
    SyncJob.objects.filter(pk=job.pk).update(status=source)

    moved = states.move_one(job, [source], target, progress_message="moved")

    job.refresh_from_db()
    assert moved and job.status == target and job.progress_message == "moved"


@pytest.mark.parametrize(
    ("source", "target"), sorted(move for move in EVERY_MOVE if move not in LEGAL)
)
def test_an_illegal_move_raises_and_changes_nothing(job, source, target):
    SyncJob.objects.filter(pk=job.pk).update(status=source)

    with pytest.raises(states.IllegalTransition):
        states.move_one(job, [source], target, progress_message="moved")

    job.refresh_from_db()
    assert job.status == source and job.progress_message == ""


def test_a_finished_job_never_moves_again(job):
    SyncJob.objects.filter(pk=job.pk).update(status=Status.SUCCEEDED)

    # A late duplicate task asks to finish it as failed from the states it could be in.
    assert not states.move_one(job, SyncJob.ACTIVE, Status.FAILED, error="late")

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and job.error == ""


def test_a_job_that_moved_meanwhile_is_left_alone(job):
    SyncJob.objects.filter(pk=job.pk).update(status=Status.CANCELLED)  # staff cancelled it

    assert not states.move_one(job, [Status.QUEUED], Status.RUNNING)

    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_only_the_state_machine_writes_a_jobs_status():
    """No module outside integrations/jobs/states.py sets SyncJob.status."""
    root = pathlib.Path(__file__).resolve().parents[2]
    # An UPDATE naming a status, or a job's status assigned (`==` compares, it is fine).
    writes = re.compile(r"\.update\((?:[^()]|\([^()]*\))*\bstatus=|\bjob\.status\s*=[^=]")
    offenders = [
        str(path.relative_to(root))
        for folder in ("integrations", "providers", "sous")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts
        and path.name != "states.py"
        and "SyncJob" in (text := path.read_text())
        and writes.search(text)
    ]
    assert offenders == []
