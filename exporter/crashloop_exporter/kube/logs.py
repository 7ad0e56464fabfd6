"""Fetch the previous log of a crashed container, politely.

The last lines a container printed before it died are the best evidence of *why* it died (a
Python traceback, `exec format error`, `connection refused`). But a cluster-wide crash wave can
mean thousands of containers restarting at once, and pods/log is served by the kubelets through
the API server, so every fetch costs both. Hence: once per (pod uid, container, dead run, previous),
bounded concurrency, a token-bucket start rate, a byte cap, and graceful degradation when RBAC
does not grant pods/log (classification then uses status and events only).

One broken node must not blind the rest. When the apiserver cannot reach a node's kubelet (port
10250 firewalled, kubelet wedged), its pods/log requests hang without a byte. So each node gets
only part of the slots (fetches wait for their node's slot *before* taking a global one, so they
never queue ahead of other nodes' fetches), and a fetch that receives nothing within a short
first-byte timeout is given up as `timeout`, logged once per node. Otherwise four hung requests
would hold every slot for the whole request timeout, and the crashes of healthy nodes would run
out of log-wait time and be counted under a status-only cause.

Log text is evidence for the classifier, never for our own logs: nothing here logs it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from crashloop_exporter.errors import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    ConfigError,
    ForbiddenError,
    ResponseDecodeError,
    ThrottledError,
)
from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.kube.stats import WatchStats

log = logging.getLogger(__name__)

FORBIDDEN_COOLDOWN = 600.0
"""After a 403 on pods/log, do not ask again for this long (RBAC rarely changes in minutes)."""
DEDUP_KEYS = 100_000
"""Remembered (pod uid, container, run, previous) keys; the oldest are forgotten first."""


@dataclass(frozen=True, slots=True)
class LogResult:
    """Outcome of one fetch: `text` is the log (possibly empty) when result is ok, else None."""

    result: str
    """ok, forbidden, not_found, error, timeout, rate_limited or skipped."""
    text: str | None = None


class TokenBucket:
    """Start at most `rate` operations per second on average, with bursts up to `burst`.
    Waiters queue in arrival order (the lock is held while one sleeps)."""

    def __init__(
        self,
        *,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rate = rate
        self._burst = max(1.0, burst)
        self._tokens = self._burst
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Take one token, waiting for it if the bucket is empty. A rate <= 0 means unlimited."""
        if self._rate <= 0:
            return
        async with self._lock:
            self._refill()
            if self._tokens < 1.0:
                await self._sleep((1.0 - self._tokens) / self._rate)
                self._refill()
            self._tokens = max(0.0, self._tokens - 1.0)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now


@dataclass(slots=True)
class _NodeGate:
    """The slots of one node, and how many fetches use it (the gate is dropped when none do)."""

    slots: asyncio.Semaphore
    waiting: int = 0
    users: int = 0


class LogFetcher:
    """Previous-log fetches, deduplicated, bounded and rate limited; every result is counted."""

    def __init__(
        self,
        client: KubeClient,
        *,
        stats: WatchStats,
        tail_lines: int,
        limit_bytes: int,
        concurrency: int,
        rate_per_second: float,
        node_concurrency: int | None = None,
        first_byte_timeout: float | None = None,
        max_queue: int | None = None,
        forbidden_cooldown: float = FORBIDDEN_COOLDOWN,
        dedup_keys: int = DEDUP_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`node_concurrency`: fetches in flight for the pods of one node (default: `concurrency`).
        `first_byte_timeout`: seconds to wait for the response, and for each next chunk, before
        the fetch is a `timeout` (default: only the client's total request timeout).
        `max_queue`: fetches allowed to wait for a slot, globally and per node, before new ones
        get rate_limited (default: about 30 seconds of the rate, at least 10)."""
        self._client = client
        self._stats = stats
        self._tail_lines = tail_lines
        self._limit_bytes = limit_bytes
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._node_concurrency = max(1, node_concurrency if node_concurrency is not None else concurrency)
        self._first_byte_timeout = first_byte_timeout
        self._gates: dict[str, _NodeGate] = {}
        self._bucket = TokenBucket(rate=rate_per_second, burst=max(1.0, rate_per_second), clock=clock)
        self._max_queue = max_queue if max_queue is not None else max(10, int(rate_per_second * 30))
        self._forbidden_cooldown = forbidden_cooldown
        self._dedup_keys = dedup_keys
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str, int, bool], None] = OrderedDict()
        self._waiting = 0
        self._forbidden_until: float | None = None
        self._warned_forbidden = False
        self._silent_nodes: set[str] = set()
        """Nodes whose last fetch timed out: warned about once, until one of their fetches answers."""

    async def fetch(
        self,
        *,
        namespace: str,
        pod: str,
        pod_uid: str,
        container: str,
        restart_count: int,
        previous: bool = True,
        node: str = "",
    ) -> LogResult:
        """The log of `container`'s dead run number `restart_count` (`state.runs.dead_runs`: the
        same from the run's death to its restart). `previous=False` while the run is still
        `state.terminated` (then the kubelet serves it as the current log, and `previous=true`
        would return the run before it, or nothing); `previous=True` once it is lastState.
        `node` is the pod's spec.nodeName: the kubelet that serves the log, whose slots it uses.

        A repeated call for the same (pod_uid, container, restart_count, previous) returns `skipped`. While
        pods/log is forbidden (for FORBIDDEN_COOLDOWN after a 403) calls return `forbidden` without
        asking. Keys are released again when no answer was had (forbidden, rate_limited, timeout),
        so a later call may still fetch; ok, not_found and error are final.
        """
        key = (pod_uid, container, restart_count, previous)
        if key in self._seen:
            self._seen.move_to_end(key)
            return self._done("skipped")
        if self._forbidden_until is not None and self._clock() < self._forbidden_until:
            return self._done("forbidden")
        gate = self._gates.get(node)
        if self._waiting >= self._max_queue or (gate is not None and gate.waiting >= self._max_queue):
            log.debug("log fetch queue is full; not fetching %s/%s %s", namespace, pod, container)
            return self._done("rate_limited")
        if gate is None:
            gate = self._gates[node] = _NodeGate(asyncio.Semaphore(self._node_concurrency))
        self._remember(key)
        gate.users += 1
        gate.waiting += 1
        node_queued = True
        try:
            # The node's slot first: a fetch stuck behind its own hung kubelet holds no global slot.
            async with gate.slots:
                gate.waiting -= 1
                node_queued = False
                result = await self._fetch_in_slot(
                    namespace=namespace, pod=pod, container=container, previous=previous, node=node
                )
        except BaseException:
            # Cancelled while queued or in flight: nothing was learned, let a later call try.
            self._seen.pop(key, None)
            raise
        finally:
            if node_queued:
                gate.waiting -= 1
            gate.users -= 1
            if gate.users == 0:
                del self._gates[node]
        if result.result in ("forbidden", "rate_limited", "timeout"):
            self._seen.pop(key, None)
        return self._done(result.result, result.text)

    async def _fetch_in_slot(
        self, *, namespace: str, pod: str, container: str, previous: bool, node: str
    ) -> LogResult:
        self._waiting += 1
        queued = True
        try:
            async with self._semaphore:
                await self._bucket.acquire()
                self._waiting -= 1
                queued = False
                return await self._fetch(namespace=namespace, pod=pod, container=container, previous=previous,
                                         node=node)
        finally:
            if queued:
                self._waiting -= 1

    async def _fetch(
        self, *, namespace: str, pod: str, container: str, previous: bool = True, node: str = ""
    ) -> LogResult:
        where = f"{namespace}/{pod} container {container}"
        try:
            text = await self._client.pod_log(
                namespace,
                pod,
                container=container,
                previous=previous,
                tail_lines=self._tail_lines,
                limit_bytes=self._limit_bytes,
                first_byte_timeout=self._first_byte_timeout,
            )
        except ForbiddenError:
            self._forbidden_until = self._clock() + self._forbidden_cooldown
            if not self._warned_forbidden:
                self._warned_forbidden = True
                log.warning("no RBAC for pods/log: classifying from status and events only")
            return LogResult("forbidden")
        except ThrottledError as e:
            log.debug("previous log of %s: throttled by the API server (%s)", where, e.status)
            return LogResult("rate_limited")
        except ApiError as e:
            if e.status in (400, 404):
                # 400: the container has no previous run (yet); 404: the pod is gone.
                return LogResult("not_found")
            log.warning("previous log of %s: %s", where, e)
            return LogResult("error")
        except ApiTimeoutError as e:
            if node not in self._silent_nodes:
                # Once per node, not per fetch: a node with a hundred crash-looping pods would
                # otherwise fill our log with the same line.
                self._silent_nodes.add(node)
                log.warning(
                    "previous logs of pods on node %s time out (%s): the API server may not reach its "
                    "kubelet; their crashes are classified from status and events, further timeouts "
                    "on this node are only counted",
                    node or "<unscheduled>", e,
                )
            return LogResult("timeout")
        except (ApiConnectionError, ResponseDecodeError, ConfigError) as e:
            log.warning("previous log of %s: %s", where, e)
            return LogResult("error")
        if self._warned_forbidden and self._forbidden_until is not None:
            log.info("pods/log is readable again: previous logs are used for classification")
            self._forbidden_until = None
        if node in self._silent_nodes:
            self._silent_nodes.discard(node)
            log.info("previous logs of pods on node %s are answered again", node or "<unscheduled>")
        log.debug("previous log of %s: %d characters", where, len(text))
        return LogResult("ok", text)

    def _remember(self, key: tuple[str, str, int, bool]) -> None:
        self._seen[key] = None
        while len(self._seen) > self._dedup_keys:
            self._seen.popitem(last=False)

    def _done(self, result: str, text: str | None = None) -> LogResult:
        self._stats.count_log_fetch(result)
        return LogResult(result, text)
