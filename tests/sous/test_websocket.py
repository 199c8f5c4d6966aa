"""The live socket goes through the real ASGI app and the Redis channel layer."""

import asyncio
import json

import pytest
import websockets
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from integrations.consumers import org_group
from sous.asgi import application
from tests.conftest import database_url
from tests.sous.procfile import environment, web_server

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


# Longer than every client-side read timeout in the stack (redis-py 8's default is 5 s; ours
# are 10 and 30 s): a socket that outlives this idle is not being cut by a timeout.
IDLE_SECONDS = 35


def test_an_idle_socket_on_the_web_process_stays_open_and_still_delivers(owner, org):
    cookie = session_cookie_for(owner).decode()
    env = environment(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,  # the session above is signed with it
        WEB_CONCURRENCY="1",
    )
    with web_server(env) as server:

        async def run():
            async with websockets.connect(
                f"{server.url.replace('http', 'ws', 1)}/ws/integrations/",
                additional_headers={"Cookie": cookie, "Origin": server.url},
            ) as socket_:
                # Nothing is published: the wait ends by our deadline, not by a closed socket.
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(socket_.recv(), IDLE_SECONDS)
                await get_channel_layer().group_send(
                    org_group(org.id), {"type": "integrations.event", "payload": {"kind": "late"}}
                )
                return json.loads(await asyncio.wait_for(socket_.recv(), 10))

        assert asyncio.run(run()) == {"kind": "late"}
    records = [json.loads(line) for line in server.output.splitlines()]
    assert [r for r in records if r["level"] in ("ERROR", "CRITICAL")] == [], server.output
    assert "Exception inside application" not in server.output, server.output


def test_an_owner_held_at_two_factor_setup_gets_no_live_events(owner, org):
    """The organisation requires two-factor sign-in and this owner has not set it up: every
    page sends them to setup, and the socket is refused too."""
    org.require_mfa_for_managers = True
    org.save()
    cookie = session_cookie_for(owner)

    async def run():
        socket = communicator(cookie)
        connected, code = await socket.connect()
        await socket.disconnect()
        return connected, code

    assert async_to_sync(run)() == (False, 4403)
