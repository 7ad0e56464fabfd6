"""The simulated cluster's endpointslice controller: EndpointSlices derived from Services and Pods.

Like kube-controller-manager's, it publishes, for every Service with a selector (not an
ExternalName one), the pods of the Service's namespace that carry every selector label and have
an IP and are not terminal (Succeeded/Failed): one endpoint per pod with its IPv4 address,
`conditions` (ready: the pod's Ready condition, or always with `publishNotReadyAddresses`;
serving; terminating while the pod has a deletionTimestamp), a `targetRef` to the Pod, its
`nodeName`, and a `hostname` where the pod's `spec.subdomain` names the Service (a StatefulSet
behind its headless Service). Ports are the Service's ports with the target port resolved
against the pod's container ports (a named targetPort). Endpoints with the same ports share
slices of at most 100; a Service with no endpoint still gets one placeholder slice (endpoints
and ports null). Slices carry `kubernetes.io/service-name`, the managed-by label, the Service's
own labels, and an ownerReference to the Service.

It follows the store's writes (every pod write by the lifecycle, the replay or a test; every
Service write), so a pod that gets its IP, turns ready or unready, or goes away changes its
slices in the same turn, one revision after the pod's.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Mapping, Sequence
from typing import Any

from crashloop_exporter.sim.objects import KUBE_ALPHABET, endpointslice_body, stable_uid
from crashloop_exporter.sim.store import Change, Collection, Key, Store, StoredObject

MAX_ENDPOINTS_PER_SLICE = 100
"""kube-controller-manager's default --max-endpoints-per-slice."""
CONTROLLER = "endpointslice"

Endpoint = dict[str, Any]
Ports = tuple[tuple[str, str, int], ...]
"""(name, protocol, port) of each Service port as resolved for one pod."""


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions if isinstance(c, dict))


def _ipv4(pod: Mapping[str, Any]) -> str:
    status = pod.get("status", {})
    ips = [str(i.get("ip", "")) for i in status.get("podIPs") or () if isinstance(i, dict)]
    ips.append(str(status.get("podIP") or ""))
    return next((ip for ip in ips if ip and ":" not in ip), "")


def _target_port(service_port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in pod.get("spec", {}).get("containers") or ():
        for p in c.get("ports") or ():
            if p.get("name") == target and p.get("protocol", "TCP") == service_port.get("protocol", "TCP"):
                return int(p.get("containerPort", 0)) or None
    return None


def pod_endpoint(pod: Mapping[str, Any], service: Mapping[str, Any]) -> tuple[Endpoint, Ports] | None:
    """The endpoint the controller publishes for `pod` in `service`'s slices, with the ports it
    resolves to; None when the pod is not in the Service's endpoints (no IP, terminal)."""
    status, meta, spec = pod.get("status", {}), pod.get("metadata", {}), pod.get("spec", {})
    if status.get("phase") in ("Succeeded", "Failed"):
        return None
    ip = _ipv4(pod)
    if not ip:
        return None
    svc_meta, svc_spec = service.get("metadata", {}), service.get("spec", {})
    terminating = bool(meta.get("deletionTimestamp"))
    ready = _ready(pod)
    endpoint: Endpoint = {
        "addresses": [ip],
        "conditions": {"ready": (ready or bool(svc_spec.get("publishNotReadyAddresses"))) and not terminating,
                       "serving": ready, "terminating": terminating},
    }
    hostname = spec.get("hostname")
    if hostname and spec.get("subdomain") == svc_meta.get("name"):
        endpoint["hostname"] = hostname
    endpoint["targetRef"] = {"kind": "Pod", "namespace": meta.get("namespace", ""), "name": meta.get("name", ""),
                             "uid": meta.get("uid", "")}
    if spec.get("nodeName"):
        endpoint["nodeName"] = spec["nodeName"]
    ports: list[tuple[str, str, int]] = []
    for sp in svc_spec.get("ports") or ():
        port = _target_port(sp, pod)
        if port is not None:
            ports.append((str(sp.get("name", "")), str(sp.get("protocol", "TCP")), port))
    return endpoint, tuple(ports)


def derive_slices(service: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]
                  ) -> list[tuple[list[Endpoint], Ports | None]]:
    """The slices (endpoints, ports) the controller keeps for `service` given its namespace's
    `pods`; [] for a Service it does not manage (no selector, ExternalName)."""
    spec = service.get("spec", {})
    selector = spec.get("selector") or {}
    if not selector or spec.get("type") == "ExternalName":
        return []
    groups: dict[Ports, list[Endpoint]] = {}
    for pod in sorted(pods, key=lambda p: str(p.get("metadata", {}).get("name", ""))):
        labels = pod.get("metadata", {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        found = pod_endpoint(pod, service)
        if found is not None:
            groups.setdefault(found[1], []).append(found[0])
    out: list[tuple[list[Endpoint], Ports | None]] = []
    for ports, endpoints in groups.items():
        for i in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            out.append((endpoints[i:i + MAX_ENDPOINTS_PER_SLICE], ports))
    return out or [([], None)]


def _ports_json(ports: Ports | None) -> list[dict[str, Any]] | None:
    return None if ports is None else [{"name": n, "protocol": proto, "port": port} for n, proto, port in ports]


def _suffix(*parts: str) -> str:
    digest = int(stable_uid(*parts).replace("-", ""), 16)
    out = []
    for _ in range(5):
        digest, i = divmod(digest, len(KUBE_ALPHABET))
        out.append(KUBE_ALPHABET[i])
    return "".join(out)


class EndpointSliceController:
    """Keeps `store`'s endpointslices in line with its services and pods (see the module doc)."""

    def __init__(self, store: Store) -> None:
        self.pods: Collection = store["pods"]
        self.services: Collection = store["services"]
        self.slices: Collection = store["endpointslices"]
        self._selectors: dict[str, dict[str, Mapping[str, str]]] = {}
        """namespace -> Service name -> selector, of the Services this controller manages."""
        self._published: dict[Key, list[tuple[str, list[Endpoint], Ports | None]]] = {}
        """Service key -> (slice name, endpoints, ports) as last written."""
        self._created: dict[Key, float] = {}
        self.writes = 0
        self.pods.observers.append(self._on_pod)
        self.services.observers.append(self._on_service)
        for key in list(self.services.keys):
            obj = self.services.objects[key]
            self._service_changed(key, obj)

    # -- inputs ------------------------------------------------------------------------------

    def _on_service(self, change: Change) -> None:
        self._service_changed(change.obj.key, None if change.type == "DELETED" else change.obj)

    def _service_changed(self, key: Key, obj: StoredObject | None) -> None:
        ns, name = key
        body = obj.to_dict() if obj is not None else None
        spec = body.get("spec", {}) if body else {}
        selector = spec.get("selector") or {}
        if body is None or not selector or spec.get("type") == "ExternalName":
            self._selectors.get(ns, {}).pop(name, None)
            self._publish(key, None, [])
            return
        self._selectors.setdefault(ns, {})[name] = selector
        self._sync(key, body)

    def _on_pod(self, change: Change) -> None:
        ns = change.obj.namespace
        services = self._selectors.get(ns)
        if not services:
            return
        now_labels = change.obj.labels()
        was_labels = change.prev.labels() if change.prev is not None else {}
        for name, selector in list(services.items()):
            if _selects(selector, now_labels) or _selects(selector, was_labels):
                svc = self.services.get((ns, name))
                if svc is not None:
                    self._sync((ns, name), svc.to_dict())

    # -- outputs -----------------------------------------------------------------------------

    def _namespace_pods(self, ns: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
        keys = self.pods.keys
        out = []
        for i in range(bisect.bisect_left(keys, (ns, "")), len(keys)):
            key = keys[i]
            if key[0] != ns:
                break
            obj = self.pods.objects[key]
            if _selects(selector, obj.labels()):
                out.append(obj.to_dict())
        return out

    def _sync(self, key: Key, service: dict[str, Any]) -> None:
        selector = service.get("spec", {}).get("selector") or {}
        self._publish(key, service, derive_slices(service, self._namespace_pods(key[0], selector)))

    def _publish(self, key: Key, service: dict[str, Any] | None,
                 wanted: list[tuple[list[Endpoint], Ports | None]]) -> None:
        ns, svc_name = key
        old = self._published.get(key, [])
        names = [name for name, _, _ in old]
        while len(names) < len(wanted):
            names.append(f"{svc_name}-{_suffix('EndpointSlice', ns, svc_name, str(len(names)))}")
        new = [(names[i], endpoints, ports) for i, (endpoints, ports) in enumerate(wanted)]
        now = time.time()
        before = {name: (endpoints, ports) for name, endpoints, ports in old}
        for name, endpoints, ports in new:
            if before.get(name) == (endpoints, ports) and self.slices.get((ns, name)) is not None:
                continue
            assert service is not None
            created = self._created.setdefault((ns, name), now)
            self.slices.put_dict(endpointslice_body(
                namespace=ns, name=name, uid=stable_uid(ns, "EndpointSlice", name), created=created,
                service=service, endpoints=endpoints, ports=_ports_json(ports), changed=now,
            ))
            self.writes += 1
        for name in names[len(new):]:
            self._created.pop((ns, name), None)
            if self.slices.delete((ns, name)) is not None:
                self.writes += 1
        if new:
            self._published[key] = new
        else:
            self._published.pop(key, None)


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def attach_endpointslices(store: Store) -> EndpointSliceController:
    """The store's endpointslice controller, attached (and synced with what is stored) on first use."""
    found = store.controllers.get(CONTROLLER)
    if isinstance(found, EndpointSliceController):
        return found
    controller = EndpointSliceController(store)
    store.controllers[CONTROLLER] = controller
    return controller


__all__ = ["EndpointSliceController", "attach_endpointslices", "derive_slices", "pod_endpoint"]
