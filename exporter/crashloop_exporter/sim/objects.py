"""Builders for the JSON the simulated apiserver serves, shaped like the real thing.

Everything the kubelet, the controllers and the apiserver's defaulting add to a pod is added
here (ownerReferences and controller labels, the kube-api-access projected volume, probe and
container defaults, tolerations, managedFields, conditions with transition times), because
the exporter has to meet real pods: a parser that works only on tidy hand-written JSON is of no
use in production.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

KUBE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The characters of generated names and hashes (k8s.io/apimachinery/pkg/util/rand)."""
EPOCH = "1970-01-01T00:00:00Z"
"""startedAt of a container the runtime failed to start (StartError)."""
SERVER_VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.4",
    "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596",
    "gitTreeState": "clean",
    "buildDate": "2024-08-14T19:29:04Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
KUBELET_VERSION = "v1.30.4"


def ts(wall: float) -> str:
    """RFC 3339 at second precision, as metav1.Time serialises."""
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_nano(wall: float) -> str:
    """RFC 3339 with nanoseconds, as the kubelet prefixes log lines with `timestamps=true`."""
    whole = int(wall)
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{int((wall - whole) * 1e9):09d}Z"


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String for whole seconds: 10s, 1m20s, 5m0s (the back-off message)."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    minutes, sec = divmod(s, 60)
    if minutes < 60:
        return f"{minutes}m{sec}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{sec}s"


class Ids:
    """Deterministic identifiers (uids, container ids, name suffixes) from one seed, so two sims
    with the same seed serve the same names."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self._rng.getrandbits(length * 4):0{length}x}"

    def suffix(self, length: int = 5) -> str:
        return "".join(self._rng.choice(KUBE_ALPHABET) for _ in range(length))

    def container_id(self) -> str:
        return "containerd://" + self.hex(64)


def stable_uid(*parts: str) -> str:
    """A uid derived from names (owners must keep their uid across pod recreation)."""
    return str(uuid.UUID(bytes=hashlib.sha256("/".join(parts).encode()).digest()[:16], version=4))


def image_id(image: str) -> str:
    """`registry/name@sha256:...`, the digest the runtime resolved the tag to."""
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def status_body(code: int, reason: str, message: str, *, details: Mapping[str, Any] | None = None,
                continue_token: str | None = None) -> dict[str, Any]:
    """A metav1.Status, the body of every error response and of a watch ERROR event."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {"continue": continue_token} if continue_token else {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        body["details"] = dict(details)
    body["code"] = code
    return body


# -- pods ----------------------------------------------------------------------------------------

_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
API_ACCESS_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def _probe(probe: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(probe)
    if isinstance(out.get("httpGet"), Mapping):
        out["httpGet"] = {"scheme": "HTTP", **out["httpGet"]}
    for k, v in _PROBE_DEFAULTS.items():
        out.setdefault(k, v)
    return out


def container_spec(raw: Mapping[str, Any], *, api_volume: str) -> dict[str, Any]:
    """A container as the apiserver stores it after defaulting."""
    c = dict(raw)
    image = str(c.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    c.setdefault("imagePullPolicy", "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent")
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "ports" in c:
        c["ports"] = [{"protocol": "TCP", **p} for p in c["ports"]]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(probe), Mapping):
            c[probe] = _probe(c[probe])
    mounts = list(c.get("volumeMounts") or [])
    mounts.append({"name": api_volume, "readOnly": True, "mountPath": API_ACCESS_MOUNT})
    c["volumeMounts"] = mounts
    return c


def api_access_volume(name: str) -> dict[str, Any]:
    """The projected service-account volume the admission controller injects in every pod."""
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                    "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
            "defaultMode": 420,
        },
    }


def qos_class(containers: Sequence[Mapping[str, Any]]) -> str:
    """Guaranteed when every container's limits equal its requests for cpu and memory."""
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if limits or requests:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in limits or requests.get(r, limits.get(r)) != limits.get(r):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _fieldset(value: Any, depth: int = 3) -> dict[str, Any]:
    """A FieldsV1 set for `value` as server-side apply writes it: `f:<key>` per field, lists of
    named objects keyed `k:{"name":...}` (ports by containerPort and protocol), leaves `{}`.
    Abridged below `depth` levels (an env var's valueFrom, a probe's httpGet), which keeps a pod
    near the usual 5-6 KB."""
    if depth == 0:
        return {}
    if isinstance(value, Mapping):
        return {".": {}, **{f"f:{k}": _fieldset(v, depth - 1) for k, v in value.items()}}
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        out: dict[str, Any] = {".": {}}
        for item in value:
            if "containerPort" in item:
                key = f'k:{{"containerPort":{item["containerPort"]},"protocol":"{item.get("protocol", "TCP")}"}}'
            elif "name" in item:
                key = f'k:{{"name":"{item["name"]}"}}'
            elif "type" in item:
                key = f'k:{{"type":"{item["type"]}"}}'
            else:
                return {}  # an atomic list
            out[key] = _fieldset(item, depth - 1)
        return out
    return {}


def managed_fields(*, created: str, owner_kind: str, started: str, spec: Mapping[str, Any],
                   labels: Sequence[str], status_keys: Sequence[str] = (
                       "conditions", "containerStatuses", "hostIP", "hostIPs", "phase", "podIP", "podIPs",
                       "startTime"), abridged: bool = False) -> list[dict[str, Any]]:
    """The two managers that write every controller-owned pod: the controller (the spec, field by
    field, containers and their env, ports, probes and resources included) and the kubelet (the
    status). Real pods carry these, a third or more of their bytes, and clients must skip them
    cheaply. `abridged`: top-level keys only (the filler's small shape)."""
    manager = "kube-controller-manager" if owner_kind != "Pod" else "kubectl-client-side-apply"
    if abridged:
        spec_fields: dict[str, Any] = {f"f:{k}": {} for k in spec if k not in ("containers", "nodeName")}
        spec_fields["f:containers"] = {f'k:{{"name":"{c["name"]}"}}': {} for c in spec.get("containers", ())}
    else:
        spec_fields = {k: v for k, v in _fieldset({k: v for k, v in spec.items() if k != "nodeName"}).items()
                       if k != "."}
    meta_fields: dict[str, Any] = {"f:labels": {".": {}, **{f"f:{k}": {} for k in labels}}}
    if owner_kind != "Pod":
        meta_fields["f:generateName"] = {}
        meta_fields["f:ownerReferences"] = {".": {}}
    status_fields: dict[str, Any] = {f"f:{k}": {} for k in status_keys}
    status_fields["f:conditions"] = {} if abridged else {
        f'k:{{"type":"{t}"}}': {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {},
                                 "f:type": {}}
        for t in ("ContainersReady", "Initialized", "PodReadyToStartContainers", "PodScheduled", "Ready")
    }
    return [
        {"manager": manager, "operation": "Update", "apiVersion": "v1", "time": created,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": meta_fields, "f:spec": spec_fields}},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": started,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:status": status_fields}, "subresource": "status"},
    ]


DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


# -- events --------------------------------------------------------------------------------------

def event_body(*, name: str, namespace: str, involved: Mapping[str, Any], reason: str, message: str,
               etype: str, count: int, first: float, last: float, component: str, host: str,
               uid: str) -> dict[str, Any]:
    """A core/v1 Event as the kubelet's event recorder writes it (the deprecated-but-universal
    count/firstTimestamp/lastTimestamp fields, not the events.k8s.io series)."""
    source: dict[str, str] = {"component": component}
    if host and component == "kubelet":
        source["host"] = host
    return {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": ts(first)},
        "involvedObject": dict(involved),
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": ts(first),
        "lastTimestamp": ts(last),
        "count": count,
        "type": etype,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host if component == "kubelet" else "",
    }


def event_name(involved_name: str, wall: float) -> str:
    """`<object>.<hex unix nanoseconds>`, the recorder's naming."""
    return f"{involved_name}.{int(wall * 1e9):x}"


# -- nodes, namespaces, secrets, configmaps -----------------------------------------------------

_PRESSURE_TEXT = {
    "MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
                       "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure",
                     "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available",
                    "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
}
_PRESSURE_TAINT = {"MemoryPressure": "memory-pressure", "DiskPressure": "disk-pressure", "PIDPressure": "pid-pressure"}


def node_body(*, name: str, ip: str, uid: str, created: float, pressures: Sequence[str],
              pressure_since: float, heartbeat: float, labels: Mapping[str, str], index: int) -> dict[str, Any]:
    conditions = []
    for ctype, (bad_reason, bad_msg, ok_reason, ok_msg) in _PRESSURE_TEXT.items():
        bad = ctype in pressures
        conditions.append({
            "type": ctype, "status": "True" if bad else "False", "lastHeartbeatTime": ts(heartbeat),
            "lastTransitionTime": ts(pressure_since if bad else created), "reason": bad_reason if bad else ok_reason,
            "message": bad_msg if bad else ok_msg,
        })
    conditions.append({
        "type": "Ready", "status": "True", "lastHeartbeatTime": ts(heartbeat), "lastTransitionTime": ts(created),
        "reason": "KubeletReady", "message": "kubelet is posting ready status",
    })
    taints = [{"key": f"node.kubernetes.io/{_PRESSURE_TAINT[p]}", "effect": "NoSchedule",
               "timeAdded": ts(pressure_since)} for p in pressures]
    spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"],
                            "providerID": f"kind://docker/crashloop-sim/{name}"}
    if taints:
        spec["taints"] = taints
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name, "uid": uid, "creationTimestamp": ts(created),
            "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "node.kubernetes.io/instance-type": "m6i.xlarge",
                       "topology.kubernetes.io/zone": f"eu-west-1{'abc'[index % 3]}", **labels},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": spec,
        "status": {
            "capacity": {"cpu": "4", "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0",
                         "hugepages-2Mi": "0", "memory": "16069568Ki", "pods": "110"},
            "allocatable": {"cpu": "3920m", "ephemeral-storage": "93478772582", "hugepages-1Gi": "0",
                            "hugepages-2Mi": "0", "memory": "15262656Ki", "pods": "110"},
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": hashlib.md5(name.encode()).hexdigest(), "systemUUID": stable_uid("node", name),
                "bootID": stable_uid("boot", name), "kernelVersion": "6.1.0-25-cloud-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.20",
                "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux", "architecture": "amd64",
            },
        },
    }


def namespace_body(name: str, *, uid: str, created: float) -> dict[str, Any]:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": name, "uid": uid, "creationTimestamp": ts(created),
                     "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def secret_body(*, namespace: str, name: str, data: Mapping[str, str], stype: str, uid: str,
                created: float) -> dict[str, Any]:
    return {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": ts(created)},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        "type": stype,
    }


def configmap_body(*, namespace: str, name: str, data: Mapping[str, str], uid: str, created: float) -> dict[str, Any]:
    return {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": ts(created)},
        "data": dict(data),
    }


def service_body(*, namespace: str, name: str, uid: str, created: float, selector: Mapping[str, str] | None,
                 cluster_ip: str, ports: Sequence[Mapping[str, Any]], stype: str = "ClusterIP",
                 external_name: str = "", labels: Mapping[str, str] | None = None,
                 publish_not_ready: bool = False) -> dict[str, Any]:
    """A Service as the apiserver stores it once its defaults are filled in. `cluster_ip` "None":
    headless; `stype` ExternalName: an alias out of the cluster, no cluster IP and no ports needed."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": ts(created)}
    if labels:
        meta["labels"] = dict(labels)
    spec: dict[str, Any] = {}
    if ports:
        spec["ports"] = [
            {**({"name": p["name"]} if p.get("name") else {}), "protocol": p.get("protocol", "TCP"),
             "port": p["port"], "targetPort": p.get("targetPort", p["port"])}
            for p in ports
        ]
    if selector:
        spec["selector"] = dict(selector)
    if stype == "ExternalName":
        spec.update({"type": "ExternalName", "sessionAffinity": "None", "externalName": external_name})
    else:
        spec.update({"clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "type": stype, "sessionAffinity": "None"})
        if publish_not_ready:
            spec["publishNotReadyAddresses"] = True
        spec.update({"ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"})
    return {"kind": "Service", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": {"loadBalancer": {}}}


ENDPOINTSLICE_MANAGED_BY = "endpointslice-controller.k8s.io"


def endpointslice_body(*, namespace: str, name: str, uid: str, created: float, service: Mapping[str, Any],
                       endpoints: Sequence[Mapping[str, Any]], ports: Sequence[Mapping[str, Any]] | None,
                       changed: float) -> dict[str, Any]:
    """An EndpointSlice as the endpointslice controller writes it for `service` (its JSON body):
    the Service's labels plus the controller's, owned by the Service, IPv4 addresses."""
    smeta = service.get("metadata", {})
    labels = dict(smeta.get("labels") or {})
    labels["endpointslice.kubernetes.io/managed-by"] = ENDPOINTSLICE_MANAGED_BY
    labels["kubernetes.io/service-name"] = str(smeta.get("name", ""))
    if service.get("spec", {}).get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    return {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {
            "name": name, "generateName": f"{smeta.get('name', '')}-", "namespace": namespace, "uid": uid,
            "generation": 1, "creationTimestamp": ts(created), "labels": labels,
            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": ts(changed)},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": smeta.get("name", ""),
                                 "uid": smeta.get("uid", ""), "controller": True, "blockOwnerDeletion": True}],
        },
        "addressType": "IPv4",
        # Go's nil slices: an empty slice has `"endpoints": null`, a Service without ports `"ports": null`.
        "endpoints": list(endpoints) or None,
        "ports": list(ports) if ports else None,
    }


ROOT_CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhjcmFzaGxv\n"
    "b3Atc2ltLWNsdXN0ZXItY2EwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAw\n"
    "WjAjMSEwHwYDVQQDDBhjcmFzaGxvb3Atc2ltLWNsdXN0ZXItY2EwWTATBgcqhkjO\n"
    "-----END CERTIFICATE-----\n"
)
"""Placeholder CA text for each namespace's kube-root-ca.crt ConfigMap (not a usable cert)."""


def now() -> float:
    return time.time()
