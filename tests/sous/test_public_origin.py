"""Sous on 127.0.0.1 when its public origin is localhost: pages move to the public origin
before login, so the Connect popup comes back to the session that started it."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_localhost(settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "[::1]:8000"])
def test_a_page_on_another_loopback_name_moves_to_the_public_origin(client, on_localhost, host):
    response = client.get("/admin/integrations/?tab=square", HTTP_HOST=host)
    assert response.status_code == 302
    assert response["Location"] == "http://localhost:8000/admin/integrations/?tab=square"


def test_the_login_page_moves_too_so_the_session_is_made_on_the_public_origin(client, on_localhost):
    response = client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000")
    assert response["Location"] == "http://localhost:8000/accounts/login/"


def test_the_public_origin_is_served_as_it_is(client, on_localhost):
    assert client.get("/accounts/login/", HTTP_HOST="localhost:8000").status_code == 200


def test_health_checks_answer_on_any_address(client, on_localhost):
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code in (200, 503)


def test_forms_are_not_redirected(client, on_localhost):
    response = client.post("/accounts/login/", {}, HTTP_HOST="127.0.0.1:8000")
    assert response.status_code != 302 or "localhost" not in response["Location"]


def test_another_port_is_another_server_and_is_left_alone(client, on_localhost, settings):
    settings.ALLOWED_HOSTS = ["*"]
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:9000").status_code == 200


def test_a_non_loopback_host_is_not_redirected_anywhere(client, on_localhost, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = client.get("/accounts/login/", HTTP_HOST="evil.example:8000")
    assert response.status_code == 200
