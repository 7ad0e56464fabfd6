"""Runtime state of simulated pods, and its rendering into the Pod JSON the kubelet would write.

The lifecycle engine mutates these small records; `render_pod` turns one into a complete Pod
(metadata with owners, defaulted spec, status with phase, conditions and container statuses)
every time it changes. Phase and conditions are derived the way the kubelet derives them
(`getPhase`, `GeneratePodReadyCondition`...), so a pod whose only container is in
CrashLoopBackOff is `Running`, one stuck in CreateContainerConfigError is `Pending`, and one
whose init container fails is `Pending` with `Initialized=False`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crashloop_exporter.sim.objects import (
    DEFAULT_TOLERATIONS,
    api_access_volume,
    container_spec,
    image_id,
    managed_fields,
    qos_class,
    ts,
)
from crashloop_exporter.sim.scenarios import ContainerScenario, PodScenario


@dataclass(slots=True)
class LogRun:
    """The output of one container instance."""

    started: float
    """Wall time of the first line (timestamps=true prefixes)."""
    lines: tuple[str, ...]


@dataclass(slots=True)
class ContainerRuntime:
    scenario: ContainerScenario
    state: dict[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: dict[str, Any] = field(default_factory=dict)
    ready: bool = False
    started: bool = False
    restart_count: int = 0
    container_id: str = ""
    current: LogRun | None = None
    """Logs of the newest instance (running or just terminated)."""
    previous: LogRun | None = None
    """Logs of the instance in lastState.terminated."""
    run_start_wall: float = 0.0
    backoff: float = 0.0
    """Current kubelet back-off for this container (0: no entry yet)."""
    backoff_updated: float = 0.0
    """Sim time of the last back-off update (the previous crash's finish)."""
    in_episode: bool = False
    """In a failed-start state (counted once per entry)."""
    epoch: int = 0
    """Bumped on every new instance; timers of older instances become no-ops."""
    image_ok: bool = True

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def ctype(self) -> str:
        return "init" if self.scenario.init else "regular"

    def status_json(self) -> dict[str, Any]:
        image = self.scenario.image
        out: dict[str, Any] = {
            "name": self.name,
            "state": self.state,
            "lastState": self.last_state,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": image,
            "imageID": image_id(image) if self.image_ok and self.container_id else "",
        }
        if self.container_id:
            out["containerID"] = self.container_id
        out["started"] = self.started
        return out


@dataclass(slots=True)
class PodRuntime:
    scenario: PodScenario
    name: str
    namespace: str
    uid: str
    node: str
    host_ip: str
    pod_ip: str
    created: float
    labels: dict[str, str]
    owner_refs: list[dict[str, Any]]
    generate_name: str
    api_volume: str
    init: list[ContainerRuntime]
    regular: list[ContainerRuntime]
    workload_kind: str
    workload: str
    start_time: float | None = None
    sandbox_ready: bool = False
    phase_override: str = ""
    reason: str = ""
    message: str = ""
    disruption: tuple[str, str, float] | None = None
    deletion: float | None = None
    epoch: int = 0
    """Bumped when the pod is deleted or evicted: every pending timer of it becomes a no-op."""
    cond_times: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def containers(self) -> list[ContainerRuntime]:
        return [*self.init, *self.regular]

    def container(self, name: str) -> ContainerRuntime | None:
        return next((c for c in self.containers if c.name == name), None)

    @property
    def format_pod(self) -> str:
        """`name_namespace(uid)`, the kubelet's format.Pod used in its messages."""
        return f"{self.name}_{self.namespace}({self.uid})"


def _phase(p: PodRuntime) -> str:
    """The kubelet's getPhase, reduced to the states the sim produces."""
    if p.phase_override:
        return p.phase_override
    policy = p.scenario.restart_policy
    init_phase = _init_phase(p, policy)
    if init_phase is not None:
        return init_phase
    running = waiting = stopped = succeeded = 0
    for c in p.regular:
        if "running" in c.state:
            running += 1
        elif "terminated" in c.state:
            stopped += 1
            succeeded += c.state["terminated"].get("exitCode") == 0
        elif c.last_state.get("terminated") or c.restart_count > 0:
            # Waiting to restart after a termination counts as stopped, not as pending.
            stopped += 1
        else:
            waiting += 1
    if waiting and not running and not stopped:
        return "Pending"
    if running:
        return "Running"
    if stopped and not waiting:
        return _stopped_phase(policy, all_succeeded=succeeded == stopped)
    return "Pending"


def _init_phase(p: PodRuntime, policy: str) -> str | None:
    """Pending (or Failed under restartPolicy Never) while an init container has not succeeded."""
    for c in p.init:
        term = c.state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term and policy == "Never":
            return "Failed"
        return "Pending"
    return None


def _stopped_phase(policy: str, *, all_succeeded: bool) -> str:
    """The phase of a pod whose regular containers all stopped."""
    if policy == "Always":
        return "Running"
    if policy == "OnFailure":
        return "Succeeded" if all_succeeded else "Running"
    return "Succeeded" if all_succeeded else "Failed"


def _conditions(p: PodRuntime, phase: str, now: float) -> list[dict[str, Any]]:
    def cond(ctype: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
        status = "True" if ok else "False"
        prev = p.cond_times.get(ctype)
        if prev is None or prev[0] != status:
            # A condition's lastTransitionTime moves only when its status flips.
            p.cond_times[ctype] = (status, now if prev is not None or p.scenario.age_seconds <= 0 else p.created)
        out: dict[str, Any] = {"type": ctype, "status": status, "lastProbeTime": None,
                               "lastTransitionTime": ts(p.cond_times[ctype][1])}
        if reason:
            out["reason"] = reason
        if message:
            out["message"] = message
        return out

    completed = phase == "Succeeded"
    pending_init = [c.name for c in p.init if c.state.get("terminated", {}).get("exitCode") != 0]
    unready = [c.name for c in p.regular if not c.ready]
    out: list[dict[str, Any]] = []
    if p.disruption:
        reason, message, when = p.disruption
        out.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                    "lastTransitionTime": ts(when), "reason": reason, "message": message})
    out.append(cond("PodReadyToStartContainers", p.sandbox_ready and phase not in ("Succeeded", "Failed")))
    if completed:
        out.append(cond("Initialized", True, "PodCompleted"))
        out.append(cond("Ready", False, "PodCompleted"))
        out.append(cond("ContainersReady", False, "PodCompleted"))
    else:
        out.append(cond("Initialized", not pending_init, *(
            ("ContainersNotInitialized", f"containers with incomplete status: [{' '.join(pending_init)}]")
            if pending_init else ())))
        not_ready = ("ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]") if unready else ()
        out.append(cond("Ready", not unready, *not_ready))
        out.append(cond("ContainersReady", not unready, *not_ready))
    out.append(cond("PodScheduled", True))
    return out


def render_pod(p: PodRuntime, now: float) -> dict[str, Any]:
    """The full Pod JSON for the pod's current state."""
    s = p.scenario
    containers = [container_spec(c.spec, api_volume=p.api_volume) for c in s.containers]
    inits = [container_spec(c.spec, api_volume=p.api_volume) for c in s.init_containers]
    extra_spec = dict(s.pod_spec)
    volumes = list(extra_spec.pop("volumes", []) or [])
    volumes.append(api_access_volume(p.api_volume))
    spec: dict[str, Any] = {
        "volumes": volumes,
        **({"initContainers": inits} if inits else {}),
        "containers": containers,
        "restartPolicy": s.restart_policy,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "serviceAccountName": extra_spec.get("serviceAccountName", "default"),
        "serviceAccount": extra_spec.get("serviceAccountName", "default"),
        "nodeName": p.node,
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": DEFAULT_TOLERATIONS,
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    spec.update(extra_spec)
    created = ts(p.created)
    meta: dict[str, Any] = {"name": p.name}
    if p.generate_name:
        meta["generateName"] = p.generate_name
    meta.update({"namespace": p.namespace, "uid": p.uid, "creationTimestamp": created})
    if p.deletion is not None:
        meta["deletionTimestamp"] = ts(p.deletion)
        meta["deletionGracePeriodSeconds"] = 30
    meta["labels"] = dict(p.labels)
    if s.annotations:
        meta["annotations"] = dict(s.annotations)
    if p.owner_refs:
        meta["ownerReferences"] = p.owner_refs
    meta["managedFields"] = managed_fields(
        created=created, owner_kind=s.owner.kind, started=ts(p.start_time or p.created), spec=spec,
        labels=list(p.labels),
    )
    phase = _phase(p)
    status: dict[str, Any] = {"phase": phase, "conditions": _conditions(p, phase, now)}
    if p.message:
        status["message"] = p.message
    if p.reason:
        status["reason"] = p.reason
    status["hostIP"] = p.host_ip
    status["hostIPs"] = [{"ip": p.host_ip}]
    if p.sandbox_ready and phase not in ("Succeeded", "Failed"):
        status["podIP"] = p.pod_ip
        status["podIPs"] = [{"ip": p.pod_ip}]
    if p.start_time is not None:
        status["startTime"] = ts(p.start_time)
    if p.init:
        status["initContainerStatuses"] = [c.status_json() for c in p.init]
    status["containerStatuses"] = [c.status_json() for c in p.regular]
    status["qosClass"] = qos_class(containers)
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}


def owner_meta(s: PodScenario, *, name: str, suffix: str, namespace: str
               ) -> tuple[str, str, dict[str, str], list[dict[str, Any]], str, str]:
    """(pod name, generateName, controller labels, ownerReferences, workload_kind, workload) as
    the owning controller would set them."""
    from crashloop_exporter.sim.objects import stable_uid

    o = s.owner

    def ref(kind: str, api: str, oname: str) -> list[dict[str, Any]]:
        return [{"apiVersion": api, "kind": kind, "name": oname, "uid": stable_uid(namespace, kind, oname),
                 "controller": True, "blockOwnerDeletion": True}]

    labels: dict[str, str] = {}
    if o.kind == "Deployment":
        rs = f"{o.name}-{o.hash}"
        labels["pod-template-hash"] = o.hash
        return (name or f"{rs}-{suffix}", f"{rs}-", labels, ref("ReplicaSet", "apps/v1", rs), "Deployment", o.name)
    if o.kind == "StatefulSet":
        pod = name or f"{o.name}-0"
        labels.update({"apps.kubernetes.io/pod-index": pod.rsplit("-", 1)[-1],
                       "controller-revision-hash": f"{o.name}-{o.hash}",
                       "statefulset.kubernetes.io/pod-name": pod})
        return pod, f"{o.name}-", labels, ref("StatefulSet", "apps/v1", o.name), "StatefulSet", o.name
    if o.kind == "DaemonSet":
        labels.update({"controller-revision-hash": o.hash, "pod-template-generation": "1"})
        return (name or f"{o.name}-{suffix}", f"{o.name}-", labels, ref("DaemonSet", "apps/v1", o.name),
                "DaemonSet", o.name)
    if o.kind in ("CronJob", "Job"):
        job = f"{o.name}-{o.hash}" if o.kind == "CronJob" else o.name
        job_uid = stable_uid(namespace, "Job", job)
        labels.update({"batch.kubernetes.io/controller-uid": job_uid, "batch.kubernetes.io/job-name": job,
                       "controller-uid": job_uid, "job-name": job})
        kind, workload = ("CronJob", o.name) if o.kind == "CronJob" else ("Job", job)
        return name or f"{job}-{suffix}", f"{job}-", labels, ref("Job", "batch/v1", job), kind, workload
    return name or o.name, "", labels, [], "Pod", name or o.name

