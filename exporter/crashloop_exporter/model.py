"""Compact records: the few fields of Pods, Events and Nodes that classification and labels need.

The exporter keeps these in memory instead of the pod JSON (a pod is ~5 KB of JSON, a record a
few hundred bytes), `diagnose` builds the same records from dumps, and `classify` reads only these,
so the pure core never sees raw API objects. `parse` builds them from the `wire` Structs.
They are frozen msgspec Structs with gc=False: immutable trees hold no cycles, so the collector
need not track 150k pods' records, each is 16 bytes smaller than a slotted dataclass, and building
one is a C call (a frozen dataclass sets each field through object.__setattr__).
"""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

ContainerType = Literal["regular", "init", "ephemeral"]
ObjectKind = Literal["Secret", "ConfigMap"]
"""The Kubernetes kind names of the objects a pod spec can refer to for config."""


class Terminated(Struct, frozen=True, gc=False):
    """`state.terminated` or `lastState.terminated` of a container status."""

    exit_code: int
    reason: str
    message: str
    started_at: float | None
    finished_at: float | None
    signal: int = 0


class Waiting(Struct, frozen=True, gc=False):
    """`state.waiting` of a container status."""

    reason: str
    message: str


class EnvRef(Struct, frozen=True, gc=False):
    """An env var (or a whole envFrom) filled from a Secret or ConfigMap.

    `var` is the env var name (the prefix for `envFrom`, the volume name for volumes); `key` is ""
    for `envFrom` and volumes.
    """

    var: str
    kind: ObjectKind
    name: str
    key: str
    optional: bool


class Probe(Struct, frozen=True, gc=False):
    """The parts of a probe a remediation needs."""

    path: str
    port: str


class ContainerSpec(Struct, frozen=True, gc=False):
    """Spec fields of one container; only kept for pods that are failing or have restarted."""

    image: str
    memory_limit: str
    memory_request: str
    env_refs: tuple[EnvRef, ...]
    liveness: Probe | None
    readiness: Probe | None
    startup: Probe | None


class ContainerRecord(Struct, frozen=True, gc=False):
    """One container with its status, as the classifier sees it."""

    name: str
    type: ContainerType
    spec: ContainerSpec | None
    ready: bool
    started: bool | None
    restart_count: int
    running_since: float | None
    waiting: Waiting | None
    terminated: Terminated | None
    """Current `state.terminated` (restartPolicy Never/OnFailure, or between restarts)."""
    last_terminated: Terminated | None
    """`lastState.terminated`: the previous run, whose logs `previous=true` returns."""
    reported: bool = True
    """False when the pod's status had no entry for this container (a pending pod, or an update
    whose status was null, empty or missing) and it was built from the spec alone: its zeros are
    "unknown", not a restartCount reset."""


class PodRecord(Struct, frozen=True, gc=False):
    """One pod, compact."""

    uid: str
    namespace: str
    name: str
    phase: str
    reason: str
    """`status.reason`, e.g. Evicted."""
    message: str
    node_name: str
    restart_policy: str
    workload_kind: str
    workload: str
    containers: tuple[ContainerRecord, ...]
    volume_refs: tuple[EnvRef, ...] = ()
    """Secrets/ConfigMaps mounted as volumes (for FailedMount attribution)."""
    created: float | None = None
    """metadata.creationTimestamp, to tell a pod stuck in ContainerCreating from a new one."""
    terminating: bool = False
    """metadata.deletionTimestamp is set: the pod is being deleted (a rollout, a scale-down, an
    eviction someone asked for). Its containers' exits are answers to SIGTERM: never failing,
    and counting must not count them."""
    pod_ips: tuple[str, ...] = ()
    """status.podIPs (or podIP): a log that names an IP resolves to this pod (`deps`)."""
    fingerprint: int = 0
    """A hash of every field of the pod's JSON that this record was built from (`parse.fingerprint`),
    0 when unknown; an update with the same fingerprint cannot change the record."""

    def container(self, name: str) -> ContainerRecord | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None


class EventRecord(Struct, frozen=True, gc=False):
    """A core/v1 Event about a pod; `container` comes from `involvedObject.fieldPath`."""

    namespace: str
    pod: str
    pod_uid: str
    container: str
    type: str
    reason: str
    message: str
    count: int
    last_seen: float | None


class NodeCondition(Struct, frozen=True, gc=False):
    """A node pressure condition that is True, and since when."""

    type: str
    since: float | None
    message: str


class NodeRecord(Struct, frozen=True, gc=False):
    """A node, reduced to its pressure conditions (MemoryPressure, DiskPressure, PIDPressure)."""

    name: str
    pressures: tuple[NodeCondition, ...]
