"""Token encryption: AES-256-GCM under a key ring, bound to the row's organisation and provider."""

import base64

import pytest
from django.core.management import call_command

from integrations import crypto
from integrations.services import tokens

NEW_KEY = base64.b64encode(b"n" * 32).decode()


def aad(org_id=1, provider="square", purpose="access"):
    return crypto.associated_data(org_id, provider, purpose)


def test_a_token_round_trips_and_never_appears_in_its_ciphertext():
    sealed = crypto.encrypt("EAAA-secret-token", aad=aad())
    assert "EAAA-secret-token" not in sealed
    assert crypto.decrypt(sealed, aad=aad()) == "EAAA-secret-token"


def test_the_same_token_encrypts_differently_each_time():
    assert crypto.encrypt("x", aad=aad()) != crypto.encrypt("x", aad=aad())


def test_a_ciphertext_moved_to_another_organisation_or_provider_fails():
    sealed = crypto.encrypt("EAAA-secret-token", aad=aad(org_id=1))
    with pytest.raises(crypto.Undecryptable):
        crypto.decrypt(sealed, aad=aad(org_id=2))
    with pytest.raises(crypto.Undecryptable):
        crypto.decrypt(sealed, aad=aad(provider="google"))


def test_a_tampered_ciphertext_fails():
    sealed = crypto.encrypt("EAAA-secret-token", aad=aad())
    version, key_id, payload = sealed.split(".")
    flipped = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
    with pytest.raises(crypto.Undecryptable):
        crypto.decrypt(f"{version}.{key_id}.{flipped}", aad=aad())


def test_old_keys_still_decrypt_after_a_new_key_is_put_first(settings):
    sealed = crypto.encrypt("EAAA-secret-token", aad=aad())
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY, *settings.INTEGRATIONS_ENCRYPTION_KEYS]
    assert crypto.decrypt(sealed, aad=aad()) == "EAAA-secret-token"
    assert crypto.key_id_of(crypto.encrypt("y", aad=aad())) == crypto.current_key_id()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(crypto.Undecryptable):
        crypto.decrypt(sealed, aad=aad())


def test_rotation_re_encrypts_every_connection_under_the_first_key(
    settings, org, make_connection, capsys
):
    config = make_connection(org, "square", access="EAAA-rotate-me", refresh="EQAA-rotate-me")
    old_id = crypto.key_id_of(config.access_token_encrypted)
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY, *settings.INTEGRATIONS_ENCRYPTION_KEYS]
    call_command("integrations_rotate_keys")
    assert "1 connection re-encrypted" in capsys.readouterr().out
    config.refresh_from_db()
    assert crypto.key_id_of(config.access_token_encrypted) == crypto.current_key_id() != old_id
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY]  # the old key can now be dropped
    grant = tokens.read(config)
    assert (grant.access_token, grant.refresh_token) == ("EAAA-rotate-me", "EQAA-rotate-me")


def test_unreadable_credentials_put_the_connection_in_error_instead_of_crashing(
    settings, org, make_connection, owner_client
):
    config = make_connection(org, "square")
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [NEW_KEY]  # the key that sealed it is gone
    with pytest.raises(tokens.CredentialsUnavailable):
        tokens.access_token(config)
    config.refresh_from_db()
    assert config.in_error
    assert config.last_error == "Credentials unreadable, reconnect"
    page = owner_client.get("/admin/integrations/").content.decode()
    assert "Credentials unreadable, reconnect" in page
    assert "Reconnect" in page
