"""The live socket goes through the real ASGI app and the Redis channel layer."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from integrations.consumers import org_group
from sous.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie_for(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


def communicator(cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/integrations/", headers=headers)


async def _connect_anonymous():
    socket = communicator()
    connected, _ = await socket.connect()
    await socket.disconnect()
    return connected


def test_an_anonymous_socket_is_refused():
    assert async_to_sync(_connect_anonymous)() is False


def test_a_foreign_origin_is_refused(owner):
    cookie = session_cookie_for(owner)

    async def run():
        socket = WebsocketCommunicator(
            application,
            "/ws/integrations/",
            headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)],
        )
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    assert async_to_sync(run)() is False


def test_a_member_receives_their_organisations_events_and_no_others(owner, outsider, org):
    cookie_owner, cookie_outsider = session_cookie_for(owner), session_cookie_for(outsider)

    async def run():
        mine, theirs = communicator(cookie_owner), communicator(cookie_outsider)
        assert (await mine.connect())[0]
        assert (await theirs.connect())[0]
        layer = get_channel_layer()
        await layer.group_send(
            org_group(org.id), {"type": "integrations.event", "payload": {"kind": "hello"}}
        )
        received = await mine.receive_json_from(timeout=5)
        nothing = await theirs.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()
        return received, nothing

    received, nothing = async_to_sync(run)()
    assert received == {"kind": "hello"}
    assert nothing is True
