"""Each request's id: kept from a sane X-Request-ID or made, on every log line of the request
and in the response, over sync (WSGI) and async (ASGI, as uvicorn serves) paths and websockets."""

import json
import logging
import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from sous import logs
from sous.request_id import WebsocketRequestId

pytestmark = pytest.mark.django_db

MADE = re.compile(r"[0-9a-f]{32}")


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_sane_incoming_id_comes_back_and_is_on_the_requests_log_lines(client, log_stream):
    stream = log_stream("json")
    response = client.get("/no-such-page/", headers={"X-Request-ID": "lb-7f3a:42"})

    assert response.status_code == 404
    assert response["X-Request-ID"] == "lb-7f3a:42"
    (line,) = [line for line in lines(stream) if line["logger"] == "django.request"]
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == "lb-7f3a:42"


@pytest.mark.parametrize("incoming", [None, "", "x" * 129, "id with spaces", "a\nforged: line"])
def test_a_missing_or_unsafe_incoming_id_is_replaced_by_a_fresh_one(client, incoming):
    headers = {"X-Request-ID": incoming} if incoming is not None else {}
    first = client.get("/healthz", headers=headers)["X-Request-ID"]
    second = client.get("/healthz", headers=headers)["X-Request-ID"]

    assert MADE.fullmatch(first) and MADE.fullmatch(second)
    assert first != second


def test_the_id_is_not_left_on_lines_logged_after_the_request(client, log_stream):
    stream = log_stream("json")
    client.get("/healthz", headers={"X-Request-ID": "req-1"})
    logging.getLogger("sous.test").info("between.requests")

    (line,) = [line for line in lines(stream) if line["message"] == "between.requests"]
    assert "request_id" not in line


def test_under_asgi_the_id_comes_back_and_is_on_the_requests_log_lines(async_client, log_stream):
    stream = log_stream("json")
    response = async_to_sync(async_client.get)(
        "/no-such-page/", headers={"X-Request-ID": "edge-99"}
    )

    assert response["X-Request-ID"] == "edge-99"
    (line,) = [line for line in lines(stream) if line["logger"] == "django.request"]
    assert line["request_id"] == "edge-99"


def test_a_websocket_logs_under_its_connections_id(log_stream):
    stream = log_stream("json")

    async def consumer(scope, receive, send):
        await receive()
        logging.getLogger("integrations.consumers").info("socket.opened")
        await send({"type": "websocket.accept"})

    async def open_and_close():
        socket = WebsocketCommunicator(
            WebsocketRequestId(consumer), "/ws/integrations/", headers=[(b"x-request-id", b"ws-5")]
        )
        connected, _ = await socket.connect()
        await socket.disconnect()
        return connected

    connected = async_to_sync(open_and_close)()

    assert connected
    (line,) = [line for line in lines(stream) if line["message"] == "socket.opened"]
    assert line["request_id"] == "ws-5"
    assert logs.bound().get("request_id") is None
