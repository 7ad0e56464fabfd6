"""Healthy background pods for benchmarks: up to 150k of them without 150k JSON documents.

A real pod is ~5 KB of JSON, so 150k pods held as dicts or bytes would cost gigabytes. A
filler pod is instead a tiny record (its deployment group, an index, a resourceVersion and a
generation) rendered on demand from one byte template: the template is a realistic pod
serialised once with placeholder tokens, split at the tokens, and joined with the pod's values.
A paginated LIST therefore serialises only the page it returns, and a churn of MODIFIED events
(bumping a generation annotation) costs one small record per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from crashloop_exporter.sim.clock import SimClock
from crashloop_exporter.sim.objects import (
    DEFAULT_TOLERATIONS,
    KUBE_ALPHABET,
    api_access_volume,
    container_spec,
    image_id,
    managed_fields,
    stable_uid,
    ts,
)
from crashloop_exporter.sim.store import Collection, StoredObject

PODS_PER_NAMESPACE = 1000
PODS_PER_DEPLOYMENT = 10
PODS_PER_NODE = 100
GENERATION_ANNOTATION = "bench.crashloop-exporter.io/generation"
_TOKEN = re.compile(rb"@@([A-Z]+)@@")


@dataclass(frozen=True, slots=True)
class FillerGroup:
    """One Deployment's worth of filler pods (they share labels, owner and template hash)."""

    namespace: str
    app: str
    hash: str
    rs: str
    owner_uid: str
    labels: Mapping[str, str]
    created: float
    number: int
    shape: str = "realistic"


def _suffix(index: int) -> str:
    chars = []
    for _ in range(5):
        index, r = divmod(index, len(KUBE_ALPHABET))
        chars.append(KUBE_ALPHABET[r])
    return "".join(chars)


FILLER_SHAPES = ("realistic", "small")
"""`realistic` (the default): a ~5 KB pod as a real cluster serves it, ten env vars, two probes,
managedFields of both managers field by field. `small`: the older ~4 KB shape (one env var,
managedFields abridged to top-level keys), kept to compare with earlier figures."""

_ENV = [
    {"name": "LOG_LEVEL", "value": "info"},
    {"name": "LOG_FORMAT", "value": "json"},
    {"name": "HTTP_PORT", "value": "8080"},
    {"name": "METRICS_PORT", "value": "9090"},
    {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability.svc.cluster.local:4317"},
    {"name": "OTEL_SERVICE_NAME", "value": "@@APP@@"},
    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
    {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
    {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"containerName": "app", "divisor": "1",
                                                               "resource": "limits.cpu"}}},
]


def _template(shape: str) -> list[tuple[bytes, str]]:
    """The filler pod of `shape` as (literal, token) pieces; the last piece's token is empty."""
    realistic = shape == "realistic"
    image = "registry.example.com/bench/echo-server:1.4.2"
    raw_container = {
        "name": "app",
        "image": image,
        "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
        "env": _ENV if realistic else _ENV[:1],
        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}}
        if realistic else {"limits": {"memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "128Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "initialDelaySeconds": 5},
    }
    container = container_spec(raw_container, api_volume="kube-api-access-@@VOL@@")
    created, started = "@@CREATED@@", "@@STARTED@@"
    spec: dict[str, Any] = {
        "volumes": [api_access_volume("kube-api-access-@@VOL@@")],
        "containers": [container],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "nodeName": "@@NODE@@",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": DEFAULT_TOLERATIONS,
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    labels = ["app", "app.kubernetes.io/name", "pod-template-hash", "tier"]

    def cond(ctype: str) -> dict[str, Any]:
        return {"type": ctype, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}

    body = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": "@@NAME@@",
            "generateName": "@@RS@@-",
            "namespace": "@@NS@@",
            "uid": "@@UID@@",
            "resourceVersion": "@@RV@@",
            "creationTimestamp": created,
            "labels": {"app": "@@APP@@", "app.kubernetes.io/name": "@@APP@@", "pod-template-hash": "@@HASH@@",
                       "tier": "bench"},
            "annotations": {GENERATION_ANNOTATION: "@@GEN@@"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "@@RS@@",
                                 "uid": "@@OWNER@@", "controller": True, "blockOwnerDeletion": True}],
            "managedFields": managed_fields(created=created, owner_kind="Deployment", started=started,
                                            spec=spec, labels=labels, abridged=not realistic),
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"),
                           cond("ContainersReady"), cond("PodScheduled")],
            "hostIP": "@@HOSTIP@@",
            "hostIPs": [{"ip": "@@HOSTIP@@"}],
            "podIP": "@@PODIP@@",
            "podIPs": [{"ip": "@@PODIP@@"}],
            "startTime": created,
            "containerStatuses": [{
                "name": "app", "state": {"running": {"startedAt": started}}, "lastState": {}, "ready": True,
                "restartCount": 0, "image": image, "imageID": image_id(image),
                "containerID": "containerd://@@CID@@", "started": True,
            }],
            "qosClass": "Burstable",
        },
    }
    raw = msgspec.json.encode(body)
    pieces: list[tuple[bytes, str]] = []
    pos = 0
    for m in _TOKEN.finditer(raw):
        pieces.append((raw[pos:m.start()], m.group(1).decode()))
        pos = m.end()
    pieces.append((raw[pos:], ""))
    return pieces


_PIECES = {shape: _template(shape) for shape in FILLER_SHAPES}


class FillerPod(StoredObject):
    """A healthy filler pod: rendered from the shared template on demand."""

    __slots__ = ("gen", "group", "index")

    def __init__(self, group: FillerGroup, index: int, name: str, rv: int, gen: int) -> None:
        self.group = group
        self.index = index
        self.name = name
        self.namespace = group.namespace
        self.rv = rv
        self.gen = gen

    @property
    def node(self) -> str:
        return f"bench-node-{self.index // PODS_PER_NODE:04d}"

    @property
    def pod_ip(self) -> str:
        i = self.index
        return f"10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"

    def labels(self) -> Mapping[str, str]:
        return self.group.labels

    def field(self, path: str) -> str:
        return {
            "metadata.name": self.name,
            "metadata.namespace": self.namespace,
            "spec.nodeName": self.node,
            "spec.restartPolicy": "Always",
            "spec.schedulerName": "default-scheduler",
            "spec.serviceAccountName": "default",
            "spec.hostNetwork": "false",
            "status.phase": "Running",
            "status.podIP": self.pod_ip,
        }.get(path, "")

    def to_bytes(self) -> bytes:
        g, i = self.group, self.index
        node_index = i // PODS_PER_NODE
        values = {
            "NAME": self.name, "NS": g.namespace, "RV": str(self.rv), "RS": g.rs, "APP": g.app, "HASH": g.hash,
            "OWNER": g.owner_uid, "UID": f"f111e700-{g.number & 0xFFFF:04x}-4{(i >> 12) & 0xFFF:03x}-8{i & 0xFFF:03x}-"
            f"{i:012x}", "NODE": self.node, "HOSTIP": f"10.0.{node_index >> 8}.{node_index & 255}",
            "PODIP": self.pod_ip, "CREATED": ts(g.created), "STARTED": ts(g.created + 4), "GEN": str(self.gen),
            "CID": f"{i:016x}{self.gen:016x}" * 2, "VOL": _suffix(i * 7 + 3),
        }
        pieces = _PIECES[g.shape]
        return b"".join(literal + values[token].encode() if token else literal for literal, token in pieces)

    def with_rv(self, rv: int) -> FillerPod:
        return FillerPod(self.group, self.index, self.name, rv, self.gen)

    def bumped(self, rv: int) -> FillerPod:
        """The same pod after a status change (a MODIFIED event)."""
        return FillerPod(self.group, self.index, self.name, rv, self.gen + 1)


def filler_namespaces(count: int) -> list[str]:
    return [f"bench-{i:03d}" for i in range((count + PODS_PER_NAMESPACE - 1) // PODS_PER_NAMESPACE)]


def filler_node_names(count: int) -> list[str]:
    return [f"bench-node-{i:04d}" for i in range((count + PODS_PER_NODE - 1) // PODS_PER_NODE)]


def add_filler_pods(pods: Collection, count: int, *, created: float, shape: str = "realistic") -> list[tuple[str, str]]:
    """Create `count` filler pods of `shape` (10 per Deployment, 1000 per namespace); returns their keys."""
    if shape not in FILLER_SHAPES:
        raise ValueError(f"unknown filler shape {shape!r}; known: {', '.join(FILLER_SHAPES)}")
    keys: list[tuple[str, str]] = []
    group: FillerGroup | None = None
    for i in range(count):
        if i % PODS_PER_DEPLOYMENT == 0:
            number = i // PODS_PER_DEPLOYMENT
            ns = f"bench-{i // PODS_PER_NAMESPACE:03d}"
            app = f"svc-{number:05d}"
            tmpl_hash = _suffix(number * 31 + 7) + _suffix(number * 17 + 5)[:4]
            rs = f"{app}-{tmpl_hash}"
            group = FillerGroup(
                namespace=ns, app=app, hash=tmpl_hash, rs=rs, owner_uid=stable_uid(ns, "ReplicaSet", rs),
                labels={"app": app, "app.kubernetes.io/name": app, "pod-template-hash": tmpl_hash, "tier": "bench"},
                created=created - 86400 * 3, number=number, shape=shape,
            )
        assert group is not None
        name = f"{group.rs}-{_suffix(i)}"
        g, idx = group, i
        obj = pods.put(lambda rv, g=g, idx=idx, name=name: FillerPod(g, idx, name, rv, 0))  # type: ignore[misc]
        keys.append(obj.key)
    return keys


class Churn:
    """Emits MODIFIED events for filler pods at a target rate (a throughput benchmark's load).

    Rates above the loop's tick are met in batches every 20 ms; the pods are bumped round-robin.
    Paused with the lifecycle clock.
    """

    TICK = 0.02

    def __init__(self, pods: Collection, keys: list[tuple[str, str]], clock: SimClock) -> None:
        self._pods = pods
        self._keys = keys
        self._clock = clock
        self.rate = 0.0
        self.emitted = 0
        self._next = 0
        self._task: asyncio.Task[None] | None = None

    def set_rate(self, rate: float) -> None:
        if rate < 0:
            raise ValueError(f"churn rate must be >= 0, got {rate}")
        self.rate = rate
        if rate > 0 and self._keys and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="crashloop-sim-churn")

    async def stop(self) -> None:
        self.rate = 0.0
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def bump(self, count: int) -> None:
        for _ in range(count):
            key = self._keys[self._next % len(self._keys)]
            self._next += 1
            current = self._pods.get(key)
            if isinstance(current, FillerPod):
                self._pods.put(current.bumped)
                self.emitted += 1

    async def _run(self) -> None:
        owed = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.TICK)
            t = time.monotonic()
            if self._clock.paused or self.rate <= 0:
                last = t
                continue
            owed += (t - last) * self.rate
            last = t
            whole = int(owed)
            if whole:
                owed -= whole
                self.bump(whole)
