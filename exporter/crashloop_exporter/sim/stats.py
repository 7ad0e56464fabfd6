"""What the simulator did, counted so tests can compare it with what the exporter saw.

Every death of a container the lifecycle plays (counted when the run exits, as the exporter
counts it, and booked with its time so a test can measure how soon the exporter counted it),
every restart it performs, every failed-start episode (entering
CreateContainerConfigError, ErrImagePull, a FailedMount-held ContainerCreating...) and every
eviction is booked per container and per cause, and per the exact label set of
`crashloop_crashes_total`, so an end-to-end test asserts equality instead of "more than zero".
Request counters let watch-fault tests assert how often the exporter listed, watched and fetched
logs (e.g. one `previous=true` fetch per crash).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REQUEST_LOG_SIZE = 5000
DEATH_LOG_SIZE = 5000


@dataclass(frozen=True, slots=True)
class CrashKey:
    """The label set of `crashloop_crashes_total`, plus the pod for per-container asserts."""

    namespace: str
    pod: str
    container: str
    container_type: str
    workload_kind: str
    workload: str
    cause: str


class _Tally:
    def __init__(self) -> None:
        self.by_key: Counter[CrashKey] = Counter()

    def add(self, key: CrashKey) -> None:
        self.by_key[key] += 1

    def to_json(self) -> dict[str, Any]:
        by_cause: Counter[str] = Counter()
        by_container: Counter[str] = Counter()
        by_series: Counter[tuple[str, ...]] = Counter()
        for k, n in self.by_key.items():
            by_cause[k.cause] += n
            by_container[f"{k.namespace}/{k.pod}/{k.container}"] += n
            by_series[(k.namespace, k.workload_kind, k.workload, k.container, k.container_type, k.cause)] += n
        return {
            "total": sum(self.by_key.values()),
            "by_cause": dict(sorted(by_cause.items())),
            "by_container": dict(sorted(by_container.items())),
            "by_series": [
                {"namespace": s[0], "workload_kind": s[1], "workload": s[2], "container": s[3],
                 "container_type": s[4], "cause": s[5], "count": n}
                for s, n in sorted(by_series.items())
            ],
        }


@dataclass(frozen=True, slots=True)
class Death:
    """One run that exited: which container, its how-manieth death, and when (wall clock)."""

    key: CrashKey
    run: int
    """The container's dead runs after this one (restartCount + 1 while it waits)."""
    wall: float
    backoff: float
    """The back-off the kubelet will wait before restarting it (0: restarted at the next sync)."""

    def to_json(self) -> dict[str, Any]:
        return {"namespace": self.key.namespace, "pod": self.key.pod, "container": self.key.container,
                "cause": self.key.cause, "run": self.run, "wall": self.wall, "backoff": self.backoff}


class SimStats:
    """Counters of the lifecycle (deaths, restarts, failed starts, evictions) and of API requests."""

    def __init__(self) -> None:
        self.deaths = _Tally()
        """Runs that exited as crashes (what `crashloop_crashes_total` counts, with `failed_starts`
        and `evictions`), booked at the exit, not at the restart a back-off later."""
        self.death_log: deque[Death] = deque(maxlen=DEATH_LOG_SIZE)
        self.restarts = _Tally()
        self.failed_starts = _Tally()
        self.evictions = _Tally()
        self.request_counts: Counter[tuple[str, str]] = Counter()
        self.log_fetches: Counter[tuple[str, str]] = Counter()
        """(namespace/pod/container, "previous"|"current") -> fetches."""
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)

    def request(self, *, verb: str, resource: str, path: str, query: Mapping[str, str]) -> None:
        self.request_counts[(verb, path)] += 1
        self.requests.append({"verb": verb, "resource": resource, "path": path, "query": dict(query)})

    def log_fetch(self, *, namespace: str, pod: str, container: str, previous: bool) -> None:
        self.log_fetches[(f"{namespace}/{pod}/{container}", "previous" if previous else "current")] += 1

    def to_json(self, *, rv: int) -> dict[str, Any]:
        by_verb: dict[str, dict[str, int]] = {}
        for (verb, path), n in sorted(self.request_counts.items()):
            by_verb.setdefault(verb, {})[path] = n
        logs: dict[str, dict[str, int]] = {}
        for (container, kind), n in sorted(self.log_fetches.items()):
            logs.setdefault(container, {"previous": 0, "current": 0})[kind] = n
        return {
            "resource_version": str(rv),
            "deaths": self.deaths.to_json(),
            "recent_deaths": [d.to_json() for d in self.death_log],
            "restarts": self.restarts.to_json(),
            "failed_starts": self.failed_starts.to_json(),
            "evictions": self.evictions.to_json(),
            "requests": by_verb,
            "log_fetches": logs,
            "recent_requests": list(self.requests),
        }
