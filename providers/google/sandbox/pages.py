"""The HTML Google shows in the browser: the consent screen and the "Access blocked" error page.

Plain forms and no script, so a test can drive them with `requests` as easily as a browser.
"""

from __future__ import annotations

from jinja2 import Environment

from .auth_store import Client, PendingAuth
from .model import Account
from .scopes import IDENTITY, describe

_env = Environment(autoescape=True)

_STYLE = """
body{font-family:Roboto,Arial,sans-serif;background:#f0f4f9;margin:0;color:#1f1f1f}
main{max-width:460px;margin:48px auto;background:#fff;border-radius:28px;padding:36px}
h1{font-size:24px;font-weight:400;margin:0 0 12px}.who{color:#444;margin-bottom:16px}
ul{padding-left:0;list-style:none}li{padding:8px 0;border-bottom:1px solid #e3e3e3}
.buttons{display:flex;justify-content:flex-end;gap:12px;margin-top:24px}
button{border-radius:20px;padding:10px 24px;font-size:14px;border:1px solid #747775;background:#fff}
button.allow{background:#0b57d0;color:#fff;border-color:#0b57d0}.error{color:#b3261e}
select{font-size:14px;padding:6px;width:100%}
"""

CONSENT = _env.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Sign in - Google Accounts</title>
<style>{{ style }}</style></head>
<body><main>
<h1>{{ client.name }} wants to access your Google Account</h1>
<p class="who" id="account">{{ account.name }}
  &lt;<span class="email">{{ account.email }}</span>&gt;</p>
<form method="post" action="{{ action }}">
  <input type="hidden" name="request_id" value="{{ pending.id }}">
  <input type="hidden" name="scopes_shown" value="1">
  {% if accounts|length > 1 %}
  <p><label for="account-select">Choose an account</label>
  <select id="account-select" name="account">
    {% for a in accounts %}
    <option value="{{ a.sub }}"{% if a.sub == account.sub %} selected{% endif %}>
      {{ a.name }} ({{ a.email }})</option>
    {% endfor %}
  </select></p>
  {% else %}
  <input type="hidden" name="account" value="{{ account.sub }}">
  {% endif %}
  <p>This will allow {{ client.name }} to:</p>
  <ul>
  {% for scope in pending.scopes %}
    {% if scope in identity %}
    <li><input type="hidden" name="grant" value="{{ scope }}">{{ describe(scope) }}</li>
    {% else %}
    <li><label><input type="checkbox" name="grant" value="{{ scope }}" checked>
      {{ describe(scope) }}</label></li>
    {% endif %}
  {% endfor %}
  </ul>
  {% if already %}<p>{{ client.name }} already has some access to your Google Account.</p>
  {% endif %}
  <p>Make sure you trust {{ client.name }}. You can review or remove access at any time.</p>
  <div class="buttons">
    <button type="submit" name="decision" value="deny">Deny</button>
    <button type="submit" name="decision" value="allow" class="allow">Allow</button>
  </div>
</form>
</main></body></html>
"""
)

ERROR = _env.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Error {{ status }} ({{ error }})</title>
<style>{{ style }}</style></head>
<body><main>
<h1>Access blocked: {{ headline }}</h1>
<p class="error">Error {{ status }}: <strong id="error">{{ error }}</strong></p>
<p>{{ description }}</p>
{% if details %}<ul>{% for k, v in details %}<li>{{ k }}: {{ v }}</li>{% endfor %}</ul>{% endif %}
</main></body></html>
"""
)


def consent_page(
    *,
    action: str,
    client: Client,
    pending: PendingAuth,
    account: Account,
    accounts: list[Account],
    already: bool,
) -> str:
    return CONSENT.render(
        style=_STYLE,
        action=action,
        client=client,
        pending=pending,
        account=account,
        accounts=accounts,
        already=already,
        identity=IDENTITY,
        describe=describe,
    )


def error_page(
    status: int, error: str, description: str, details: list[tuple[str, str]] | None = None
) -> str:
    headline = (
        "This app's request is invalid"
        if error != "invalid_client"
        else "The OAuth client was not found"
    )
    return ERROR.render(
        style=_STYLE,
        status=status,
        error=error,
        headline=headline,
        description=description,
        details=details or [],
    )
