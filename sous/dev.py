"""Developer entry points behind `make run` and `make test` (not used in production).

    python -m sous.dev run         prepare .env, Redis, the database and the demo login, then
                                   start everything in Procfile.dev with honcho (Ctrl-C stops all)
    python -m sous.dev redis-url   print a Redis URL that answers, starting a private
                                   redis-server in the background when needed (for tests and
                                   benchmarks: database 1 unless REDIS_URL says otherwise)

The Redis rule, in order: REDIS_URL (or the default) if it answers; else a private
redis-server with its data under var/ if the binary exists; else, as root with apt-get,
install Debian's redis-server first; else stop with the one-line fix.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PRIVATE_REDIS_PORT = 6390
TESTS_REDIS_DB = 1  # `make run` uses database 0
WEB_PORT = int(os.environ.get("SOUS_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8765"))


def say(message: str) -> None:
    print(f"[sous] {message}", flush=True)


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _redis_server_binary() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("Redis is not running and not installed: installing Debian's redis-server ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
            check=True,
            env=env,
        )
        return shutil.which("redis-server")
    return None


def private_redis_command(binary: str) -> list[str]:
    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return [
        binary,
        "--port",
        str(PRIVATE_REDIS_PORT),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data),
        "--save",
        "60 1",
        "--appendonly",
        "no",
    ]


def resolve_redis(url: str | None) -> tuple[str, list[str] | None]:
    """(a Redis URL to use, the command that starts a private server or None)."""
    url = url or DEFAULT_REDIS_URL
    if redis_answers(url):
        return url, None
    private = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
    if redis_answers(private):
        return private, None
    binary = _redis_server_binary()
    if binary is None:
        sys.exit(
            f"Redis is not reachable at {url}: install it (sudo apt-get install redis-server) "
            "or set REDIS_URL to a running one."
        )
    return private, private_redis_command(binary)


def redis_url_for_tests() -> None:
    """Print a working Redis URL on stdout; start a background redis-server if needed.

    Unless REDIS_URL names one, tests and benchmarks get a database of their own: they purge
    queues and run workers, and on `make run`'s database its worker would take their tasks."""
    given = os.environ.get("REDIS_URL")
    url, command = resolve_redis(given)
    if not given:
        url = urlunsplit(urlsplit(url)._replace(path=f"/{TESTS_REDIS_DB}"))
    if command is not None:
        VAR.mkdir(exist_ok=True)
        subprocess.run(
            [
                *command,
                "--daemonize",
                "yes",
                "--pidfile",
                str(VAR / "redis.pid"),
                "--logfile",
                str(VAR / "redis.log"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(url)


def ensure_env_file() -> None:
    """Write a development .env once: fresh secrets, DEBUG on, the sandbox's OAuth apps."""
    env_file = ROOT / ".env"
    if env_file.exists():
        return
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    env_file.write_text(
        "# Written by `make run` for local development; see .env.example for every setting.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"INTEGRATIONS_ENCRYPTION_KEYS={key}\n"
        f"PUBLIC_BASE_URL=http://localhost:{WEB_PORT}\n"
        f"PROVIDER_SANDBOX_URL=http://127.0.0.1:{SANDBOX_PORT}\n"
        "SQUARE_ENVIRONMENT=local\n"
        "SQUARE_CLIENT_ID=sq0idp-sous-local\n"
        "SQUARE_CLIENT_SECRET=sq0csp-sous-local-secret\n"
        "GOOGLE_ENVIRONMENT=local\n"
        "GOOGLE_CLIENT_ID=sous-local.apps.googleusercontent.com\n"
        "GOOGLE_CLIENT_SECRET=GOCSPX-sous-local-secret\n"
    )
    env_file.chmod(0o600)
    say("Wrote .env with development settings (fresh secret key and encryption key).")


def subscribe_sandbox_webhooks(key: str, deadline_seconds: float = 60) -> None:
    """Subscribe this site to the local Square's webhooks, as one does once per app in
    Square's dashboard, as soon as the sandbox answers."""
    base = os.environ.get("PROVIDER_SANDBOX_URL", f"http://127.0.0.1:{SANDBOX_PORT}").rstrip("/")
    public = os.environ.get("PUBLIC_BASE_URL", f"http://localhost:{WEB_PORT}").rstrip("/")
    target = os.environ.get("SQUARE_WEBHOOK_URL") or f"{public}/integrations/webhooks/square"
    body = {"notification_url": target, "signature_key": key}
    control = f"{base}/_sandbox/square/webhooks"
    ends = time.monotonic() + deadline_seconds
    while time.monotonic() < ends:
        try:
            requests.post(control, json=body, timeout=5).raise_for_status()
        except requests.RequestException:
            time.sleep(0.5)  # the sandbox is still starting
        else:
            say(f"The local Square sends its webhooks to {target}.")
            return
    say("The local Square did not answer: no webhooks this run (the schedules still sync).")


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def run() -> None:
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    os.chdir(ROOT)
    VAR.mkdir(exist_ok=True)
    ensure_env_file()
    import environ

    environ.Env.read_env(ROOT / ".env", overwrite=False)
    url, redis_command = resolve_redis(os.environ.get("REDIS_URL"))
    # Live updates: the sandbox sends Square's webhooks to this site, signed with a key made
    # for this run (unless .env names one), once it has subscribed it (below).
    webhook_key = os.environ.get("SQUARE_WEBHOOK_SIGNATURE_KEYS") or secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "REDIS_URL": url,
        "PYTHONUNBUFFERED": "1",
        "SQUARE_WEBHOOK_SIGNATURE_KEYS": webhook_key,
    }

    manage("migrate", "--noinput", env=env)
    manage("bootstrap_demo", env=env)

    manager = Manager()
    if redis_command is not None:
        say(f"Starting a private redis-server on port {PRIVATE_REDIS_PORT} (data in var/redis).")
        manager.add_process("redis", " ".join(redis_command), env=env)
    procfile = parse_procfile((ROOT / "Procfile.dev").read_text())
    for name, entry in procfile.processes.items():
        manager.add_process(name, entry, env=env)
    say(
        f"Open http://localhost:{WEB_PORT}/ and log in with the demo login above. Ctrl-C stops all."
    )
    threading.Thread(
        target=subscribe_sandbox_webhooks, args=(webhook_key.split(",")[0],), daemon=True
    ).start()
    manager.loop()
    sys.exit(manager.returncode)


def main(argv: list[str]) -> None:
    commands = {"run": run, "redis-url": redis_url_for_tests}
    if len(argv) != 1 or argv[0] not in commands:
        sys.exit(f"usage: python -m sous.dev {{{'|'.join(commands)}}}")
    commands[argv[0]]()


if __name__ == "__main__":
    main(sys.argv[1:])
