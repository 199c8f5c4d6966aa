"""The web process as production runs it (the Procfile's line, DEBUG off, static files collected
by the release step): several worker processes serving pages, websockets and static files
under hashed names, cached for good and compressed."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import secrets
from pathlib import Path

import pytest
import requests
import websockets
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from requests.adapters import HTTPAdapter

from integrations.consumers import org_group
from tests.conftest import database_url, wait_for
from tests.sous.procfile import ROOT, collected_static, environment, probe, web_server
from tests.sous.test_checks_deploy import PRODUCTION
from tests.sous.test_websocket import session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = "max-age=31536000"
STATIC_URL = re.compile(r"""(?:href|src)="(/static/[^"]+)\"""")
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")


@pytest.fixture(scope="module")
def server(django_db_setup):
    """Production's settings on plain http (no proxy in front), on this run's database and
    Redis, with two worker processes."""
    env = environment(
        **{
            **PRODUCTION,
            "PUBLIC_BASE_URL": None,
            "TRUSTED_PROXY_COUNT": None,
            "DATABASE_URL": database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            # Sessions this test process makes are signed with its key.
            "SECRET_KEY": django_settings.SECRET_KEY,
            "WEB_CONCURRENCY": "2",
            # As platforms' guides set it: gunicorn and uvicorn would believe any client's
            # forwarded headers, if they read them.
            "FORWARDED_ALLOW_IPS": "*",
        }
    )
    with web_server(env) as server:
        yield server
    # Every line the server wrote, gunicorn's own included, is one JSON object for the logs.
    lines = server.output.splitlines()
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line


def session_processes(session: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, program name) of the processes in a session."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().partition(" (")[2].rpartition(")")
        except OSError:  # ended meanwhile
            continue
        _, parent, _, process_session = rest.split()[:4]
        if int(process_session) == session:
            found[int(stat.parent.name)] = (int(parent), name)
    return found


def worker_pids(session: int) -> set[int]:
    """The server's worker processes: the children of the gunicorn that the shell started."""
    processes = session_processes(session)
    (master,) = [
        pid
        for pid, (parent, name) in processes.items()
        if name == "gunicorn" and processes.get(parent, (0, ""))[1] != "gunicorn"
    ]
    return {pid for pid, (parent, _) in processes.items() if parent == master}


def test_it_runs_the_configured_number_of_worker_processes_and_serves_pages(server):
    health = requests.get(f"{server.url}/healthz", timeout=10)
    login = requests.get(f"{server.url}/accounts/login/", timeout=10)

    assert health.status_code == 200, health.text
    assert health.json()["checks"]["database"] == health.json()["checks"]["redis"] == "ok"
    assert login.status_code == 200
    assert 'name="password"' in login.text
    workers = wait_for(lambda: len(pids := worker_pids(server.session)) >= 2 and pids, timeout=30)
    assert len(workers) == 2


def test_without_web_concurrency_it_runs_a_worker_per_available_core(tmp_path):
    config = "import json, sous.gunicorn as c; print(json.dumps([c.workers, c.raw_env]))"

    default = probe(config, env=environment(), cwd=tmp_path)
    assert default[0] == len(os.sched_getaffinity(0))
    # The web processes' pools together stay within 40 PostgreSQL connections.
    three = probe(config, env=environment(WEB_CONCURRENCY="3"), cwd=tmp_path)
    assert three == [3, ["DATABASE_POOL_SIZE=13"]]
    chosen = probe(config, env=environment(DATABASE_POOL_SIZE="5"), cwd=tmp_path)
    assert chosen[1] == ["DATABASE_POOL_SIZE=5"]


def test_a_cgroup_cpu_quota_caps_the_worker_count_affinity_does_not_see(tmp_path):
    from sous import gunicorn

    assert gunicorn.cgroup_quota(tmp_path) is None  # not in a cgroup
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert gunicorn.cgroup_quota(tmp_path) is None  # unlimited
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # docker --cpus 1.5
    assert gunicorn.cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")  # cgroup v1, 2 CPUs
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert gunicorn.cgroup_quota(tmp_path) == 2


def test_many_workers_never_get_more_than_one_connection_each_by_default(tmp_path):
    config = "import json, sous.gunicorn as c; print(json.dumps(c.raw_env))"

    assert probe(config, env=environment(WEB_CONCURRENCY="30"), cwd=tmp_path) == [
        "DATABASE_POOL_SIZE=1"
    ]
    per_instance = environment(WEB_CONCURRENCY="4", WEB_DATABASE_CONNECTIONS="12")
    assert probe(config, env=per_instance, cwd=tmp_path) == ["DATABASE_POOL_SIZE=3"]


def test_a_websocket_connects_and_receives_through_it(server, owner, org):
    cookie = session_cookie_for(owner).decode()

    async def run():
        async with websockets.connect(
            f"{server.url.replace('http', 'ws', 1)}/ws/integrations/",
            additional_headers={"Cookie": cookie, "Origin": server.url},
        ) as socket_:
            await get_channel_layer().group_send(
                org_group(org.id), {"type": "integrations.event", "payload": {"kind": "hello"}}
            )
            return json.loads(await asyncio.wait_for(socket_.recv(), 10))

    assert async_to_sync(run)() == {"kind": "hello"}


def test_pages_name_static_files_by_hash_and_they_are_cached_for_a_year(server, owner):
    cookie = session_cookie_for(owner).decode()
    # The grid: the provider cards' logos and stylesheets, and the page's modules.
    page = requests.get(f"{server.url}/admin/integrations/", headers={"Cookie": cookie}, timeout=10)
    assert page.status_code == 200, page.text
    urls = set(STATIC_URL.findall(page.text))
    assert any(url.endswith(".js") for url in urls) and any("/providers/" in url for url in urls)

    for url in urls:
        assert HASHED.search(url), url
        answer = requests.get(f"{server.url}{url}", timeout=10)
        assert answer.status_code == 200, url
        assert YEAR in answer.headers["Cache-Control"]
        assert "immutable" in answer.headers["Cache-Control"]


def test_modules_import_each_other_by_hashed_name(server):
    manifest = json.loads((collected_static() / "staticfiles.json").read_text())["paths"]
    main = requests.get(f"{server.url}/static/{manifest['integrations/main.js']}", timeout=10)

    imported = re.findall(r'from "\./([^"]+)"', main.text)
    assert imported and all(HASHED.search(name) for name in imported), imported
    for name in imported:
        module = requests.get(f"{server.url}/static/integrations/{name}", timeout=10)
        assert module.status_code == 200
        assert YEAR in module.headers["Cache-Control"]


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_come_compressed_when_the_browser_accepts_it(server, encoding):
    manifest = json.loads((collected_static() / "staticfiles.json").read_text())["paths"]
    url = f"{server.url}/static/{manifest['css/sous.css']}"
    source = (ROOT / "static" / "css" / "sous.css").read_bytes()

    compressed = requests.get(url, headers={"Accept-Encoding": encoding}, timeout=10)
    plain = requests.get(url, headers={"Accept-Encoding": "identity"}, timeout=10)

    assert compressed.headers["Content-Encoding"] == encoding
    assert int(compressed.headers["Content-Length"]) < len(source) / 2
    assert "Accept-Encoding" in compressed.headers["Vary"]
    if encoding == "gzip":  # requests decodes gzip itself (brotli only with a brotli module)
        assert compressed.content == source
    assert "Content-Encoding" not in plain.headers
    assert plain.content == source


def test_a_name_without_hash_is_served_but_cached_briefly(server):
    answer = requests.get(f"{server.url}/static/css/sous.css", timeout=10)

    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "max-age=300, public"
    assert answer.content == (ROOT / "static" / "css" / "sous.css").read_bytes()


class FromAddress(HTTPAdapter):
    """Connections from a chosen loopback address: a client of its own."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def test_forwarded_headers_from_a_client_change_neither_its_address_nor_its_scheme(server):
    """No proxy is declared, so X-Forwarded-For and -Proto are the client's own words: a client
    writing a new address each time is still rate limited, and an https it claims is not
    believed (Django would then refuse the http Origin of its login form)."""
    client = requests.Session()
    client.mount(
        "http://",
        FromAddress(str(ipaddress.IPv4Address("127.0.0.0") + secrets.randbelow(2**24 - 2) + 1)),
    )

    def failed_login() -> str:
        forged = {
            "X-Forwarded-For": str(ipaddress.IPv4Address("10.0.0.0") + secrets.randbelow(2**24)),
            "X-Forwarded-Proto": "https",
        }
        form = client.get(f"{server.url}/accounts/login/", headers=forged, timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = client.post(
            f"{server.url}/accounts/login/",
            headers={**forged, "Origin": server.url},
            data={
                "csrfmiddlewaretoken": token,
                "login": f"nobody-{secrets.token_hex(4)}@example.com",
                "password": "not the password",
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.status_code
        return answer.text

    # allauth allows ten failed logins a minute from one address.
    for _ in range(10):
        assert "Too many failed login attempts" not in failed_login()
    assert "Too many failed login attempts" in failed_login()


def test_every_static_file_a_template_names_is_collected():
    """In production a page naming a static file that was not collected fails to render. (The
    names providers give, logos and stylesheets, are on the grid, fetched above.)"""
    manifest = json.loads((collected_static() / "staticfiles.json").read_text())["paths"]
    named = {
        (path.relative_to(ROOT).as_posix(), name)
        for folder in ("templates", "providers")
        for path in (ROOT / folder).rglob("*.html")
        for name in re.findall(r"""{%\s*static\s+["']([^"']+)["']""", path.read_text())
    }

    assert len(named) > 10
    assert [(where, name) for where, name in sorted(named) if name not in manifest] == []
