"""Healthy background pods for benchmarks: up to 150k of them without 150k JSON documents.

A real pod is ~5 KB of JSON, so 150k pods held as dicts or bytes would cost gigabytes. A
filler pod is instead a tiny record (its deployment group, an index, a resourceVersion and a
generation) rendered on demand from one byte template: the template is a realistic pod
serialised once with placeholder tokens and cut at them, and a render drops the pod's values
into the slots between the cuts with two C-level list operations, then one `bytes.join`. The
values are bytes made once (per group, per pod, per node); only the resourceVersion and the
generation are spelled per render. A paginated LIST therefore serialises only the page it
returns, and a churn of MODIFIED events (bumping a generation annotation) costs one small record
per event and one render per event written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import operator
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
from crashloop_exporter.sim.store import Collection, StoredObject, watch_line

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
    values: tuple[bytes, ...] = field(init=False, repr=False, compare=False)
    """The group's part of a render: `_ARGS` from RS to STARTED, encoded once."""
    compiled: _Compiled = field(init=False, repr=False, compare=False)
    """The template of the group's shape."""

    def __post_init__(self) -> None:
        values = (self.rs, self.namespace, self.app, self.hash, self.owner_uid, ts(self.created),
                  ts(self.created + 4))
        object.__setattr__(self, "values", tuple(v.encode() for v in values))
        object.__setattr__(self, "compiled", _COMPILED[self.shape])


_ALPHABET_PAIRS = [a + b for b in KUBE_ALPHABET for a in KUBE_ALPHABET]
"""Two characters of a suffix by their two base-27 digits (low digit first)."""


def _suffix(index: int) -> str:
    """Five characters of KUBE_ALPHABET spelling `index` in base 27, low digit first."""
    pairs = len(_ALPHABET_PAIRS)
    return (_ALPHABET_PAIRS[index % pairs] + _ALPHABET_PAIRS[index // pairs % pairs]
            + KUBE_ALPHABET[index // (pairs * pairs) % len(KUBE_ALPHABET)])


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


def _template(shape: str) -> bytes:
    """The filler pod of `shape` as JSON with @@TOKEN@@ placeholders for the pod's values."""
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
    return msgspec.json.encode(body)


_ARGS = ("RS", "NS", "APP", "HASH", "OWNER", "CREATED", "STARTED",
         "NAME", "UID", "VOL", "NODE", "HOSTIP", "PODIP", "INDEX16",
         "RV", "GEN", "GEN16")
"""The bytes a filler pod renders with, in the order `FillerPod._render` joins them: its group's
(`FillerGroup.values`), its own (`FillerPod.own`, shared by its versions), then its version's."""
_SPLIT: Mapping[str, tuple[str, ...]] = {"CID": ("INDEX16", "GEN16", "INDEX16", "GEN16")}
"""Tokens rendered from several values: the containerd id is f"{index:016x}{gen:016x}" twice."""
_EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED")


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One filler shape's template, cut at its tokens for `bytes.join`: the pod, and the pod as the
    line of each event type. Even items are literal JSON, odd ones the slots the values go into."""

    pod: list[bytes]
    lines: Mapping[str, list[bytes]]
    order: Callable[[tuple[bytes, ...]], tuple[bytes, ...]]
    """Picks from the `_ARGS` values what goes into the slots, in their order (repeats included)."""


def _compile(raw: bytes) -> _Compiled:
    """`raw` (JSON with @@TOKEN@@ placeholders) cut at its tokens."""
    literals: list[bytes] = []
    order: list[int] = []
    pos = 0
    for m in _TOKEN.finditer(raw):
        token = m.group(1).decode()
        args = _SPLIT.get(token, (token,))
        literals += [raw[pos:m.start()], *(b"" for _ in args[1:])]
        order += [_ARGS.index(a) for a in args]
        pos = m.end()
    literals.append(raw[pos:])

    def cut(head: bytes, tail: bytes) -> list[bytes]:
        parts = [b""] * (2 * len(literals) - 1)
        parts[0::2] = [head + literals[0], *literals[1:-1], literals[-1] + tail]
        return parts

    envelopes = {t: watch_line(t, b"\0").split(b"\0") for t in _EVENT_TYPES}  # (head, tail) of each line
    return _Compiled(pod=cut(b"", b""), lines={t: cut(head, tail) for t, (head, tail) in envelopes.items()},
                     order=operator.itemgetter(*order))


_COMPILED = {shape: _compile(_template(shape)) for shape in FILLER_SHAPES}


@functools.cache
def _node_values(node_index: int) -> tuple[bytes, bytes]:
    """NODE and HOSTIP of the filler node `node_index` (shared by its 100 pods)."""
    return b"bench-node-%04d" % node_index, b"10.0.%d.%d" % (node_index >> 8, node_index & 255)


def _own_values(group: FillerGroup, index: int, name: str) -> tuple[bytes, ...]:
    """A pod's own values, NAME to INDEX16 of `_ARGS`."""
    i = index
    node, host_ip = _node_values(i // PODS_PER_NODE)
    uid = b"f111e700-%04x-4%03x-8%03x-%012x" % (group.number & 0xFFFF, (i >> 12) & 0xFFF, i & 0xFFF, i)
    pod_ip = b"10.%d.%d.%d" % (100 + (i >> 16), (i >> 8) & 255, i & 255)
    return name.encode(), uid, _suffix(i * 7 + 3).encode(), node, host_ip, pod_ip, b"%016x" % i


class FillerPod(StoredObject):
    """A healthy filler pod: rendered from the shared template on demand.

    What does not change between its versions (`own`: ~400 bytes a pod, 60 MB for 150k) is
    computed once and shared by them, so a render only spells the resourceVersion and generation."""

    __slots__ = ("gen", "group", "index", "own")

    def __init__(self, group: FillerGroup, index: int, name: str, rv: int, gen: int,
                 own: tuple[bytes, ...] | None = None) -> None:
        self.group = group
        self.index = index
        self.name = name
        self.namespace = group.namespace
        self.rv = rv
        self.gen = gen
        self.own = own if own is not None else _own_values(group, index, name)

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

    def _render(self, parts: list[bytes], out: list[bytes]) -> None:
        """Append `parts` (of the group's template) to `out` with the pod's values in their slots."""
        g = self.group
        start = len(out)
        out += parts
        out[start + 1::2] = g.compiled.order(g.values + self.own + (b"%d" % self.rv, b"%d" % self.gen,
                                                                    b"%016x" % self.gen))

    def to_bytes(self) -> bytes:
        out: list[bytes] = []
        self._render(self.group.compiled.pod, out)
        return b"".join(out)

    def watch_line(self, event_type: str) -> bytes:
        out: list[bytes] = []
        self.write_line(event_type, out)
        return b"".join(out)

    def write_line(self, event_type: str, out: list[bytes]) -> None:
        parts = self.group.compiled.lines.get(event_type)
        if parts is None:
            out.append(watch_line(event_type, self.to_bytes()))
        else:
            self._render(parts, out)

    def with_rv(self, rv: int) -> FillerPod:
        return FillerPod(self.group, self.index, self.name, rv, self.gen, self.own)

    def bumped(self, rv: int) -> FillerPod:
        """The same pod after a status change (a MODIFIED event)."""
        return FillerPod(self.group, self.index, self.name, rv, self.gen + 1, self.own)


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
    A tick's batch is written in slices with the loop given a turn between them, so the watch
    streams write while the churn runs and admin requests are answered within milliseconds. When
    the loop cannot keep up, the debt is capped rather than carried (the emitted rate then falls
    short of the asked one, which is what a benchmark must see). Paused with the lifecycle clock.
    """

    TICK = 0.02
    SLICE = 500
    """Events bumped before the loop gets a turn (under a millisecond of work)."""
    MAX_DEBT_SECONDS = 0.1
    """Events owed beyond this many seconds of the rate are dropped, not emitted in one burst."""

    def __init__(self, pods: Collection, keys: list[tuple[str, str]], clock: SimClock) -> None:
        self._pods = pods
        self._keys = keys
        self._clock = clock
        self.rate = 0.0
        self.emitted = 0
        self._next = 0
        self._owed = 0.0
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
        """Bump the generation of the next `count` filler pods (one MODIFIED event each)."""
        keys, objects = self._keys, self._pods.objects
        if not keys:
            return
        start = self._next % len(keys)
        self._next += count
        picked: list[tuple[str, str]] = []
        while len(picked) < count:  # round-robin: wrap around the keys as often as needed
            picked += keys[start:start + count - len(picked)]
            start = 0
        # Slices, map and a comprehension rather than a loop of statements: this runs per event.
        current = [pod for pod in map(objects.get, picked) if isinstance(pod, FillerPod)]
        self.emitted += self._pods.replace_many(current, FillerPod.bumped)

    def due(self, elapsed: float) -> int:
        """Whole events owed after `elapsed` more seconds at the current rate. The fraction carries
        over to the next tick; debt beyond `MAX_DEBT_SECONDS` of the rate (or one event) is dropped."""
        self._owed = min(self._owed + elapsed * self.rate, max(self.rate * self.MAX_DEBT_SECONDS, 1.0))
        whole = int(self._owed)
        self._owed -= whole
        return whole

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.TICK)
            now = time.monotonic()
            if self._clock.paused or self.rate <= 0:
                self._owed, due = 0.0, 0
            else:
                due = self.due(now - last)
            last = now
            while due > 0:
                count = min(due, self.SLICE)
                self.bump(count)
                due -= count
                if due:
                    await asyncio.sleep(0)
