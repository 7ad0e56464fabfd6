"""The exporter-health families, as a prometheus-client collector, from in-memory state.

The per-container families are rendered from cached lines by `exposition.FastRenderer`; these few
small families (watch, log-fetch and classification statistics) go through prometheus-client,
which also negotiates the format. Names, types, help and labels come from the `families` table;
this module only fills in the values. It never calls the Kubernetes API: it reads `ClusterState`
and the watch layer's statistics at scrape time.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from crashloop_exporter import __version__
from crashloop_exporter.families import (
    BUILD_INFO,
    CLASSIFICATION_DURATION,
    CRASHES_PENDING_LOGS,
    LAST_EVENT_TIMESTAMP,
    LOG_FETCHES,
    OBJECTS_TRACKED,
    SKIPPED_OBJECTS,
    SYNCED,
    TASK_FAILURES,
    WATCH_EVENTS,
    WATCH_RESTARTS,
)
from crashloop_exporter.kube.stats import RESOURCES
from crashloop_exporter.state import ClusterState

StatsSnapshot = Mapping[str, Mapping[tuple[str, ...], float]]
"""Watch-layer statistics by family name (`families.WATCH_EVENTS.name`, ...: watch events and
restarts, log fetches, synced, last event timestamp, skipped objects) and the background tasks'
failures (`families.TASK_FAILURES.name`), each mapping label values to a number."""

STATS_FAMILIES = (WATCH_EVENTS, WATCH_RESTARTS, LOG_FETCHES, SYNCED, LAST_EVENT_TIMESTAMP, TASK_FAILURES)
"""The families whose values come from the snapshot alone (the watch layer's statistics and the
task supervisor's failures), in exposition order."""


class HealthCollector(Collector):
    """Yields the `health` families of the table, in table order, from a snapshot of the state."""

    def __init__(self, state: ClusterState, *, stats: Callable[[], StatsSnapshot]) -> None:
        self._state = state
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        state = self._state
        stats = self._stats()
        for family in STATS_FAMILIES:
            values = stats.get(family.name, {})
            if family is SYNCED:
                # Every resource has a series: 0 until its first list completes, not absent.
                values = {(r,): values.get((r,), 0.0) for r in RESOURCES} | dict(values)
            metric = family.metric()
            for lv, v in sorted(values.items()):
                metric.add_metric(list(lv), v)
            yield metric

        skipped = SKIPPED_OBJECTS.metric()
        merged = dict(stats.get(SKIPPED_OBJECTS.name, {}))
        for (resource, reason), n in state.skipped.items():
            merged[(resource, reason)] = merged.get((resource, reason), 0.0) + n
        for lv, v in sorted(merged.items()):
            skipped.add_metric(list(lv), v)
        yield skipped

        tracked = OBJECTS_TRACKED.metric()
        tracked.add_metric(["pods"], len(state.pods))
        tracked.add_metric(["events"], len(state.events))
        tracked.add_metric(["nodes"], len(state.nodes))
        yield tracked

        pending = CRASHES_PENDING_LOGS.metric()
        pending.add_metric([], state.pending_crashes)
        yield pending

        h = state.classify_seconds
        buckets: list[tuple[str, float]] = []
        cumulative = 0
        for bound, count in zip((*h.bounds, float("inf")), h.counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        hist = CLASSIFICATION_DURATION.histogram()
        hist.add_metric([], buckets, h.sum)
        yield hist

        info = BUILD_INFO.metric()
        info.add_metric([__version__, platform.python_version()], 1.0)
        yield info
