"""/healthz: the database and Redis decide whether this web process can serve (503 if not);
beat and a worker on each queue, by their heartbeats, whether the product is "degraded"."""

import pytest

from sous import heartbeat, redis_client
from tests.conftest import running_worker, wait_for
from tests.sous import celery_processes

QUIET = {"beat": "never", "worker:integrations": "never", "worker:default": "never"}


@pytest.fixture(autouse=True)
def no_heartbeat_yet():
    """Redis as a fresh deployment has it: no part has answered yet."""
    redis_client.client().delete(*(heartbeat.key(part) for part in heartbeat.PARTS))


@pytest.fixture
def empty_queues(transactional_db):
    from sous.celery import app

    app.control.purge()
    yield app
    app.control.purge()  # heartbeats left for a queue nobody consumed


def health(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_with_no_worker_or_beat_yet_it_is_degraded_but_still_serves(client, db):
    assert health(client) == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "redis": "ok", **QUIET}},
    )


def test_it_is_ok_once_beat_and_a_worker_on_each_queue_answered(client, empty_queues, tmp_path):
    with (
        running_worker(),
        celery_processes.beat(
            tmp_path / "beat.stderr", tmp_path / "beat-schedule", HEALTH_HEARTBEAT_SECONDS="1"
        ),
    ):
        status, body = wait_for(
            lambda: (answer := health(client))[1]["status"] == "ok" and answer,
            timeout=30,
            message="beat and the worker never both answered",
        )
    assert status == 200
    assert body["checks"] == {
        "database": "ok",
        "redis": "ok",
        "beat": "ok",
        "worker:integrations": "ok",
        "worker:default": "ok",
    }


def test_a_queue_no_worker_consumes_is_named(client, empty_queues, tmp_path):
    # This worker takes the default queue only: the integrations queue's syncs would pile up.
    with (
        running_worker_on("default"),
        celery_processes.beat(
            tmp_path / "beat.stderr", tmp_path / "beat-schedule", HEALTH_HEARTBEAT_SECONDS="1"
        ),
    ):
        status, body = wait_for(
            lambda: (answer := health(client))[1]["checks"]["worker:default"] == "ok" and answer,
            timeout=30,
            message="the default queue's worker never answered",
        )
    assert status == 200
    assert body["status"] == "degraded"
    assert body["checks"]["beat"] == "ok"
    assert body["checks"]["worker:integrations"] == "never"


def test_heartbeats_older_than_the_window_are_stale(client, empty_queues, tmp_path, settings):
    with (
        running_worker(),
        celery_processes.beat(
            tmp_path / "beat.stderr", tmp_path / "beat-schedule", HEALTH_HEARTBEAT_SECONDS="1"
        ),
    ):
        wait_for(lambda: health(client)[1]["status"] == "ok", timeout=30)
    settings.HEALTH_HEARTBEAT_MAX_AGE = 1  # everything stopped: their last beats age past it

    status, body = wait_for(
        lambda: (answer := health(client))[1]["checks"]["beat"] == "stale" and answer,
        timeout=10,
    )
    assert status == 200
    assert body == {
        "status": "degraded",
        "checks": {
            "database": "ok",
            "redis": "ok",
            "beat": "stale",
            "worker:integrations": "stale",
            "worker:default": "stale",
        },
    }


def test_only_beat_publishing_the_heartbeat_counts_as_beat(client, empty_queues):
    """The same task sent from any other process (here, this one) says nothing about beat."""
    with running_worker():
        empty_queues.send_task(heartbeat.TASK, args=["default"], queue="default")
        wait_for(lambda: health(client)[1]["checks"]["worker:default"] == "ok", timeout=30)
    assert health(client)[1]["checks"]["beat"] == "never"


def test_healthz_names_redis_when_it_is_down_and_leaks_no_url(client, db, settings):
    settings.REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "redis": "unreachable",
            "beat": "unknown",
            "worker:integrations": "unknown",
            "worker:default": "unknown",
        },
    }
    assert "hunter2" not in response.content.decode()


def running_worker_on(queue: str):
    from celery.contrib.testing.worker import start_worker

    from sous.celery import app

    return start_worker(
        app, queues=[queue], pool="threads", perform_ping_check=False, loglevel="WARNING"
    )
