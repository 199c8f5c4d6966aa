"""A request id on every log line of an HTTP request or websocket, and in the response.

An `X-Request-ID` a proxy or load balancer sent is kept when it is plain and short (so its logs
and ours join); otherwise a fresh one is made.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from sous import logs


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every later middleware's logs carry the id too.

    The id stays bound after the response, because Django logs 4xx and 5xx responses ("Not
    Found: …") once the middleware chain has returned, until `request_finished` (connected in
    SousConfig.ready) unbinds it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _bind(self, request) -> str:
        request_id = logs.request_id_from(request.headers.get(logs.REQUEST_ID_HEADER))
        request.request_id = request_id
        logs.bind_request(request_id)
        return request_id

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        request_id = self._bind(request)
        response = self.get_response(request)
        response[logs.REQUEST_ID_HEADER] = request_id
        return response

    async def __acall__(self, request):
        request_id = self._bind(request)
        response = await self.get_response(request)
        response[logs.REQUEST_ID_HEADER] = request_id
        return response


def request_finished(**_) -> None:
    logs.unbind_request()


class WebsocketRequestId:
    """ASGI middleware for the websocket router: one id per socket, for all its logs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        incoming = dict(scope.get("headers") or []).get(logs.REQUEST_ID_HEADER.lower().encode())
        request_id = logs.request_id_from(incoming.decode("latin-1") if incoming else None)
        with logs.bind(request_id=request_id):
            return await self.app(scope, receive, send)
