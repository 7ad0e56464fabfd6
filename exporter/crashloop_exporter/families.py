"""Every metric family `/metrics` serves, declared once: name, type, help, labels, samples.

kube-state-metrics declares each family once (`internal/store/pod.go`: name, type, help and the
function that turns an object into samples) and generates its docs from that table. Before this
table the cached-line renderer (`serve.exposition`), the prometheus-client collector and the README
each spelled the names, help texts and label tuples on their own, so a fix could land in one copy.
Now `serve.exposition` renders the per-container families from these entries, `serve.collector` builds the
exporter-health families from them, `metricsdoc` writes `docs/metrics.md` from them, and the
tests compare what a running exporter serves against this table.

The table's order is the exposition order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from crashloop_exporter.catalog import reason_label
from crashloop_exporter.findings import Finding
from crashloop_exporter.state import CrashKey

Kind = Literal["counter", "gauge", "histogram"]
Group = Literal["container", "health", "process"]


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family as the exposition spells it."""

    name: str
    """The sample name in the text format; counters end in `_total`."""
    kind: Kind
    help: str
    labels: tuple[str, ...]
    """Label names, in the order their values are given (the exposition sorts them by name)."""
    group: Group
    """`container`: one series per crash key or failing container; `health`: the exporter's own
    state; `process`: prometheus-client's ProcessCollector (declared here so docs and tests see it)."""

    def metric(self) -> CounterMetricFamily | GaugeMetricFamily:
        """An empty prometheus-client counter or gauge family with this name, help and labels."""
        if self.kind == "counter":
            return CounterMetricFamily(self.name, self.help, labels=self.labels)
        if self.kind == "gauge":
            return GaugeMetricFamily(self.name, self.help, labels=self.labels)
        raise TypeError(f"{self.name} is a {self.kind}: use histogram()")

    def histogram(self) -> HistogramMetricFamily:
        """An empty prometheus-client histogram family with this name, help and labels."""
        if self.kind != "histogram":
            raise TypeError(f"{self.name} is a {self.kind}: use metric()")
        return HistogramMetricFamily(self.name, self.help, labels=self.labels)


FINDING_LABELS: Mapping[str, Callable[[Finding], str]] = {
    "namespace": lambda f: f.namespace,
    "pod": lambda f: f.pod,
    "container": lambda f: f.container,
    "container_type": lambda f: f.container_type,
    "workload_kind": lambda f: f.workload_kind,
    "workload": lambda f: f.workload,
    "cause": lambda f: f.cause,
    # The kubelet passes the runtime's reason through; only known reasons become label values.
    "reason": lambda f: reason_label(f.reason),
    # The root of a dependency chain: Kubernetes names and a catalog cause, as above.
    "dependency_namespace": lambda f: f.dependency.chain_root.namespace if f.dependency else "",
    "dependency_workload_kind": lambda f: f.dependency.chain_root.workload_kind if f.dependency else "",
    "dependency_workload": lambda f: f.dependency.chain_root.workload if f.dependency else "",
    "dependency_cause": lambda f: (f.dependency.chain_root.cause or "") if f.dependency else "",
}
"""How a finding gives each label value: Kubernetes names and catalog values, never log text."""


@dataclass(frozen=True, slots=True)
class FindingFamily(Family):
    """A per-container family: at most one sample per finding."""

    value: Callable[[Finding], float | None]
    """The sample's value for a finding; None when the finding has no series in this family."""

    def __post_init__(self) -> None:
        unknown = set(self.labels) - set(FINDING_LABELS)
        if unknown:
            raise ValueError(f"{self.name}: no FINDING_LABELS entry for {sorted(unknown)}")

    def sample(self, finding: Finding) -> tuple[tuple[str, ...], float] | None:
        """(label values in `labels` order, value), or None."""
        value = self.value(finding)
        if value is None:
            return None
        return tuple(FINDING_LABELS[name](finding) for name in self.labels), value


CONTAINER_LABELS = ("namespace", "pod", "container", "container_type")

CRASHES = Family(
    "crashloop_crashes_total",
    "counter",
    "Container deaths (counted when the run exits, not at the restart) and failed-start episodes, "
    "by the cause of the crash.",
    CrashKey._fields,  # one series per CrashKey: no pod label, so series survive pod churn
    "container",
)
FAILING = FindingFamily(
    "crashloop_container_failing",
    "gauge",
    "1 for each container failing now, with its cause and the kubelet's reason.",
    ("namespace", "pod", "container", "container_type", "workload_kind", "workload", "cause", "reason"),
    "container",
    value=lambda f: 1.0 if f.failing else None,
)
LAST_EXIT_CODE = FindingFamily(
    "crashloop_container_last_exit_code",
    "gauge",
    "Exit code of the last termination of a failing container.",
    CONTAINER_LABELS,
    "container",
    value=lambda f: float(f.exit_code) if f.failing and f.exit_code is not None else None,
)
LAST_TERMINATION = FindingFamily(
    "crashloop_container_last_termination_timestamp_seconds",
    "gauge",
    "Unix time of the last termination of a failing container.",
    CONTAINER_LABELS,
    "container",
    value=lambda f: f.last_termination if f.failing else None,
)
DEPENDENCY_FAILING = FindingFamily(
    "crashloop_container_dependency_failing",
    "gauge",
    "1 for each failing container whose dependency is itself failing, with the root of the chain and its cause.",
    (
        "namespace",
        "pod",
        "container",
        "container_type",
        "workload_kind",
        "workload",
        "dependency_namespace",
        "dependency_workload_kind",
        "dependency_workload",
        "dependency_cause",
    ),
    "container",
    value=lambda f: 1.0 if f.failing and f.dependency is not None and f.dependency.chain_root.failing else None,
)
FINDING_FAMILIES: tuple[FindingFamily, ...] = (FAILING, LAST_EXIT_CODE, LAST_TERMINATION, DEPENDENCY_FAILING)

WATCH_EVENTS = Family(
    "crashloop_exporter_watch_events_total",
    "counter",
    "Watch events received, by resource and type.",
    ("resource", "type"),
    "health",
)
WATCH_RESTARTS = Family(
    "crashloop_exporter_watch_restarts_total",
    "counter",
    "Watch/list loops restarted, by resource and reason.",
    ("resource", "reason"),
    "health",
)
LOG_FETCHES = Family(
    "crashloop_exporter_log_fetches_total", "counter", "Previous-log fetches, by result.", ("result",), "health"
)
SYNCED = Family(
    "crashloop_exporter_synced", "gauge", "1 once the first list of the resource completed.", ("resource",), "health"
)
LAST_EVENT_TIMESTAMP = Family(
    "crashloop_exporter_last_event_timestamp_seconds",
    "gauge",
    "Unix time of the last watch event or bookmark per resource.",
    ("resource",),
    "health",
)
TASK_FAILURES = Family(
    "crashloop_exporter_task_failures_total",
    "counter",
    "Background tasks (watch, tick, log_fetch) that died with an error; each is also logged.",
    ("task",),
    "health",
)
SKIPPED_OBJECTS = Family(
    "crashloop_exporter_skipped_objects_total",
    "counter",
    "Objects or stream lines skipped as malformed or undecodable, by resource and reason.",
    ("resource", "reason"),
    "health",
)
OBJECTS_TRACKED = Family(
    "crashloop_exporter_objects_tracked", "gauge", "Objects held in memory, by resource.", ("resource",), "health"
)
CRASHES_PENDING_LOGS = Family(
    "crashloop_exporter_crashes_pending_logs",
    "gauge",
    "Crashes counted but not yet attributed: waiting (bounded) for the previous log that decides "
    "their cause, or held at most --kill-event-grace seconds for an Event that may explain the death.",
    (),
    "health",
)
CLASSIFICATION_DURATION = Family(
    "crashloop_exporter_classification_duration_seconds", "histogram", "Time to classify one pod.", (), "health"
)
BUILD_INFO = Family(
    "crashloop_exporter_build_info", "gauge", "Build information; always 1.", ("version", "python_version"), "health"
)
HEALTH_FAMILIES: tuple[Family, ...] = (
    WATCH_EVENTS,
    WATCH_RESTARTS,
    LOG_FETCHES,
    SYNCED,
    LAST_EVENT_TIMESTAMP,
    TASK_FAILURES,
    SKIPPED_OBJECTS,
    OBJECTS_TRACKED,
    CRASHES_PENDING_LOGS,
    CLASSIFICATION_DURATION,
    BUILD_INFO,
)

# prometheus-client's ProcessCollector renders these itself (Linux only: it reads /proc); they are
# spelled here so docs/metrics.md lists them, and a test holds them to what the client yields.
PROCESS_FAMILIES: tuple[Family, ...] = (
    Family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", (), "process"),
    Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", (), "process"),
    Family(
        "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", (), "process"
    ),
    Family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (), "process"),
    Family("process_open_fds", "gauge", "Number of open file descriptors.", (), "process"),
    Family("process_max_fds", "gauge", "Maximum number of open file descriptors.", (), "process"),
)

FAMILIES: tuple[Family, ...] = (CRASHES, *FINDING_FAMILIES, *HEALTH_FAMILIES, *PROCESS_FAMILIES)
"""Every family `/metrics` serves, in exposition order."""
