"""The web process as production runs it (the Procfile's line) behind one TLS proxy: https is
recognised from the proxy's header and enforced, and login rate limits count each client by the
address the proxy saw, which the client cannot forge."""

from __future__ import annotations

import ipaddress
import re
import secrets

import pytest
import requests
from django.conf import settings as django_settings

from tests.conftest import database_url
from tests.sous.procfile import environment, web_process
from tests.sous.test_checks_deploy import PRODUCTION

HOST = "api.sous.tools"
PROXY = {"Host": HOST, "X-Forwarded-Proto": "https"}
TOO_MANY = "Too many failed login attempts"


def client_address() -> str:
    """A fresh address per run: allauth's counters live a minute in Redis."""
    return str(ipaddress.IPv4Address("10.0.0.0") + secrets.randbelow(2**24))


@pytest.fixture
def production_web(db):
    services = {"DATABASE_URL": database_url(), "REDIS_URL": django_settings.REDIS_URL}
    env = environment(**{**PRODUCTION, **services})
    with web_process(env) as base_url:
        yield base_url


def failed_login(base_url: str, forwarded_for: str) -> str:
    """One wrong password from a client, through the proxy; the page's text."""
    headers = {**PROXY, "X-Forwarded-For": forwarded_for}
    form = requests.get(f"{base_url}/accounts/login/", headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = requests.post(
        f"{base_url}/accounts/login/",
        headers={**headers, "Origin": f"https://{HOST}"},
        # Sent by hand: the cookie is Secure, and this side of the proxy is plain http.
        cookies={"csrftoken": form.cookies["csrftoken"]},
        data={
            "csrfmiddlewaretoken": token,
            # A new address each time: the per-address limit is the one under test.
            "login": f"nobody-{secrets.token_hex(4)}@example.com",
            "password": "not the password",
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.status_code
    return answer.text


def test_https_comes_from_the_proxy_and_is_enforced(production_web):
    plain = requests.get(
        f"{production_web}/accounts/login/",
        headers={"Host": HOST},
        allow_redirects=False,
        timeout=10,
    )
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://{HOST}/accounts/login/"

    secure = requests.get(f"{production_web}/accounts/login/", headers=PROXY, timeout=10)
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure.cookies.get("csrftoken")
    assert all(cookie.secure for cookie in secure.cookies)

    # The load balancer's health probe comes over plain http from inside the network.
    probe = requests.get(f"{production_web}/healthz", headers={"Host": HOST}, timeout=10)
    assert probe.status_code == 200


def test_login_rate_limits_count_the_client_not_the_proxy(production_web):
    client, neighbour = client_address(), client_address()
    # allauth allows ten failed logins a minute from one address.
    for _ in range(10):
        assert TOO_MANY not in failed_login(production_web, client)
    assert TOO_MANY in failed_login(production_web, client)

    # Another client behind the same proxy is not locked out with the first.
    assert TOO_MANY not in failed_login(production_web, neighbour)
    # The limited client cannot pass for someone else: the proxy appends what it saw.
    assert TOO_MANY in failed_login(production_web, f"{client_address()}, {client}")
