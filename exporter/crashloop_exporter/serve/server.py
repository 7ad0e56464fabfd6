"""The aiohttp HTTP server: /metrics, /healthz, /readyz, /causes.

`/metrics` renders synchronously on the event loop: the renderer reads state that only the loop
mutates, so rendering there is a consistent snapshot without locks. Before that, `prepare` renders
what changed since the last scrape in steps, so the snapshot itself is short. `/readyz` turns
200 only after the first complete LIST of every resource, so a rollout waits for real data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from crashloop_exporter.findings import Finding, encode_findings, sort_key

ENDPOINTS = ("/metrics", "/healthz", "/readyz", "/causes")
"""Paths served; deploy manifests' probes are checked against this."""



def build_app(
    *,
    render: Callable[[str], tuple[bytes, str]],
    ready: Callable[[], Iterable[str]],
    findings: Callable[[], list[Finding]],
    causes_endpoint: bool = True,
    prepare: Callable[[], Awaitable[None]] | None = None,
) -> web.Application:
    """`render(accept)` returns the /metrics body and content type (`FastRenderer.render`), after
    `prepare()` (`FastRenderer.prepare`) when given; `ready()` returns the resources not yet synced
    (empty when ready)."""

    async def metrics(request: web.Request) -> web.Response:
        if prepare is not None:
            await prepare()
        body, content_type = render(request.headers.get("Accept", ""))
        resp = web.Response(body=body, headers={"Content-Type": content_type})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            resp.enable_compression()
        return resp

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        missing = sorted(ready())
        if missing:
            return web.Response(status=503, text=f"waiting for the first list of: {', '.join(missing)}\n")
        return web.Response(text="ok\n")

    async def causes(request: web.Request) -> web.Response:
        items = findings()
        ns = request.query.get("namespace")
        if ns:
            items = [f for f in items if f.namespace == ns]
        if request.query.get("failing") in ("1", "true"):
            items = [f for f in items if f.failing]
        # The one findings encoder: the bytes `diagnose -o json` prints, escapes included.
        body = encode_findings(sorted(items, key=sort_key))
        return web.Response(text=body, content_type="application/json")

    async def index(_: web.Request) -> web.Response:
        links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in ENDPOINTS if causes_endpoint or p != "/causes")
        return web.Response(
            text=f"<html><body><h1>crashloop-exporter</h1><ul>{links}</ul></body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if causes_endpoint:
        app.router.add_get("/causes", causes)
    return app
