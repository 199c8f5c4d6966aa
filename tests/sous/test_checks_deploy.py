"""`manage.py check --deploy` on the production settings README.md lists: clean as documented,
and each unsafe variant named by its check."""

from __future__ import annotations

import pytest

from tests.sous.procfile import environment, issue_ids, manage

# README.md, "Production settings", in its order; values that look like a real deployment's.
PRODUCTION = {
    "SECRET_KEY": "Vq3c8J0n_Ao0xkW2bQeT7mZ4yR9uHs1LdPfGjN6vCt5XwEaKiUo-MzSl",
    "PUBLIC_BASE_URL": "https://api.sous.tools",
    "TRUSTED_PROXY_COUNT": "1",
    "DATABASE_URL": "postgres://sous:password@db.internal:5432/sous",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "INTEGRATIONS_ENCRYPTION_KEYS": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "EMAIL_URL": "smtp+tls://sous:password@smtp.example.com:587",
    "SQUARE_ENVIRONMENT": "production",
    "SQUARE_CLIENT_ID": "sq0idp-3Xk9aQ2mVb7TzR1pLw4YcN",
    "SQUARE_CLIENT_SECRET": "sq0csp-H7fK2pQ9wXz4LmT6vB1nR8yJ3sD5gA0cE",
    "GOOGLE_ENVIRONMENT": "production",
    "GOOGLE_CLIENT_ID": "1234567890-abcdefghijklmnop.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "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",
}


def check_deploy(tmp_path, **changes: str | None) -> tuple[int, set[str], str]:
    """`check --deploy` failing on warnings too; `changes` set (or, with None, unset) variables."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=environment(**{**PRODUCTION, **changes}),
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    return result.returncode, issue_ids(output), output


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    returncode, issues, output = check_deploy(tmp_path)
    assert (returncode, issues) == (0, set()), output
    assert "no issues" in output


@pytest.mark.parametrize(
    ("changes", "reported"),
    [
        pytest.param({"SECRET_KEY": None}, "sous.E001", id="no secret key"),
        pytest.param({"SECRET_KEY": ""}, "sous.E001", id="empty secret key"),
        pytest.param(
            {"PUBLIC_BASE_URL": "http://api.sous.tools"}, "sous.E003", id="http public url"
        ),
        pytest.param({"INTEGRATIONS_ENCRYPTION_KEYS": None}, "sous.E004", id="no key ring"),
        pytest.param(
            {"INTEGRATIONS_ENCRYPTION_KEYS": "not-a-key"}, "sous.E005", id="malformed key"
        ),
        pytest.param({"SQUARE_ENVIRONMENT": "local"}, "integrations.E001", id="square local"),
        pytest.param({"GOOGLE_ENVIRONMENT": None}, "integrations.E001", id="google default"),
        pytest.param({"TRUSTED_PROXY_COUNT": None}, "sous.W002", id="proxy not trusted"),
        pytest.param({"EMAIL_URL": None}, "sous.W001", id="no email"),
        pytest.param({"GOOGLE_CLIENT_SECRET": None}, "integrations.Wgoogle", id="no google app"),
        pytest.param({"DEBUG": "true"}, "security.W018", id="debug"),
        pytest.param({"SECURE_HSTS_SECONDS": "0"}, "security.W004", id="no hsts"),
        pytest.param({"SECURE_SSL_REDIRECT": "false"}, "security.W008", id="no https redirect"),
    ],
)
def test_check_deploy_reports_each_unsafe_variant(tmp_path, changes, reported):
    returncode, issues, output = check_deploy(tmp_path, **changes)
    assert returncode == 1
    assert reported in issues, output
