"""A Snapshot: the pods, events, nodes and crash logs that one `diagnose` run classifies.

`diagnose` reads from three very different places (a live API, a `kubectl cluster-info dump`,
`kubectl get -o json|yaml` files). Each reader turns its input into raw objects and hands them to
a `SnapshotBuilder`, which parses them into compact records (`parse`), skips malformed ones with one
warning each, and remembers the latest timestamp it saw, so an old dump is classified as of the
time it was taken rather than as of today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crashloop_exporter.deps.records import (
    PodAddress,
    ServiceRecord,
    SliceRecord,
    parse_pod_address,
    parse_service,
    parse_slice,
)
from crashloop_exporter.errors import MalformedObjectError
from crashloop_exporter.model import ContainerRecord, EventRecord, NodeRecord, PodRecord, Terminated
from crashloop_exporter.parse import parse_event, parse_node, parse_pod, parse_time

Warn = Callable[[str], None]
"""Receives one human-readable warning line (the CLI prints it on stderr)."""

POD_KINDS = frozenset({"Pod"})
EVENT_KINDS = frozenset({"Event"})
NODE_KINDS = frozenset({"Node"})
DEPENDENCY_KINDS = frozenset({"Service", "EndpointSlice"})
"""What resolves a dependency's address (`deps`): a dump's services.json, `kubectl get svc,endpointslices`."""
OBJECT_KINDS = POD_KINDS | EVENT_KINDS | NODE_KINDS | DEPENDENCY_KINDS
LIST_KINDS = {
    "PodList": "Pod",
    "EventList": "Event",
    "NodeList": "Node",
    "ServiceList": "Service",
    "EndpointSliceList": "EndpointSlice",
    "List": "",
}
"""List kinds and the kind their items have; `List` (what `kubectl get a,b -o json` prints) mixes kinds."""


@dataclass(slots=True)
class Snapshot:
    """Everything one `diagnose` run looks at, already parsed."""

    pods: list[PodRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    logs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(namespace, pod) -> container -> the output of the container's last *terminated* run."""
    services: list[ServiceRecord] = field(default_factory=list)
    slices: list[SliceRecord] = field(default_factory=list)
    pod_addresses: list[PodAddress] = field(default_factory=list)
    """Every pod's IPs, labels and hostname, to resolve a dependency's address offline."""
    latest: float | None = None
    """The latest timestamp seen in the input (events, pod creation, container starts and
    terminations, node heartbeats): when a dump or file was taken, as far as it tells."""
    _by_name: dict[tuple[str, str], list[EventRecord]] = field(default_factory=dict, repr=False)

    def index_events(self) -> None:
        """Group events by pod once, so `events_for` is a lookup (big dumps have 10^5 events)."""
        self._by_name.clear()
        for ev in self.events:
            self._by_name.setdefault((ev.namespace, ev.pod), []).append(ev)

    def events_for(self, pod: PodRecord) -> list[EventRecord]:
        """Events about this pod: by involvedObject.uid when both sides have one, else by namespace/name.

        Matching by uid keeps the events of an earlier pod with the same name (a StatefulSet
        replica, a re-created bare pod) away from the current one.
        """
        by_name = self._by_name.get((pod.namespace, pod.name), [])
        if not pod.uid:
            return list(by_name)
        return [ev for ev in by_name if not ev.pod_uid or ev.pod_uid == pod.uid]


def _later(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _terminated_times(t: Terminated | None) -> Iterable[float | None]:
    if t is None:
        return ()
    return (t.started_at, t.finished_at)


def _latest_heartbeat(raw: Mapping[str, Any]) -> float | None:
    status = raw.get("status")
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    latest: float | None = None
    for c in conditions if isinstance(conditions, list) else ():
        if isinstance(c, Mapping):
            latest = _later(latest, parse_time(c.get("lastHeartbeatTime")))
    return latest


def container_times(c: ContainerRecord) -> Iterable[float | None]:
    """Every timestamp a container status carries."""
    yield c.running_since
    yield from _terminated_times(c.terminated)
    yield from _terminated_times(c.last_terminated)


class SnapshotBuilder:
    """Collects raw objects from any reader into a Snapshot.

    `where` strings name the file and document/item index (e.g. `pods.json item 3`), so that a
    skipped object can be found by whoever produced the input.
    """

    def __init__(self, *, warn: Warn) -> None:
        self.warn = warn
        self.snapshot = Snapshot()
        self._pods: dict[tuple[str, str], PodRecord] = {}
        self._events: dict[EventRecord, None] = {}
        self.counts: dict[str, int] = {"Pod": 0, "Event": 0, "Node": 0, "Service": 0, "EndpointSlice": 0}
        self._addresses: dict[tuple[str, str], PodAddress] = {}
        self._services: dict[tuple[str, str], ServiceRecord] = {}
        self._slices: dict[tuple[str, str], SliceRecord] = {}
        """Objects accepted, by kind (for "N pods checked" and empty-input checks)."""

    def add(self, kind: str, raw: Any, *, where: str) -> bool:
        """Parse one object of `kind` (Pod, Event or Node); False when it was skipped as malformed."""
        try:
            if kind == "Pod":
                pod = parse_pod(raw, keep_all_specs=True)
                # The same pod twice (two -f files, or a dump plus a file): the later copy wins.
                self._pods[(pod.namespace, pod.name)] = pod
                self._addresses[(pod.namespace, pod.name)] = parse_pod_address(raw)
                self.snapshot.latest = _later(self.snapshot.latest, pod.created)
                for c in pod.containers:
                    for t in container_times(c):
                        self.snapshot.latest = _later(self.snapshot.latest, t)
            elif kind == "Event":
                ev = parse_event(raw)
                if ev is None:
                    return True  # an event about a Node, Deployment, ...: valid, just not ours
                self._events[ev] = None
                self.snapshot.latest = _later(self.snapshot.latest, ev.last_seen)
            elif kind == "Node":
                node = parse_node(raw)
                self.snapshot.nodes[node.name] = node
                # The kubelet heartbeats its conditions every few minutes, so the newest heartbeat
                # is a good lower bound for when a dump was taken.
                self.snapshot.latest = _later(self.snapshot.latest, _latest_heartbeat(raw))
            elif kind == "Service":
                svc = parse_service(raw)
                self._services[(svc.namespace, svc.name)] = svc
            elif kind == "EndpointSlice":
                sl = parse_slice(raw)
                self._slices[(sl.namespace, sl.name)] = sl
            else:
                raise MalformedObjectError(f"unsupported kind {kind!r}")
        except MalformedObjectError as e:
            self.warn(f"warning: {where}: skipped malformed {kind}: {e}")
            return False
        self.counts[kind] += 1
        return True

    def pods(self) -> Iterable[PodRecord]:
        """The pods accepted so far."""
        return self._pods.values()

    def pods_named(self, name: str) -> list[PodRecord]:
        """Pods with this name, in any namespace."""
        return [p for p in self._pods.values() if p.name == name]

    def add_logs(self, *, namespace: str, pod: str, container: str, text: str) -> None:
        """Record the output of a container's last terminated run."""
        self.snapshot.logs.setdefault((namespace, pod), {})[container] = text

    def build(self) -> Snapshot:
        snap = self.snapshot
        snap.pods = list(self._pods.values())
        snap.events = list(self._events)
        snap.services = list(self._services.values())
        snap.slices = list(self._slices.values())
        snap.pod_addresses = list(self._addresses.values())
        snap.index_events()
        return snap


def kind_of(raw: Mapping[str, Any], *, default: str = "") -> str:
    """The object's `kind`, or `default` for list items that the API sends without one.

    Typed lists (PodList from `kubectl cluster-info dump` or `kubectl get --raw`) omit kind on
    their items; `kubectl get -o json` prints a `List` whose items carry it.
    """
    kind = raw.get("kind")
    if isinstance(kind, str) and kind:
        return kind
    if default:
        return default
    # A bare item of a `List` without kind: recognise it by shape rather than give up.
    spec, status = raw.get("spec"), raw.get("status")
    if isinstance(spec, Mapping) and "containers" in spec:
        return "Pod"
    if "involvedObject" in raw or "regarding" in raw:
        return "Event"
    if isinstance(status, Mapping) and "nodeInfo" in status:
        return "Node"
    return ""


__all__ = [
    "EVENT_KINDS",
    "LIST_KINDS",
    "NODE_KINDS",
    "OBJECT_KINDS",
    "POD_KINDS",
    "Snapshot",
    "SnapshotBuilder",
    "Warn",
    "container_times",
    "kind_of",
]
