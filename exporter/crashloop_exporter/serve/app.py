"""Wiring of `serve`: credentials, watchers, log fetcher, state, collector and HTTP server.

Everything here is I/O plumbing; the decisions live in `state` and `classify`. `Service` builds
the parts, starts them and stops them. Shutdown on SIGTERM stops the watches first, then lets the
HTTP server finish in-flight scrapes, then exits 0; a background task that died on the way is
logged and counted by `tasks.TaskSupervisor`, not swallowed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector

from crashloop_exporter.classify import DEFAULT_RULES, LogRules
from crashloop_exporter.errors import InputError
from crashloop_exporter.families import (
    LAST_EVENT_TIMESTAMP,
    LOG_FETCHES,
    SKIPPED_OBJECTS,
    SYNCED,
    TASK_FAILURES,
    WATCH_EVENTS,
    WATCH_RESTARTS,
)
from crashloop_exporter.inputs.rules_file import load_rules_file
from crashloop_exporter.kube import Credentials, KubeClient, LogFetcher, WatchStats, load_credentials, watchers_for
from crashloop_exporter.kube.client import WatchObject
from crashloop_exporter.kube.stats import RESOURCES, WatchStatsSnapshot
from crashloop_exporter.logsetup import setup_logging
from crashloop_exporter.serve.collector import HealthCollector, StatsSnapshot
from crashloop_exporter.serve.exposition import FastRenderer
from crashloop_exporter.serve.server import build_app
from crashloop_exporter.serve.tasks import TaskSupervisor
from crashloop_exporter.settings import Settings, parse_listen_address
from crashloop_exporter.state import ClusterState, LogRequest
from crashloop_exporter.steps import run_steps_yielding

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 10.0
"""How long SIGTERM waits for in-flight scrapes to finish: well inside the Deployment's
terminationGracePeriodSeconds (30), so the process exits 0 before the kubelet's SIGKILL."""
DRAIN_POLL_SECONDS = 0.02


def stats_families(
    s: WatchStatsSnapshot, task_failures: Mapping[tuple[str, ...], float] | None = None
) -> StatsSnapshot:
    """The watch layer's snapshot (and the background tasks' failures) in the collector's shape."""
    return {
        WATCH_EVENTS.name: {k: float(v) for k, v in s.events.items()},
        WATCH_RESTARTS.name: {k: float(v) for k, v in s.restarts.items()},
        SKIPPED_OBJECTS.name: {k: float(v) for k, v in s.skipped.items()},
        LOG_FETCHES.name: {(k,): float(v) for k, v in s.log_fetches.items()},
        SYNCED.name: {(k,): 1.0 if v else 0.0 for k, v in s.synced.items()},
        LAST_EVENT_TIMESTAMP.name: {(k,): v for k, v in s.last_event_timestamp.items()},
        TASK_FAILURES.name: dict(task_failures or {}),
    }


class StateHandler:
    """Adapts the synchronous ClusterState to the watch layer's async handler protocol.

    An object is applied in ClusterState's steps, with a turn of the event loop between two: one
    pod with thousands of containers is seconds of work, and meanwhile /healthz, scrapes and log
    answers must still be served (a liveness probe that times out restarts the exporter, which
    then loses its state).
    """

    def __init__(self, state: ClusterState) -> None:
        self._state = state

    async def relist_begin(self, resource: str, *, namespace: str | None) -> None:
        self._state.relist_begin(resource, namespace=namespace)

    async def relist_item(self, resource: str, obj: WatchObject) -> None:
        await run_steps_yielding(self._state.relist_item_steps(resource, obj))

    async def relist_end(self, resource: str, *, namespace: str | None) -> None:
        self._state.relist_end(resource, namespace=namespace)

    async def event(self, resource: str, event_type: str, obj: WatchObject) -> None:
        await run_steps_yielding(self._state.event_steps(resource, event_type, obj))


@dataclass
class Exporter:
    """A running exporter; `demo` and tests read its state and address."""

    settings: Settings
    state: ClusterState
    stats: WatchStats
    url: str = ""
    tasks: TaskSupervisor = field(default_factory=TaskSupervisor)


def load_rules(settings: Settings) -> LogRules:
    return load_rules_file(settings.rules_file) if settings.rules_file else DEFAULT_RULES


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event,
    credentials: Credentials | None = None,
    on_ready: Callable[[Exporter], None] | None = None,
) -> None:
    """Run until `stop` is set."""
    rules = load_rules(settings)
    if credentials is None:
        credentials = await asyncio.to_thread(
            load_credentials, kubeconfig=settings.kubeconfig, context=settings.context
        )
    log.info("using Kubernetes API %s (%s)", credentials.server, credentials.source)
    async with KubeClient(credentials) as client:
        service = Service.build(settings, client, rules=rules)
        exporter = await service.start()
        try:
            if on_ready is not None:
                on_ready(exporter)
            await stop.wait()
        finally:
            await service.stop()


class Service:
    """One exporter's parts: `build` wires them (no I/O), `start` listens and starts the watches,
    `stop` stops the watches, then lets the HTTP server finish in-flight scrapes."""

    def __init__(self, settings: Settings, client: KubeClient, *, rules: LogRules) -> None:
        self.settings = settings
        self.client = client
        self.stats = WatchStats()
        self.tasks = TaskSupervisor()
        self.fetcher = None if settings.no_logs else _log_fetcher(settings, client, self.stats)
        self.state = ClusterState(settings=settings, rules=rules, request_logs=self._request_logs)
        # The per-container families are rendered from cached lines (FastRenderer); the health
        # families and the process metrics go through prometheus-client.
        health = CollectorRegistry(auto_describe=False)
        health.register(
            HealthCollector(self.state, stats=lambda: stats_families(self.stats.snapshot(), self.tasks.failures()))
        )
        ProcessCollector(registry=health)
        renderer = FastRenderer(self.state, health)
        self.app = build_app(
            ready=lambda: [r for r in RESOURCES if not self.stats.synced(r)],
            findings=self.state.all_findings,
            causes_endpoint=settings.causes_endpoint,
            render=renderer.render,
            prepare=renderer.prepare,
        )
        self.runner: web.AppRunner | None = None

    @classmethod
    def build(cls, settings: Settings, client: KubeClient, *, rules: LogRules) -> Service:
        return cls(settings, client, rules=rules)

    async def start(self) -> Exporter:
        """Listen on --listen-address, then start the watches and the ticker."""
        self.runner = runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
        )
        await runner.setup()
        host, port = parse_listen_address(self.settings.listen_address)
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as e:
            await runner.cleanup()
            raise listen_error(self.settings.listen_address, e) from e
        bound = runner.addresses[0] if runner.addresses else (host, port)
        exporter = Exporter(
            settings=self.settings,
            state=self.state,
            stats=self.stats,
            url=f"http://{_url_host(host)}:{bound[1]}",
            tasks=self.tasks,
        )
        endpoints = "/metrics /healthz /readyz" + (" /causes" if self.settings.causes_endpoint else "")
        log.info("serving %s on %s", endpoints, exporter.url)
        watchers = watchers_for(
            self.settings,
            self.client,
            handler=StateHandler(self.state),
            stats=self.stats,
            on_forbidden=self.state.deps.disable,
        )
        for w in watchers:
            self.tasks.spawn(w.run(), kind="watch", name=f"watch {w.key}")
        self.tasks.spawn(self._tick(), kind="tick", name="tick")
        return exporter

    async def stop(self) -> None:
        log.info("shutting down: stopping watches, finishing in-flight requests")
        deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
        await self.tasks.stop()
        if self.runner is not None:
            server = self.runner.server
            transports = [h.transport for h in server.connections if h.transport is not None] if server else []
            await self.runner.cleanup()
            await _drained(transports, deadline)

    async def _tick(self) -> None:
        frozen = False
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.state.tick()
            if not frozen and self.stats.ready():
                # Everything built by the first sync lives until its pod goes: move it out of
                # the GC's reach so later collections only scan what changes.
                gc.collect()
                gc.freeze()
                frozen = True

    def _request_logs(self, req: LogRequest) -> None:
        name = f"log {req.namespace}/{req.pod} {req.container}"
        self.tasks.spawn(self._fetch(req), kind="log_fetch", name=name)

    async def _fetch(self, req: LogRequest) -> None:
        text: str | None = None
        try:
            if self.fetcher is not None:
                res = await self.fetcher.fetch(
                    namespace=req.namespace,
                    pod=req.pod,
                    pod_uid=req.pod_uid,
                    container=req.container,
                    restart_count=req.run,
                    previous=req.previous,
                    node=req.node,
                )
                text = res.text if res.result == "ok" else None
        except Exception:
            log.exception("log fetch for %s/%s %s failed", req.namespace, req.pod, req.container)
        finally:
            # Always answer, so the crash waiting for this log is counted.
            self.state.apply_logs(req, text)


def _log_fetcher(settings: Settings, client: KubeClient, stats: WatchStats) -> LogFetcher:
    return LogFetcher(
        client,
        stats=stats,
        tail_lines=settings.log_tail_lines,
        limit_bytes=settings.log_limit_bytes,
        concurrency=settings.log_fetch_concurrency,
        rate_per_second=settings.log_fetch_rate,
        node_concurrency=settings.log_fetch_node_concurrency,
        first_byte_timeout=settings.log_first_byte_timeout,
    )


async def _drained(transports: Sequence[asyncio.BaseTransport], deadline: float) -> None:
    """Wait (until `deadline`) for closed connections to hand their last bytes to the kernel.

    A finished handler has given its whole response to the transport, but a slow client (a small
    receive window) leaves the tail in the transport's buffer; exiting now would cut the scrape
    short. Closing transports flush while the loop runs, so the loop runs until they are empty."""
    def pending() -> bool:
        return any(isinstance(t, asyncio.WriteTransport) and t.get_write_buffer_size() > 0 for t in transports)

    while pending() and time.monotonic() < deadline:
        await asyncio.sleep(DRAIN_POLL_SECONDS)


def listen_error(address: str, error: OSError) -> InputError:
    """`cannot listen on HOST:PORT: address already in use`: a port taken by another process (or
    below 1024 without the capability) is a bad flag value, not a crash worth a traceback."""
    if isinstance(error, socket.gaierror) or not error.errno or error.errno < 0:
        reason = error.strerror or str(error)  # an unresolvable host: getaddrinfo's own words
    else:
        # asyncio wraps bind errors as "error while attempting to bind on address ...: <reason>";
        # the errno alone says it in the words users search for.
        reason = os.strerror(error.errno)
    return InputError(f"cannot listen on {address}: {reason[:1].lower()}{reason[1:]}")


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def run_exporter(settings: Settings) -> int:
    """`serve`: run until SIGTERM/SIGINT, exit 0 after a clean shutdown."""
    setup_logging(level=settings.log_level, fmt=settings.log_format)
    load_rules(settings)  # a broken --rules-file fails before anything connects

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop=stop)

    asyncio.run(main())
    return 0
