"""ASGI middleware of the emulator: client id, rate limits, faults, request log.

It wraps the starlette app, so it handles every request before routing and
can apply a request, then break the response on purpose.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from importer.emulator.faults import Fault
from importer.emulator.payload import ApiFailure
from importer.emulator.state import Emulator, RequestRecord

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# Routes for a person or a test driving the emulator; they need no client id
# and never get rate limits or faults.
CONTROL_PREFIXES = ("/emulator/", "/pin")
NOT_JSON_BODY = b"<html><body><h1>Internal Server Error</h1><p>upstream closed conn"


class DroppedConnection(Exception):
    """Raised after a partial response to make the server abort the connection."""


def envelope_response(
    status: int, error: str, message: str, **headers: str
) -> JSONResponse:
    body = {"error": error, "code": status, "message": message}
    return JSONResponse(body, status_code=status, headers=headers or None)


class EmulatorMiddleware:
    """Identification, rate limits, faults and the request log, around the app."""

    def __init__(self, app: Callable[..., Awaitable[None]], emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        logged = False

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send_recorded(message: Message) -> None:
            nonlocal logged
            # Log before the response leaves, so a client that has received its
            # response always finds the request in the log.
            if message["type"] == "http.response.start" and not logged:
                logged = True
                self._log(scope, body, message["status"])
            await send(message)

        try:
            await self._handle(scope, replay, send_recorded)
        finally:
            if not logged:
                self._log(scope, body, 0)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path.startswith(CONTROL_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        rejection = self._admission(request)
        if rejection is not None:
            await rejection(scope, receive, send)
            return
        fault = self.emulator.faults.next_fault(method, path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        await self._with_fault(fault, scope, receive, send)

    def _admission(self, request: Request) -> Response | None:
        client_id = request.query_params.get("client_id") or request.headers.get(
            "simkl-api-key"
        )
        try:
            self.emulator.check_client_id(client_id)
        except ApiFailure as failure:
            return JSONResponse(failure.envelope(), status_code=failure.status)
        auth = request.headers.get("authorization", "")
        key = (
            f"token:{auth.partition(' ')[2].strip()}" if auth else f"client:{client_id}"
        )
        wait = self.emulator.limiter.check(key, request.method)
        if wait is not None:
            message = f"rate limit exceeded; retry after {wait} s"
            return envelope_response(
                429, "rate_limit", message, **{"Retry-After": str(wait)}
            )
        return None

    async def _with_fault(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.kind == "status":
            headers = {}
            if fault.status == 429:
                headers["Retry-After"] = str(fault.retry_after or 1)
            response = envelope_response(
                fault.status,
                "injected_fault",
                "fault injected by the emulator",
                **headers,
            )
            await response(scope, receive, send)
            return
        if fault.kind in ("pass", "latency"):
            await self.app(scope, receive, send)
            return
        captured = await _capture(self.app, scope, receive)
        logger.info(
            "applied %s %s, then %s", scope["method"], scope["path"], fault.kind
        )
        if fault.kind == "apply-then-error":
            broken = Response(
                NOT_JSON_BODY, status_code=fault.status or 500, media_type="text/html"
            )
            await broken(scope, receive, send)
            return
        await _send_partial(captured, send)

    def _log(self, scope: Scope, body: bytes, status: int) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            parsed = json.loads(body) if body else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        record = RequestRecord(scope["method"], scope["path"], query, parsed, status)
        self.emulator.record(record)
        visible = "&".join(f"{k}={v}" for k, v in query.items() if k != "client_id")
        target = f"{scope['path']}?{visible}" if visible else scope["path"]
        logger.info("%s %s -> %s", scope["method"], target, status)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _capture(
    app: Callable[..., Awaitable[None]], scope: Scope, receive: Receive
) -> list[Message]:
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    return messages


async def _send_partial(messages: list[Message], send: Send) -> None:
    """Send the response head and half its body, then abort the connection."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(
        m.get("body", b"") for m in messages if m["type"] == "http.response.body"
    )
    await send(start)
    await send(
        {
            "type": "http.response.body",
            "body": body[: len(body) // 2],
            "more_body": True,
        }
    )
    raise DroppedConnection("connection dropped on purpose by an injected fault")
