"""The prometheus-client custom collector: metric families from the in-memory state, at scrape time.

It never calls the Kubernetes API; it reads `ClusterState` (findings, counters) and the watch
layer's statistics. Label values come only from Kubernetes names and the catalog (causes, and the
known kubelet reasons: any other `reason` is exported as `Other`), never from logs or messages,
which keeps cardinality bounded and log text out of labels.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from crashloop_exporter import __version__
from crashloop_exporter.catalog import reason_label
from crashloop_exporter.state import ClusterState

FAILING_LABELS = ("namespace", "pod", "container", "container_type", "workload_kind", "workload", "cause", "reason")
CONTAINER_LABELS = ("namespace", "pod", "container", "container_type")
CRASHES_LABELS = ("namespace", "workload_kind", "workload", "container", "container_type", "cause")
RESOURCES = ("pods", "events", "nodes")
CRASHES_HELP = "Container restarts and failed-start episodes observed, by the cause of the crash."
FAILING_HELP = "1 for each container failing now, with its cause and the kubelet's reason."
EXIT_CODE_HELP = "Exit code of the last termination of a failing container."
TIMESTAMP_HELP = "Unix time of the last termination of a failing container."
CONTAINER_HELP = (CRASHES_HELP, FAILING_HELP, EXIT_CODE_HELP, TIMESTAMP_HELP)


StatsSnapshot = Mapping[str, Mapping[tuple[str, ...], float]]
"""Watch-layer statistics by family name (watch_events, watch_restarts, log_fetches, synced,
last_event_timestamp_seconds, skipped_objects), each mapping label values to a number."""


class CrashloopCollector(Collector):
    """Yields every crashloop_* family from a consistent snapshot of the state.

    `/metrics` renders the per-container families through `exposition.FastRenderer` (cached
    lines) and only the health families through this collector (`health_only=True`); both paths
    produce the same exposition, which a test checks.
    """

    def __init__(self, state: ClusterState, *, stats: Callable[[], StatsSnapshot], health_only: bool = False) -> None:
        self._state = state
        self._stats = stats
        self._health_only = health_only

    def collect(self) -> Iterator[Metric]:
        state = self._state
        if not self._health_only:
            state.tick()
            yield from self._crashes(state)
            yield from self._containers(state)
        yield from self._health(state)

    def _crashes(self, state: ClusterState) -> Iterator[Metric]:
        crashes = CounterMetricFamily(
            "crashloop_crashes",
            CRASHES_HELP,
            labels=CRASHES_LABELS,
        )
        for key, value in sorted(state.crashes.snapshot(now=state.now())):
            crashes.add_metric(list(key), value)
        yield crashes

    def _containers(self, state: ClusterState) -> Iterator[Metric]:
        failing = GaugeMetricFamily(
            "crashloop_container_failing",
            FAILING_HELP,
            labels=FAILING_LABELS,
        )
        exit_code = GaugeMetricFamily(
            "crashloop_container_last_exit_code",
            EXIT_CODE_HELP,
            labels=CONTAINER_LABELS,
        )
        last_ts = GaugeMetricFamily(
            "crashloop_container_last_termination_timestamp_seconds",
            TIMESTAMP_HELP,
            labels=CONTAINER_LABELS,
        )
        for f in sorted(state.all_findings(), key=lambda f: (f.namespace, f.pod, f.container)):
            if not f.failing:
                continue
            failing.add_metric(
                [
                    f.namespace,
                    f.pod,
                    f.container,
                    f.container_type,
                    f.workload_kind,
                    f.workload,
                    f.cause,
                    reason_label(f.reason),
                ],
                1.0,
            )
            labels = [f.namespace, f.pod, f.container, f.container_type]
            if f.exit_code is not None:
                exit_code.add_metric(labels, float(f.exit_code))
            if f.last_termination is not None:
                last_ts.add_metric(labels, f.last_termination)
        yield failing
        yield exit_code
        yield last_ts

    def _health(self, state: ClusterState) -> Iterator[Metric]:
        stats = self._stats()
        families: list[tuple[str, str, str, tuple[str, ...]]] = [
            ("watch_events", "counter", "Watch events received, by resource and type.", ("resource", "type")),
            (
                "watch_restarts",
                "counter",
                "Watch/list loops restarted, by resource and reason.",
                ("resource", "reason"),
            ),
            ("log_fetches", "counter", "Previous-log fetches, by result.", ("result",)),
            ("synced", "gauge", "1 once the first list of the resource completed.", ("resource",)),
            (
                "last_event_timestamp_seconds",
                "gauge",
                "Unix time of the last watch event or bookmark per resource.",
                ("resource",),
            ),
        ]
        for name, kind, doc, labels in families:
            values = stats.get(name, {})
            fam: CounterMetricFamily | GaugeMetricFamily
            if kind == "counter":
                fam = CounterMetricFamily(f"crashloop_exporter_{name}", doc, labels=labels)
            else:
                fam = GaugeMetricFamily(f"crashloop_exporter_{name}", doc, labels=labels)
            if name == "synced":
                values = {(r,): values.get((r,), 0.0) for r in RESOURCES} | dict(values)
            for lv, v in sorted(values.items()):
                fam.add_metric(list(lv), v)
            yield fam

        skipped = CounterMetricFamily(
            "crashloop_exporter_skipped_objects",
            "Objects or stream lines skipped as malformed or undecodable, by resource and reason.",
            labels=("resource", "reason"),
        )
        merged = dict(stats.get("skipped_objects", {}))
        for (resource, reason), n in state.skipped.items():
            merged[(resource, reason)] = merged.get((resource, reason), 0.0) + n
        for lv, v in sorted(merged.items()):
            skipped.add_metric(list(lv), v)
        yield skipped

        tracked = GaugeMetricFamily(
            "crashloop_exporter_objects_tracked", "Objects held in memory, by resource.", labels=("resource",)
        )
        tracked.add_metric(["pods"], len(state.pods))
        tracked.add_metric(["events"], len(state.events))
        tracked.add_metric(["nodes"], len(state.nodes))
        yield tracked

        pending = GaugeMetricFamily(
            "crashloop_exporter_crashes_pending_logs",
            "Crashes counted but waiting (bounded) for the previous log that decides their cause.",
        )
        pending.add_metric([], state.pending_crashes)
        yield pending

        h = state.classify_seconds
        buckets: list[tuple[str, float]] = []
        cumulative = 0
        for bound, count in zip((*h.bounds, float("inf")), h.counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        hist = HistogramMetricFamily(
            "crashloop_exporter_classification_duration_seconds",
            "Time to classify one pod.",
        )
        hist.add_metric([], buckets, h.sum)
        yield hist

        info = GaugeMetricFamily(
            "crashloop_exporter_build_info",
            "Build information; always 1.",
            labels=("version", "python_version"),
        )
        info.add_metric([__version__, platform.python_version()], 1.0)
        yield info
