"""Scenario definitions: YAML data under `sim/scenarios/`, validated into frozen dataclasses.

A scenario is what a reader of the seed documents would recognise: pods written like manifests
(the container specs are passed through as real Kubernetes JSON, with secretKeyRefs, probes and
limits), plus for each container a `behavior` saying what its process does (run, crash after N
seconds with exit code X and these logs, never start because of this waiting reason...) and the
catalog `cause` the sim books its restarts under. The lifecycle engine interprets behaviours by
kind, one handler each, so adding a scenario is a YAML file, never an `if` in the engine.

`cluster.yaml` holds what every simulated cluster has (nodes, namespaces, common Secrets and
ConfigMaps); each scenario may bring further objects, or deliberately lack them, and Services
(`services:`), whose EndpointSlices the sim's endpointslice controller derives from the pods.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from crashloop_exporter.catalog import CAUSE_IDS
from crashloop_exporter.errors import ScenarioError

BEHAVIOR_KINDS = frozenset({"run", "crash", "waiting", "image_pull", "static"})
OWNER_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod"})
_CONTAINER_KEYS = frozenset({"behavior", "cause", "failing"})


@dataclass(frozen=True, slots=True)
class EventSpec:
    """A cause-specific event the kubelet (or another component) records about a container."""

    reason: str
    message: str
    """`string.Template`: ${container}, ${pod}, ${namespace}, ${uid}, ${image}, ${node}, ${pod_ip}."""
    type: str = "Warning"
    at: float | None = None
    """Seconds into the run (or into the waiting state); None: at the exit/kill."""
    every: float = 0.0
    """Repeat period while the run lasts (0: once). Repeats of one message aggregate into one
    Event whose count grows, like the kubelet's event recorder."""
    component: str = "kubelet"
    container_scoped: bool = True
    """False: the event has no fieldPath (pod-level, like Evicted)."""


@dataclass(frozen=True, slots=True)
class LastTermination:
    """A `lastState.terminated` that happened before the sim started (static pods)."""

    exit_code: int
    reason: str
    finished_ago: float
    ran_for: float


@dataclass(frozen=True, slots=True)
class Behavior:
    """What a container's process does. Fields not used by a kind keep their defaults."""

    kind: str
    """run | crash | waiting | image_pull | static."""
    run_seconds: float = 0.0
    """crash: how long each run lasts before it exits. run on an init container: until exit 0."""
    exit_code: int = 0
    reason: str = ""
    """crash: terminated reason (Error, OOMKilled, StartError, Completed). waiting: the waiting
    reason (CreateContainerConfigError, ContainerCreating...). static: the state's reason."""
    message: str = ""
    """crash: terminated message (StartError's runtime error). waiting: the waiting message.
    image_pull: the runtime's pull error. A `string.Template` like EventSpec.message."""
    never_started: bool = False
    """crash: the runtime failed to start the process (StartError: startedAt is the epoch, no
    Started event, empty logs)."""
    logs: tuple[str, ...] = ()
    """Lines the process writes in each run (crash) or after it starts (run)."""
    events: tuple[EventSpec, ...] = ()
    ready: bool = True
    """run/crash: whether the readiness probe ever passes (False: never ready)."""
    started: bool = True
    """run/crash: whether the startup probe ever passes (False: `started` stays false)."""
    retry_seconds: float = 10.0
    """waiting: how often the kubelet retries (each retry repeats the events)."""
    # static only:
    state: str = ""
    """static: running | waiting | terminated."""
    restart_count: int = 0
    started_ago: float = 0.0
    finished_ago: float = 0.0
    last: LastTermination | None = None


@dataclass(frozen=True, slots=True)
class ContainerScenario:
    name: str
    spec: Mapping[str, Any]
    """The container as a Kubernetes manifest writes it (behavior/cause removed)."""
    behavior: Behavior
    cause: str | None
    """The catalog cause this container's restarts and failed starts are booked under."""
    init: bool = False
    failing: bool = True
    """Whether a correct exporter reports it failing now (False: it recovered long ago, or it
    is healthy). Containers without a cause are never failing."""

    @property
    def image(self) -> str:
        return str(self.spec.get("image", ""))


@dataclass(frozen=True, slots=True)
class Eviction:
    after: float
    message: str


@dataclass(frozen=True, slots=True)
class Owner:
    kind: str
    """Deployment | StatefulSet | DaemonSet | CronJob | Job | Pod."""
    name: str
    hash: str = ""
    """Deployment: pod-template-hash. StatefulSet/DaemonSet: controller-revision-hash suffix.
    CronJob: the job's scheduled-time digits."""


@dataclass(frozen=True, slots=True)
class PodScenario:
    namespace: str
    owner: Owner
    node: str
    containers: tuple[ContainerScenario, ...]
    init_containers: tuple[ContainerScenario, ...] = ()
    name: str = ""
    """Pod name; empty: generated from the owner like the controller would."""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    restart_policy: str = "Always"
    pod_spec: Mapping[str, Any] = field(default_factory=dict)
    """Further pod spec fields (volumes, serviceAccountName, securityContext...)."""
    age_seconds: float = 0.0
    """0: the pod is created when the sim starts; >0: it has existed this long (static pods)."""
    evict: Eviction | None = None


@dataclass(frozen=True, slots=True)
class ObjectScenario:
    """A Secret or ConfigMap (`data` in plain text; Secrets are base64-encoded when served)."""

    kind: str
    namespace: str
    name: str
    data: Mapping[str, str]
    type: str = "Opaque"
    age_seconds: float = 86400.0 * 30


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    name: str = ""
    target_port: int | str = 0
    """0: the same as `port`; a string names a container port."""
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class ServiceScenario:
    """A Service; the sim's endpointslice controller publishes its EndpointSlices from its selector."""

    namespace: str
    name: str
    selector: Mapping[str, str] = field(default_factory=dict)
    """Empty: a Service without a selector (no EndpointSlices are derived for it)."""
    cluster_ip: str = ""
    """"": allocated from 10.96.0.0/12; "None": headless."""
    type: str = "ClusterIP"
    external_name: str = ""
    ports: tuple[ServicePort, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    publish_not_ready: bool = False
    age_seconds: float = 86400.0 * 30


@dataclass(frozen=True, slots=True)
class NodeScenario:
    name: str
    ip: str
    pressures: tuple[str, ...] = ()
    """MemoryPressure / DiskPressure / PIDPressure conditions that are True."""
    age_seconds: float = 86400.0 * 45
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    """File stem: `payment-service`."""
    cause: str | None
    """The catalog cause this scenario demonstrates (None: healthy/background pods)."""
    description: str
    pods: tuple[PodScenario, ...]
    objects: tuple[ObjectScenario, ...] = ()
    services: tuple[ServiceScenario, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterScenario:
    nodes: tuple[NodeScenario, ...]
    namespaces: tuple[str, ...]
    objects: tuple[ObjectScenario, ...]


class _Reader:
    """Typed access to one YAML mapping, with errors that name the file and the field."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.where = where

    def _get(self, key: str, types: type | tuple[type, ...], default: Any, required: bool) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise ScenarioError(f"{self.where}: field {key!r} is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
            raise ScenarioError(f"{self.where}.{key}: expected {types}, got a boolean")
        if not isinstance(value, types):
            raise ScenarioError(f"{self.where}.{key}: expected {types}, got {type(value).__name__}")
        return value

    def text(self, key: str, default: str = "", *, required: bool = False) -> str:
        return str(self._get(key, str, default, required))

    def num(self, key: str, default: float = 0.0) -> float:
        return float(self._get(key, (int, float), default, False))

    def integer(self, key: str, default: int = 0) -> int:
        return int(self._get(key, int, default, False))

    def flag(self, key: str, default: bool) -> bool:
        return bool(self._get(key, bool, default, False))

    def items(self, key: str) -> list[Any]:
        return list(self._get(key, list, [], False))

    def mapping(self, key: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self._get(key, Mapping, {}, False)
        return value

    def sub(self, key: str) -> _Reader | None:
        return _Reader(self.data[key], f"{self.where}.{key}") if self.data.get(key) is not None else None

    def check_keys(self, allowed: frozenset[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise ScenarioError(
                f"{self.where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
            )


def _event(data: object, where: str) -> EventSpec:
    r = _Reader(data, where)
    r.check_keys(frozenset({"reason", "message", "type", "at", "every", "component", "container_scoped"}))
    etype = r.text("type", "Warning")
    if etype not in ("Normal", "Warning"):
        raise ScenarioError(f"{where}.type: expected Normal or Warning, got {etype!r}")
    at = r.data.get("at")
    return EventSpec(
        reason=r.text("reason", required=True),
        message=r.text("message", required=True),
        type=etype,
        at=None if at is None else r.num("at"),
        every=r.num("every"),
        component=r.text("component", "kubelet"),
        container_scoped=r.flag("container_scoped", True),
    )


def _behavior(data: object, where: str) -> Behavior:
    r = _Reader(data, where)
    r.check_keys(frozenset(Behavior.__slots__))
    kind = r.text("kind", required=True)
    if kind not in BEHAVIOR_KINDS:
        raise ScenarioError(f"{where}.kind: expected one of {', '.join(sorted(BEHAVIOR_KINDS))}, got {kind!r}")
    logs = r.data.get("logs")
    if isinstance(logs, str):
        lines = tuple(logs.rstrip("\n").split("\n")) if logs else ()
    elif logs is None:
        lines = ()
    else:
        raise ScenarioError(f"{where}.logs: expected a block of text (one line per log line)")
    last_r = r.sub("last")
    last = None
    if last_r is not None:
        last_r.check_keys(frozenset({"exit_code", "reason", "finished_ago", "ran_for"}))
        last = LastTermination(
            exit_code=last_r.integer("exit_code"), reason=last_r.text("reason", "Error"),
            finished_ago=last_r.num("finished_ago"), ran_for=last_r.num("ran_for", 60.0),
        )
    behavior = Behavior(
        kind=kind,
        run_seconds=r.num("run_seconds"),
        exit_code=r.integer("exit_code"),
        reason=r.text("reason"),
        message=r.text("message"),
        never_started=r.flag("never_started", False),
        logs=lines,
        events=tuple(_event(e, f"{where}.events[{i}]") for i, e in enumerate(r.items("events"))),
        ready=r.flag("ready", True),
        started=r.flag("started", True),
        retry_seconds=r.num("retry_seconds", 10.0),
        state=r.text("state"),
        restart_count=r.integer("restart_count"),
        started_ago=r.num("started_ago"),
        finished_ago=r.num("finished_ago"),
        last=last,
    )
    needs = {"crash": ("run_seconds", "reason"), "waiting": ("reason",), "image_pull": ("message",),
             "static": ("state",)}
    for required in needs.get(kind, ()):
        if required not in r.data:
            raise ScenarioError(f"{where}: behavior kind {kind!r} needs field {required!r}")
    if kind == "static" and behavior.state not in ("running", "waiting", "terminated"):
        raise ScenarioError(f"{where}.state: expected running, waiting or terminated, got {behavior.state!r}")
    if behavior.run_seconds < 0 or behavior.retry_seconds <= 0:
        raise ScenarioError(f"{where}: run_seconds must be >= 0 and retry_seconds > 0")
    return behavior


def _container(data: object, where: str, *, init: bool) -> ContainerScenario:
    r = _Reader(data, where)
    name = r.text("name", required=True)
    r.text("image", required=True)
    cause = r.data.get("cause")
    if cause is not None and cause not in CAUSE_IDS:
        raise ScenarioError(f"{where}.cause: {cause!r} is not a catalog cause ({', '.join(sorted(CAUSE_IDS))})")
    behavior_r = r.data.get("behavior")
    behavior = _behavior(behavior_r, f"{where}.behavior") if behavior_r is not None else Behavior(kind="run")
    spec = {k: v for k, v in r.data.items() if k not in _CONTAINER_KEYS}
    failing = r.flag("failing", cause is not None)
    return ContainerScenario(name=name, spec=spec, behavior=behavior, cause=cause, init=init, failing=failing)


def _pod(data: object, where: str) -> PodScenario:
    r = _Reader(data, where)
    r.check_keys(frozenset({"namespace", "name", "owner", "node", "labels", "annotations", "restartPolicy",
                            "spec", "age_seconds", "evict", "containers", "initContainers"}))
    owner_r = r.sub("owner")
    if owner_r is None:
        owner = Owner(kind="Pod", name=r.text("name", required=True))
    else:
        owner_r.check_keys(frozenset({"kind", "name", "hash"}))
        owner = Owner(kind=owner_r.text("kind", required=True), name=owner_r.text("name", required=True),
                      hash=str(owner_r.data.get("hash", "")))
        if owner.kind not in OWNER_KINDS:
            raise ScenarioError(f"{where}.owner.kind: expected one of {', '.join(sorted(OWNER_KINDS))}")
    containers = tuple(
        _container(c, f"{where}.containers[{i}]", init=False) for i, c in enumerate(r.items("containers"))
    )
    if not containers:
        raise ScenarioError(f"{where}.containers: a pod needs at least one container")
    inits = tuple(
        _container(c, f"{where}.initContainers[{i}]", init=True) for i, c in enumerate(r.items("initContainers"))
    )
    age = r.num("age_seconds")
    for c in (*containers, *inits):
        kind = c.behavior.kind
        if age > 0 and kind not in ("run", "static"):
            raise ScenarioError(f"{where}: a pod with age_seconds > 0 existed before the sim started, so its "
                                f"containers can only be `run` or `static`, not {kind!r} ({c.name})")
        if age <= 0 and kind == "static":
            raise ScenarioError(f"{where}: `static` containers need the pod's age_seconds > 0 ({c.name})")
    evict_r = r.sub("evict")
    evict = None
    if evict_r is not None:
        evict = Eviction(after=evict_r.num("after"), message=evict_r.text("message", required=True))
    return PodScenario(
        namespace=r.text("namespace", required=True),
        owner=owner,
        node=r.text("node", required=True),
        containers=containers,
        init_containers=inits,
        name=r.text("name"),
        labels={str(k): str(v) for k, v in r.mapping("labels").items()},
        annotations={str(k): str(v) for k, v in r.mapping("annotations").items()},
        restart_policy=r.text("restartPolicy", "Always"),
        pod_spec=dict(r.mapping("spec")),
        age_seconds=r.num("age_seconds"),
        evict=evict,
    )


def _object(data: object, where: str) -> ObjectScenario:
    r = _Reader(data, where)
    r.check_keys(frozenset({"kind", "namespace", "name", "data", "type", "age_seconds"}))
    kind = r.text("kind", required=True)
    if kind not in ("Secret", "ConfigMap"):
        raise ScenarioError(f"{where}.kind: expected Secret or ConfigMap, got {kind!r}")
    return ObjectScenario(
        kind=kind,
        namespace=r.text("namespace", required=True),
        name=r.text("name", required=True),
        data={str(k): str(v) for k, v in r.mapping("data").items()},
        type=r.text("type", "Opaque"),
        age_seconds=r.num("age_seconds", 86400.0 * 30),
    )


SERVICE_TYPES = frozenset({"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"})


def _service(data: object, where: str) -> ServiceScenario:
    r = _Reader(data, where)
    r.check_keys(frozenset({"namespace", "name", "selector", "clusterIP", "type", "externalName", "ports", "labels",
                            "publishNotReadyAddresses", "age_seconds"}))
    stype = r.text("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        raise ScenarioError(f"{where}.type: expected one of {', '.join(sorted(SERVICE_TYPES))}, got {stype!r}")
    external = r.text("externalName")
    if (stype == "ExternalName") != bool(external):
        raise ScenarioError(f"{where}: externalName goes with type ExternalName, and only with it")
    ports = []
    for i, raw in enumerate(r.items("ports")):
        pr = _Reader(raw, f"{where}.ports[{i}]")
        pr.check_keys(frozenset({"name", "port", "targetPort", "protocol"}))
        port = pr.integer("port")
        if not 0 < port < 65536:
            raise ScenarioError(f"{pr.where}.port: expected 1-65535, got {port}")
        target = pr.data.get("targetPort", 0)
        if isinstance(target, bool) or not isinstance(target, int | str):
            raise ScenarioError(f"{pr.where}.targetPort: expected a port number or a container port name")
        ports.append(ServicePort(port=port, name=pr.text("name"), target_port=target,
                                 protocol=pr.text("protocol", "TCP")))
    return ServiceScenario(
        namespace=r.text("namespace", required=True),
        name=r.text("name", required=True),
        selector={str(k): str(v) for k, v in r.mapping("selector").items()},
        cluster_ip=r.text("clusterIP"),
        type=stype,
        external_name=external,
        ports=tuple(ports),
        labels={str(k): str(v) for k, v in r.mapping("labels").items()},
        publish_not_ready=r.flag("publishNotReadyAddresses", False),
        age_seconds=r.num("age_seconds", 86400.0 * 30),
    )


def _load_yaml(name: str) -> object:
    path = resources.files("crashloop_exporter.sim") / "scenarios" / f"{name}.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(scenario_names())}") from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"sim/scenarios/{name}.yaml is not valid YAML: {e}") from e


def scenario_names() -> tuple[str, ...]:
    """Every scenario shipped in `sim/scenarios/` (file stems), sorted; `cluster` is not one."""
    folder = resources.files("crashloop_exporter.sim") / "scenarios"
    return tuple(sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml") and p.name != "cluster.yaml"
    ))


@functools.cache
def load_scenario(name: str) -> Scenario:
    """The shipped scenario `sim/scenarios/<name>.yaml`, validated."""
    return parse_scenario(_load_yaml(name), name=name, where=f"sim/scenarios/{name}.yaml")


def parse_scenario(data: object, *, name: str, where: str = "") -> Scenario:
    """A scenario from its YAML data (a mapping); ScenarioError names the field that is wrong."""
    where = where or f"scenario {name}"
    r = _Reader(data, where)
    r.check_keys(frozenset({"cause", "description", "pods", "objects", "services"}))
    cause = r.data.get("cause")
    if cause is not None and cause not in CAUSE_IDS:
        raise ScenarioError(f"{where}.cause: {cause!r} is not a catalog cause")
    pods = tuple(_pod(p, f"{where}.pods[{i}]") for i, p in enumerate(r.items("pods")))
    if not pods:
        raise ScenarioError(f"{where}.pods: a scenario needs at least one pod")
    return Scenario(
        name=name,
        cause=cause,
        description=r.text("description", required=True),
        pods=pods,
        objects=tuple(_object(o, f"{where}.objects[{i}]") for i, o in enumerate(r.items("objects"))),
        services=tuple(_service(o, f"{where}.services[{i}]") for i, o in enumerate(r.items("services"))),
    )


@functools.cache
def load_cluster() -> ClusterScenario:
    where = "sim/scenarios/cluster.yaml"
    r = _Reader(_load_yaml("cluster"), where)
    r.check_keys(frozenset({"nodes", "namespaces", "objects"}))
    nodes = []
    for i, n in enumerate(r.items("nodes")):
        nr = _Reader(n, f"{where}.nodes[{i}]")
        nr.check_keys(frozenset({"name", "ip", "pressures", "age_seconds", "labels"}))
        pressures = tuple(str(p) for p in nr.items("pressures"))
        bad = set(pressures) - {"MemoryPressure", "DiskPressure", "PIDPressure"}
        if bad:
            raise ScenarioError(f"{nr.where}.pressures: unknown condition(s) {sorted(bad)}")
        nodes.append(NodeScenario(
            name=nr.text("name", required=True), ip=nr.text("ip", required=True), pressures=pressures,
            age_seconds=nr.num("age_seconds", 86400.0 * 45),
            labels={str(k): str(v) for k, v in nr.mapping("labels").items()},
        ))
    return ClusterScenario(
        nodes=tuple(nodes),
        namespaces=tuple(str(n) for n in r.items("namespaces")),
        objects=tuple(_object(o, f"{where}.objects[{i}]") for i, o in enumerate(r.items("objects"))),
    )


def load_scenarios(names: Sequence[str | Scenario] | None) -> tuple[Scenario, ...]:
    """The named scenarios (None: all of them), each loaded and validated once; Scenario objects
    (built in code, e.g. by tests) pass through."""
    chosen: Sequence[str | Scenario] = scenario_names() if names is None else names
    return tuple(n if isinstance(n, Scenario) else load_scenario(n) for n in chosen)
