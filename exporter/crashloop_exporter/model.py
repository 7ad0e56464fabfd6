"""Compact records: the few fields of Pods, Events and Nodes that classification and labels need.

The exporter keeps these in memory instead of the pod JSON (a pod is ~5 KB of JSON, a healthy
pod's records ~200 bytes, see `PodRecord`), `diagnose` builds the same records from dumps, and
`classify` reads only these, so the pure core never sees raw API objects. `parse` builds them
from the `wire` Structs.
They are frozen msgspec Structs with gc=False: immutable trees hold no cycles, so the collector
need not track 150k pods' records, each is 16 bytes smaller than a slotted dataclass, and building
one is a C call (a frozen dataclass sets each field through object.__setattr__).
"""

from __future__ import annotations

import socket
import struct
from typing import Generic, Literal, TypeVar, cast

import msgspec
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


class ContainerDetail(Struct, frozen=True, gc=False):
    """What a container with nothing to explain does not have: one shared instance
    (`NO_CONTAINER_DETAIL`) stands for all of those, three fields (24 bytes) less a container."""

    spec: ContainerSpec | None = None
    waiting: Waiting | None = None
    last_terminated: Terminated | None = None
    reported: bool = True


NO_CONTAINER_DETAIL = ContainerDetail()


class ContainerRecord(Struct, frozen=True, gc=False):
    """One container with its status, as the classifier sees it. Built with `ContainerRecord.of`;
    `spec`, `waiting`, `last_terminated` and `reported` are read through `detail`."""

    name: str
    type: ContainerType
    ready: bool
    started: bool | None
    restart_count: int
    running_since: float | None
    terminated: Terminated | None
    """Current `state.terminated` (restartPolicy Never/OnFailure, or between restarts)."""
    detail: ContainerDetail = NO_CONTAINER_DETAIL

    @classmethod
    def of(
        cls,
        *,
        name: str,
        type: ContainerType,
        spec: ContainerSpec | None,
        ready: bool,
        started: bool | None,
        restart_count: int,
        running_since: float | None,
        waiting: Waiting | None,
        terminated: Terminated | None,
        last_terminated: Terminated | None,
        reported: bool = True,
    ) -> ContainerRecord:
        detail = (
            NO_CONTAINER_DETAIL
            if spec is None and waiting is None and last_terminated is None and reported
            else ContainerDetail(spec, waiting, last_terminated, reported)
        )
        return cls(name, type, ready, started, restart_count, running_since, terminated, detail)

    @property
    def spec(self) -> ContainerSpec | None:
        return self.detail.spec

    @property
    def waiting(self) -> Waiting | None:
        return self.detail.waiting

    @property
    def last_terminated(self) -> Terminated | None:
        """`lastState.terminated`: the previous run, whose logs `previous=true` returns."""
        return self.detail.last_terminated

    @property
    def reported(self) -> bool:
        """False when the pod's status had no entry for this container (a pending pod, or an update
        whose status was null, empty or missing) and it was built from the spec alone: its zeros are
        "unknown", not a restartCount reset."""
        return self.detail.reported


class PodDetail(Struct, frozen=True, gc=False):
    """What a healthy pod does not have: one shared instance (`NO_POD_DETAIL`) stands for all of those."""

    reason: str = ""
    message: str = ""
    volume_refs: tuple[EnvRef, ...] = ()
    terminating: bool = False


NO_POD_DETAIL = PodDetail()

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
"""Pod phases after which the kubelet runs none of the pod's containers again."""

_T = TypeVar("_T")
_replace = msgspec.structs.replace


class _Shared(Generic[_T]):
    """Equal values handed out as one instance, for the records of many pods to share.

    At most `size` are remembered, then all are forgotten at once: the records keep theirs, so a
    cluster's churn of bare pods and Jobs (each its own workload) leaks nothing and breaks nothing,
    and a LIST comes in namespace/name order, so a workload's pods come together and share anyway.
    A dict of the values themselves: an `lru_cache` entry cost ~190 bytes more (its key and link).
    """

    def __init__(self, size: int) -> None:
        self._seen: dict[_T, _T] = {}
        self._size = size

    def __call__(self, value: _T) -> _T:
        seen = self._seen
        known = seen.get(value)
        if known is not None:
            return known
        if len(seen) >= self._size:
            seen.clear()
        seen[value] = value
        return value


IpKey = int | str
"""An IP address as a record and the IP index keep it (`ip_key`)."""
_IPV6 = 1 << 128
_U32 = struct.Struct("!I")


def ip_key(text: str) -> IpKey:
    """The number an IP address stands for: an IPv4 one is 28-32 bytes where its text is 59-63 (a
    pod each, 150k pods), IPv6 ones are set past every IPv4 one (so `::10.1.2.3` is not
    `10.1.2.3`), and text that is no address stays itself. inet_pton is strict: `010.1.2.3`
    is no address, as the Kubernetes API would never write one."""
    try:
        # Not int.from_bytes: it sizes the int by its 4 bytes, 4 bytes more than most IPv4 need.
        return int(_U32.unpack(socket.inet_pton(socket.AF_INET, text))[0])
    except OSError:
        pass
    try:
        return _IPV6 | int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except OSError:
        return text


def ip_text(key: IpKey) -> str:
    """The text of an `ip_key` (IPv6 in its canonical form)."""
    if isinstance(key, str):
        return key
    if key & _IPV6:
        return socket.inet_ntop(socket.AF_INET6, (key ^ _IPV6).to_bytes(16, "big"))
    return socket.inet_ntop(socket.AF_INET, key.to_bytes(4, "big"))


class PodCommon(Struct, frozen=True, gc=False):
    """The fields the pods of one workload have alike (its phase too, the same for nearly all of
    them): one instance for all of them (`_common`)."""

    namespace: str
    workload_kind: str
    workload: str
    restart_policy: str
    phase: str


_common: _Shared[PodCommon] = _Shared(4096)


class PodRecord(Struct, frozen=True, gc=False):
    """One pod, compact: a healthy pod (nearly every pod of a big cluster) is its strings, its
    containers' start times, and this record of 10 fields (96 bytes). Built with `PodRecord.of`;
    the fields it keeps packed are read through `namespace`, `phase`, `restart_policy`,
    `workload_kind`, `workload`, `containers`, `container`, `pod_ips`, `reason`, `message`,
    `volume_refs` and `terminating`."""

    uid: str
    name: str
    common: PodCommon
    node_name: str
    packed_containers: ContainerRecord | tuple[ContainerRecord, ...]
    """The one container of a pod of one, bare (a 1-tuple is 48 bytes); else all of them. When
    `since` is set, templates shared by every pod whose containers look alike (see `since`)."""
    created: float | None = None
    """metadata.creationTimestamp, to tell a pod stuck in ContainerCreating from a new one."""
    packed_ips: IpKey | tuple[IpKey, ...] = ()
    """`ip_keys`, the one of a single-stack pod bare (the IP index keys on the same objects)."""
    fingerprint: int = 0
    """A hash of every field of the pod's JSON that this record was built from (`parse.fingerprint`),
    0 when unknown; an update with the same fingerprint cannot change the record."""
    detail: PodDetail = NO_POD_DETAIL
    since: float | tuple[float, ...] | None = None
    """Set when every container is running, never restarted, with nothing to explain: their
    `running_since` (bare for one), the one thing such containers of a workload's pods do not have
    alike; `packed_containers` are then shared templates (`_template`) without it, so such a
    container costs no record of its own (80 bytes). None: `packed_containers` are the records."""

    @classmethod
    def of(
        cls,
        *,
        uid: str,
        namespace: str,
        name: str,
        phase: str,
        reason: str,
        message: str,
        node_name: str,
        restart_policy: str,
        workload_kind: str,
        workload: str,
        containers: tuple[ContainerRecord, ...],
        volume_refs: tuple[EnvRef, ...] = (),
        created: float | None = None,
        terminating: bool = False,
        pod_ips: tuple[str, ...] = (),
        fingerprint: int = 0,
    ) -> PodRecord:
        detail = (
            NO_POD_DETAIL
            if not reason and not message and not volume_refs and not terminating
            else PodDetail(reason, message, volume_refs, terminating)
        )
        common = _common(PodCommon(namespace, workload_kind, workload, restart_policy, phase))
        packed, since = _pack_containers(containers)
        ips = ip_key(pod_ips[0]) if len(pod_ips) == 1 else tuple(map(ip_key, pod_ips))
        return cls(uid, name, common, node_name, packed, created, ips, fingerprint, detail, since)

    def with_containers(self, containers: tuple[ContainerRecord, ...]) -> PodRecord:
        packed, since = _pack_containers(containers)
        return msgspec.structs.replace(self, packed_containers=packed, since=since)

    @property
    def all_running(self) -> bool:
        """Every container is running, never restarted, with nothing to explain."""
        return self.since is not None

    @property
    def namespace(self) -> str:
        return self.common.namespace

    @property
    def phase(self) -> str:
        return self.common.phase

    @property
    def restart_policy(self) -> str:
        return self.common.restart_policy

    @property
    def workload_kind(self) -> str:
        return self.common.workload_kind

    @property
    def workload(self) -> str:
        return self.common.workload

    @property
    def containers(self) -> tuple[ContainerRecord, ...]:
        c, since = self.packed_containers, self.since
        if since is None:
            return (c,) if isinstance(c, ContainerRecord) else c
        if isinstance(since, tuple):
            return tuple(map(_running, cast(tuple[ContainerRecord, ...], c), since))
        return (_running(cast(ContainerRecord, c), since),)

    @property
    def pod_ips(self) -> tuple[str, ...]:
        """status.podIPs (or podIP): a log that names an IP resolves to this pod (`deps`)."""
        return tuple(map(ip_text, self.ip_keys))

    @property
    def ip_keys(self) -> tuple[IpKey, ...]:
        """`pod_ips` as `ip_key`s, the form the record keeps them in."""
        ips = self.packed_ips
        return ips if isinstance(ips, tuple) else (ips,)

    @property
    def reason(self) -> str:
        """`status.reason`, e.g. Evicted."""
        return self.detail.reason

    @property
    def message(self) -> str:
        return self.detail.message

    @property
    def volume_refs(self) -> tuple[EnvRef, ...]:
        """Secrets/ConfigMaps mounted as volumes (for FailedMount attribution)."""
        return self.detail.volume_refs

    @property
    def terminating(self) -> bool:
        """metadata.deletionTimestamp is set: the pod is being deleted (a rollout, a scale-down, an
        eviction someone asked for). Its containers' exits are answers to SIGTERM: never failing,
        and counting must not count them."""
        return self.detail.terminating

    @property
    def restarts_clean_exits(self) -> bool:
        """The kubelet restarts a regular container of this pod that exits 0: restartPolicy
        Always, on a pod that is not over (a pod Failed by a node shutdown is never restarted).
        Such an exit is a `clean_exit` crash from the first one."""
        return self.restart_policy == "Always" and self.phase not in TERMINAL_PHASES

    def container(self, name: str) -> ContainerRecord | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None


def _pack_containers(
    containers: tuple[ContainerRecord, ...],
) -> tuple[ContainerRecord | tuple[ContainerRecord, ...], float | tuple[float, ...] | None]:
    """`PodRecord.packed_containers` and `since` for `containers`: the one packing rule, so equal
    pods build equal records."""
    if len(containers) == 1:  # the common pod, without a loop
        c = containers[0]
        if c.running_since is None or not _runs_clean(c):
            return c, None
        return _template(c), c.running_since
    since: list[float] = []
    for c in containers:
        if c.running_since is None or not _runs_clean(c):
            return containers, None
        since.append(c.running_since)
    if not since:
        return (), None
    return _templates(tuple(map(_template, containers))), tuple(since)


def _runs_clean(c: ContainerRecord) -> bool:
    """Never restarted, not terminated, nothing to explain (compared by value: equal pods pack alike)."""
    return not c.restart_count and c.terminated is None and c.detail == NO_CONTAINER_DETAIL


def _template(c: ContainerRecord) -> ContainerRecord:
    """A running, never restarted container but for its start time, shared by every pod whose
    container it describes."""
    return _templates_of_one(_replace(c, running_since=None))


_templates_of_one: _Shared[ContainerRecord] = _Shared(4096)
_templates: _Shared[tuple[ContainerRecord, ...]] = _Shared(1024)
"""One tuple of templates for the pods of a workload of several containers."""


def _running(template: ContainerRecord, since: float) -> ContainerRecord:
    return _replace(template, running_since=since)



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
