"""Kubernetes objects as the API server returns them and the kubelet reports them: the one builder
of the raw pod, event and node JSON the tests feed the exporter.

Every test input that is a Kubernetes object is assembled from these pieces: the state and
collector tests' pods (`tests/exporter/podgen.py`), `diagnose`'s dumps and live answers
(`tests/cli/dumps.py`), the dependency chains (`tests/deps/chainfixtures.py`) and the held-out and
real-world clusters (`tests/heldout/kube.py`). Those modules add only their domain (a scenario's
defaults, a cluster's bookkeeping); the shape of an object is written once, here, so a fix to it
(a field the kubelet really writes, one it leaves out) reaches every test.

The shape rules kept here, because the exporter's decoder and the byte-compared held-out fixtures
depend on them:

- Keys in Go's struct declaration order and map keys sorted, as `json.Marshal` writes them.
- `omitempty` fields are absent, not empty: a waiting state without a message has no `message`,
  a container status built without a `last` state has no `lastState` (real kubelets write
  `lastState: {}`; tests that need either pass it).
- Typed list items carry no `kind`/`apiVersion` (`typed_list`); a single object read on its own
  does (`with_kind`).
- Times are `metav1.Time` strings (RFC 3339, second precision); every builder takes a datetime or
  an already written string.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

Obj = dict[str, Any]
Time = datetime | str
CType = Literal["regular", "init", "ephemeral"]

_UID_NS = uuid.UUID("6f1c8a52-3a5e-4c1b-9a43-2f8e1d6a7b90")
_SPEC_KEYS: dict[CType, str] = {"regular": "containers", "init": "initContainers", "ephemeral": "ephemeralContainers"}
_OWNER_API = {"Job": "batch/v1", "Node": "v1"}
"""apiVersion of an owner kind; every other controller is apps/v1."""


def ts(when: Time) -> str:
    """metav1.Time: RFC 3339, second precision (a string is taken as already written)."""
    return when if isinstance(when, str) else when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uid(*parts: str) -> str:
    """A stable UID from the object's identity, so that rebuilding an object gives the same one."""
    return str(uuid.uuid5(_UID_NS, "/".join(parts)))


def gomap(d: Mapping[str, Any] | None) -> Obj:
    """Go marshals maps with sorted keys."""
    return dict(sorted((d or {}).items()))


def with_kind(obj: Obj, kind: str, api_version: str = "v1") -> Obj:
    """`obj` as a GET (or a watch event, or `kubectl get -o json`) returns it: with its kind."""
    return {"apiVersion": api_version, "kind": kind, **obj}


def typed_list(kind: str, items: Sequence[Obj], api_version: str = "v1", *, resource_version: str = "5012") -> Obj:
    """A typed list as a LIST (and `cluster-info dump`) prints it: items without kind/apiVersion."""
    bare = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": resource_version}, "items": bare}


# ---------------------------------------------------------------- metadata


def owner_reference(kind: str, name: str, *, uid: str) -> Obj:
    """The controller's entry of `ownerReferences`, as every built-in controller writes it."""
    return {"apiVersion": _OWNER_API.get(kind, "apps/v1"), "kind": kind, "name": name, "uid": uid,
            "controller": True, "blockOwnerDeletion": True}


def object_meta(
    name: str,
    *,
    namespace: str = "",
    uid: str,
    resource_version: str | None = None,
    generation: int | None = None,
    created: Time | None = None,
    generate_name: str = "",
    deleting: Time | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owners: Sequence[Obj] = (),
) -> Obj:
    """ObjectMeta in Go's field order. `labels={}` writes an empty map, `None` none; a deleted
    object (`deleting`) has the default grace period of 30 s."""
    meta: Obj = {"name": name}
    if generate_name:
        meta["generateName"] = generate_name
    if namespace:
        meta["namespace"] = namespace
    meta["uid"] = uid
    if resource_version is not None:
        meta["resourceVersion"] = resource_version
    if generation is not None:
        meta["generation"] = generation
    if created is not None:
        meta["creationTimestamp"] = ts(created)
    if deleting is not None:
        meta["deletionTimestamp"] = ts(deleting)
        meta["deletionGracePeriodSeconds"] = 30
    if labels is not None:
        meta["labels"] = gomap(labels)
    if annotations:
        meta["annotations"] = gomap(annotations)
    if owners:
        meta["ownerReferences"] = list(owners)
    return meta


# ---------------------------------------------------------------- container specs


def env(name: str, value: str) -> Obj:
    return {"name": name, "value": value}


def env_secret(name: str, secret: str, key: str, *, optional: bool | None = None) -> Obj:
    ref: Obj = {"name": secret, "key": key}
    if optional is not None:
        ref["optional"] = optional
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def env_cm(name: str, configmap: str, key: str, *, optional: bool | None = None) -> Obj:
    ref: Obj = {"name": configmap, "key": key}
    if optional is not None:
        ref["optional"] = optional
    return {"name": name, "valueFrom": {"configMapKeyRef": ref}}


def env_field(name: str, path: str) -> Obj:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def http_probe(path: str, port: int | str, **timing: int) -> Obj:
    probe: Obj = {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}}
    return probe | _probe_timing(timing)


def exec_probe(command: Sequence[str], **timing: int) -> Obj:
    return {"exec": {"command": list(command)}} | _probe_timing(timing)


def _probe_timing(timing: dict[str, int]) -> Obj:
    # Field order of v1.Probe after the handler; API defaults filled as the apiserver does.
    out: Obj = {}
    for key, default in (
        ("initialDelaySeconds", None),
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        value = timing.get(key, default)
        if value is not None:
            out[key] = value
    return out


def resources(
    *, cpu: str | None = None, memory: str | None = None, limit_cpu: str | None = None, limit_memory: str | None = None
) -> Obj:
    limits = gomap({k: v for k, v in (("cpu", limit_cpu), ("memory", limit_memory)) if v})
    requests = gomap({k: v for k, v in (("cpu", cpu), ("memory", memory)) if v})
    out: Obj = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def container(
    name: str,
    image: str,
    *,
    command: Sequence[str] | None = None,
    args: Sequence[str] | None = None,
    ports: Sequence[tuple[str, int]] = (),
    env_from: Sequence[Obj] = (),
    env: Sequence[Obj] = (),
    res: Obj | None = None,
    mounts: Sequence[tuple[str, str, bool]] = (),
    liveness: Obj | None = None,
    readiness: Obj | None = None,
    startup: Obj | None = None,
    security: Obj | None = None,
    pull: str | None = None,
    extra: Obj | None = None,
) -> Obj:
    """A v1.Container with the apiserver's defaults, fields in Go declaration order. `mounts` are
    (volume, path, read-only)."""
    c: Obj = {"name": name, "image": image}
    if command:
        c["command"] = list(command)
    if args:
        c["args"] = list(args)
    if ports:
        c["ports"] = [{"name": pname, "containerPort": port, "protocol": "TCP"} for pname, port in ports]
    if env_from:
        c["envFrom"] = list(env_from)
    if env:
        c["env"] = list(env)
    c["resources"] = res or {}
    c["volumeMounts"] = [
        {"name": vname, "readOnly": True, "mountPath": path} if ro else {"name": vname, "mountPath": path}
        for vname, path, ro in mounts
    ]
    if liveness:
        c["livenessProbe"] = liveness
    if readiness:
        c["readinessProbe"] = readiness
    if startup:
        c["startupProbe"] = startup
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    c["imagePullPolicy"] = pull or ("Always" if image.endswith(":latest") or ":" not in image else "IfNotPresent")
    if security:
        c["securityContext"] = security
    if extra:
        c.update(extra)
    return c


def field_path(container_name: str, ctype: CType = "regular") -> str:
    """How an event names a container of its pod (`spec.containers{api}`)."""
    return f"spec.{_SPEC_KEYS[ctype]}{{{container_name}}}"


# ---------------------------------------------------------------- container states and statuses


def running(since: Time) -> Obj:
    return {"running": {"startedAt": ts(since)}}


def waiting(reason: str, message: str = "") -> Obj:
    """A waiting state; the kubelet leaves `message` out when it has none."""
    w: Obj = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def terminated(exit_code: int, reason: str, started: Time | None, finished: Time | None, *, message: str = "") -> Obj:
    """A terminated state; a container that never started has null times."""
    t: Obj = {"exitCode": exit_code, "reason": reason}
    if message:
        t["message"] = message
    t["startedAt"] = ts(started) if started is not None else None
    t["finishedAt"] = ts(finished) if finished is not None else None
    return {"terminated": t}


def container_status(
    name: str,
    *,
    image: str,
    state: Obj,
    last: Obj | None = None,
    ready: bool = False,
    restarts: int = 0,
    image_id: str | None = None,
    container_id: str = "",
    last_container_id: str = "",
    started: bool | None = None,
) -> Obj:
    """A v1.ContainerStatus in Go's field order. `container_id` is the current container's runtime
    ID, `last_container_id` the previous one's: the status names the current one (or the previous
    one while none runs), and each terminated state carries its own. `last=None` leaves
    `lastState` out and `image_id=None` `imageID`."""
    st: Obj = {"name": name, "state": copy.deepcopy(state)}
    if last is not None:
        st["lastState"] = copy.deepcopy(last)
    st |= {"ready": ready, "restartCount": restarts, "image": image}
    if image_id is not None:
        st["imageID"] = image_id
    if container_id or last_container_id:
        st["containerID"] = container_id or last_container_id
    if container_id and "terminated" in st["state"]:
        st["state"]["terminated"]["containerID"] = container_id
    if last_container_id and "terminated" in st.get("lastState", {}):
        st["lastState"]["terminated"]["containerID"] = last_container_id
    if started is not None:
        st["started"] = started
    return st


# ---------------------------------------------------------------- pods


def pod_spec(
    containers: Sequence[Obj],
    *,
    init_containers: Sequence[Obj] = (),
    ephemeral_containers: Sequence[Obj] = (),
    volumes: Sequence[Obj] | None = None,
    restart_policy: str = "Always",
    service_account: str = "default",
    node: str = "",
) -> Obj:
    """The head of a PodSpec with the API server's defaults, in Go's field order up to `nodeName`;
    a caller adds the fields that follow (securityContext, schedulerName, tolerations, ...)."""
    spec: Obj = {}
    if volumes is not None:
        spec["volumes"] = list(volumes)
    if init_containers:
        spec["initContainers"] = list(init_containers)
    spec["containers"] = list(containers)
    if ephemeral_containers:
        spec["ephemeralContainers"] = list(ephemeral_containers)
    spec |= {
        "restartPolicy": restart_policy,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": service_account,
        "serviceAccount": service_account,
    }
    if node:
        spec["nodeName"] = node
    return spec


def pod_status(
    phase: str,
    *,
    conditions: list[Obj] | None = None,
    message: str = "",
    reason: str = "",
    host_ip: str = "",
    pod_ip: str = "",
    start_time: Time | None = None,
    init_statuses: Sequence[Obj] = (),
    statuses: Sequence[Obj] | None = (),
    qos_class: str = "",
    ephemeral_statuses: Sequence[Obj] = (),
) -> Obj:
    """A PodStatus in Go's field order. `statuses=None` leaves `containerStatuses` out (a pod the
    kubelet has not seen yet), `()` writes an empty list."""
    status: Obj = {"phase": phase}
    if conditions is not None:
        status["conditions"] = conditions
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    if host_ip:
        status |= {"hostIP": host_ip, "hostIPs": [{"ip": host_ip}]}
    if pod_ip:
        status |= {"podIP": pod_ip, "podIPs": [{"ip": pod_ip}]}
    if start_time is not None:
        status["startTime"] = ts(start_time)
    if init_statuses:
        status["initContainerStatuses"] = list(init_statuses)
    if statuses is not None:
        status["containerStatuses"] = list(statuses)
    if qos_class:
        status["qosClass"] = qos_class
    if ephemeral_statuses:
        status["ephemeralContainerStatuses"] = list(ephemeral_statuses)
    return status


def pod(metadata: Obj, spec: Obj, status: Obj, *, kind: bool = True) -> Obj:
    """A Pod; `kind=False` for a typed list's item."""
    obj: Obj = {"metadata": metadata, "spec": spec, "status": status}
    return with_kind(obj, "Pod") if kind else obj


# ---------------------------------------------------------------- events


def pod_reference(pod_obj: Obj, *, field: str = "", resource_version: str | None = None) -> Obj:
    """An event's involvedObject for a pod (`field`: a container's `field_path`). The recorder
    writes the pod's resourceVersion of the moment; `resource_version` is an older one."""
    meta = pod_obj["metadata"]
    involved: Obj = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                     "apiVersion": "v1", "resourceVersion": resource_version or meta["resourceVersion"]}
    if field:
        involved["fieldPath"] = field
    return involved


def event(
    involved: Obj,
    *,
    namespace: str,
    name: str,
    uid: str,
    resource_version: str,
    created: Time,
    reason: str,
    message: str,
    source: Obj,
    first: Time | None,
    last: Time | None,
    count: int | None,
    type_: str = "Normal",
    event_time: str | None = None,
    series: Obj | None = None,
    action: str = "",
    reporting: tuple[str, str],
) -> Obj:
    """A core/v1 Event in Go's field order. A recorder of core/v1 (the kubelet's) writes first/last
    timestamps and a count; one of events.k8s.io (the scheduler's) writes `first=last=None`,
    `count=None`, an `event_time` (metav1.MicroTime), an `action` and, when repeated, a `series`."""
    ev: Obj = {
        "metadata": object_meta(name, namespace=namespace, uid=uid, resource_version=resource_version, created=created),
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": ts(first) if first is not None else None,
        "lastTimestamp": ts(last) if last is not None else None,
    }
    if count is not None:
        ev["count"] = count
    ev |= {"type": type_, "eventTime": event_time}
    if series is not None:
        ev["series"] = series
    if action:
        ev["action"] = action
    ev |= {"reportingComponent": reporting[0], "reportingInstance": reporting[1]}
    return ev


# ---------------------------------------------------------------- nodes

_PRESSURES = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
     "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
     "KubeletHasDiskPressure", "kubelet has disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available",
     "KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
)
"""(condition type, the kubelet's reason and message when False, when True)."""


def node_conditions(pressure: Mapping[str, Time], *, heartbeat: Time, calm_since: Time, ready_since: Time) -> list[Obj]:
    """A Ready node's conditions as the kubelet posts them: each pressure type True since when
    `pressure` says, False since `calm_since` otherwise."""
    conditions = []
    for ctype, ok_reason, ok_msg, bad_reason, bad_msg in _PRESSURES:
        since = pressure.get(ctype)
        conditions.append({
            "type": ctype,
            "status": "True" if since else "False",
            "lastHeartbeatTime": ts(heartbeat),
            "lastTransitionTime": ts(since or calm_since),
            "reason": bad_reason if since else ok_reason,
            "message": bad_msg if since else ok_msg,
        })
    conditions.append({"type": "Ready", "status": "True", "lastHeartbeatTime": ts(heartbeat),
                       "lastTransitionTime": ts(ready_since), "reason": "KubeletReady",
                       "message": "kubelet is posting ready status"})
    return conditions
