"""`SimCluster`: the simulated cluster's state and its Python control surface.

It owns the store (what the apiserver serves), the lifecycle engine (what the kubelets do), the
fault book and the counters. `SimServer` puts it on HTTP; tests and `demo` can also drive it
directly (pause, advance the clock, inject faults, delete pods, read stats) without HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from crashloop_exporter.errors import SimError, SimRequestError
from crashloop_exporter.sim.clock import SimClock
from crashloop_exporter.sim.endpointslices import attach_endpointslices
from crashloop_exporter.sim.faults import STORE_KINDS, STREAM_KINDS, Fault, FaultBook, fault_from_json
from crashloop_exporter.sim.filler import (
    FILLER_SHAPES,
    Churn,
    FillerPod,
    add_filler_pods,
    filler_namespaces,
    filler_node_names,
)
from crashloop_exporter.sim.lifecycle import Lifecycle
from crashloop_exporter.sim.objects import (
    ROOT_CA_PEM,
    Ids,
    configmap_body,
    namespace_body,
    node_body,
    secret_body,
    service_body,
    stable_uid,
    ts_nano,
)
from crashloop_exporter.sim.pods import LogRun, PodRuntime
from crashloop_exporter.sim.replay import Replay, ReplayCase
from crashloop_exporter.sim.scenarios import (
    NodeScenario,
    ObjectScenario,
    Scenario,
    ServiceScenario,
    load_cluster,
    load_scenarios,
)
from crashloop_exporter.sim.stats import SimStats
from crashloop_exporter.sim.store import Store, StoredObject

_WAITING_LOG_REASONS = {
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}
FILLER_LOG = (
    '{"level":"info","msg":"listening","addr":":8080"}',
    '{"level":"info","msg":"ready"}',
)


class SimCluster:
    """A simulated cluster: scenario pods crashing for every cause, plus optional filler pods.

    Objects exist as soon as it is constructed; lifecycles (crashes, restarts, events) start
    with `await start()`. `time_scale` compresses kubelet timings (30: a 10 s back-off takes
    0.33 s); timestamps in objects stay wall-clock.
    """

    def __init__(
        self,
        scenarios: Sequence[str | Scenario] | None = None,
        *,
        time_scale: float = 1.0,
        filler_pods: int = 0,
        filler_shape: str = "realistic",
        seed: int = 0,
        churn_rate: float = 0.0,
        history_seconds: float = 300.0,
        history_limit: int = 200_000,
        replay: Sequence[ReplayCase] = (),
        replay_tick: float = 1.0,
        replay_cycles: int = 0,
    ) -> None:
        if filler_pods < 0:
            raise SimError(f"filler_pods must be >= 0, got {filler_pods}")
        if filler_shape not in FILLER_SHAPES:
            raise SimError(f"filler_shape must be one of {', '.join(FILLER_SHAPES)}, got {filler_shape!r}")
        self._filler_shape = filler_shape
        self.scenarios: tuple[Scenario, ...] = load_scenarios(scenarios)
        self.store = Store(history_seconds=history_seconds, history_limit=history_limit)
        self.clock = SimClock(time_scale)
        self.clock.pause()  # frozen until start(); objects are created now, lifecycles run later
        self._user_paused = False
        self.ids = Ids(seed)
        self.stats = SimStats()
        self.faults = FaultBook()
        base = load_cluster()
        nodes = list(base.nodes)
        for i, name in enumerate(filler_node_names(filler_pods)):
            nodes.append(NodeScenario(name=name, ip=f"10.0.{i >> 8}.{i & 255}", labels={"tier": "bench"}))
        self.nodes = {n.name: n for n in nodes}
        attach_endpointslices(self.store)  # the store keeps it: slices follow every pod and Service write
        self.lifecycle = Lifecycle(store=self.store, clock=self.clock, ids=self.ids, stats=self.stats,
                                   nodes=self.nodes)
        self._populate(base.namespaces, base.objects, nodes, filler_pods)
        self.replay = Replay(self.store, replay, tick=replay_tick, cycles=replay_cycles, clock=self.clock)
        self.replay.populate(time.time())
        self.churn = Churn(self.store["pods"], self._filler_keys, self.clock)
        self._churn_rate = churn_rate
        self._started = False

    def _populate(self, namespaces: Sequence[str], objects: Sequence[ObjectScenario], nodes: Sequence[NodeScenario],
                  filler_pods: int) -> None:
        wall = time.time()
        for i, n in enumerate(nodes):
            self.store["nodes"].put_dict(node_body(
                name=n.name, ip=n.ip, uid=stable_uid("node", n.name), created=wall - n.age_seconds,
                pressures=n.pressures, pressure_since=wall - 600, heartbeat=wall - 20, labels=n.labels, index=i,
            ))
        names: list[str] = list(namespaces)
        for s in self.scenarios:
            names.extend(p.namespace for p in s.pods)
            names.extend(o.namespace for o in s.objects)
        names.extend(filler_namespaces(filler_pods))
        for ns in dict.fromkeys(names):
            created = wall - 86400 * 60
            self.store["namespaces"].put_dict(namespace_body(ns, uid=stable_uid("namespace", ns), created=created))
            self.store["configmaps"].put_dict(configmap_body(
                namespace=ns, name="kube-root-ca.crt", data={"ca.crt": ROOT_CA_PEM},
                uid=stable_uid(ns, "ConfigMap", "kube-root-ca.crt"), created=created,
            ))
        seen: dict[tuple[str, str, str], ObjectScenario] = {}
        for o in [*objects, *(o for s in self.scenarios for o in s.objects)]:
            key = (o.kind, o.namespace, o.name)
            if key in seen:
                if seen[key] != o:
                    raise SimError(f"{o.kind} {o.namespace}/{o.name} is defined twice, differently")
                continue
            seen[key] = o
            uid = stable_uid(o.namespace, o.kind, o.name)
            if o.kind == "Secret":
                self.store["secrets"].put_dict(secret_body(namespace=o.namespace, name=o.name, data=o.data,
                                                           stype=o.type, uid=uid, created=wall - o.age_seconds))
            else:
                self.store["configmaps"].put_dict(configmap_body(namespace=o.namespace, name=o.name, data=o.data,
                                                                 uid=uid, created=wall - o.age_seconds))
        self._put_services([svc for s in self.scenarios for svc in s.services], wall)
        for s in self.scenarios:
            for pod in s.pods:
                self.lifecycle.add_pod(pod)
        self.lifecycle.flush()
        self._filler_keys = add_filler_pods(self.store["pods"], filler_pods, created=wall, shape=self._filler_shape)

    def _put_services(self, services: Sequence[ServiceScenario], wall: float) -> None:
        seen: dict[tuple[str, str], ServiceScenario] = {}
        taken = {svc.cluster_ip for svc in services if svc.cluster_ip and svc.cluster_ip != "None"}
        for svc in services:
            key = (svc.namespace, svc.name)
            if key in seen:
                if seen[key] != svc:
                    raise SimError(f"Service {svc.namespace}/{svc.name} is defined twice, differently")
                continue
            seen[key] = svc
            ip = svc.cluster_ip
            if not ip and svc.type != "ExternalName":
                ip = _allocate_cluster_ip(svc.namespace, svc.name, taken)
            self.store["services"].put_dict(service_body(
                namespace=svc.namespace, name=svc.name, uid=stable_uid(svc.namespace, "Service", svc.name),
                created=wall - svc.age_seconds, selector=svc.selector, cluster_ip=ip, stype=svc.type,
                external_name=svc.external_name, labels=svc.labels, publish_not_ready=svc.publish_not_ready,
                ports=[{"name": p.name, "port": p.port, "targetPort": p.target_port or p.port,
                        "protocol": p.protocol} for p in svc.ports],
            ))

    # -- running -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the lifecycle clock (unless paused) and the churn, if any."""
        if self._started:
            return
        self._started = True
        self.lifecycle.scheduler.start()
        if not self._user_paused:
            self.clock.resume()
            self.lifecycle.scheduler.wake()
        if self._churn_rate:
            self.churn.set_rate(self._churn_rate)
        self.replay.start()

    async def stop(self) -> None:
        await self.replay.stop()
        await self.churn.stop()
        await self.lifecycle.scheduler.stop()
        for coll in self.store.collections.values():
            for w in tuple(coll.watchers):
                w.close()
        self._started = False

    @property
    def paused(self) -> bool:
        return self._user_paused

    def pause(self) -> None:
        """Freeze the lifecycle clock: no crash, restart, event or churn until resume()."""
        self._user_paused = True
        self.clock.pause()

    def resume(self) -> None:
        self._user_paused = False
        if self._started:
            self.clock.resume()
            self.lifecycle.scheduler.wake()

    def advance(self, seconds: float) -> None:
        """While paused: move the sim clock forward by `seconds`, running every transition due
        on the way, in order. Deterministic stepping for tests (no sleeping, no timing races)."""
        if not self.clock.paused:
            raise SimError("advance() needs a paused cluster; call pause() first")
        sched = self.lifecycle.scheduler
        target = self.clock.now() + seconds
        while True:
            due = sched.next_due()
            if due is None or due > target:
                break
            self.clock.set_paused_time(due)
            sched.run_due(force=True)
        self.clock.set_paused_time(target)
        self.lifecycle.flush()

    def set_churn(self, rate: float) -> None:
        """Emit MODIFIED events for filler pods at `rate` per second (0 stops)."""
        self._churn_rate = rate
        if self._started:
            self.churn.set_rate(rate)

    # -- faults and admin --------------------------------------------------------------------

    def add_fault(self, kind: str, **params: Any) -> Fault:
        """Script a fault (see `faults.Fault` for the fields of each kind)."""
        fault = fault_from_json({"kind": kind, **params})
        if fault.kind in STORE_KINDS:
            self.faults.number(fault)
            if fault.kind == "compact":
                self.store.compact(fault.resource)
            else:
                self.store.reset(to=fault.to)
            self.faults.acted(fault.id)
            return fault
        if fault.kind in STREAM_KINDS:
            watchers = [w for name, coll in self.store.collections.items() if fault.resource in ("*", name)
                        for w in coll.watchers]
            if watchers:
                # Each open stream records the fault in the ledger when its pump acts on it.
                self.faults.number(fault)
                for w in watchers:
                    w.control(fault.kind, fault.to_json())
                return fault
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def delete_pod(self, namespace: str, name: str, *, recreate: bool = False) -> str | None:
        """Delete a pod; with `recreate`, its controller replaces it. Returns the new name."""
        replacement = self.lifecycle.delete_pod(namespace, name, recreate=recreate)
        return replacement.name if replacement else None

    def put_secret(self, namespace: str, name: str, data: Mapping[str, str], *,
                   secret_type: str = "Opaque") -> None:
        """Create or replace a Secret (`data` in plain text), as `kubectl create secret generic` would."""
        self.store["secrets"].put_dict(secret_body(namespace=namespace, name=name, data=data, stype=secret_type,
                                                   uid=stable_uid(namespace, "Secret", name), created=time.time()))

    def put_configmap(self, namespace: str, name: str, data: Mapping[str, str]) -> None:
        """Create or replace a ConfigMap."""
        self.store["configmaps"].put_dict(configmap_body(namespace=namespace, name=name, data=data,
                                                         uid=stable_uid(namespace, "ConfigMap", name),
                                                         created=time.time()))

    def put_object(self, resource: str, body: Mapping[str, Any]) -> None:
        """Create or replace a pod or Service as given (a replayed pod whose kubelet reports it
        recovered, a Service edited by hand); the endpointslice controller follows. Pods the
        lifecycle runs are refused: their kubelet owns their status."""
        if resource not in ("pods", "services"):
            raise SimError(f"put_object takes pods or services, not {resource!r}")
        meta = body.get("metadata")
        if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str) or not meta.get("namespace"):
            raise SimError("the object needs metadata.name and metadata.namespace")
        if resource == "pods" and (str(meta["namespace"]), meta["name"]) in self.lifecycle.pods:
            raise SimError(f"pod {meta['namespace']}/{meta['name']} is run by the sim's lifecycle; use delete_pod")
        self.store[resource].put_dict(json.loads(json.dumps(body)))

    def delete_object(self, resource: str, namespace: str, name: str) -> bool:
        """Delete a Secret, ConfigMap, event, node or namespace object (pods: use delete_pod).
        Returns whether it existed."""
        if resource == "pods":
            raise SimError("use delete_pod() for pods: their lifecycle must stop too")
        return self.store[resource].delete((namespace, name)) is not None

    def stats_json(self) -> dict[str, Any]:
        out = self.stats.to_json(rv=self.store.rv)
        out["watches_open"] = {name: len(c.watchers) for name, c in self.store.collections.items()}
        out["objects"] = {name: len(c.objects) for name, c in self.store.collections.items()}
        out["churn_emitted"] = self.churn.emitted
        out["paused"] = self.paused
        out["faults_pending"] = [f.to_json() for f in self.faults.pending()]
        out["faults_consumed"] = {str(k): v for k, v in sorted(self.faults.consumed.items())}
        if self.replay.cases:
            out["replay"] = self.replay.stats_json()
        return out

    def expectations(self) -> list[dict[str, Any]]:
        """Every scenario container now in the cluster with the cause it demonstrates: what a
        correct exporter should say about it."""
        out = []
        for p in self.lifecycle.pods.values():
            scenario = next((s.name for s in self.scenarios if p.scenario in s.pods), "")
            for c in p.containers:
                out.append({
                    "scenario": scenario, "namespace": p.namespace, "pod": p.name, "uid": p.uid,
                    "container": c.name, "container_type": c.ctype, "workload_kind": p.workload_kind,
                    "workload": p.workload, "cause": c.scenario.cause, "failing": c.scenario.failing,
                })
        return out

    def pod_json(self, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self.store["pods"].get((namespace, name))
        return obj.to_dict() if obj is not None else None

    # -- logs --------------------------------------------------------------------------------

    def pod_node(self, namespace: str, pod: str) -> str:
        """The node a scenario pod runs on ("" for filler pods and pods that do not exist)."""
        p = self.lifecycle.pods.get((namespace, pod))
        return p.node if p is not None else ""

    def container_log(self, namespace: str, pod: str, *, container: str | None, previous: bool,
                      tail_lines: int | None, limit_bytes: int | None, timestamps: bool) -> bytes:
        """What `GET .../pods/{pod}/log` returns, with the kubelet's rules and wording."""
        obj = self.store["pods"].get((namespace, pod))
        if obj is None:
            raise SimRequestError(404, "NotFound", f'pods "{pod}" not found',
                                  details={"name": pod, "kind": "pods"})
        p = self.lifecycle.pods.get((namespace, pod))
        if self.replay.serves(namespace, pod):
            self.stats.log_fetch(namespace=namespace, pod=pod, container=container or "", previous=previous)
            run = LogRun(time.time() - 1, self.replay.container_log(namespace, pod, container, previous=previous))
        elif p is None:
            run = self._filler_log(obj, namespace, pod, container=container, previous=previous)
        else:
            run = self._scenario_log(p, namespace, pod, container=container, previous=previous)
        return _log_body(run, tail_lines=tail_lines, limit_bytes=limit_bytes, timestamps=timestamps)

    def _filler_log(self, obj: StoredObject, namespace: str, pod: str, *, container: str | None,
                    previous: bool) -> LogRun:
        """A filler pod's one container never restarted: a fixed current log, no previous one."""
        if not isinstance(obj, FillerPod) or container not in (None, "app"):
            raise SimRequestError(400, "BadRequest", f"container {container} is not valid for pod {pod}")
        self.stats.log_fetch(namespace=namespace, pod=pod, container="app", previous=previous)
        if previous:
            raise SimRequestError(
                400, "BadRequest", f'previous terminated container "app" in pod "{pod}" not found')
        return LogRun(time.time() - 3600, FILLER_LOG)

    def _scenario_log(self, p: PodRuntime, namespace: str, pod: str, *, container: str | None,
                      previous: bool) -> LogRun:
        """The run a scenario pod's log request reads: the current one, or the one before it."""
        if container is None:
            if len(p.regular) != 1:
                names = " ".join(c.name for c in p.regular)
                inits = " ".join(c.name for c in p.init)
                tail = f" or one of the init containers: [{inits}]" if inits else ""
                raise SimRequestError(400, "BadRequest", f"a container name must be specified for pod {pod}, "
                                      f"choose one of: [{names}]{tail}")
            container = p.regular[0].name
        c = p.container(container)
        if c is None:
            raise SimRequestError(400, "BadRequest", f"container {container} is not valid for pod {pod}")
        self.stats.log_fetch(namespace=namespace, pod=pod, container=container, previous=previous)
        waiting = "waiting" in c.state
        has_last = bool(c.last_state.get("terminated"))
        if previous:
            if not has_last:
                raise SimRequestError(
                    400, "BadRequest", f'previous terminated container "{container}" in pod "{pod}" not found')
            # In back-off the newest instance is the one that crashed: lastState points at it.
            found = c.current if waiting else c.previous
        elif not waiting or has_last:
            found = c.current
        else:
            reason = str(c.state["waiting"].get("reason", ""))
            detail = _WAITING_LOG_REASONS.get(reason, reason)
            raise SimRequestError(
                400, "BadRequest", f'container "{container}" in pod "{pod}" is waiting to start: {detail}')
        return found or LogRun(time.time(), ())


def _log_body(run: LogRun, *, tail_lines: int | None, limit_bytes: int | None, timestamps: bool) -> bytes:
    """A run's lines as the kubelet sends them: tailed, timestamped, cut at `limitBytes`."""
    lines = list(run.lines)
    if tail_lines is not None:
        lines = lines[-tail_lines:] if tail_lines > 0 else []
        offset = len(run.lines) - len(lines)
    else:
        offset = 0
    if timestamps:
        lines = [f"{ts_nano(run.started + (offset + i) * 0.001)} {line}" for i, line in enumerate(lines)]
    body = "".join(line + "\n" for line in lines).encode()
    if limit_bytes is not None:
        body = body[:limit_bytes]
    return body


def _allocate_cluster_ip(namespace: str, name: str, taken: set[str]) -> str:
    """A stable address in the default service CIDR 10.96.0.0/12 (past .0.1, the `kubernetes`
    Service, and .0.10, cluster DNS), probing past addresses already taken."""
    n = int(stable_uid("clusterIP", namespace, name).replace("-", "")[:8], 16)
    while True:
        host = 256 + n % ((1 << 20) - 512)
        ip = f"10.{96 + (host >> 16)}.{(host >> 8) & 255}.{host & 255}"
        if ip not in taken and host & 255 not in (0, 255):
            taken.add(ip)
            return ip
        n += 1
