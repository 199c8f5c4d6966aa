"""Settings come from the environment with safe defaults; checks flag unsafe production config."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.sous.procfile import environment, probe

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "debug": settings.DEBUG,
    "redis": settings.REDIS_URL, "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["LOCATION"],
    "layer": [h["address"] for h in settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]],
    "public": settings.PUBLIC_BASE_URL, "keys": settings.INTEGRATIONS_ENCRYPTION_KEYS,
    "allowed": settings.ALLOWED_HOSTS, "serializer": settings.CELERY_TASK_SERIALIZER,
    "accept": settings.CELERY_ACCEPT_CONTENT, "acks_late": settings.CELERY_TASK_ACKS_LATE,
    "prefetch": settings.CELERY_WORKER_PREFETCH_MULTIPLIER,
}))
"""


def load_settings(tmp_path, **env) -> dict:
    """Import settings in a fresh interpreter with only `env` set (a developer's .env is not
    read)."""
    return probe(PROBE, env=environment(**env), cwd=tmp_path)


def test_it_defaults_to_sqlite_under_var_and_local_redis(tmp_path):
    values = load_settings(tmp_path)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "var" / "db.sqlite3")
    assert values["redis"] == "redis://127.0.0.1:6379/0"
    assert values["broker"] == values["cache"] == values["redis"]
    assert values["layer"] == [values["redis"]]
    assert values["debug"] is False
    assert values["keys"] == []


def test_it_reads_every_service_from_the_environment(tmp_path):
    values = load_settings(
        tmp_path,
        PYTHONPATH=str(ROOT),
        DATABASE_URL="postgres://sous:pw@db.internal:5432/sous",
        REDIS_URL="redis://cache.internal:6380/2",
        PUBLIC_BASE_URL="https://api.sous.tools/",
        INTEGRATIONS_ENCRYPTION_KEYS=f"{GOOD_KEY},{GOOD_KEY}",
        DEBUG="true",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "sous"
    assert values["broker"] == values["cache"] == "redis://cache.internal:6380/2"
    assert values["public"] == "https://api.sous.tools"
    assert values["keys"] == [GOOD_KEY, GOOD_KEY]
    assert "api.sous.tools" in values["allowed"]
    assert values["debug"] is True


def test_celery_speaks_json_only_and_acks_late_one_task_at_a_time(tmp_path):
    values = load_settings(tmp_path)
    assert values["serializer"] == "json"
    assert values["accept"] == ["json"]
    assert values["acks_late"] is True
    assert values["prefetch"] == 1


def check_ids(**overrides) -> set[str]:
    from django.test import override_settings

    with override_settings(**overrides), pytest.raises(SystemCheckError) as raised:
        call_command("check", fail_level="ERROR")
    return {
        line.split(")")[0].split("(")[-1]
        for line in str(raised.value).splitlines()
        if "sous.E" in line
    }


def test_checks_refuse_the_default_secret_key_outside_debug(settings):
    from django.conf import settings as live

    ids = check_ids(DEBUG=False, SECRET_KEY=live.INSECURE_SECRET_KEY)
    assert "sous.E001" in ids


def test_checks_refuse_an_http_public_url_outside_debug():
    assert "sous.E003" in check_ids(DEBUG=False, PUBLIC_BASE_URL="http://sous.example")


def test_checks_report_a_missing_or_malformed_key_ring():
    assert "sous.E004" in check_ids(INTEGRATIONS_ENCRYPTION_KEYS=[])
    assert "sous.E005" in check_ids(INTEGRATIONS_ENCRYPTION_KEYS=["not-a-key"])


def test_checks_pass_on_a_correct_production_config():
    from django.test import override_settings

    with override_settings(
        DEBUG=False,
        SECRET_KEY="x" * 60,
        PUBLIC_BASE_URL="https://api.sous.tools",
        INTEGRATIONS_ENCRYPTION_KEYS=[GOOD_KEY],
        SQUARE_ENVIRONMENT="production",
        GOOGLE_ENVIRONMENT="production",
    ):
        call_command("check", fail_level="ERROR")


def test_checks_warn_when_a_sync_slice_would_outlast_the_redelivery_window():
    from django.core.checks import run_checks
    from django.test import override_settings

    def warned(**overrides) -> bool:
        with override_settings(**overrides):
            return any(m.id == "integrations.W001" for m in run_checks())

    options = {"visibility_timeout": 900, "global_keyprefix": ""}
    assert not warned(CELERY_BROKER_TRANSPORT_OPTIONS=options, INTEGRATIONS_TASK_SLICE_SECONDS=300)
    assert warned(CELERY_BROKER_TRANSPORT_OPTIONS=options, INTEGRATIONS_TASK_SLICE_SECONDS=600)


def test_every_redis_client_waits_longer_than_its_blocking_reads():
    """redis-py 8 reads time out after 5 s unless told otherwise; the channel layer blocks
    for 5 s per read. Each client's read timeout is stated and outlasts what it waits for."""
    from channels.layers import get_channel_layer
    from channels_redis.utils import create_pool
    from django.core.cache import cache

    from sous import redis_client
    from sous.celery import app

    layer = get_channel_layer()
    layer_options = create_pool(layer.hosts[0]).connection_kwargs
    assert layer_options["socket_timeout"] > layer.brpop_timeout
    with app.connection_for_read() as broker:
        channel = broker.default_channel
        broker_options = channel.client.connection_pool.connection_kwargs
        assert broker_options["socket_timeout"] > channel.brpop_timeout
    cache_options = cache._cache.get_client(write=True).connection_pool.connection_kwargs
    lock_options = redis_client.client().connection_pool.connection_kwargs
    for options in (layer_options, broker_options, cache_options, lock_options):
        assert options["socket_timeout"] is not None
        assert options["health_check_interval"] > 0
        assert options["socket_keepalive"] is True


def test_a_killed_workers_job_is_resumed_within_a_minute_by_default():
    """The lock lapses at most INTEGRATIONS_JOB_LOCK_SECONDS after the crash, and beat looks
    for lapsed locks every few seconds: the two together bound the recovery."""
    from django.conf import settings

    check = settings.CELERY_BEAT_SCHEDULE["integrations-resume-orphaned-jobs"]["schedule"]
    assert settings.INTEGRATIONS_JOB_LOCK_SECONDS + check < 60
    # The keeper renews every quarter of the lock's life: often enough, not a hot loop.
    assert settings.INTEGRATIONS_JOB_LOCK_SECONDS / 4 >= 5
