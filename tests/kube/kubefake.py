"""A scripted fake Kubernetes API server for the kube layer's tests (real HTTP on 127.0.0.1).

Each test queues the exact responses it wants, per (kind, path): JSON replies (any status, any
headers) and watch streams made of lines, raw byte fragments, pauses, hangs and connection drops.
Every request is recorded so tests can check what the client asked for (resourceVersion,
continue tokens, auth headers). It deliberately knows nothing of Kubernetes semantics: the
behaviour under test is the client's, so the server only replays the script.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

HANG_LIMIT = 20.0
"""A Hang never outlives this, so a forgotten stream cannot keep a test alive."""


@dataclass
class Reply:
    """One plain response; a dict body is sent as JSON."""

    status: int = 200
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Pause:
    """Sleep inside a stream, so the parts before it reach the client as their own chunk."""

    seconds: float = 0.02


@dataclass
class Hang:
    """Send nothing more and keep the connection open (until the client leaves or the server stops)."""


@dataclass
class Drop:
    """Cut the connection without finishing the chunked body."""


StreamPart = dict[str, Any] | bytes | Pause | Hang | Drop


@dataclass
class Stream:
    """A 200 chunked response; dict parts are sent as one JSON line each, bytes verbatim."""

    parts: list[StreamPart]


Step = Reply | Stream


@dataclass
class Seen:
    """One request the server received."""

    kind: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


def status(code: int, reason: str, message: str = "") -> dict[str, Any]:
    """A metav1.Status body."""
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": message or reason}


def obj(name: str, rv: str, *, namespace: str = "default", kind: str = "Pod") -> dict[str, Any]:
    """A minimal namespaced object."""
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}",
                                       "resourceVersion": rv}}


def page(rv: str, items: list[dict[str, Any]], cont: str | None = None) -> Reply:
    """One LIST page."""
    meta: dict[str, Any] = {"resourceVersion": rv}
    if cont:
        meta["continue"] = cont
    return Reply(body={"kind": "List", "apiVersion": "v1", "metadata": meta, "items": items})


def ev(event_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """One watch event line."""
    return {"type": event_type, "object": body}


def bookmark(rv: str) -> dict[str, Any]:
    """A BOOKMARK event: only a resourceVersion."""
    return ev("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": rv}})


class FakeApi:
    """The server. `script(kind, path, *steps)` queues responses; kinds: list, watch, log, get."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.requests: list[Seen] = []
        self.timeline: list[str] = []
        """Shared with test handlers, to check the order of requests and handler calls."""
        self.require_auth: Callable[[str | None], bool] | None = None
        """When set, a request whose Authorization header fails this check gets a 401."""
        self.in_flight = 0
        self.max_in_flight = 0
        self._scripts: dict[tuple[str, str], deque[Step]] = defaultdict(deque)
        self._ssl = ssl_context
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def script(self, kind: str, path: str, *steps: Step) -> None:
        """Queue responses for requests of `kind` to `path`, used in order."""
        self._scripts[(kind, path)].extend(steps)

    def seen(self, kind: str, path: str | None = None) -> list[Seen]:
        """Recorded requests of one kind (and path)."""
        return [r for r in self.requests if r.kind == kind and (path is None or r.path == path)]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        # handler_cancellation: a hanging stream handler ends when the client disconnects.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if self._ssl else 'http'}://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        query = dict(request.query)
        if path.endswith("/log"):
            kind = "log"
        elif query.get("watch") == "true":
            kind = "watch"
        elif path.endswith("s"):
            kind = "list"
        else:
            kind = "get"
        self.requests.append(Seen(kind, path, query, dict(request.headers)))
        self.timeline.append(f"{kind} {path} continue={query.get('continue')}")
        if self.require_auth is not None and not self.require_auth(request.headers.get("Authorization")):
            return _json(Reply(401, status(401, "Unauthorized")))
        queue = self._scripts.get((kind, path))
        step: Step
        if queue:
            step = queue.popleft()
        elif kind == "watch":
            step = Stream([Hang()])  # an idle watch: the test decides when to stop
        else:
            step = Reply(500, status(500, "InternalError", f"fake: nothing scripted for {kind} {path}"))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if isinstance(step, Reply):
                if step.delay:
                    await asyncio.sleep(step.delay)
                return _json(step)
            return await self._stream(request, step)
        finally:
            self.in_flight -= 1

    async def _stream(self, request: web.Request, step: Stream) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for part in step.parts:
            if isinstance(part, Pause):
                await asyncio.sleep(part.seconds)
            elif isinstance(part, Hang):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), HANG_LIMIT)
                return resp
            elif isinstance(part, Drop):
                assert request.transport is not None
                request.transport.abort()
                return resp
            elif isinstance(part, bytes):
                await resp.write(part)
            else:
                await resp.write(orjson.dumps(part) + b"\n")
        await resp.write_eof()
        return resp


def _json(reply: Reply) -> web.Response:
    if isinstance(reply.body, dict):
        body = orjson.dumps(reply.body)
        content_type = "application/json"
    else:
        body = reply.body or b""
        content_type = "text/plain"
    return web.Response(status=reply.status, body=body, headers={"Content-Type": content_type, **reply.headers})
