"""The web run's own parts, fast: the closed-loop clients count what the server answered, the
loopback guard sees a server reachable from elsewhere, and the drawer's load-triggered
fragments are found. (The run itself is `make bench BENCH_ARGS=--web-only`, never a test.)"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import load, web
from bench.staff import load_triggered


class Counting(BaseHTTPRequestHandler):
    """200 on /ok, 500 on /broken, 302 on /login-first; counts requests in flight at once."""

    lock = threading.Lock()
    in_flight = 0
    most_at_once = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        with self.lock:
            Counting.in_flight += 1
            Counting.most_at_once = max(Counting.most_at_once, Counting.in_flight)
        status = {"/ok": 200, "/broken": 500, "/login-first": 302}[self.path]
        body = b"<p>hello</p>"
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/accounts/login/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.lock:
            Counting.in_flight -= 1

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    Counting.most_at_once = 0
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_closed_loop_clients_count_every_answer_and_never_exceed_their_number(server):
    result = load.run(f"{server}/ok", clients=3, seconds=0.5, warm_up=0)

    assert result.requests > 10
    assert result.errors == 0
    assert len(result.latencies_ms) == result.requests
    assert 1 <= Counting.most_at_once <= 3
    assert result.per_s == pytest.approx(result.requests / result.seconds)
    assert result.cpu["generator"] > 0


def test_anything_but_a_200_is_an_error_with_a_sample(server):
    broken = load.run(f"{server}/broken", clients=2, seconds=0.3, warm_up=0)
    redirected = load.run(f"{server}/login-first", clients=1, seconds=0.3, warm_up=0)

    assert broken.errors == broken.requests > 0
    assert broken.error_samples == ["500"]
    assert redirected.errors == redirected.requests > 0
    assert redirected.error_samples == ["302 /accounts/login/"]


def test_a_refused_connection_is_an_error_too():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens on it

    result = load.run(f"http://127.0.0.1:{port}/", clients=1, seconds=0.2, warm_up=0)

    assert result.errors == result.requests > 0
    assert result.error_samples[0].startswith("ConnectError")


@pytest.mark.parametrize(("address", "exposed"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_the_loopback_guard_refuses_a_server_reachable_from_elsewhere(address, exposed):
    with socket.socket() as sock:
        sock.bind((address, 0))
        sock.listen()
        port = sock.getsockname()[1]

        assert web.listening_addresses(port)
        if exposed:
            with pytest.raises(RuntimeError, match="beyond the loopback"):
                web._refuse_beyond_loopback(port)
        else:
            web._refuse_beyond_loopback(port)


def test_the_web_line_is_read_from_the_procfile_and_kept_on_the_loopback():
    """The address may be in the line (rewritten) or in gunicorn's config file (outranked by
    the environment the bench gives the line): either way gunicorn binds the loopback only."""
    assert web.on_loopback("daphne -b 0.0.0.0 -p $PORT app") == "daphne -b 127.0.0.1 -p $PORT app"
    argv = shlex.split(web.on_loopback(web.procfile_line("web")))
    assert argv[0] == "gunicorn"
    # gunicorn's own reading of its settings, in a fresh interpreter as the line would run.
    probe = (
        "import sys; from gunicorn.app.wsgiapp import WSGIApplication; "
        f"sys.argv = {argv!r}; print(WSGIApplication('%(prog)s').cfg.bind)"
    )
    env = web.server_env(dict(os.environ), 8123)
    bound = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()

    assert bound == "['127.0.0.1:8123']"


def test_the_fragments_a_drawer_loads_as_it_opens_are_found():
    html = """
      <div hx-get="/integrations/square/health/" hx-trigger="load" hx-swap="outerHTML"></div>
      <div id="square-locations"
           hx-get="/integrations/square/lookup/locations/?known=L1&amp;new=L2"
           hx-trigger="load" hx-swap="innerHTML"></div>
      <select hx-post="/x/" hx-trigger="change"></select>
      <div hx-get="/folders/" hx-trigger="toggle once from:closest details"></div>
    """

    assert load_triggered(html) == [
        "/integrations/square/health/",
        "/integrations/square/lookup/locations/?known=L1&new=L2",
    ]
