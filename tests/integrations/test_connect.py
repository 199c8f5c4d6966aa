"""Starting a connection: state, PKCE and the redirect URI from configuration."""

from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.models import OAuthState
from integrations.services import apps

pytestmark = pytest.mark.django_db


def start(client, key, **extra):
    response = client.get(f"/integrations/connect/{key}/", **extra)
    assert response.status_code == 302, response.content
    url = urlsplit(response["Location"])
    return url, {k: v[0] for k, v in parse_qs(url.query).items()}


def test_connect_redirects_to_squares_consent_screen_with_a_fresh_state(owner_client, org, owner):
    url, query = start(owner_client, "square")
    assert f"{url.scheme}://{url.netloc}{url.path}".endswith("/square/oauth2/authorize")
    assert query["client_id"] == "sq0idp-sous-local"
    assert query["redirect_uri"] == "http://testserver/integrations/callback/square"
    assert set(query["scope"].split()) == {"MERCHANT_PROFILE_READ", "ITEMS_READ", "ORDERS_READ"}
    assert len(query["state"]) >= 22  # ≥ 128 bits of randomness
    assert "code_challenge" not in query  # Square's code flow: the secret stays server-side
    attempt = OAuthState.objects.get()
    assert attempt.state_hash == OAuthState.hash(query["state"])  # only a hash is stored
    assert query["state"] not in str(OAuthState.objects.values())
    assert (attempt.user, attempt.organization, attempt.provider) == (owner, org, "square")
    assert attempt.session_key == owner_client.session.session_key
    assert (attempt.expires_at - attempt.created_at).total_seconds() == 600


def test_google_gets_pkce_s256_offline_access_and_consent(owner_client):
    _, query = start(owner_client, "google")
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert "https://www.googleapis.com/auth/drive.readonly" in query["scope"].split()


def test_each_attempt_gets_its_own_state(owner_client):
    assert start(owner_client, "square")[1]["state"] != start(owner_client, "square")[1]["state"]


def test_the_redirect_uri_ignores_a_spoofed_host_header(owner_client, settings):
    settings.ALLOWED_HOSTS = ["*"]
    _, query = start(owner_client, "square", HTTP_HOST="evil.example")
    assert query["redirect_uri"] == "http://testserver/integrations/callback/square"
    assert apps.redirect_uri("square") == "http://testserver/integrations/callback/square"


def test_an_unknown_provider_is_404(owner_client):
    assert owner_client.get("/integrations/connect/toast/").status_code == 404
    assert owner_client.get("/integrations/connect/nope/").status_code == 404


def test_a_provider_that_is_not_configured_cannot_be_connected(owner_client, settings):
    settings.GOOGLE_CLIENT_SECRET = ""
    assert owner_client.get("/integrations/connect/google/").status_code == 404
    assert not OAuthState.objects.exists()


def test_members_cannot_start_a_connection(client, member):
    client.force_login(member)
    assert client.get("/integrations/connect/square/").status_code == 403
    assert not OAuthState.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/integrations/connect/square/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
