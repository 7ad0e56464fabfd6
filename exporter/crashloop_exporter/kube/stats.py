"""Counters of the watch and log-fetch layer, read by the collector at scrape time.

The watch loop and the log fetcher must not know about prometheus_client (the collector owns the
registry and renders `crashloop_exporter_*` families from a snapshot), so they count into this
plain object instead. Everything runs on one event loop, so no locks are needed; `snapshot()`
returns copies so a scrape sees one consistent moment even if the loop keeps counting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

RESOURCES: tuple[str, ...] = ("pods", "events", "nodes")
"""Values of the `resource` label."""

EVENT_TYPES: tuple[str, ...] = ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR")
"""Watch event types the API server sends; each is pre-filled at 0 so `rate()` has a series."""

RESTART_REASONS: tuple[str, ...] = (
    "gone",
    "timeout",
    "error",
    "stalled",
    "too_many_requests",
    "unauthorized",
    "dropped",
    "decode",
)
"""Values of `reason` in crashloop_exporter_watch_restarts_total:
gone (410: relist), timeout (the server closed the watch after timeoutSeconds, the normal case),
error (5xx, connection refused, an ERROR event), stalled (no bytes within the inactivity timeout),
too_many_requests (429), unauthorized (401/403 after re-reading credentials, or credentials that
cannot be refreshed), dropped (stream cut mid-event), decode (a body or line that is not the JSON we expect)."""

SKIP_REASONS: tuple[str, ...] = ("decode", "handler_error", "unknown_type")
"""Pre-filled values of `reason` in crashloop_exporter_skipped_objects_total; the handler may add
its own (e.g. malformed objects)."""

LOG_RESULTS: tuple[str, ...] = ("ok", "forbidden", "not_found", "error", "timeout", "rate_limited", "skipped")
"""Values of `result` in crashloop_exporter_log_fetches_total."""


@dataclass(frozen=True, slots=True)
class WatchStatsSnapshot:
    """A copy of every counter at one moment; safe to read while the loop keeps running."""

    events: dict[tuple[str, str], int]
    """(resource, type) -> watch events received."""
    restarts: dict[tuple[str, str], int]
    """(resource, reason) -> watch/list restarts."""
    skipped: dict[tuple[str, str], int]
    """(resource, reason) -> objects or lines skipped."""
    synced: dict[str, bool]
    """resource -> every watcher of that resource completed its first LIST."""
    last_event_timestamp: dict[str, float]
    """resource -> unix time of the last watch event (bookmarks included: they prove the stream lives)."""
    log_fetches: dict[str, int]
    """result -> previous-log fetches."""


@dataclass(slots=True)
class WatchStats:
    """Mutable counters; the watchers and the log fetcher write, the collector reads `snapshot()`."""

    clock: Callable[[], float] = time.time
    """Wall clock for last_event_timestamp (injectable for tests)."""
    _events: dict[tuple[str, str], int] = field(default_factory=dict, init=False)
    _restarts: dict[tuple[str, str], int] = field(default_factory=dict, init=False)
    _skipped: dict[tuple[str, str], int] = field(default_factory=dict, init=False)
    _watchers: dict[str, dict[str, bool]] = field(default_factory=dict, init=False)
    _last_event: dict[str, float] = field(default_factory=dict, init=False)
    _log_fetches: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOG_RESULTS, 0), init=False)

    def register(self, resource: str, key: str) -> None:
        """Declare one watcher (e.g. one namespace) of `resource`; the resource is synced only when
        all of its watchers have listed once. Also pre-fills that resource's counters at 0."""
        self._watchers.setdefault(resource, {}).setdefault(key, False)
        for event_type in EVENT_TYPES:
            self._events.setdefault((resource, event_type), 0)
        for reason in RESTART_REASONS:
            self._restarts.setdefault((resource, reason), 0)
        for reason in SKIP_REASONS:
            self._skipped.setdefault((resource, reason), 0)

    def mark_synced(self, resource: str, key: str) -> None:
        """The watcher `key` of `resource` completed a full LIST. A completed LIST is fresh data
        too, so it stamps the last-event time: a watch that hangs right after start-up must age."""
        self._watchers.setdefault(resource, {})[key] = True
        self._last_event[resource] = self.clock()

    def count_event(self, resource: str, event_type: str) -> None:
        """One watch event of a known type arrived."""
        k = (resource, event_type)
        self._events[k] = self._events.get(k, 0) + 1
        self._last_event[resource] = self.clock()

    def count_restart(self, resource: str, reason: str) -> None:
        """The list/watch of `resource` restarted for `reason` (one of RESTART_REASONS)."""
        k = (resource, reason)
        self._restarts[k] = self._restarts.get(k, 0) + 1

    def count_skipped(self, resource: str, reason: str) -> None:
        """One object or stream line of `resource` was skipped for `reason`."""
        k = (resource, reason)
        self._skipped[k] = self._skipped.get(k, 0) + 1

    def count_log_fetch(self, result: str) -> None:
        """One previous-log fetch ended with `result` (one of LOG_RESULTS)."""
        self._log_fetches[result] = self._log_fetches.get(result, 0) + 1

    def synced(self, resource: str) -> bool:
        """True when every registered watcher of `resource` has completed its first LIST."""
        watchers = self._watchers.get(resource) or {}
        return bool(watchers) and all(watchers.values())

    def ready(self) -> bool:
        """True when at least one watcher is registered and every resource is synced (/readyz)."""
        return bool(self._watchers) and all(self.synced(r) for r in self._watchers)

    def snapshot(self) -> WatchStatsSnapshot:
        """Copies of every counter, consistent with each other."""
        return WatchStatsSnapshot(
            events=dict(self._events),
            restarts=dict(self._restarts),
            skipped=dict(self._skipped),
            synced={r: self.synced(r) for r in self._watchers},
            last_event_timestamp=dict(self._last_event),
            log_fetches=dict(self._log_fetches),
        )
