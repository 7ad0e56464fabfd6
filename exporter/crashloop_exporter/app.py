"""Wiring of `serve`: credentials, watchers, log fetcher, state, collector and HTTP server.

Everything here is I/O plumbing; the decisions live in `state` and `classify`. Shutdown on
SIGTERM stops the watches first, then lets the HTTP server finish in-flight scrapes, then exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector

from crashloop_exporter.classify import DEFAULT_RULES, LogRules
from crashloop_exporter.collector import HealthCollector, StatsSnapshot
from crashloop_exporter.errors import InputError
from crashloop_exporter.exposition import FastRenderer
from crashloop_exporter.families import (
    LAST_EVENT_TIMESTAMP,
    LOG_FETCHES,
    SKIPPED_OBJECTS,
    SYNCED,
    WATCH_EVENTS,
    WATCH_RESTARTS,
)
from crashloop_exporter.inputs.rules_file import load_rules_file
from crashloop_exporter.kube import Credentials, KubeClient, LogFetcher, WatchStats, load_credentials, watchers_for
from crashloop_exporter.kube.stats import RESOURCES, WatchStatsSnapshot
from crashloop_exporter.logsetup import setup_logging
from crashloop_exporter.server import build_app
from crashloop_exporter.settings import Settings, parse_listen_address
from crashloop_exporter.state import ClusterState, LogRequest
from crashloop_exporter.steps import run_steps_yielding

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 10.0
"""How long SIGTERM waits for in-flight scrapes to finish: well inside the Deployment's
terminationGracePeriodSeconds (30), so the process exits 0 before the kubelet's SIGKILL."""


def stats_families(s: WatchStatsSnapshot) -> StatsSnapshot:
    """The watch layer's snapshot in the collector's shape."""
    return {
        WATCH_EVENTS.name: {k: float(v) for k, v in s.events.items()},
        WATCH_RESTARTS.name: {k: float(v) for k, v in s.restarts.items()},
        SKIPPED_OBJECTS.name: {k: float(v) for k, v in s.skipped.items()},
        LOG_FETCHES.name: {(k,): float(v) for k, v in s.log_fetches.items()},
        SYNCED.name: {(k,): 1.0 if v else 0.0 for k, v in s.synced.items()},
        LAST_EVENT_TIMESTAMP.name: {(k,): v for k, v in s.last_event_timestamp.items()},
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

    async def relist_item(self, resource: str, obj: msgspec.Raw) -> None:
        await run_steps_yielding(self._state.relist_item_steps(resource, obj))

    async def relist_end(self, resource: str, *, namespace: str | None) -> None:
        self._state.relist_end(resource, namespace=namespace)

    async def event(self, resource: str, event_type: str, obj: msgspec.Raw) -> None:
        await run_steps_yielding(self._state.event_steps(resource, event_type, obj))


@dataclass
class Exporter:
    """A running exporter; `demo` and tests read its state and address."""

    settings: Settings
    state: ClusterState
    stats: WatchStats
    url: str = ""
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


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
        stats = WatchStats()
        fetcher = (
            None
            if settings.no_logs
            else LogFetcher(
                client,
                stats=stats,
                tail_lines=settings.log_tail_lines,
                limit_bytes=settings.log_limit_bytes,
                concurrency=settings.log_fetch_concurrency,
                rate_per_second=settings.log_fetch_rate,
                node_concurrency=settings.log_fetch_node_concurrency,
                first_byte_timeout=settings.log_first_byte_timeout,
            )
        )
        log_tasks: set[asyncio.Task[None]] = set()
        state_ref: list[ClusterState] = []

        async def fetch(req: LogRequest) -> None:
            text: str | None = None
            try:
                if fetcher is not None:
                    res = await fetcher.fetch(
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
                state_ref[0].apply_logs(req, text)

        def request_logs(req: LogRequest) -> None:
            task = asyncio.create_task(fetch(req))
            log_tasks.add(task)
            task.add_done_callback(log_tasks.discard)

        state = ClusterState(settings=settings, rules=rules, request_logs=request_logs)
        state_ref.append(state)
        # The per-container families are rendered from cached lines (FastRenderer); the health
        # families and the process metrics go through prometheus-client.
        health = CollectorRegistry(auto_describe=False)
        health.register(HealthCollector(state, stats=lambda: stats_families(stats.snapshot())))
        ProcessCollector(registry=health)
        renderer = FastRenderer(state, health)

        app = build_app(
            ready=lambda: [r for r in RESOURCES if not stats.synced(r)],
            findings=state.all_findings,
            causes_endpoint=settings.causes_endpoint,
            render=renderer.render,
            prepare=renderer.prepare,
        )
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
        await runner.setup()
        host, port = parse_listen_address(settings.listen_address)
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            raise listen_error(settings.listen_address, e) from e
        bound = runner.addresses[0] if runner.addresses else (host, port)
        exporter = Exporter(settings=settings, state=state, stats=stats, url=f"http://{_url_host(host)}:{bound[1]}")
        log.info(
            "serving /metrics /healthz /readyz%s on %s", " /causes" if settings.causes_endpoint else "", exporter.url
        )

        watchers = watchers_for(
            settings, client, handler=StateHandler(state), stats=stats, on_forbidden=state.deps.disable
        )
        tasks = [asyncio.create_task(w.run(), name=f"watch {w.key}") for w in watchers]

        async def ticker() -> None:
            frozen = False
            while True:
                await asyncio.sleep(TICK_SECONDS)
                state.tick()
                if not frozen and stats.ready():
                    # Everything built by the first sync lives until its pod goes: move it out of
                    # the GC's reach so later collections only scan what changes.
                    gc.collect()
                    gc.freeze()
                    frozen = True

        tasks.append(asyncio.create_task(ticker(), name="tick"))
        exporter.tasks.update(tasks)
        if on_ready is not None:
            on_ready(exporter)
        try:
            await stop.wait()
        finally:
            log.info("shutting down: stopping watches, finishing in-flight requests")
            for t in [*tasks, *log_tasks]:
                t.cancel()
            for t in [*tasks, *log_tasks]:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await runner.cleanup()


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
