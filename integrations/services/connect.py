"""Starting a connection: a single-use state bound to this session, then the consent URL."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations import crypto
from integrations.models import OAuthState
from providers import oauth

from . import apps


def begin(request, key: str, *, mode: str = OAuthState.Mode.POPUP) -> str:
    """Create the OAuth state (and PKCE verifier) and return the provider's consent URL."""
    provider = apps.provider(key)
    if not request.session.session_key:
        request.session.save()  # the state is bound to a session, so there must be one
    state = oauth.new_state()
    verifier = oauth.new_code_verifier() if provider.uses_pkce else None
    now = timezone.now()
    OAuthState.objects.create(
        state_hash=OAuthState.hash(state),
        session_key=request.session.session_key,
        user=request.user,
        organization=request.org,
        provider=key,
        mode=mode if mode in OAuthState.Mode.values else OAuthState.Mode.POPUP,
        code_verifier_encrypted=crypto.encrypt(
            verifier or "", aad=crypto.associated_data(request.org.pk, key, "pkce")
        ),
        created_at=now,
        expires_at=now + timedelta(seconds=OAuthState.TTL_SECONDS),
    )
    # Old attempts are useless once expired; keep the table small as we go.
    OAuthState.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return provider.oauth().authorization_url(
        redirect_uri=apps.redirect_uri(key),
        state=state,
        scopes=provider.scopes,
        code_verifier=verifier,
        extra=provider.authorization_params(),
    )
