"""Kubernetes objects (JSON bytes from the API, dicts from dumps and YAML) to compact records.

Every reader of the API or of dump files goes through here, so the type checks live in one place:
bytes are decoded straight into the Structs of `wire` (only the fields we read), dicts are
converted into the same Structs, and a field of the wrong type raises `MalformedObjectError`
naming the object and the path; the caller skips and counts the object. Container specs are
kept only for pods that have something to explain, which is what keeps healthy pods cheap (see
`model`); they are decoded from the object only then (see `wire`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

import msgspec

from crashloop_exporter import wire
from crashloop_exporter.errors import MalformedObjectError
from crashloop_exporter.model import (
    ContainerRecord,
    ContainerSpec,
    ContainerType,
    EnvRef,
    EventRecord,
    NodeCondition,
    NodeRecord,
    PodRecord,
    Probe,
    Terminated,
    Waiting,
)
from crashloop_exporter.refs import ContainerAt, Ref, container_refs, volume_refs
from crashloop_exporter.steps import Steps, run_steps

PRESSURE_CONDITIONS = frozenset({"MemoryPressure", "DiskPressure", "PIDPressure"})
_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-\d{6,}$")
_FIELD_PATH = re.compile(r"^spec\.(?:initContainers|containers|ephemeralContainers)\{(?P<name>[^}]+)\}$")
_intern = sys.intern
PARSE_CONTAINERS_PER_STEP = 100
"""Containers parsed per step of `parse_pod_steps`: ~30 us each, so one step holds the loop ~3 ms."""


def parse_time(value: object) -> float | None:
    """RFC 3339 (`2024-03-15T02:14:22Z`, with optional fraction/offset) to epoch seconds."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_time(value)


@lru_cache(maxsize=4096)
def _parse_time(value: str) -> float | None:
    # Cached: a Deployment's pods share their creation and start times, and a relist repeats all.
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _dict(obj: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedObjectError(f"{where}.{key} should be an object, got {type(value).__name__}")
    return value


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedObjectError(f"{where}.{key} should be a list, got {type(value).__name__}")
    return value


def _scalar_text(obj: Mapping[str, Any], key: str, where: str) -> str:
    """A field that is a string or a number in the API (a quantity, an IntOrString port), as text.

    Anything else is refused rather than passed to str(): str() of an aliased YAML list is how a
    2 KB alias bomb becomes gigabytes, and a nested list is no memory limit anyway.
    """
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedObjectError(f"{where}.{key} should be a string or a number, got {type(value).__name__}")
    return str(value)


def _str(obj: Mapping[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key, default)
    return value if isinstance(value, str) else default


INT32_MAX = 2**31 - 1


def resolve_workload(meta: wire.ObjectMeta, pod_name: str) -> tuple[str, str]:
    """(workload_kind, workload) from ownerReferences, with no API call.

    A ReplicaSet named `<deploy>-<pod-template-hash>` belongs to a Deployment; a Job named
    `<cronjob>-<digits>` (the scheduled time in minutes) belongs to a CronJob. A bare pod is its
    own workload.
    """
    owners = meta.ownerReferences or ()
    owner = next((o for o in owners if o.controller is True), owners[0] if owners else None)
    if owner is None:
        return "Pod", pod_name
    kind, name = owner.kind, owner.name
    if not kind or not name:
        return "Pod", pod_name
    if kind == "ReplicaSet":
        template_hash = meta.labels.pod_template_hash if meta.labels is not None else ""
        if template_hash and name.endswith("-" + template_hash):
            return "Deployment", name[: -len(template_hash) - 1]
        return "ReplicaSet", name
    if kind == "Job":
        m = _CRONJOB_JOB.match(name)
        if m:
            return "CronJob", m.group("cronjob")
    return kind, name


def _terminated(t: wire.StateTerminated) -> Terminated:
    return Terminated(
        exit_code=t.exitCode,
        reason=_intern(t.reason),
        message=t.message[:2048],
        started_at=parse_time(t.startedAt),
        finished_at=parse_time(t.finishedAt),
        signal=t.signal,
    )


def _probe(spec: Mapping[str, Any], key: str, where: str) -> Probe | None:
    p = spec.get(key)
    if not isinstance(p, Mapping):
        return None
    path, port = "", ""
    for handler in ("httpGet", "tcpSocket", "grpc"):
        h = p.get(handler)
        if isinstance(h, Mapping):
            path = _str(h, "path") if handler == "httpGet" else ""
            port = _scalar_text(h, "port", f"{where}.{key}.{handler}")
    if isinstance(p.get("exec"), Mapping):
        cmd = _list(p["exec"], "command", f"{where}.{key}.exec")
        if not all(isinstance(c, str) for c in cmd):
            raise MalformedObjectError(f"{where}.{key}.exec.command should be a list of strings")
        path = " ".join(cmd)
    return Probe(path=path, port=port)


def _compact(ref: Ref) -> EnvRef:
    """The classifier's view of a reference: `var` is the env var (envFrom: its prefix; volume: the
    volume name), `key` the env var's key ("" for envFrom and volumes)."""
    if ref.via == "volume":
        return EnvRef(var=ref.volume, kind=ref.kind, name=ref.name, key="", optional=ref.optional)
    return EnvRef(var=ref.env_var, kind=ref.kind, name=ref.name, key=ref.key or "", optional=ref.optional)


def _env_refs(spec: Mapping[str, Any], where: str) -> tuple[EnvRef, ...]:
    # The ContainerAt's list and index only place a reference for preflight; unused here.
    return tuple(_compact(r) for r in container_refs(ContainerAt(spec, "containers", 0), where=where))


def _volume_refs(pod_spec: Mapping[str, Any], where: str) -> tuple[EnvRef, ...]:
    # One per volume source: the walker's one-per-item references differ only in the key, which
    # the compact view drops (a FailedMount event names the missing key itself).
    return tuple(dict.fromkeys(_compact(r) for r in volume_refs(pod_spec, where=where)))


def _container_spec(spec: Mapping[str, Any], where: str) -> ContainerSpec:
    resources = _dict(spec, "resources", where)
    limits = _dict(resources, "limits", where + ".resources")
    requests = _dict(resources, "requests", where + ".resources")
    return ContainerSpec(
        image=_str(spec, "image"),
        memory_limit=_scalar_text(limits, "memory", where + ".resources.limits"),
        memory_request=_scalar_text(requests, "memory", where + ".resources.requests"),
        env_refs=_env_refs(spec, where),
        liveness=_probe(spec, "livenessProbe", where),
        readiness=_probe(spec, "readinessProbe", where),
        startup=_probe(spec, "startupProbe", where),
    )


def _needs_attention(status: wire.ContainerStatus) -> bool:
    """True when a container status has anything the classifier could explain."""
    if status.restartCount:
        return True
    state = status.state
    if state is not None:
        if state.waiting is not None:
            return True
        if state.terminated is not None and state.terminated.exitCode != 0:
            return True
    return False


RawObject = Mapping[str, Any] | msgspec.Raw | bytes | msgspec.Struct
"""An object as a reader has it: a dict (dump files, YAML), its JSON bytes, or the `wire` Struct
its LIST page or watch line was decoded into in one pass (the API)."""
_S = TypeVar("_S", bound=msgspec.Struct)


def _decode(raw: object, decoder: msgspec.json.Decoder[_S], kind: str) -> _S:
    """`raw` as the Struct of `decoder`; a wrong type or shape raises MalformedObjectError naming
    the object (when it has a name) and the path msgspec reports."""
    if isinstance(raw, msgspec.Struct) and type(raw) is decoder.type:
        return raw
    try:
        if isinstance(raw, msgspec.Raw | bytes | bytearray | memoryview):
            return decoder.decode(raw)
        if isinstance(raw, Mapping):
            converted: _S = msgspec.convert(raw, decoder.type)
            return converted
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise MalformedObjectError(f"{kind}{_named(raw)}: {e}") from None
    raise MalformedObjectError(f"{kind} should be an object, got {type(raw).__name__}")


def _named(raw: object) -> str:
    """` ns/name` of an object that failed to decode, or "" when it has none we can read."""
    meta = listed_meta(raw)
    name, ns = meta.get("name"), meta.get("namespace")
    if not isinstance(name, str) or not name:
        return ""
    return f" {ns}/{name}" if isinstance(ns, str) and ns else f" {name}"


def listed_meta(raw: object) -> Mapping[str, Any]:
    """The metadata of an object, read leniently (a malformed object still names itself)."""
    meta: object = None
    if isinstance(raw, Mapping):
        meta = raw.get("metadata")
    elif isinstance(struct_meta := getattr(raw, "metadata", None), wire.ObjectMeta):
        meta = msgspec.structs.asdict(struct_meta)
    elif isinstance(raw, msgspec.Raw | bytes | bytearray | memoryview):
        try:
            meta = wire.LISTED_KEY.decode(raw).metadata
        except (msgspec.ValidationError, msgspec.DecodeError):
            meta = None
    return meta if isinstance(meta, Mapping) else {}


def _pod(raw: RawObject) -> wire.Pod | wire.PodObject:
    """A dict converts whole (`PodObject`); JSON bytes or a decoded `wire.Pod` keep the spec as
    bytes, read by `_spec_names` and `_spec_dict` only as far as needed."""
    if isinstance(raw, Mapping):
        return _decode(raw, wire.POD_OBJECT, "pod")
    return _decode(raw, wire.POD, "pod")


def _spec_names(raw: RawObject, pod: wire.Pod | wire.PodObject, spec_dict: Mapping[str, Any] | None) -> wire.PodSpec:
    """The spec's container names, node and restart policy: from the dict already decoded when
    there is one (a pod of 5000 containers must not have its spec bytes read twice in one step)."""
    if isinstance(pod, wire.PodObject):
        return pod.spec
    try:
        if spec_dict is not None:
            return msgspec.convert(spec_dict, wire.PodSpec)
        return wire.POD_SPEC.decode(pod.spec)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise MalformedObjectError(f"pod{_named(raw)}: {_in_spec(e)}") from None


def _spec_dict(raw: RawObject, pod: wire.Pod | wire.PodObject, where: str) -> Mapping[str, Any]:
    """The whole pod spec as dicts, for a pod whose container specs are kept (see `wire`)."""
    if isinstance(raw, Mapping):
        return _dict(raw, "spec", where)
    if not isinstance(pod, wire.Pod):
        return {}
    try:
        spec = wire.SPEC_DICT.decode(pod.spec)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise MalformedObjectError(f"{where}: {_in_spec(e)}") from None
    return spec


def _in_spec(e: msgspec.MsgspecError) -> str:
    """msgspec's message about the spec's bytes, with its path from the pod (`$.spec.containers[0]`)."""
    text = str(e)
    return text.replace("at `$", "at `$.spec", 1) if "at `$" in text else f"spec: {text}"


def _check_restart_count(value: int | None, where: str) -> int:
    """`restartCount`, which the API declares as a required int32 (always serialized, never
    negative). Anything else (-1, 2**63-1, null, absent; a string or float fails the decode) is
    not a count to take a delta from: one such value would be counted as billions of crashes, or
    rebaseline the container so the next good update counts every earlier restart again."""
    if value is None or not 0 <= value <= INT32_MAX:
        raise MalformedObjectError(f"{where}: restartCount should be an integer in 0..{INT32_MAX}, got {value!r:.40}")
    return value


def parse_pod(raw: RawObject, *, keep_all_specs: bool = False) -> PodRecord:
    """A compact PodRecord; raises MalformedObjectError when a field we need is unusable."""
    return run_steps(parse_pod_steps(raw, keep_all_specs=keep_all_specs))


_GROUPS: tuple[tuple[ContainerType, str], ...] = (
    ("init", "initContainers"),
    ("regular", "containers"),
    ("ephemeral", "ephemeralContainers"),
)


def fingerprint(pod: wire.Pod) -> int:
    """A hash of everything `parse_pod_steps` reads of `pod` (not its resourceVersion, annotations
    or managedFields): an update with an equal fingerprint builds an equal record, so the state
    can drop it before parsing (~1.5 us against ~10). The `wire` Structs are frozen and hold only
    tuples, so they hash in C as they are; the spec is hashed as its bytes. 0 means none is known:
    so for a pod of more than `PARSE_CONTAINERS_PER_STEP` containers, whose hashing would be one
    long call where its parsing yields in steps."""
    if _wide(_statuses(pod.status)):
        return 0
    m = pod.metadata
    return hash((m.name, m.namespace, m.uid, m.creationTimestamp, m.deletionTimestamp, m.labels, m.ownerReferences,
                 pod.status, bytes(memoryview(pod.spec)))) or 1


def parse_pod_steps(
    raw: RawObject, *, keep_all_specs: bool = False, known_fingerprint: int | None = None
) -> Steps[PodRecord]:
    """`parse_pod`, yielding every `PARSE_CONTAINERS_PER_STEP` containers (see `steps`);
    `known_fingerprint`: the caller's `fingerprint(raw)`, not computed again.

    Written for the healthy pod, which is nearly every pod of a LIST: no f-strings, sets or
    generators until something needs them (this runs 150k times at start-up)."""
    pod = _pod(raw)
    meta, status = pod.metadata, pod.status
    name, namespace = meta.name, meta.namespace
    if not name or not namespace:
        raise MalformedObjectError("pod metadata.name and metadata.namespace are required")
    workload_kind, workload = resolve_workload(meta, name)
    pod_reason = status.reason

    statuses = _statuses(status)
    attention = keep_all_specs or pod_reason == "Evicted" or _any_needs_attention(statuses)
    where = f"pod {namespace}/{name}" if attention else ""
    spec_dict = _spec_dict(raw, pod, where) if attention else None
    if spec_dict is not None and _wide(statuses):
        yield  # a wide pod's spec decode was a step of its own (milliseconds for thousands)
    spec = _spec_names(raw, pod, spec_dict)
    spec_names = (spec.initContainers or (), spec.containers or (), spec.ephemeralContainers or ())
    unreported = _has_unreported(spec_names, statuses)
    if unreported and spec_dict is None:
        where = f"pod {namespace}/{name}"
        spec_dict = _spec_dict(raw, pod, where)

    containers: list[ContainerRecord] = []
    for (ctype, spec_key), group, names in zip(_GROUPS, statuses, spec_names, strict=True):
        specs: Mapping[str, Any] = {}
        if spec_dict is not None:
            specs = {_str(c, "name"): c for c in _list(spec_dict, spec_key, where + ".spec") if isinstance(c, Mapping)}
        for st in group:
            if containers and not len(containers) % PARSE_CONTAINERS_PER_STEP:
                yield
            cname = st.name
            if not cname:
                raise MalformedObjectError(f"pod {namespace}/{name}: container status without a name")
            restarts = st.restartCount
            if restarts is None or not 0 <= restarts <= INT32_MAX:
                _check_restart_count(restarts, f"pod {namespace}/{name} container {cname}")
            state = st.state
            if state is not None:
                waiting, running, terminated = state.waiting, state.running, state.terminated
            else:
                waiting = running = terminated = None
            c_spec = specs.get(cname) if attention else None
            last = st.lastState
            containers.append(
                ContainerRecord.of(
                    name=_intern(cname),
                    type=ctype,
                    spec=_container_spec(c_spec, f"{where}.spec.{spec_key}[{cname}]") if c_spec is not None else None,
                    ready=st.ready,
                    started=st.started,
                    restart_count=restarts,  # type: ignore[arg-type]  # checked just above
                    running_since=parse_time(running.startedAt) if running is not None else None,
                    waiting=Waiting(_intern(waiting.reason), waiting.message[:2048]) if waiting is not None else None,
                    terminated=_terminated(terminated) if terminated is not None else None,
                    last_terminated=(
                        _terminated(last.terminated) if last is not None and last.terminated is not None else None
                    ),
                )
            )
        if ctype != "ephemeral" and unreported:
            yield from _add_unreported(containers, ctype, spec_key, group, names, specs, where)

    return PodRecord.of(
        uid=meta.uid,
        namespace=_intern(namespace),
        name=name,
        phase=_intern(status.phase),
        reason=_intern(pod_reason),
        message=status.message[:2048],
        node_name=_intern(spec.nodeName),
        restart_policy=_intern(spec.restartPolicy),
        workload_kind=_intern(workload_kind),
        workload=workload,  # shared through `PodCommon`: interning would add an entry a workload
        containers=tuple(containers),
        volume_refs=(
            _volume_refs(spec_dict, where + ".spec") if spec_dict is not None and (attention or not statuses[1]) else ()
        ),
        created=parse_time(meta.creationTimestamp),
        terminating=meta.deletionTimestamp is not None,
        pod_ips=_pod_ips(status),
        fingerprint=_fingerprint_of(pod, known_fingerprint) if not keep_all_specs else 0,
    )


def _statuses(status: wire.PodStatus) -> tuple[Sequence[wire.ContainerStatus], ...]:
    """The init, regular and ephemeral container statuses, in `_GROUPS` order."""
    return (
        status.initContainerStatuses or (),
        status.containerStatuses or (),
        status.ephemeralContainerStatuses or (),
    )


def _wide(statuses: tuple[Sequence[wire.ContainerStatus], ...]) -> bool:
    """More containers than one parse step holds."""
    return sum(map(len, statuses)) > PARSE_CONTAINERS_PER_STEP


def _fingerprint_of(pod: wire.Pod | wire.PodObject, known: int | None) -> int:
    if known is not None:
        return known
    return fingerprint(pod) if isinstance(pod, wire.Pod) else 0


def _any_needs_attention(statuses: tuple[Sequence[wire.ContainerStatus], ...]) -> bool:
    for group in statuses:
        for st in group:
            if _needs_attention(st):
                return True
    return False


def _has_unreported(
    spec_names: tuple[Sequence[wire.ContainerName], ...], statuses: tuple[Sequence[wire.ContainerStatus], ...]
) -> bool:
    """Whether an init or regular container has no status yet (a pending pod): those keep their
    spec too, so FailedMount/config errors reported only as events can still be attributed."""
    for i in (0, 1):
        names, group = spec_names[i], statuses[i]
        if len(names) == len(group) and all(c.name == st.name for c, st in zip(names, group, strict=True)):
            continue  # the common case: one status per container, in spec order
        if {c.name for c in names if c.name} - {st.name for st in group}:
            return True
    return False


def _add_unreported(
    containers: list[ContainerRecord],
    ctype: ContainerType,
    spec_key: str,
    group: Sequence[wire.ContainerStatus],
    names: Sequence[wire.ContainerName],
    specs: Mapping[str, Any],
    where: str,
) -> Steps[None]:
    """Append a record (`reported=False`) for each container of `names` without a status in
    `group`, yielding every `PARSE_CONTAINERS_PER_STEP` containers like `parse_pod_steps`."""
    seen = {st.name for st in group}
    for c in names:
        cname = c.name
        if cname and cname not in seen:
            if containers and not len(containers) % PARSE_CONTAINERS_PER_STEP:
                yield
            seen.add(cname)
            c_spec = specs.get(cname)
            containers.append(
                ContainerRecord.of(
                    name=_intern(cname),
                    type=ctype,
                    spec=_container_spec(c_spec, f"{where}.spec.{spec_key}[{cname}]") if c_spec is not None else None,
                    ready=False,
                    started=None,
                    restart_count=0,
                    running_since=None,
                    waiting=None,
                    terminated=None,
                    last_terminated=None,
                    reported=False,
                )
            )


def _pod_ips(status: wire.PodStatus) -> tuple[str, ...]:
    """status.podIPs' addresses, podIP first (dual-stack pods have one per family)."""
    ips = [entry.ip for entry in status.podIPs or () if entry.ip]
    if status.podIP and status.podIP not in ips:
        ips.insert(0, status.podIP)
    return tuple(ips)


def parse_event(raw: RawObject) -> EventRecord | None:
    """An EventRecord for events about Pods; None for events about anything else."""
    ev = _decode(raw, wire.EVENT, "event")
    inv = ev.involvedObject or ev.regarding  # events.k8s.io/v1 shape
    if inv is None or inv.kind != "Pod":
        return None
    m = _FIELD_PATH.match(inv.fieldPath)
    series = ev.series
    count = ev.count or ev.deprecatedCount or (series.count if series is not None else None) or 1
    last = (
        (parse_time(series.lastObservedTime) if series is not None else None)
        or parse_time(ev.lastTimestamp)
        or parse_time(ev.eventTime)
        or parse_time(ev.deprecatedLastTimestamp)
        or parse_time(ev.metadata.creationTimestamp)
    )
    return EventRecord(
        namespace=_intern(inv.namespace or ev.metadata.namespace),
        pod=inv.name,
        pod_uid=inv.uid,
        container=_intern(m.group("name")) if m else "",
        type=_intern(ev.type),
        reason=_intern(ev.reason),
        message=(ev.message or ev.note)[:2048],
        count=count,
        last_seen=last,
    )


def parse_node(raw: RawObject) -> NodeRecord:
    """A NodeRecord holding only the pressure conditions that are True."""
    node = _decode(raw, wire.NODE, "node")
    name = node.metadata.name
    if not name:
        raise MalformedObjectError("node metadata.name is required")
    pressures = tuple(
        NodeCondition(
            type=_intern(c.type),
            since=parse_time(c.lastTransitionTime),
            message=c.message[:512],
        )
        for c in node.status.conditions or ()
        if c.type in PRESSURE_CONDITIONS and c.status == "True"
    )
    return NodeRecord(name=_intern(name), pressures=pressures)
