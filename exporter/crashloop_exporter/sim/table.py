"""Server-side printing: `meta.k8s.io/v1` Tables for `kubectl get` against the sim.

kubectl asks the apiserver for a Table (`Accept: ...;as=Table;g=meta.k8s.io;v=v1`) and prints
its rows; without one it can only show names. So that `kubectl get pods -A` against the demo
reads like the seed documents (`0/1 CrashLoopBackOff 4 (20s ago) 3m12s`), the columns and the
STATUS/RESTARTS/AGE wording follow kubectl's own pod printer and its HumanDuration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crashloop_exporter.parse import parse_time

Column = tuple[str, str, int, str]
"""(name, type, priority, description); priority 1 columns show with `-o wide`."""


def human_duration(seconds: float) -> str:
    """kubectl's duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y{rest}d" if rest else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _age(value: object, now: float) -> str:
    t = parse_time(value)
    return "<unknown>" if t is None else human_duration(now - t)


def _pod_row(pod: Mapping[str, Any], now: float) -> list[Any]:
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    total = len(spec.get("containers") or [])
    reason = status.get("reason") or status.get("phase", "")
    restarts, last_restart, init_reason = _init_progress(
        status.get("initContainerStatuses") or [], len(spec.get("initContainers") or [])
    )
    ready = 0
    if init_reason is not None:
        reason = init_reason
    else:
        restarts, ready, reason, last_main = _main_progress(status, reason)
        last_restart = max(last_restart, last_main)
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restarts_text = str(restarts)
    if last_restart:
        restarts_text += f" ({human_duration(now - last_restart)} ago)"
    return [meta.get("name"), f"{ready}/{total}", reason, restarts_text, _age(meta.get("creationTimestamp"), now),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", "<none>"]


def _last_finished(cs: Mapping[str, Any]) -> float:
    """When the container's previous run finished (0: never)."""
    return parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")) or 0.0


def _init_progress(inits: Sequence[Mapping[str, Any]], declared: int) -> tuple[int, float, str | None]:
    """(restarts, last restart, `Init:...` reason) of the init containers up to the first one not done;
    the reason is None when every init container succeeded."""
    restarts, last_restart = 0, 0.0
    for i, cs in enumerate(inits):
        restarts += cs.get("restartCount", 0)
        last_restart = max(last_restart, _last_finished(cs))
        term, wait = (cs.get("state") or {}).get("terminated"), (cs.get("state") or {}).get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = "Init:" + term["reason"] if term.get("reason") else (
                f"Init:Signal:{term['signal']}" if term.get("signal") else f"Init:ExitCode:{term.get('exitCode')}")
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{declared}"
        return restarts, last_restart, reason
    return restarts, last_restart, None


def _main_progress(status: Mapping[str, Any], reason: str) -> tuple[int, int, str, float]:
    """(restarts, ready, reason, last restart) of the regular containers, as kubectl's printer."""
    restarts, ready, last_restart, has_running = 0, 0, 0.0, False
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        last_restart = max(last_restart, _last_finished(cs))
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if wait and wait.get("reason"):
            reason = wait["reason"]
        elif term and term.get("reason"):
            reason = term["reason"]
        elif term:
            reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
        elif cs.get("ready") and "running" in state:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        ready_cond = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        reason = "Running" if ready_cond else "NotReady"
    return restarts, ready, reason, last_restart


def _event_row(ev: Mapping[str, Any], now: float) -> list[Any]:
    inv, src = ev.get("involvedObject") or {}, ev.get("source") or {}
    source = ", ".join(v for v in (src.get("component"), src.get("host")) if v)
    return [_age(ev.get("lastTimestamp"), now), ev.get("type"), ev.get("reason"),
            f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}", inv.get("fieldPath", ""), source,
            ev.get("message"), _age(ev.get("firstTimestamp"), now), ev.get("count", 1),
            ev.get("metadata", {}).get("name")]


def _node_row(node: Mapping[str, Any], now: float) -> list[Any]:
    meta, status = node.get("metadata", {}), node.get("status", {})
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), "Unknown")
    info = status.get("nodeInfo") or {}
    ip = next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), "<none>")
    return [meta.get("name"), "Ready" if ready == "True" else "NotReady", "<none>",
            _age(meta.get("creationTimestamp"), now), info.get("kubeletVersion"), ip, "<none>",
            info.get("osImage"), info.get("kernelVersion"), info.get("containerRuntimeVersion")]


def _secret_row(obj: Mapping[str, Any], now: float) -> list[Any]:
    meta = obj.get("metadata", {})
    return [meta.get("name"), obj.get("type"), len(obj.get("data") or {}), _age(meta.get("creationTimestamp"), now)]


def _configmap_row(obj: Mapping[str, Any], now: float) -> list[Any]:
    meta = obj.get("metadata", {})
    return [meta.get("name"), len(obj.get("data") or {}), _age(meta.get("creationTimestamp"), now)]


def _namespace_row(obj: Mapping[str, Any], now: float) -> list[Any]:
    meta = obj.get("metadata", {})
    return [meta.get("name"), (obj.get("status") or {}).get("phase"), _age(meta.get("creationTimestamp"), now)]


def _service_row(obj: Mapping[str, Any], now: float) -> list[Any]:
    meta, spec = obj.get("metadata", {}), obj.get("spec", {})
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or ()) or "<none>"
    external = spec.get("externalName") if spec.get("type") == "ExternalName" else "<none>"
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [meta.get("name"), spec.get("type"), spec.get("clusterIP") or "<none>", external, ports,
            _age(meta.get("creationTimestamp"), now), selector]


def _endpointslice_row(obj: Mapping[str, Any], now: float) -> list[Any]:
    meta = obj.get("metadata", {})
    ports = ",".join(str(p.get("port")) for p in obj.get("ports") or ()) or "<unset>"
    addresses = [a for e in obj.get("endpoints") or () for a in e.get("addresses") or ()]
    shown = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    age = _age(meta.get("creationTimestamp"), now)
    return [meta.get("name"), obj.get("addressType"), ports, shown or "<unset>", age]


_NAME: Column = ("Name", "string", 0, "Name must be unique within a namespace.")
_AGE: Column = ("Age", "string", 0, "CreationTimestamp is a timestamp representing the server time when this "
                "object was created.")
PRINTERS: Mapping[str, tuple[Sequence[Column], Callable[[Mapping[str, Any], float], list[Any]]]] = {
    "pods": ((
        _NAME, ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
        ("Status", "string", 0, "The aggregate status of the containers in this pod."),
        ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted and when "
         "the last container in this pod has restarted."), _AGE,
        ("IP", "string", 1, "IP address allocated to the pod."), ("Node", "string", 1, "Name of the node."),
        ("Nominated Node", "string", 1, "Name of the nominated node."),
        ("Readiness Gates", "string", 1, "Pod readiness gates."),
    ), _pod_row),
    "events": ((
        ("Last Seen", "string", 0, "Time when last occurrence was observed."),
        ("Type", "string", 0, "Type of this event (Normal, Warning)."),
        ("Reason", "string", 0, "Why the action was taken."),
        ("Object", "string", 0, "The object that this event is about."),
        ("Subobject", "string", 1, "The subobject that this event is about."),
        ("Source", "string", 1, "The component reporting this event."),
        ("Message", "string", 0, "A human-readable description of the status of this operation."),
        ("First Seen", "string", 1, "Time when first occurrence was observed."),
        ("Count", "integer", 1, "The number of times this event has occurred."),
        ("Name", "string", 1, "Name of the event."),
    ), _event_row),
    "nodes": ((
        _NAME, ("Status", "string", 0, "The status of the node"), ("Roles", "string", 0, "The roles of the node"),
        _AGE, ("Version", "string", 0, "Kubelet Version reported by the node."),
        ("Internal-IP", "string", 1, "List of internal IPs."), ("External-IP", "string", 1, "List of external IPs."),
        ("OS-Image", "string", 1, "OS image."), ("Kernel-Version", "string", 1, "Kernel version."),
        ("Container-Runtime", "string", 1, "Container runtime version."),
    ), _node_row),
    "secrets": ((_NAME, ("Type", "string", 0, "The type of the secret"),
                 ("Data", "string", 0, "The number of keys in the secret"), _AGE), _secret_row),
    "configmaps": ((_NAME, ("Data", "string", 0, "Number of keys"), _AGE), _configmap_row),
    "namespaces": ((_NAME, ("Status", "string", 0, "The status of the namespace"), _AGE), _namespace_row),
    "services": ((
        _NAME, ("Type", "string", 0, "The type of the service."),
        ("Cluster-IP", "string", 0, "The IP of the service."),
        ("External-IP", "string", 0, "The external IP of the service."),
        ("Port(s)", "string", 0, "The ports of the service."), _AGE,
        ("Selector", "string", 1, "The selector of the service."),
    ), _service_row),
    "endpointslices": ((
        _NAME, ("AddressType", "string", 0, "The type of address in this slice."),
        ("Ports", "string", 0, "The ports of the endpoints in this slice."),
        ("Endpoints", "string", 0, "The addresses of the endpoints in this slice."), _AGE,
    ), _endpointslice_row),
}


def table(resource: str, objects: Sequence[Mapping[str, Any]], *, list_meta: Mapping[str, Any], now: float,
          include_object: str) -> dict[str, Any]:
    """A Table of `objects`; `include_object` is the request's includeObject (Metadata, Object, None)."""
    columns, row = PRINTERS[resource]
    rows = []
    for obj in objects:
        entry: dict[str, Any] = {"cells": row(obj, now)}
        if include_object == "Object":
            entry["object"] = obj
        elif include_object != "None":
            entry["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                               "metadata": obj.get("metadata", {})}
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta),
        "columnDefinitions": [
            {"name": n, "type": t, "format": "name" if n == "Name" else "", "description": d, "priority": p}
            for n, t, p, d in columns
        ],
        "rows": rows,
    }
