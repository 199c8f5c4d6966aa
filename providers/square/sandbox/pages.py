"""The browser pages of the authorize step (README §4.1): consent, and refusal.

Plain HTML forms, no JavaScript, so tests (and Playwright) can drive them: the consent form
posts back to the authorize URL with `decision=allow` or `decision=deny`.
"""

from __future__ import annotations

from jinja2 import Environment, select_autoescape

from .menu import SCOPE_LABELS

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

_CONSENT = _ENV.from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><link rel="icon" href="data:,">
<title>Square — Allow {{ app_name }}?</title>
<style>
 body { font-family: system-ui, sans-serif; background: #f2f2f2; margin: 0; }
 main { max-width: 28rem; margin: 4rem auto; background: #fff; padding: 2rem;
        border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
 .merchant { font-weight: 600; }
 ul { padding-left: 1.2rem; } li { margin: .3rem 0; }
 .actions { display: flex; gap: 1rem; margin-top: 1.5rem; }
 button { flex: 1; padding: .7rem; font-size: 1rem; border-radius: 6px; cursor: pointer; }
 button[value=allow] { background: #006aff; color: #fff; border: 0; }
 button[value=deny] { background: #fff; border: 1px solid #999; }
 .sandbox { color: #a15c00; font-size: .85rem; }
</style>
</head>
<body>
<main>
<p class="sandbox">Local Square sandbox — no real account is involved.</p>
<h1>{{ app_name }} would like access to
  <span class="merchant" id="merchant-name">{{ merchant.business_name }}</span></h1>
<p>It will be able to:</p>
<ul id="scopes">
{% for scope in scopes %}  <li data-scope="{{ scope.code }}">{{ scope.label }}</li>
{% endfor %}</ul>
<form method="post" action="{{ action }}">
{% for name, value in hidden %}  <input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
{% if merchants|length > 1 %}  <label for="merchant">Business</label>
  <select name="merchant" id="merchant">
{% for m in merchants %}    <option value="{{ m.id }}"
      {%- if m.id == merchant.id %} selected{% endif %}>{{ m.business_name }}</option>
{% endfor %}  </select>
{% else %}  <input type="hidden" name="merchant" value="{{ merchant.id }}">
{% endif %}  <div class="actions">
    <button type="submit" name="decision" value="deny">Deny</button>
    <button type="submit" name="decision" value="allow">Allow</button>
  </div>
</form>
</main>
</body>
</html>
"""
)

_ERROR = _ENV.from_string(
    """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>Square — Authorization error</title></head>
<body>
<main>
<h1>We couldn't process this authorization request</h1>
<p id="error">{{ message }}</p>
<p>Contact the developer of the application you were trying to connect.</p>
</main>
</body>
</html>
"""
)


def scope_label(scope: str) -> str:
    return SCOPE_LABELS.get(scope) or scope.replace("_", " ").capitalize()


def consent_page(
    *,
    app_name: str,
    action: str,
    merchants: list,
    merchant,
    scopes: tuple[str, ...],
    hidden: list[tuple[str, str]],
) -> str:
    return _CONSENT.render(
        app_name=app_name,
        action=action,
        merchants=merchants,
        merchant=merchant,
        scopes=[{"code": s, "label": scope_label(s)} for s in scopes],
        hidden=hidden,
    )


def error_page(message: str) -> str:
    return _ERROR.render(message=message)
