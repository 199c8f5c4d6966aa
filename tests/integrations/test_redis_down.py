"""While Redis is unreachable the pages work on what the database knows."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:9/0"  # the discard port: every connection is refused


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": DEAD_REDIS},
    }


def test_the_drawer_and_its_health_check_answer_without_the_cache(
    owner_client, org, make_connection, redis_down, caplog
):
    make_connection(org, "square")

    drawer = owner_client.get("/integrations/square/manage/")
    health = owner_client.get("/integrations/square/health/")

    assert drawer.status_code == 200
    assert "Connected as" in drawer.content.decode()
    assert health.status_code == 200
    # The sandbox is unreachable here too: the report says so instead of failing the page.
    assert "Could not reach Square just now" in health.content.decode()
    assert "cache.unavailable" in caplog.text


def test_staff_can_log_in(client, owner, redis_down):
    response = client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/integrations/").status_code == 200


def test_the_page_has_a_place_to_say_live_updates_are_unavailable(owner_client, redis_down):
    page = owner_client.get("/admin/integrations/").content.decode()
    assert 'id="live-status" data-live-status role="status">Live updates are unavailable' in page
