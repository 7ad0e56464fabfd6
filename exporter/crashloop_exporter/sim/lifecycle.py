"""The kubelet, reduced to what a crash looks like from the API.

Each container's behaviour (from the scenario data) is run by one handler per kind. A crash
goes through the same states, events and timings as on a real node:

    running --exit--> terminated (reason Error/OOMKilled/..., `kubectl get` shows Error),
                      restartCount unchanged, lastState still the run before
      first crash:   restarted at the next sync, restartCount + 1, lastState = the dead run
      later crashes: at the next sync waiting CrashLoopBackOff "back-off 20s restarting failed
                     container=api pod=api-7d4b9c-xkp2z_production(<uid>)", restartCount still
                     unchanged, lastState = the dead run, BackOff event; at the end of the
                     back-off restarted, restartCount + 1
    back-off: 10 s doubling to 5 min, measured from the crash; forgotten after a run of 10 min

A death is booked in `SimStats` when the run exits (with its time and the back-off ahead), the
way the exporter counts it; the restart a back-off later is booked apart.

with Pulled/Created/Started events on each start, and the scenario's own events (probe
failures, Killing, Failed...) at the moments it gives. Failed starts (config errors, image
pulls, mounts) loop on their own retry timers without ever restarting. Every restart,
failed-start episode and eviction is booked in `SimStats`.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from crashloop_exporter.catalog import CauseId
from crashloop_exporter.errors import SimError
from crashloop_exporter.sim.clock import Scheduler, SimClock
from crashloop_exporter.sim.objects import EPOCH, Ids, go_duration, now, ts
from crashloop_exporter.sim.pods import ContainerRuntime, LogRun, PodRuntime, owner_meta, render_pod
from crashloop_exporter.sim.recorder import EventRecorder
from crashloop_exporter.sim.scenarios import Behavior, EventSpec, NodeScenario, PodScenario
from crashloop_exporter.sim.stats import CrashKey, Death, SimStats
from crashloop_exporter.sim.store import Key, Store

SYNC_SECONDS = 1.0
"""Kubelet reaction time between a container exit and its next status (restart or back-off)."""
INITIAL_BACKOFF = 10.0
MAX_BACKOFF = 300.0
BACKOFF_RESET = 2 * MAX_BACKOFF
"""The kubelet forgets a container's back-off when it ran this long since the last update."""
BACKOFF_EVENT_EVERY = 30.0
"""While in back-off the kubelet keeps reporting BackOff on its pod syncs."""


class Lifecycle:
    """Owns every simulated pod's runtime state and drives it on the sim clock."""

    def __init__(self, *, store: Store, clock: SimClock, ids: Ids, stats: SimStats,
                 nodes: Mapping[str, NodeScenario]) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.stats = stats
        self.nodes = nodes
        self.recorder = EventRecorder(store, ids)
        self.scheduler = Scheduler(clock, after_batch=self.flush)
        self.pods: dict[Key, PodRuntime] = {}
        self._dirty: dict[Key, PodRuntime] = {}
        self._ip_seq = 10
        self._begin_handlers: dict[str, Callable[[PodRuntime, ContainerRuntime], None]] = {
            "run": self._start_instance,
            "crash": self._start_instance,
            "waiting": self._enter_waiting,
            "image_pull": self._pull_failed,
            "static": self._stay_static,
        }

    # -- plumbing ----------------------------------------------------------------------------

    def _later(self, p: PodRuntime, c: ContainerRuntime | None, delay: float, fn: Callable[[], None]) -> None:
        """Run `fn` after `delay` sim seconds unless the pod (or container instance) moved on."""
        pod_epoch, c_epoch = p.epoch, (c.epoch if c else 0)

        def guarded() -> None:
            if p.epoch == pod_epoch and (c is None or c.epoch == c_epoch) and self.pods.get(self._key(p)) is p:
                fn()

        self.scheduler.call_later(delay, guarded)

    @staticmethod
    def _stay_static(p: PodRuntime, c: ContainerRuntime) -> None:
        del p, c  # a begin handler's signature; a static container keeps the state it was given

    @staticmethod
    def _key(p: PodRuntime) -> Key:
        return (p.namespace, p.name)

    def _touch(self, p: PodRuntime) -> None:
        self._dirty[self._key(p)] = p

    def flush(self) -> None:
        """Write every pod that changed since the last flush (one MODIFIED per batch, like the
        kubelet's status manager coalescing updates)."""
        dirty, self._dirty = self._dirty, {}
        wall = now()
        for key, p in dirty.items():
            if self.pods.get(key) is p:
                self.store["pods"].put_dict(render_pod(p, wall))

    def _vars(self, p: PodRuntime, c: ContainerRuntime | None) -> dict[str, str]:
        return {"pod": p.name, "namespace": p.namespace, "uid": p.uid, "node": p.node, "pod_ip": p.pod_ip,
                "container": c.name if c else "", "image": c.scenario.image if c else "",
                "format_pod": p.format_pod}

    def _text(self, template: str, p: PodRuntime, c: ContainerRuntime | None) -> str:
        return string.Template(template).safe_substitute(self._vars(p, c))

    def _event(self, p: PodRuntime, c: ContainerRuntime | None, etype: str, reason: str, message: str,
               *, component: str = "kubelet") -> None:
        involved: dict[str, Any] = {"kind": "Pod", "namespace": p.namespace, "name": p.name, "uid": p.uid,
                                    "apiVersion": "v1"}
        current = self.store["pods"].get(self._key(p))
        if current is not None:
            involved["resourceVersion"] = str(current.rv)
        if c is not None:
            group = "initContainers" if c.scenario.init else "containers"
            involved["fieldPath"] = f"spec.{group}{{{c.name}}}"
        self.recorder.record(namespace=p.namespace, involved=involved, reason=reason, message=message, etype=etype,
                             component=component, host=p.node if component == "kubelet" else "", wall=now())

    def _spec_event(self, p: PodRuntime, c: ContainerRuntime, e: EventSpec) -> None:
        self._event(p, c if e.container_scoped else None, e.type, e.reason, self._text(e.message, p, c),
                    component=e.component)

    def _crash_key(self, p: PodRuntime, c: ContainerRuntime, cause: str | None = None) -> CrashKey:
        return CrashKey(namespace=p.namespace, pod=p.name, container=c.name, container_type=c.ctype,
                        workload_kind=p.workload_kind, workload=p.workload,
                        cause=cause or c.scenario.cause or "unknown")

    # -- pods --------------------------------------------------------------------------------

    def add_pod(self, s: PodScenario, *, fresh_name: bool = False) -> PodRuntime:
        """Create a pod from its scenario and start its lifecycle."""
        node = self.nodes.get(s.node)
        if node is None:
            raise SimError(f"pod {s.namespace}/{s.name or s.owner.name} names unknown node {s.node!r}")
        given = "" if fresh_name and s.owner.kind not in ("StatefulSet", "Pod") else s.name
        name, generate, ctrl_labels, refs, wk, workload = owner_meta(
            s, name=given, suffix=self.ids.suffix(), namespace=s.namespace)
        if (s.namespace, name) in self.pods:
            raise SimError(f"two scenario pods are both named {s.namespace}/{name}")
        wall = now()
        self._ip_seq += 1
        p = PodRuntime(
            scenario=s, name=name, namespace=s.namespace, uid=self.ids.uid(), node=s.node, host_ip=node.ip,
            pod_ip=f"10.244.{self._ip_seq // 250}.{self._ip_seq % 250 + 2}", created=wall - s.age_seconds,
            labels={**s.labels, **ctrl_labels}, owner_refs=refs, generate_name=generate,
            api_volume=f"kube-api-access-{self.ids.suffix()}",
            init=[ContainerRuntime(scenario=c) for c in s.init_containers],
            regular=[ContainerRuntime(scenario=c) for c in s.containers],
            workload_kind=wk, workload=workload,
        )
        if p.init:
            for c in p.regular:
                c.state = {"waiting": {"reason": "PodInitializing"}}
        self.pods[self._key(p)] = p
        if s.age_seconds > 0:
            self._settle_aged(p)
        else:
            self._event(p, None, "Normal", "Scheduled", f"Successfully assigned {p.namespace}/{p.name} to {p.node}",
                        component="default-scheduler")
            self._later(p, None, SYNC_SECONDS, lambda: self._begin(p))
        self._touch(p)
        return p

    def _settle_aged(self, p: PodRuntime) -> None:
        """A pod that existed before the sim: its containers are already in their final state."""
        wall = now()
        p.sandbox_ready = True
        p.start_time = p.created + 1
        for c in p.containers:
            b = c.scenario.behavior
            c.container_id = self.ids.container_id()
            started = wall - (b.started_ago or (p.scenario.age_seconds - 3))
            c.restart_count = b.restart_count
            c.current = LogRun(started, b.logs)
            if b.last is not None:
                fin = wall - b.last.finished_ago
                c.last_state = {"terminated": {
                    "exitCode": b.last.exit_code, "reason": b.last.reason, "startedAt": ts(fin - b.last.ran_for),
                    "finishedAt": ts(fin), "containerID": self.ids.container_id()}}
                c.previous = LogRun(fin - b.last.ran_for, ())
            state = b.state or ("terminated" if c.scenario.init else "running")
            if state == "running":
                c.state = {"running": {"startedAt": ts(started)}}
                c.ready, c.started = b.ready and not c.scenario.init, True
            elif state == "terminated":
                c.state = {"terminated": {
                    "exitCode": b.exit_code, "reason": b.reason or ("Completed" if b.exit_code == 0 else "Error"),
                    "startedAt": ts(started), "finishedAt": ts(wall - b.finished_ago), "containerID": c.container_id}}
            else:
                waiting: dict[str, Any] = {"reason": b.reason}
                if b.message:
                    waiting["message"] = self._text(b.message, p, c)
                c.state = {"waiting": waiting}
                c.current = None

    def _begin(self, p: PodRuntime) -> None:
        p.sandbox_ready = True
        p.start_time = now()
        self._touch(p)
        if p.scenario.evict is not None:
            self._later(p, None, p.scenario.evict.after, lambda: self._evict(p))
        if p.init:
            self._start_container(p, p.init[0])
        else:
            for c in p.regular:
                self._start_container(p, c)

    def _start_container(self, p: PodRuntime, c: ContainerRuntime) -> None:
        self._begin_handlers[c.scenario.behavior.kind](p, c)

    def _init_done(self, p: PodRuntime) -> None:
        pending = [c for c in p.init if c.state.get("terminated", {}).get("exitCode") != 0]
        if pending:
            self._start_container(p, pending[0])
            return
        for c in p.regular:
            c.state = {"waiting": {"reason": "ContainerCreating"}}
            self._start_container(p, c)

    # -- running and crashing ----------------------------------------------------------------

    def _start_instance(self, p: PodRuntime, c: ContainerRuntime) -> None:
        b = c.scenario.behavior
        c.epoch += 1
        wall = now()
        c.container_id = self.ids.container_id()
        c.run_start_wall = wall
        c.in_episode = False
        self._event(p, c, "Normal", "Pulled", f'Container image "{c.scenario.image}" already present on machine')
        self._event(p, c, "Normal", "Created", f"Created container {c.name}")
        if b.kind == "crash" and b.never_started:
            # The runtime created the container but could not exec its process (StartError).
            c.current = LogRun(wall, ())
            for e in b.events:
                self._spec_event(p, c, e)
            self._terminate(p, c, exit_code=b.exit_code, reason=b.reason, message=self._text(b.message, p, c),
                            started_at=EPOCH)
            return
        self._event(p, c, "Normal", "Started", f"Started container {c.name}")
        c.state = {"running": {"startedAt": ts(wall)}}
        c.current = LogRun(wall, b.logs)
        spec = c.scenario.spec
        startup, readiness = spec.get("startupProbe"), spec.get("readinessProbe")
        lifetime = b.run_seconds if (b.kind == "crash" or c.scenario.init) else float("inf")
        c.started = startup is None
        c.ready = False
        started_after = 0.0
        if startup is not None and b.started:
            started_after = float(startup.get("initialDelaySeconds", 0)) + float(startup.get("periodSeconds", 10))
            if started_after < lifetime:
                self._later(p, c, started_after, lambda: self._set_flags(p, c, started=True))
        if b.ready and not c.scenario.init and (startup is None or b.started):
            ready_after = started_after + (float(readiness.get("initialDelaySeconds", 0)) + 1 if readiness else 0)
            if ready_after == 0:
                c.ready = True
            elif ready_after < lifetime:
                self._later(p, c, ready_after, lambda: self._set_flags(p, c, ready=True))
        for e in b.events:
            if e.at is not None:
                self._schedule_event(p, c, e, e.at, until=lifetime)
            elif b.kind == "run" and not c.scenario.init:
                self._spec_event(p, c, e)
        if lifetime != float("inf"):
            self._later(p, c, lifetime, lambda: self._exit(p, c))
        self._touch(p)

    def _schedule_event(self, p: PodRuntime, c: ContainerRuntime, e: EventSpec, at: float, *, until: float) -> None:
        if at > until:
            return
        if until != float("inf"):
            # A bounded run: schedule every occurrence now, before the exit timer, so a probe
            # failure due at the same instant as the kill is recorded before it.
            when = at
            while when <= until:
                self._later(p, c, when, lambda: self._spec_event(p, c, e))
                if e.every <= 0:
                    break
                when += e.every
            return

        def fire() -> None:
            self._spec_event(p, c, e)
            if e.every > 0:
                self._schedule_event(p, c, e, e.every, until=until)

        self._later(p, c, at, fire)

    def _set_flags(self, p: PodRuntime, c: ContainerRuntime, *, started: bool | None = None,
                   ready: bool | None = None) -> None:
        if "running" not in c.state:
            return
        if started is not None:
            c.started = started
        if ready is not None:
            c.ready = ready
        self._touch(p)

    def _exit(self, p: PodRuntime, c: ContainerRuntime) -> None:
        b = c.scenario.behavior
        if b.kind == "crash":
            for e in b.events:
                if e.at is None:
                    self._spec_event(p, c, e)
            self._terminate(p, c, exit_code=b.exit_code, reason=b.reason, message=self._text(b.message, p, c),
                            started_at=ts(c.run_start_wall))
        else:
            self._terminate(p, c, exit_code=0, reason="Completed", message="", started_at=ts(c.run_start_wall))

    def _terminate(self, p: PodRuntime, c: ContainerRuntime, *, exit_code: int, reason: str, message: str,
                   started_at: str) -> None:
        term: dict[str, Any] = {"exitCode": exit_code, "reason": reason}
        if message:
            term["message"] = message
        wall = now()
        term.update({"startedAt": started_at, "finishedAt": ts(wall), "containerID": c.container_id})
        c.state = {"terminated": term}
        c.ready = c.started = False
        finished = self.clock.now()
        self._touch(p)
        if c.scenario.init and exit_code == 0:
            self._init_done(p)
            return
        policy = p.scenario.restart_policy
        if exit_code != 0 or (policy == "Always" and not c.scenario.init):
            expired = c.backoff > 0 and finished - c.backoff_updated > BACKOFF_RESET
            key = self._crash_key(p, c)
            self.stats.deaths.add(key)
            self.stats.death_log.append(Death(key=key, run=c.restart_count + 1, wall=wall,
                                              backoff=0.0 if c.backoff == 0 or expired else c.backoff))
        if policy == "Never" or (policy == "OnFailure" and exit_code == 0 and not c.scenario.init):
            return
        self._later(p, c, SYNC_SECONDS, lambda: self._after_exit(p, c, finished))

    def _after_exit(self, p: PodRuntime, c: ContainerRuntime, finished: float) -> None:
        """The kubelet's doBackOff: restart now if no back-off applies, else CrashLoopBackOff."""
        expired = c.backoff > 0 and finished - c.backoff_updated > BACKOFF_RESET
        if c.backoff == 0 or expired:
            c.backoff, c.backoff_updated = INITIAL_BACKOFF, finished
            self._restart(p, c)
            return
        c.last_state = {"terminated": c.state["terminated"]}
        c.state = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off {go_duration(c.backoff)} restarting failed container={c.name} pod={p.format_pod}",
        }}
        self._touch(p)
        self._backoff_event(p, c, remaining=c.backoff - (self.clock.now() - finished))

        def done() -> None:
            c.backoff, c.backoff_updated = min(c.backoff * 2, MAX_BACKOFF), finished
            self._restart(p, c)

        self._later(p, c, c.backoff - (self.clock.now() - finished), done)

    def _backoff_event(self, p: PodRuntime, c: ContainerRuntime, *, remaining: float) -> None:
        self._event(p, c, "Warning", "BackOff", f"Back-off restarting failed container {c.name} in pod {p.format_pod}")
        if remaining > BACKOFF_EVENT_EVERY:
            self._later(p, c, BACKOFF_EVENT_EVERY,
                        lambda: self._backoff_event(p, c, remaining=remaining - BACKOFF_EVENT_EVERY))

    def _restart(self, p: PodRuntime, c: ContainerRuntime) -> None:
        term = c.state.get("terminated") or c.last_state.get("terminated")
        c.last_state = {"terminated": term} if term else {}
        c.restart_count += 1
        c.previous = c.current
        self.stats.restarts.add(self._crash_key(p, c))
        self._start_instance(p, c)

    # -- failed starts -----------------------------------------------------------------------

    def _episode(self, p: PodRuntime, c: ContainerRuntime) -> None:
        if not c.in_episode:
            c.in_episode = True
            self.stats.failed_starts.add(self._crash_key(p, c))

    def _enter_waiting(self, p: PodRuntime, c: ContainerRuntime) -> None:
        """CreateContainerConfigError, ContainerCreating held by a mount, RunContainerError...:
        the container never runs; the kubelet retries on every sync and reports each time."""
        b = c.scenario.behavior
        waiting: dict[str, Any] = {"reason": b.reason}
        if b.message:
            waiting["message"] = self._text(b.message, p, c)
        c.state = {"waiting": waiting}
        c.ready = c.started = False
        self._episode(p, c)
        self._touch(p)
        for e in b.events:
            if e.at is not None:
                self._schedule_event(p, c, e, e.at, until=float("inf"))
        self._waiting_retry(p, c, b)

    def _waiting_retry(self, p: PodRuntime, c: ContainerRuntime, b: Behavior) -> None:
        for e in b.events:
            if e.at is None:
                self._spec_event(p, c, e)
        self._later(p, c, b.retry_seconds, lambda: self._waiting_retry(p, c, b))

    def _pull_failed(self, p: PodRuntime, c: ContainerRuntime) -> None:
        """One failed pull: ErrImagePull now, ImagePullBackOff at the next sync, pull again when
        the image back-off (10 s doubling to 5 min, like containers) expires."""
        b = c.scenario.behavior
        image = c.scenario.image
        message = self._text(b.message, p, c)
        c.image_ok = False
        self._event(p, c, "Normal", "Pulling", f'Pulling image "{image}"')
        self._event(p, c, "Warning", "Failed", f'Failed to pull image "{image}": {message}')
        self._event(p, c, "Warning", "Failed", "Error: ErrImagePull")
        for e in b.events:
            self._spec_event(p, c, e)
        c.state = {"waiting": {"reason": "ErrImagePull", "message": message}}
        self._episode(p, c)
        self._touch(p)
        c.backoff = INITIAL_BACKOFF if c.backoff == 0 else min(c.backoff * 2, MAX_BACKOFF)
        self._later(p, c, SYNC_SECONDS, lambda: self._pull_backoff(p, c))

    def _pull_backoff(self, p: PodRuntime, c: ContainerRuntime) -> None:
        image = c.scenario.image
        c.state = {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}
        self._event(p, c, "Normal", "BackOff", f'Back-off pulling image "{image}"')
        self._event(p, c, "Warning", "Failed", "Error: ImagePullBackOff")
        self._touch(p)
        self._later(p, c, max(c.backoff - SYNC_SECONDS, SYNC_SECONDS), lambda: self._pull_failed(p, c))

    # -- eviction and deletion ---------------------------------------------------------------

    def _evict(self, p: PodRuntime) -> None:
        """The kubelet's eviction manager: the pod fails with reason Evicted, its containers
        are killed, and the pod object stays (phase Failed) until something deletes it."""
        assert p.scenario.evict is not None
        message = self._text(p.scenario.evict.message, p, None)
        wall = now()
        p.epoch += 1
        self._event(p, None, "Warning", "Evicted", message.strip())
        for c in p.regular:
            self._event(p, c, "Normal", "Killing", f"Stopping container {c.name}")
            # A run already dead (exited, or waiting in back-off) was booked when it died: the
            # eviction only kills the runs still alive.
            dead = "terminated" in c.state or ("waiting" in c.state and bool(c.last_state.get("terminated")))
            started = c.state.get("running", {}).get("startedAt") or ts(c.run_start_wall or wall)
            c.state = {"terminated": {"exitCode": 137, "reason": "Error", "startedAt": started,
                                      "finishedAt": ts(wall), "containerID": c.container_id}}
            c.ready = c.started = False
            if not dead:
                self.stats.evictions.add(self._crash_key(p, c, CauseId.NODE_PRESSURE))
        p.phase_override, p.reason, p.message = "Failed", "Evicted", message
        p.disruption = ("TerminationByKubelet", message.strip(), wall)
        self._touch(p)

    def delete_pod(self, namespace: str, name: str, *, recreate: bool) -> PodRuntime | None:
        """Delete a pod (MODIFIED with deletionTimestamp, then DELETED). With `recreate`, its
        controller makes a replacement: a new name (same name for a StatefulSet) and uid,
        starting from scratch. Returns the replacement, if any."""
        p = self.pods.get((namespace, name))
        if p is None:
            raise SimError(f'pods "{name}" not found in namespace {namespace!r}')
        p.epoch += 1
        p.deletion = now()
        self._touch(p)
        self.flush()
        del self.pods[(namespace, name)]
        self.store["pods"].delete((namespace, name))
        replacement = None
        if recreate and p.scenario.owner.kind != "Pod":
            replacement = self.add_pod(p.scenario, fresh_name=True)
            self.flush()
        return replacement
