"""A task goes through real Redis to a real worker, and its result lands in the database."""

import pytest
from celery.contrib.testing.worker import start_worker

from sous.celery import app


@app.task(name="integrations.tests.echo")
def echo(value):
    return {"echo": value}


def test_integrations_tasks_are_routed_to_the_integrations_queue():
    route = app.amqp.router.route({}, "integrations.tests.echo")
    assert route["queue"].name == "integrations"


@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_a_real_worker_and_stores_its_result():
    from django_celery_results.models import TaskResult

    with start_worker(app, queues=["integrations"], perform_ping_check=False, loglevel="WARNING"):
        result = echo.delay("hello")
        assert result.get(timeout=30) == {"echo": "hello"}
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "integrations.tests.echo"
