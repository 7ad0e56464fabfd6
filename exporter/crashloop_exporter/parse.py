"""Raw Kubernetes JSON (dicts from orjson or YAML) to compact records.

Every reader of the API or of dump files goes through here, so the type checks live in one place:
a field of the wrong type raises `MalformedObjectError` naming the field, and the caller skips
and counts the object. Container specs are kept only for pods that have something to explain,
which is what keeps healthy pods cheap (see `model`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

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


def _int(obj: Mapping[str, Any], key: str, where: str) -> int:
    value = obj.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedObjectError(f"{where}.{key} should be an integer, got {value!r:.40}")
    return value


INT32_MAX = 2**31 - 1


def _restart_count(status: Mapping[str, Any], where: str) -> int:
    """`restartCount`, which the API declares as a required int32 (always serialized, never
    negative). Anything else (-1, 2**63-1, "5", 5.0, null, absent) is not a count to take a delta
    from: one such value would be counted as billions of crashes, or rebaseline the container so
    the next good update counts every earlier restart again."""
    value = status.get("restartCount")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT32_MAX:
        raise MalformedObjectError(f"{where}: restartCount should be an integer in 0..{INT32_MAX}, got {value!r:.40}")
    return value


def resolve_workload(meta: Mapping[str, Any], pod_name: str) -> tuple[str, str]:
    """(workload_kind, workload) from ownerReferences, with no API call.

    A ReplicaSet named `<deploy>-<pod-template-hash>` belongs to a Deployment; a Job named
    `<cronjob>-<digits>` (the scheduled time in minutes) belongs to a CronJob. A bare pod is its
    own workload.
    """
    owners = [o for o in _list(meta, "ownerReferences", "metadata") if isinstance(o, Mapping)]
    owner = next((o for o in owners if o.get("controller") is True), owners[0] if owners else None)
    if owner is None:
        return "Pod", pod_name
    kind, name = _str(owner, "kind"), _str(owner, "name")
    if not kind or not name:
        return "Pod", pod_name
    if kind == "ReplicaSet":
        labels = _dict(meta, "labels", "metadata")
        template_hash = _str(labels, "pod-template-hash")
        if template_hash and name.endswith("-" + template_hash):
            return "Deployment", name[: -len(template_hash) - 1]
        return "ReplicaSet", name
    if kind == "Job":
        m = _CRONJOB_JOB.match(name)
        if m:
            return "CronJob", m.group("cronjob")
    return kind, name


def _terminated(state: Mapping[str, Any], where: str) -> Terminated | None:
    t = _dict(state, "terminated", where)
    if not t:
        return None
    return Terminated(
        exit_code=_int(t, "exitCode", where + ".terminated"),
        reason=_intern(_str(t, "reason")),
        message=_str(t, "message")[:2048],
        started_at=parse_time(t.get("startedAt")),
        finished_at=parse_time(t.get("finishedAt")),
        signal=_int(t, "signal", where + ".terminated"),
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


def _needs_attention(status: Mapping[str, Any]) -> bool:
    """True when a container status has anything the classifier could explain."""
    # Validated (with the pod's name in the error) when the container record is built.
    restarts = status.get("restartCount")
    if isinstance(restarts, int) and restarts > 0:
        return True
    state = status.get("state")
    if isinstance(state, Mapping):
        if isinstance(state.get("waiting"), Mapping):
            return True
        term = state.get("terminated")
        if isinstance(term, Mapping) and term.get("exitCode", 0) != 0:
            return True
    return False


def parse_pod(raw: Mapping[str, Any], *, keep_all_specs: bool = False) -> PodRecord:
    """A compact PodRecord; raises MalformedObjectError when a field we need is unusable."""
    return run_steps(parse_pod_steps(raw, keep_all_specs=keep_all_specs))


def parse_pod_steps(raw: Mapping[str, Any], *, keep_all_specs: bool = False) -> Steps[PodRecord]:
    """`parse_pod`, yielding every `PARSE_CONTAINERS_PER_STEP` containers (see `steps`)."""
    if not isinstance(raw, Mapping):
        raise MalformedObjectError(f"pod should be an object, got {type(raw).__name__}")
    meta = _dict(raw, "metadata", "pod")
    name, namespace, uid = _str(meta, "name"), _str(meta, "namespace"), _str(meta, "uid")
    if not name or not namespace:
        raise MalformedObjectError("pod metadata.name and metadata.namespace are required")
    where = f"pod {namespace}/{name}"
    spec = _dict(raw, "spec", where)
    status = _dict(raw, "status", where)
    workload_kind, workload = resolve_workload(meta, name)
    pod_reason = _str(status, "reason")

    groups: tuple[tuple[ContainerType, str, str], ...] = (
        ("init", "initContainers", "initContainerStatuses"),
        ("regular", "containers", "containerStatuses"),
        ("ephemeral", "ephemeralContainers", "ephemeralContainerStatuses"),
    )
    statuses_by_group = {g[0]: _list(status, g[2], where + ".status") for g in groups}
    attention = (
        keep_all_specs
        or pod_reason == "Evicted"
        or any(isinstance(s, Mapping) and _needs_attention(s) for ss in statuses_by_group.values() for s in ss)
    )

    containers: list[ContainerRecord] = []
    for ctype, spec_key, _status_key in groups:
        specs = {_str(c, "name"): c for c in _list(spec, spec_key, where + ".spec") if isinstance(c, Mapping)}
        seen: set[str] = set()
        for st in statuses_by_group[ctype]:
            if containers and not len(containers) % PARSE_CONTAINERS_PER_STEP:
                yield
            if not isinstance(st, Mapping):
                raise MalformedObjectError(f"{where}: a container status should be an object")
            cname = _str(st, "name")
            if not cname:
                raise MalformedObjectError(f"{where}: container status without a name")
            seen.add(cname)
            cwhere = f"{where} container {cname}"
            state = _dict(st, "state", cwhere)
            last = _dict(st, "lastState", cwhere)
            waiting = _dict(state, "waiting", cwhere + ".state")
            running = _dict(state, "running", cwhere + ".state")
            c_spec = specs.get(cname)
            containers.append(
                ContainerRecord(
                    name=_intern(cname),
                    type=ctype,
                    spec=_container_spec(c_spec, f"{where}.spec.{spec_key}[{cname}]")
                    if (attention and c_spec is not None)
                    else None,
                    ready=st.get("ready") is True,
                    started=st.get("started") if isinstance(st.get("started"), bool) else None,
                    restart_count=_restart_count(st, cwhere),
                    running_since=parse_time(running.get("startedAt")) if running else None,
                    waiting=Waiting(_intern(_str(waiting, "reason")), _str(waiting, "message")[:2048])
                    if waiting
                    else None,
                    terminated=_terminated(state, cwhere + ".state"),
                    last_terminated=_terminated(last, cwhere + ".lastState"),
                )
            )
        # Containers without a status yet (pod pending): keep the spec so FailedMount/config errors
        # reported only as events can still be attributed.
        for cname, c_spec in specs.items():
            if cname and cname not in seen and ctype != "ephemeral":
                if containers and not len(containers) % PARSE_CONTAINERS_PER_STEP:
                    yield
                containers.append(
                    ContainerRecord(
                        name=_intern(cname),
                        type=ctype,
                        spec=_container_spec(c_spec, f"{where}.spec.{spec_key}[{cname}]"),
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

    return PodRecord(
        uid=uid,
        namespace=_intern(namespace),
        name=name,
        phase=_intern(_str(status, "phase")),
        reason=_intern(pod_reason),
        message=_str(status, "message")[:2048],
        node_name=_intern(_str(spec, "nodeName")),
        restart_policy=_intern(_str(spec, "restartPolicy", "Always")),
        workload_kind=_intern(workload_kind),
        workload=_intern(workload),
        containers=tuple(containers),
        volume_refs=_volume_refs(spec, where + ".spec") if attention or not statuses_by_group["regular"] else (),
        created=parse_time(meta.get("creationTimestamp")),
        terminating=bool(meta.get("deletionTimestamp")),
        pod_ips=_pod_ips(status),
    )


def _pod_ips(status: Mapping[str, Any]) -> tuple[str, ...]:
    """status.podIPs' addresses, podIP first (dual-stack pods have one per family)."""
    entries = status.get("podIPs")
    ips = [i["ip"] for i in entries if isinstance(i, Mapping) and isinstance(i.get("ip"), str)] if isinstance(
        entries, list
    ) else []
    first = status.get("podIP")
    if isinstance(first, str) and first and first not in ips:
        ips.insert(0, first)
    return tuple(ip for ip in ips if ip)


def parse_event(raw: Mapping[str, Any]) -> EventRecord | None:
    """An EventRecord for events about Pods; None for events about anything else."""
    if not isinstance(raw, Mapping):
        raise MalformedObjectError(f"event should be an object, got {type(raw).__name__}")
    inv = _dict(raw, "involvedObject", "event")
    if not inv:
        inv = _dict(raw, "regarding", "event")  # events.k8s.io/v1 shape
    if _str(inv, "kind") != "Pod":
        return None
    meta = _dict(raw, "metadata", "event")
    m = _FIELD_PATH.match(_str(inv, "fieldPath"))
    series = _dict(raw, "series", "event")
    count = raw.get("count") or raw.get("deprecatedCount") or series.get("count") or 1
    last = (
        parse_time(series.get("lastObservedTime"))
        or parse_time(raw.get("lastTimestamp"))
        or parse_time(raw.get("eventTime"))
        or parse_time(raw.get("deprecatedLastTimestamp"))
        or parse_time(_str(meta, "creationTimestamp"))
    )
    return EventRecord(
        namespace=_intern(_str(inv, "namespace") or _str(meta, "namespace")),
        pod=_str(inv, "name"),
        pod_uid=_str(inv, "uid"),
        container=_intern(m.group("name")) if m else "",
        type=_intern(_str(raw, "type")),
        reason=_intern(_str(raw, "reason")),
        message=(_str(raw, "message") or _str(raw, "note"))[:2048],
        count=count if isinstance(count, int) else 1,
        last_seen=last,
    )


def parse_node(raw: Mapping[str, Any]) -> NodeRecord:
    """A NodeRecord holding only the pressure conditions that are True."""
    if not isinstance(raw, Mapping):
        raise MalformedObjectError(f"node should be an object, got {type(raw).__name__}")
    meta = _dict(raw, "metadata", "node")
    name = _str(meta, "name")
    if not name:
        raise MalformedObjectError("node metadata.name is required")
    status = _dict(raw, "status", f"node {name}")
    conditions = [c for c in _list(status, "conditions", f"node {name}.status") if isinstance(c, Mapping)]
    for i, c in enumerate(conditions):
        if not isinstance(c.get("type"), str):
            raise MalformedObjectError(
                f"node {name}.status.conditions[{i}].type should be a string, got {type(c.get('type')).__name__}"
            )
    pressures = tuple(
        NodeCondition(
            type=_intern(_str(c, "type")),
            since=parse_time(c.get("lastTransitionTime")),
            message=_str(c, "message")[:512],
        )
        for c in conditions
        if c.get("type") in PRESSURE_CONDITIONS and c.get("status") == "True"
    )
    return NodeRecord(name=_intern(name), pressures=pressures)
