"""The list+watch loop: keep an in-memory view of one resource in step with the API server.

Three nested layers, each simple enough to reason about on its own (the shape of kopf's watcher):

1. `Watcher.run()` reconnects forever: every failure is classified into a restart reason,
   counted, and followed by a jittered exponential backoff (or the server's Retry-After).
2. `_list()` is a paginated LIST whose items go to the handler page by page, bracketed by
   relist_begin/relist_end so the handler can drop objects that vanished while we were not
   watching. Its resourceVersion is where the watch starts.
3. `_watch_once()` is one WATCH request from the last seen resourceVersion, with bookmarks and a
   server-side timeout. When it ends cleanly we simply watch again from where we were; only a
   410 Gone (the resourceVersion fell out of etcd's compaction window) forces a new LIST,
   because nothing else can tell us what we missed.

The handler gets each object as a `wire` Struct when its page or line was decoded in one pass
(pods, events, nodes: `wire.PAGES`, `wire.LINES`), else as its JSON bytes (`msgspec.Raw`: the
other resources, and a malformed object, which the handler skips and counts); turning them into
records is its business (`parse`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import msgspec

from crashloop_exporter import wire
from crashloop_exporter.errors import (
    ApiConnectionError,
    ApiError,
    ConfigError,
    ForbiddenError,
    GoneError,
    ResponseDecodeError,
    ThrottledError,
    UnauthorizedError,
    WatchDroppedError,
    WatchStalledError,
)
from crashloop_exporter.kube.buffers import BodyBuffers
from crashloop_exporter.kube.client import KubeClient, WatchObject, safe_message, safe_reason
from crashloop_exporter.kube.stats import WatchStats
from crashloop_exporter.settings import Settings

log = logging.getLogger(__name__)

MAX_CONTINUE_RESTARTS = 3
"""A continue token expires with etcd compaction (about 5 minutes); if a LIST keeps outliving it,
give up on this attempt and let the outer loop back off instead of spinning."""

LIST_YIELD_EVERY = 64
"""Listed objects applied between two turns of the event loop: the next page's request and its
bytes are served meanwhile (a healthy pod is ~30 us, so a turn every ~2 ms)."""


class WatchHandler(Protocol):
    """Receives a resource's objects. Raising from any method skips that call only (counted as
    skipped{reason="handler_error"}); the loop carries on.

    A relist is `relist_begin`, `relist_item` per object (page by page), then `relist_end`. A LIST
    that fails half-way is abandoned without `relist_end` and started again with `relist_begin`, so
    `relist_begin` must start a fresh "seen" set. `namespace` is the scope of the LIST (None: all
    namespaces, or a cluster-scoped resource): at `relist_end`, delete only tracked objects of that
    scope that were not seen.
    """

    async def relist_begin(self, resource: str, *, namespace: str | None) -> None:
        """A full LIST of `resource` in `namespace` starts."""

    async def relist_item(self, resource: str, obj: WatchObject) -> None:
        """One listed object (upsert it; note it as seen)."""

    async def relist_end(self, resource: str, *, namespace: str | None) -> None:
        """The LIST completed: forget objects of this scope not seen since relist_begin."""

    async def event(self, resource: str, event_type: str, obj: WatchObject) -> None:
        """One watch event: event_type is ADDED, MODIFIED or DELETED."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n sleeps uniform(0, min(cap, initial * 2**n))."""

    initial: float = 1.0
    """Ceiling of the first delay, in seconds."""
    cap: float = 30.0
    """Largest ceiling, in seconds."""
    max_retry_after: float = 300.0
    """A server's Retry-After is honoured up to this many seconds."""

    def delay(self, attempt: int, *, rand: Callable[[], float] = random.random) -> float:
        """Seconds to sleep before attempt number `attempt` (0-based) is retried."""
        ceiling = min(self.cap, self.initial * 2.0 ** min(attempt, 32))
        return ceiling * rand()


@dataclass(frozen=True, slots=True)
class WatchTarget:
    """One list+watch: a resource at one URL with its filters."""

    resource: str
    """pods, events or nodes (the `resource` label of the exporter's own metrics)."""
    path: str
    """Collection URL path, e.g. /api/v1/namespaces/shop/pods."""
    params: Mapping[str, str] = field(default_factory=dict)
    """labelSelector / fieldSelector."""
    namespace: str | None = None
    """Scope of the LIST, handed to the handler's relist_begin/relist_end."""
    optional: bool = False
    """A 403 turns this watch off (one warning, `on_forbidden`) instead of retrying forever: the
    Services/EndpointSlices of dependency chains, which a least-privilege install may not grant."""


def watch_targets(settings: Settings) -> list[WatchTarget]:
    """The list+watches `serve` runs for these settings: pods and pod events (one per
    `--namespaces` entry, or cluster-wide minus `--exclude-namespaces`), and nodes."""
    pod_params: dict[str, str] = {}
    if settings.label_selector:
        pod_params["labelSelector"] = settings.label_selector
    # Only events about Pods: Deployments/ReplicaSets/Nodes' events are a large share of the
    # stream and the classifier never reads them.
    event_selector = "involvedObject.kind=Pod"
    targets: list[WatchTarget] = []
    if settings.namespaces:
        for ns in dict.fromkeys(settings.namespaces):
            base = f"/api/v1/namespaces/{quote(ns, safe='')}"
            targets.append(WatchTarget("pods", f"{base}/pods", dict(pod_params), ns))
            targets.append(WatchTarget("events", f"{base}/events", {"fieldSelector": event_selector}, ns))
            if not settings.no_dependencies:
                targets.append(WatchTarget("services", f"{base}/services", {}, ns, optional=True))
                targets.append(
                    WatchTarget(
                        "endpointslices", f"/apis/discovery.k8s.io/v1/namespaces/{quote(ns, safe='')}/endpointslices",
                        {}, ns, optional=True,
                    )
                )
    else:
        exclude = ",".join(f"metadata.namespace!={ns}" for ns in dict.fromkeys(settings.exclude_namespaces))
        pods = dict(pod_params)
        if exclude:
            pods["fieldSelector"] = exclude
        targets.append(WatchTarget("pods", "/api/v1/pods", pods))
        selector = f"{event_selector},{exclude}" if exclude else event_selector
        targets.append(WatchTarget("events", "/api/v1/events", {"fieldSelector": selector}))
        if not settings.no_dependencies:
            scoped = {"fieldSelector": exclude} if exclude else {}
            targets.append(WatchTarget("services", "/api/v1/services", dict(scoped), optional=True))
            targets.append(
                WatchTarget("endpointslices", "/apis/discovery.k8s.io/v1/endpointslices", dict(scoped), optional=True)
            )
    targets.append(WatchTarget("nodes", "/api/v1/nodes"))
    return targets


def watchers_for(
    settings: Settings,
    client: KubeClient,
    *,
    handler: WatchHandler,
    stats: WatchStats,
    backoff: Backoff | None = None,
    on_forbidden: Callable[[str], None] | None = None,
) -> list[Watcher]:
    """One Watcher per `watch_targets(settings)`, configured from the settings; `on_forbidden`
    hears of an optional watch that a 403 turned off."""
    return [
        Watcher(
            client,
            resource=t.resource,
            path=t.path,
            params=t.params,
            namespace=t.namespace,
            handler=handler,
            stats=stats,
            page_size=settings.list_page_size,
            timeout_seconds=settings.watch_timeout_seconds,
            inactivity_timeout=settings.inactivity_timeout,
            backoff=backoff or Backoff(initial=settings.watch_backoff_initial, cap=settings.watch_backoff_max),
            on_forbidden=(on_forbidden or _ignore) if t.optional else None,
        )
        for t in watch_targets(settings)
    ]


class Watcher:
    """List+watch one collection forever, feeding a WatchHandler. Run `await watcher.run()` in a
    task and cancel the task to stop it."""

    def __init__(
        self,
        client: KubeClient,
        *,
        resource: str,
        path: str,
        params: Mapping[str, str] | None = None,
        handler: WatchHandler,
        stats: WatchStats,
        namespace: str | None = None,
        page_size: int = 500,
        timeout_seconds: int = 300,
        inactivity_timeout: float = 360.0,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        on_forbidden: Callable[[str], None] | None = None,
    ) -> None:
        self.resource = resource
        self._on_forbidden = on_forbidden
        self.path = path
        self.params: dict[str, str] = dict(params or {})
        self.namespace = namespace
        query = urlencode(sorted(self.params.items()))
        self.key = f"{path}?{query}" if query else path
        """Identifies this watcher among several of the same resource (one per namespace)."""
        self._client = client
        self._handler = handler
        self._stats = stats
        self._page_size = page_size
        self._timeout_seconds = timeout_seconds
        self._inactivity_timeout = inactivity_timeout
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rand = rand
        self._rv: str | None = None
        self._attempt = 0
        self._progress = False
        self._unknown_types: set[str] = set()
        self._typed_page = wire.PAGES.get(resource)
        self._typed_line = wire.LINES.get(resource)
        self._buffers = BodyBuffers()
        stats.register(resource, self.key)

    @property
    def resource_version(self) -> str | None:
        """The last resourceVersion seen (None: the next step is a LIST)."""
        return self._rv

    # --- layer 1: reconnect forever ---------------------------------------------------------

    async def run(self) -> None:
        """List, then watch, forever; returns only by cancellation."""
        log.debug("watching %s (%s)", self.resource, self.key)
        loop = asyncio.get_running_loop()
        while True:
            hint: float | None = None
            relist = False
            started = loop.time()
            try:
                if self._rv is None:
                    self._rv = await self._list()
                    started = loop.time()
                await self._watch_once()
                reason = "timeout"
                # A stream that lived a while before the server's timeout is healthy even if the
                # collection was quiet; one closed at once is not, and must not spin.
                if loop.time() - started >= self._timeout_seconds / 2:
                    self._progress = True
                log.debug("watch %s closed by the server; watching again from %s", self.key, self._rv)
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                if self._on_forbidden is None or not (isinstance(e, ForbiddenError) or e.status == 404):
                    reason, relist, hint = self._diagnose(e)
                else:
                    # Like pods/log: a missing optional grant (403), or an API server that does not
                    # serve the resource (404), degrades a feature; it is not an outage.
                    self._stats.count_restart(self.resource, "unauthorized" if e.status == 403 else "error")
                    self._stats.mark_synced(self.resource, self.key)
                    self._on_forbidden(self.resource)
                    return
            except Exception as e:
                reason, relist, hint = self._diagnose(e)
            self._stats.count_restart(self.resource, reason)
            if relist:
                self._rv = None
            delay = self._next_delay(reason, hint)
            if delay > 0:
                await self._sleep(delay)

    def _diagnose(self, e: Exception) -> tuple[str, bool, float | None]:
        """(restart reason, relist?, Retry-After) for a failure, logged once at a fitting level."""
        if isinstance(e, GoneError):
            log.info("%s: %s; relisting", self.key, e)
            return "gone", True, None
        if isinstance(e, ApiError) and _too_large_rv(e):
            # The API server is behind our resourceVersion: etcd was restored or the apiserver
            # restarted with a fresh cache. Waiting for it to "catch up" would skip every change
            # between its revision and ours, so relist (client-go's reflector does the same).
            log.warning("%s: %s; relisting", self.key, e)
            return "gone", True, None
        if isinstance(e, ThrottledError):
            log.warning("%s: %s (Retry-After %s)", self.key, e, e.retry_after)
            return ("too_many_requests" if e.status == 429 else "error"), False, e.retry_after
        if isinstance(e, UnauthorizedError | ForbiddenError | ConfigError):
            log.warning("%s: %s", self.key, e)
            return "unauthorized", False, None
        if isinstance(e, WatchStalledError):
            log.warning("%s", e)
            return "stalled", False, None
        if isinstance(e, WatchDroppedError):
            log.info("%s; watching again from %s", e, self._rv)
            return "dropped", False, None
        if isinstance(e, ResponseDecodeError):
            log.warning("%s; relisting", e)
            return "decode", True, None
        if isinstance(e, ApiError | ApiConnectionError):
            log.warning("%s: %s", self.key, e)
            return "error", False, None
        log.error("%s: unexpected failure of the list/watch loop", self.key, exc_info=e)
        return "error", False, None

    def _next_delay(self, reason: str, hint: float | None) -> float:
        if self._progress:
            self._attempt = 0
            self._progress = False
            if reason == "timeout":
                return 0.0  # the normal end of a healthy watch: continue at once
        if reason == "gone" and self._attempt == 0:
            # A 410 after a healthy stream is routine; relist at once, but back off if it repeats.
            self._attempt = 1
            return 0.0
        delay = self._backoff.delay(self._attempt, rand=self._rand)
        self._attempt += 1
        if hint is not None:
            delay = max(delay, min(hint, self._backoff.max_retry_after))
        return delay

    # --- layer 2: list ----------------------------------------------------------------------

    async def _list(self) -> str:
        """A complete paginated LIST through the handler; returns its resourceVersion.

        The cyclic GC is paused meanwhile: a page is tens of thousands of fresh records and
        strings with no reference cycles, and generation-0 collections triggered by them cost
        more than the parse itself (measured with dicts: 150k pods sync 27.9 s with GC, 15.2 s
        without; the `wire` Structs are gc=False, the records are not).
        """
        with gc_paused():
            return await self._list_pages()

    async def _list_pages(self) -> str:
        for restart in range(MAX_CONTINUE_RESTARTS + 1):
            await self._deliver(self._handler.relist_begin, self.resource, namespace=self.namespace)
            token: str | None = None
            count = 0
            ahead: asyncio.Task[tuple[list[WatchObject], str, str | None]] | None = None
            try:
                page = await self._page(None)
                while True:
                    items, rv, token = page
                    # The next page is fetched while this one is applied: the API server renders
                    # and sends it meanwhile (on 150k pods the LIST was the sum of both before).
                    ahead = asyncio.ensure_future(self._page(token)) if token else None
                    for i, obj in enumerate(items):
                        if not i % LIST_YIELD_EVERY:
                            await asyncio.sleep(0)  # the request goes out, its bytes are read meanwhile
                        await self._deliver(self._handler.relist_item, self.resource, obj)
                    count += len(items)
                    if ahead is None:
                        break
                    page, ahead = await ahead, None
            except GoneError:
                if token is None or restart == MAX_CONTINUE_RESTARTS:
                    raise
                # The continue token outlived etcd's compaction: the snapshot it pointed into
                # is gone, so the pages we have are not one consistent view. Start over.
                log.info("%s: the LIST continue token expired; listing again from the start", self.key)
                self._stats.count_restart(self.resource, "gone")
                continue
            finally:
                if ahead is not None:  # the LIST failed or was cancelled with a page in flight
                    ahead.cancel()
                    ahead.add_done_callback(_retrieve)
                self._buffers.clear()  # a LIST's bodies are not held between LISTs
            await self._deliver(self._handler.relist_end, self.resource, namespace=self.namespace)
            self._stats.mark_synced(self.resource, self.key)
            log.debug("%s: listed %d objects at resourceVersion %s", self.key, count, rv)
            return rv
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _page(self, token: str | None) -> tuple[list[WatchObject], str, str | None]:
        params: dict[str, str | int] = {**self.params, "limit": self._page_size}
        if token:
            params["continue"] = token
        return await self._client.list_page(self.path, params=params, typed=self._typed_page, buffers=self._buffers)

    # --- layer 3: one watch request ---------------------------------------------------------

    async def _watch_once(self) -> None:
        """Stream one WATCH from self._rv until the server closes it; raises on errors."""
        self._progress = False
        stream = self._client.watch(
            self.path,
            resource_version=self._rv,
            params=self.params,
            timeout_seconds=self._timeout_seconds,
            inactivity_timeout=self._inactivity_timeout,
            on_bad_line=lambda: self._stats.count_skipped(self.resource, "decode"),
            typed=self._typed_line,
        )
        async with aclosing(stream) as events:
            async for event_type, obj in events:
                if event_type in ("ADDED", "MODIFIED", "DELETED"):
                    self._stats.count_event(self.resource, event_type)
                    self._progress = True
                    await self._deliver(self._handler.event, self.resource, event_type, obj)
                    self._advance(obj)
                elif event_type == "BOOKMARK":
                    # A bookmark carries only a resourceVersion: "nothing you watch changed up to
                    # here". Advancing to it keeps a later re-watch inside the compaction window.
                    self._stats.count_event(self.resource, event_type)
                    self._progress = True
                    self._advance(obj)
                elif event_type == "ERROR":
                    self._stats.count_event(self.resource, event_type)
                    status = wire.ANY.decode(obj) if isinstance(obj, msgspec.Raw) else None
                    raise _status_error(status if isinstance(status, dict) else {}, self.key)
                else:
                    self._stats.count_skipped(self.resource, "unknown_type")
                    if event_type not in self._unknown_types and len(self._unknown_types) < 16:
                        self._unknown_types.add(event_type)
                        log.warning("%s: ignoring watch events of unknown type %r", self.key, event_type)

    def _advance(self, obj: WatchObject) -> None:
        if not isinstance(obj, msgspec.Raw):
            rv = obj.metadata.resourceVersion  # type: ignore[attr-defined]  # every wire object has metadata
            if rv:
                self._rv = rv
            return
        try:
            rv = wire.RESOURCE_VERSION.decode(obj).metadata.resourceVersion
        except msgspec.ValidationError:
            return  # a malformed object: the handler counted it; a later event moves us on
        if rv:
            self._rv = rv

    async def _deliver(self, method: Callable[..., Awaitable[None]], *args: Any, **kwargs: Any) -> None:
        """Call the handler; its failure on one object must not stop the stream."""
        try:
            await method(*args, **kwargs)
        except Exception:
            self._stats.count_skipped(self.resource, "handler_error")
            log.warning("%s: the handler failed in %s; skipped", self.key, method.__name__, exc_info=True)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Read an abandoned prefetch's outcome, so that its failure is not logged as never retrieved."""
    if not task.cancelled():
        task.exception()


def _ignore(resource: str) -> None:
    log.warning("no RBAC to list %s; that watch is off", resource)


def _status_error(status: Mapping[str, Any], where: str) -> ApiError:
    """An ERROR watch event carries a Status; 410 means our resourceVersion expired mid-watch."""
    code = status.get("code")
    reason = safe_reason(str(status.get("reason") or ""))
    message = f"watch {where}: ERROR event: {safe_message(str(status.get('message') or ''))}".rstrip(": ")
    if code == 410:
        return GoneError(410, reason or "Expired", message)
    return ApiError(code if isinstance(code, int) else 500, reason or "WatchError", message)


def _too_large_rv(e: ApiError) -> bool:
    """504 Timeout 'Too large resource version' (cause ResourceVersionTooLarge)."""
    return e.status == 504 and "too large resource version" in e.message.lower()


_gc_pauses = 0
_gc_was_enabled = True


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector while any watcher is listing (reference-counted:
    several watchers list concurrently at start-up); restore it when the last one finishes.

    Then everything alive is frozen (`gc.freeze`): the modules, the settings and the listed state
    are never scanned by a collection again. Without it, an oldest-generation collection walked them
    all inside one step of the event loop: 60-70 ms measured on one pod of 5000 containers, more on
    150k pods (their records' tuples are tracked), and /healthz waited for it. Freezing leaves
    reference counting alone, so a frozen object that is dropped is still freed."""
    global _gc_pauses, _gc_was_enabled
    if _gc_pauses == 0:
        _gc_was_enabled = gc.isenabled()
        gc.disable()
    _gc_pauses += 1
    try:
        yield
    finally:
        _gc_pauses -= 1
        if _gc_pauses == 0 and _gc_was_enabled:
            gc.freeze()
            gc.enable()
