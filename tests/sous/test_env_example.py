"""`.env.example` copied as `.env`, unchanged, boots the site on the built-in defaults."""

from __future__ import annotations

import re
import shutil

import pytest
import requests
from django.conf import settings as django_settings

from tests.conftest import TEST_ENCRYPTION_KEYS, database_url
from tests.sous.procfile import ROOT, environment, issue_ids, manage, probe, web_process

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "debug": settings.DEBUG,
    "allowed": settings.ALLOWED_HOSTS, "csrf": settings.CSRF_TRUSTED_ORIGINS,
    "media": str(settings.MEDIA_ROOT), "secret_is_default":
        settings.SECRET_KEY == settings.INSECURE_SECRET_KEY,
    "public": settings.PUBLIC_BASE_URL, "redis": settings.REDIS_URL,
    "keys": settings.INTEGRATIONS_ENCRYPTION_KEYS,
}))
"""

DEFAULTS = {
    "engine": "django.db.backends.sqlite3",
    "name": str(ROOT / "var" / "db.sqlite3"),
    "debug": False,
    "allowed": ["127.0.0.1", "localhost"],
    "csrf": ["http://localhost:8000"],
    "media": str(ROOT / "var" / "media"),
    "secret_is_default": True,
    "public": "http://localhost:8000",
    "redis": "redis://127.0.0.1:6379/0",
    "keys": [],
}

# What the example's lines looked like before (#15): empty assignments, which overrode the
# defaults. Operators' env files still carry such lines; they mean "the default" too.
EMPTY_ASSIGNMENTS = """\
SECRET_KEY=
DEBUG=
ALLOWED_HOSTS=
CSRF_TRUSTED_ORIGINS=
PUBLIC_BASE_URL=
DATABASE_URL=
REDIS_URL=
MEDIA_ROOT=
INTEGRATIONS_ENCRYPTION_KEYS=
"""


@pytest.fixture
def copied_example(tmp_path):
    env_file = tmp_path / ".env"
    shutil.copyfile(ROOT / ".env.example", env_file)
    return env_file


def read_settings(env: dict[str, str], cwd) -> dict:
    return probe(PROBE, env=env, cwd=cwd)


def test_every_assignment_in_the_example_is_commented_out():
    # django-environ's own pattern for an assignment line (environ.Env.read_env).
    assignment = re.compile(r"\A(?:export )?[A-Za-z_0-9]+=")
    lines = (ROOT / ".env.example").read_text().splitlines()
    assert [line for line in lines if assignment.match(line)] == []
    assert sum(line.startswith("# SECRET_KEY=") for line in lines) == 1


def test_the_copied_example_leaves_every_setting_at_its_default(copied_example, tmp_path):
    assert read_settings(environment(SOUS_ENV_FILE=str(copied_example)), tmp_path) == DEFAULTS


def test_empty_assignments_mean_the_defaults(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(EMPTY_ASSIGNMENTS)
    assert read_settings(environment(SOUS_ENV_FILE=str(env_file)), tmp_path) == DEFAULTS
    # The same lines in the process environment itself, as a container spec may set them.
    empty = dict(line.split("=", 1) for line in EMPTY_ASSIGNMENTS.splitlines())
    assert read_settings(environment(**empty), tmp_path) == DEFAULTS


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PUBLIC_BASE_URL=https://from-the-file.example\nMEDIA_ROOT=/srv/media\n")
    values = read_settings(
        environment(SOUS_ENV_FILE=str(env_file), PUBLIC_BASE_URL="https://api.sous.tools"),
        tmp_path,
    )
    assert values["public"] == "https://api.sous.tools"
    assert values["media"] == "/srv/media"


def test_check_on_the_copied_example_names_what_production_must_still_set(copied_example, tmp_path):
    as_copied = manage("check", env=environment(SOUS_ENV_FILE=str(copied_example)), cwd=tmp_path)
    assert as_copied.returncode == 1
    errors = {issue for issue in issue_ids(as_copied.stderr) if ".E" in issue}
    # The built-in secret key, an http public URL, no key ring, the sandbox providers: each
    # variable the example marks REQUIRED IN PRODUCTION, and nothing else.
    assert errors == {"sous.E001", "sous.E003", "sous.E004", "integrations.E001"}

    # A developer's machine: DEBUG on and a key ring, as `make run` writes them.
    development = environment(
        SOUS_ENV_FILE=str(copied_example),
        DEBUG="true",
        INTEGRATIONS_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEYS[0],
    )
    result = manage("check", env=development, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_the_web_process_on_the_copied_example_serves_pages(copied_example):
    # The database and Redis are this test run's; every other setting comes from the copy.
    env = environment(
        SOUS_ENV_FILE=str(copied_example),
        DATABASE_URL=database_url(),
        REDIS_URL=django_settings.REDIS_URL,
    )
    with web_process(env) as base_url:
        health = requests.get(f"{base_url}/healthz", timeout=10)
        login = requests.get(f"{base_url}/accounts/login/", timeout=10)
        local_name = requests.get(
            f"{base_url}/accounts/login/", headers={"Host": "localhost"}, timeout=10
        )
    assert health.status_code == 200, health.text
    assert health.json()["checks"]["database"] == health.json()["checks"]["redis"] == "ok"
    assert login.status_code == 200
    assert 'name="password"' in login.text
    assert local_name.status_code == 200
