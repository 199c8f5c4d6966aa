"""Google's OAuth 2.0 web-server flow and identity endpoints (README §1).

GET  /o/oauth2/v2/auth           consent page (accounts.google.com)
POST /o/oauth2/v2/auth           the page's Allow / Deny form
POST /token                      authorization_code and refresh_token grants (oauth2.googleapis.com)
POST /revoke                     revoke a grant by access or refresh token
GET  /oauth2/v3/userinfo         OIDC claims (also /v1/userinfo and legacy /oauth2/v2/userinfo)
GET  /oauth2/v3/certs            the id_token signing keys
GET  /.well-known/openid-configuration
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import ids, scopes
from .auth_store import Issued, OAuthError, PendingAuth
from .errors import BEARER_CHALLENGE, oauth_error
from .idtoken import ISSUER, Signer, at_hash
from .model import Account
from .pages import consent_page, error_page
from .state import GoogleState

PENDING_TTL = 3600  # how long a consent page stays answerable
PROMPTS = {"none", "consent", "select_account"}
CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthApi:
    def __init__(self, state: GoogleState, count: Callable[[str], None], base_url: str) -> None:
        self.state = state
        self.count = count
        self.base_url = base_url  # where this half is served, e.g. http://127.0.0.1:8765/google
        self.signer = Signer()

    def routes(self) -> list[Route]:
        return [
            Route("/o/oauth2/v2/auth", self.authorize, methods=["GET", "POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["GET", "POST"]),
            Route("/oauth2/v3/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/v1/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/oauth2/v2/userinfo", self.userinfo_v2),
            Route("/oauth2/v3/certs", self.certs),
            Route("/.well-known/openid-configuration", self.discovery),
        ]

    # --- the consent page ------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.decide(request)
        self.count("google.oauth.authorize")
        params = request.query_params
        with self.state.lock:
            auth, store = self.state.auth, self.state.drive
            client = auth.client(params.get("client_id"))
            if client is None:
                return _page(400, "invalid_client", "The OAuth client was not found.")
            redirect_uri = params.get("redirect_uri", "")
            # Exact match: scheme, case and trailing slash all count (README §1.1). Google shows
            # these errors instead of redirecting to an unverified address.
            if redirect_uri not in client.redirect_uris:
                return _page(
                    400,
                    "redirect_uri_mismatch",
                    "You can't sign in to this app because it doesn't comply with Google's "
                    "OAuth 2.0 policy. Register the redirect URI for this client.",
                    [
                        ("redirect_uri", redirect_uri or "(missing)"),
                        ("client_id", client.client_id),
                    ],
                )
            try:
                pending = self._pending(request, client.client_id, redirect_uri)
            except OAuthError as exc:
                return _page(400, exc.error, exc.description)
            account = _hinted(list(store.accounts.values()), pending.login_hint)
            if "none" in pending.prompt:
                # No UI allowed: succeed only if this account already granted every scope.
                if set(pending.scopes) <= auth.granted_scopes(client.client_id, account.sub):
                    code = auth.approve(pending, account.sub, pending.scopes)
                    return self._success(pending, code.code, code.scopes, account)
                return _redirect(
                    redirect_uri, {"error": "consent_required", "state": pending.state}
                )
            auth.pending[pending.id] = pending
            html = consent_page(
                action=request.url.path,
                client=client,
                pending=pending,
                account=account,
                accounts=list(store.accounts.values()),
                already=bool(auth.active_grants(client.client_id, account.sub)),
            )
        return HTMLResponse(html)

    def _pending(self, request: Request, client_id: str, redirect_uri: str) -> PendingAuth:
        params = request.query_params
        response_type = params.get("response_type")
        if response_type != "code":
            raise OAuthError(
                "invalid_request", f"Invalid response_type: {response_type or '(missing)'}"
            )
        if not params.get("scope", "").strip():
            raise OAuthError("invalid_request", "Missing required parameter: scope")
        requested, unknown = scopes.normalize(params["scope"])
        if unknown:
            raise OAuthError(
                "invalid_scope", f"Some requested scopes were invalid: {' '.join(unknown)}"
            )
        access_type = params.get("access_type", "online")
        if access_type not in ("online", "offline"):
            raise OAuthError("invalid_request", f"Invalid access_type: {access_type}")
        prompt = frozenset(params.get("prompt", "").split())
        if not prompt <= PROMPTS or ("none" in prompt and len(prompt) > 1):
            # Space-delimited, case-sensitive; `none` must be used alone (README §1.1).
            raise OAuthError("invalid_request", f"Invalid prompt: {params.get('prompt')}")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if method and not challenge:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
        if challenge:
            method = method or "plain"  # the default when a challenge comes alone [NA]
            if method not in ("S256", "plain") or not CHALLENGE.fullmatch(challenge):
                raise OAuthError(
                    "invalid_request", "Invalid code_challenge or code_challenge_method"
                )
        return PendingAuth(
            id=ids.opaque(),
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=requested,
            state=params.get("state"),
            offline=access_type == "offline",
            prompt=prompt,
            include_granted_scopes=params.get("include_granted_scopes") == "true",
            code_challenge=challenge,
            code_challenge_method=method if challenge else None,
            login_hint=params.get("login_hint"),
            nonce=params.get("nonce"),
            expires_at=self.state.clock.time() + PENDING_TTL,
        )

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        with self.state.lock:
            auth, store = self.state.auth, self.state.drive
            pending = auth.pending.pop(str(form.get("request_id", "")), None)
            if pending is None or pending.expires_at <= self.state.clock.time():
                return _page(
                    400, "invalid_request", "This sign-in request expired or was already answered."
                )
            decision = form.get("decision")
            if decision == "deny":
                self.count("google.oauth.consent.deny")
                return _redirect(
                    pending.redirect_uri, {"error": "access_denied", "state": pending.state}
                )
            if decision != "allow":
                return _page(400, "invalid_request", "Choose Allow or Deny.")
            self.count("google.oauth.consent.allow")
            account = next(
                (a for a in store.accounts.values() if a.sub == form.get("account")),
                _hinted(list(store.accounts.values()), pending.login_hint),
            )
            granted = pending.scopes
            if form.get("scopes_shown"):
                # Granular consent: the user may untick scopes; the app must read `scope`
                # in the answers to know what it got (README §1.1).
                ticked = set(form.getlist("grant"))
                granted = tuple(s for s in pending.scopes if s in ticked or s in scopes.IDENTITY)
            if not granted:
                return _redirect(
                    pending.redirect_uri, {"error": "access_denied", "state": pending.state}
                )
            code = auth.approve(pending, account.sub, granted)
            return self._success(pending, code.code, code.scopes, account)

    def _success(
        self, pending: PendingAuth, code: str, granted: tuple[str, ...], account: Account
    ) -> Response:
        index = list(self.state.drive.accounts).index(account.sub)
        return _redirect(
            pending.redirect_uri,
            {
                "state": pending.state,
                "code": code,
                "scope": " ".join(granted),
                "authuser": str(index),
                "prompt": "none" if "none" in pending.prompt else "consent",
            },
        )

    # --- token endpoint --------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = await _form(request)
        grant_type = form.get("grant_type") or ""
        known = grant_type in ("authorization_code", "refresh_token")
        self.count(f"google.oauth.token.{grant_type if known else 'other'}")
        client_id, secret = _client_credentials(request, form)
        try:
            with self.state.lock:
                auth = self.state.auth
                if not known:
                    raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
                client = auth.authenticate_client(client_id, secret)
                if grant_type == "authorization_code":
                    issued = auth.exchange_code(
                        client,
                        form.get("code"),
                        form.get("redirect_uri"),
                        form.get("code_verifier"),
                    )
                else:
                    issued = auth.refresh_grant(client, form.get("refresh_token"))
                account = self.state.drive.accounts[issued.grant.sub]
                expires_in = max(round(issued.access.expires_at - self.state.clock.time()), 0)
        except OAuthError as exc:
            return oauth_error(exc.status, exc.error, exc.description, NO_STORE)
        return JSONResponse(self._token_body(issued, account, expires_in), headers=NO_STORE)

    def _token_body(self, issued: Issued, account: Account, expires_in: int) -> dict:
        # Field names and shapes per README §1.2/§1.3: no refresh_token on a refresh.
        body: dict = {
            "access_token": issued.access.token,
            "expires_in": expires_in,
            "scope": " ".join(issued.grant.scopes),
            "token_type": "Bearer",
        }
        if issued.refresh_token:
            body["refresh_token"] = issued.refresh_token
        if scopes.OPENID in issued.grant.scopes:
            now = int(self.state.clock.time())
            claims = {
                "iss": ISSUER,
                "azp": issued.grant.client_id,
                "aud": issued.grant.client_id,
                "sub": account.sub,
                "at_hash": at_hash(issued.access.token),
                "iat": now,
                "exp": now + 3600,
                **_identity_claims(account, issued.grant.scopes),
            }
            if issued.nonce:
                claims["nonce"] = issued.nonce
            body["id_token"] = self.signer.sign(claims)
        return body

    async def revoke(self, request: Request) -> Response:
        self.count("google.oauth.revoke")
        form = await _form(request)
        token = request.query_params.get("token") or form.get("token")
        if not token:
            return oauth_error(400, "invalid_request", "Missing required parameter: token")
        try:
            with self.state.lock:
                self.state.auth.revoke(token)
        except OAuthError as exc:
            return oauth_error(exc.status, exc.error, exc.description)
        return JSONResponse({})

    # --- identity --------------------------------------------------------------------------

    def _bearer_account(self, request: Request) -> tuple[Account, tuple[str, ...]] | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = (
            credentials.strip()
            if scheme.lower() == "bearer"
            else request.query_params.get("access_token")
        )
        with self.state.lock:
            record = self.state.auth.validate(token)
            if record is None:
                return None
            return self.state.drive.accounts[record.sub], record.scopes

    async def userinfo(self, request: Request) -> Response:
        self.count("google.userinfo")
        found = self._bearer_account(request)
        if found is None:
            return oauth_error(
                401,
                "invalid_request",
                "Invalid Credentials",
                {"WWW-Authenticate": BEARER_CHALLENGE},
            )
        account, granted = found
        return JSONResponse({"sub": account.sub, **_identity_claims(account, granted)})

    async def userinfo_v2(self, request: Request) -> Response:
        """The legacy OAuth2 v2 `Userinfo` shape (README §1.5, [O2])."""
        self.count("google.userinfo")
        found = self._bearer_account(request)
        if found is None:
            body = {
                "error": {
                    "code": 401,
                    "message": "Invalid Credentials",
                    "status": "UNAUTHENTICATED",
                }
            }
            return JSONResponse(
                body, status_code=401, headers={"WWW-Authenticate": BEARER_CHALLENGE}
            )
        account, granted = found
        claims = _identity_claims(account, granted)
        body = {"id": account.sub}
        if "email" in claims:
            body.update(email=account.email, verified_email=True, hd=claims.get("hd"))
        for key in ("name", "given_name", "family_name", "picture", "locale"):
            if key in claims:
                body[key] = claims[key]
        return JSONResponse({k: v for k, v in body.items() if v is not None})

    async def certs(self, request: Request) -> Response:
        return JSONResponse(self.signer.jwks())

    async def discovery(self, request: Request) -> Response:
        base = self.base_url
        return JSONResponse(
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/v1/userinfo",
                "revocation_endpoint": f"{base}/revoke",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "claims_supported": [
                    "aud",
                    "email",
                    "email_verified",
                    "exp",
                    "family_name",
                    "given_name",
                    "iat",
                    "iss",
                    "name",
                    "picture",
                    "sub",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )


def _identity_claims(account: Account, granted: tuple[str, ...]) -> dict:
    claims: dict = {}
    if scopes.PROFILE in granted:
        claims.update(
            name=account.name,
            given_name=account.given_name,
            family_name=account.family_name,
            picture=account.picture,
            locale=account.locale,
        )
    if scopes.EMAIL in granted:
        claims.update(email=account.email, email_verified=True)
        if account.hosted_domain:
            claims["hd"] = account.hosted_domain
    return claims


def _hinted(accounts: list[Account], hint: str | None) -> Account:
    """login_hint (an email or sub) preselects an account; otherwise the first one."""
    return next((a for a in accounts if hint in (a.email, a.sub)), accounts[0])


def _redirect(uri: str, params: dict[str, str | None]) -> RedirectResponse:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=302)


def _page(status: int, error: str, description: str, details: list[tuple[str, str]] | None = None):
    return HTMLResponse(error_page(status, error, description, details), status_code=status)


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            return {}
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    form = await request.form()
    return {k: str(v) for k, v in form.items()}


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """client_secret_basic or client_secret_post (README §1.2, [OIDC])."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
    return form.get("client_id"), form.get("client_secret")
