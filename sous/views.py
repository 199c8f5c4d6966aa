"""Platform endpoints that belong to no domain: health and organisation switching."""

import logging

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from sous import heartbeat
from sous.orgs.decorators import org_member_required
from sous.orgs.middleware import SESSION_KEY

log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        log.warning("healthz.database_unreachable", exc_info=True)
        return False


def _redis_ok() -> bool:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        log.warning("healthz.redis_unreachable", exc_info=True)
        return False
    finally:
        client.close()


@never_cache
@require_GET
def healthz(request):
    """Health for load balancers and monitoring: names the failing part, never a URL or a
    secret.

    503 only when this web process cannot serve (database or Redis unreachable). Beat or a
    queue's workers gone quiet make the status "degraded" with a 200: pages still work, and a
    load balancer taking every web process out over a dead worker would only make it worse.
    Monitoring alerts on "degraded"."""
    services = {"database": _database_ok(), "redis": _redis_ok()}
    checks = {name: "ok" if ok else "unreachable" for name, ok in services.items()}
    # Without Redis the stamps cannot be read; asking would only wait out its timeouts.
    if services["redis"]:
        checks.update(heartbeat.report())
    else:
        checks.update(dict.fromkeys(heartbeat.PARTS, heartbeat.UNKNOWN))
    if not all(services.values()):
        status = "unavailable"
    elif any(state != heartbeat.OK for state in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
    )


def email_addresses_are_fixed(request):
    raise Http404("Email addresses are set by invitation.")


@require_POST
@org_member_required
def switch_organization(request):
    membership = request.user.memberships.filter(organization__slug=request.POST.get("org")).first()
    if membership is None:
        raise Http404("No such organisation")
    request.session[SESSION_KEY] = membership.organization_id
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    return redirect(target)
