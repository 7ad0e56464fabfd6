"""Replay: serve recorded incidents as a live cluster that keeps crashing the way the kubelet does.

A case is what someone captured of a real incident: a `kubectl cluster-info dump`, `kubectl get
pods,events -o yaml` files, or a classifier fixture (a pod, its events, its previous logs, its
node). `diagnose` classifies it offline; the replay serves the same objects through the
simulated apiserver so the exporter classifies them live, and the two answers can be compared
case by case (the live/offline parity test).

What the replay does to the recorded objects:
- every timestamp is moved by the same amount, so the case's "now" becomes the replay's start:
  a crash 40 s before the capture is 40 s old when the exporter first lists it;
- a crash-looping container (waiting in CrashLoopBackOff, or terminated, with a
  `lastState.terminated`) keeps crashing in the kubelet's order, one step per tick: it restarts
  (restartCount + 1, running), dies (state terminated, restartCount unchanged: the window in
  which `kubectl get pod` shows Error/OOMKilled), then backs off (waiting CrashLoopBackOff with
  `lastState` = the run that just died). Its terminated state repeats the recorded one (reason,
  exit code, message); its log is the recorded previous log;
- at each death, and at each retry of a container stuck waiting (CreateContainerConfigError,
  ImagePullBackOff, ContainerCreating...), the events about that container (and the pod-level
  ones) are refreshed the way the kubelet's event recorder aggregates repeats: count + 1 and a
  new lastTimestamp;
- everything else (running containers, recovered ones, completed ones) stays as recorded.

Deaths performed are counted per container, so a test can check that the exporter counted each
of them under the cause `diagnose` gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crashloop_exporter.catalog import CREATING, FAILING_WAITING
from crashloop_exporter.errors import InputError, SimError, SimRequestError
from crashloop_exporter.inputs.dump import load_dump
from crashloop_exporter.inputs.files import load_files
from crashloop_exporter.inputs.snapshot import SnapshotBuilder
from crashloop_exporter.sim.clock import SimClock
from crashloop_exporter.sim.endpointslices import attach_endpointslices
from crashloop_exporter.sim.objects import ts
from crashloop_exporter.sim.store import Store

_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)")
_CONTAINER_PATH = re.compile(r"spec\.(containers|initContainers|ephemeralContainers)\{([^}]*)\}")
WAITING_RETRY_REASONS = (FAILING_WAITING - {"CrashLoopBackOff"}) | {CREATING, "PodInitializing"}
"""Waiting reasons the kubelet retries on every sync: their events repeat, their status stays (the
catalog's failing waiting states, but the crash loop, which the replay steps itself)."""


def _parse_ts(text: str) -> float | None:
    m = _TIMESTAMP.fullmatch(text)
    if m is None:
        return None
    base, _frac, zone = m.groups()
    parsed = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    return parsed.timestamp()


def _format_like(original: str, wall: float) -> str:
    m = _TIMESTAMP.fullmatch(original)
    frac = m.group(2) if m else None
    if frac:
        whole = int(wall)
        digits = len(frac) - 1
        fraction = f"{wall - whole:.{digits}f}"[2:]
        return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}Z"
    return ts(wall)


def shift_timestamps(value: Any, shift: float) -> Any:
    """A deep copy of `value` with every RFC 3339 timestamp string moved by `shift` seconds."""
    if isinstance(value, dict):
        return {k: shift_timestamps(v, shift) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_timestamps(v, shift) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-":
        wall = _parse_ts(value)
        if wall is not None:
            return _format_like(value, wall + shift)
    return value


@dataclass(slots=True)
class ReplayCase:
    """One recorded incident: raw API objects as captured, and the previous logs per container."""

    name: str
    pods: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(namespace, pod) -> container -> the output of its last terminated run."""
    as_of: float | None = None
    """When the case was captured (its "now"); None: its latest timestamp."""
    services: list[dict[str, Any]] = field(default_factory=list)
    """Services of the case (a dump's `<ns>/services.json`), for dependency chains."""

    def to_json(self) -> dict[str, Any]:
        """The `--replay-cases` form: objects as captured, logs as a list, as_of in epoch seconds."""
        return {
            "name": self.name, "as_of": self.as_of, "pods": self.pods, "events": self.events, "nodes": self.nodes,
            "services": self.services,
            "logs": [{"namespace": ns, "pod": pod, "container": c, "text": text}
                     for (ns, pod), per in sorted(self.logs.items()) for c, text in sorted(per.items())],
        }

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> ReplayCase:
        """One case of a `--replay-cases` file; a wrong shape is one sentence naming the case."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise InputError(f"{where}: a replay case is an object with a name")
        name = data["name"]
        lists = {k: data.get(k) or [] for k in ("pods", "events", "nodes", "logs", "services")}
        if not all(isinstance(v, list) and all(isinstance(x, dict) for x in v) for v in lists.values()):
            raise InputError(f"{where}: case {name!r}: pods, events, nodes, services and logs must be lists of "
                             "objects")
        as_of = data.get("as_of")
        if as_of is not None and not isinstance(as_of, int | float):
            raise InputError(f"{where}: case {name!r}: as_of must be epoch seconds")
        logs: dict[tuple[str, str], dict[str, str]] = {}
        for entry in lists["logs"]:
            keys = ("namespace", "pod", "container", "text")
            if not all(isinstance(entry.get(k), str) for k in keys):
                raise InputError(f"{where}: case {name!r}: each log needs namespace, pod, container and text")
            logs.setdefault((entry["namespace"], entry["pod"]), {})[entry["container"]] = entry["text"]
        return cls(name, lists["pods"], lists["events"], lists["nodes"], logs,
                   None if as_of is None else float(as_of), lists["services"])

    def latest(self) -> float | None:
        """The newest timestamp in the case's objects: a lower bound for when it was captured."""
        newest: float | None = None
        for obj in (*self.pods, *self.events, *self.nodes):
            for wall in _timestamps(obj):
                newest = wall if newest is None or wall > newest else newest
        return newest


def _timestamps(value: Any) -> Iterator[float]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _timestamps(v)
    elif isinstance(value, list):
        for v in value:
            yield from _timestamps(v)
    elif isinstance(value, str) and len(value) >= 20 and value[4:5] == "-":
        wall = _parse_ts(value)
        if wall is not None:
            yield wall


@dataclass(slots=True)
class _Looper:
    """A crash-looping container and where it is in the kubelet's restart cycle."""

    namespace: str
    pod: str
    container: str
    statuses_key: str
    """containerStatuses | initContainerStatuses."""
    terminated: dict[str, Any]
    """The recorded termination every replayed run repeats (reason, exit code, message)."""
    phase: str
    """backoff | running | dead."""
    deaths: int = 0
    run_started: float = 0.0


def _is_crash_loop(status: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(phase, terminated) of a container the kubelet keeps restarting, None otherwise."""
    state = status.get("state") if isinstance(status.get("state"), dict) else {}
    last = status.get("lastState") if isinstance(status.get("lastState"), dict) else {}
    assert isinstance(state, dict) and isinstance(last, dict)
    waiting, now_terminated = state.get("waiting"), state.get("terminated")
    last_terminated = last.get("terminated")
    if isinstance(waiting, dict) and waiting.get("reason") == "CrashLoopBackOff" and isinstance(last_terminated, dict):
        return "backoff", dict(last_terminated)
    if isinstance(now_terminated, dict) and (now_terminated.get("exitCode") or 0) != 0:
        return "dead", dict(now_terminated)
    return None


def _waiting_retry(status: Mapping[str, Any]) -> bool:
    state = status.get("state")
    waiting = state.get("waiting") if isinstance(state, dict) else None
    return isinstance(waiting, dict) and waiting.get("reason") in WAITING_RETRY_REASONS


def _event_container(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """(namespace, pod) of an event about a pod; its container is read separately."""
    involved = event.get("involvedObject") or event.get("regarding")
    if not isinstance(involved, dict) or involved.get("kind") != "Pod":
        return None
    return str(involved.get("namespace") or event.get("metadata", {}).get("namespace", "")), str(involved.get("name"))


def _field_container(event: Mapping[str, Any]) -> str:
    involved = event.get("involvedObject") or event.get("regarding") or {}
    m = _CONTAINER_PATH.search(str(involved.get("fieldPath", ""))) if isinstance(involved, dict) else None
    return m.group(2) if m else ""


def _event_time(event: Mapping[str, Any]) -> float:
    """When an event last happened, as the exporter reads it (series first, then lastTimestamp)."""
    series = event.get("series") if isinstance(event.get("series"), dict) else {}
    assert isinstance(series, dict)
    for text in (series.get("lastObservedTime"), event.get("lastTimestamp"), event.get("eventTime"),
                 (event.get("metadata") or {}).get("creationTimestamp")):
        wall = _parse_ts(text) if isinstance(text, str) else None
        if wall is not None:
            return wall
    return 0.0


STEPS_PER_CYCLE = 3
"""restart, death, back-off: one crash of every looping container per cycle."""


class Replay:
    """Recorded cases served from `store`, advanced one kubelet step per `tick()`.

    Started, it ticks every `tick` seconds (skipping while `clock` is paused) and stops by itself
    after `cycles` full cycles (0: never), so a test knows exactly how many deaths it performed.
    """

    def __init__(self, store: Store, cases: Iterable[ReplayCase], *, tick: float = 1.0, cycles: int = 0,
                 clock: SimClock | None = None) -> None:
        if tick <= 0 or cycles < 0:
            raise SimError(f"replay tick must be > 0 and cycles >= 0, got tick={tick} cycles={cycles}")
        self.store = store
        self.cases = list(cases)
        self.tick_seconds = tick
        self.cycles = cycles
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self.loopers: list[_Looper] = []
        self.retrying: list[tuple[str, str, str]] = []
        """(namespace, pod, container) stuck in a retried waiting state."""
        self.logs: dict[tuple[str, str], dict[str, str]] = {}
        self.deaths_by_case: dict[str, dict[str, int]] = {}
        self._events: dict[tuple[str, str], list[tuple[str, str]]] = {}
        """(namespace, pod) -> (container or "", event name) of its events."""
        self._case_of: dict[tuple[str, str], str] = {}
        self.ticks = 0
        self.rebased_to: float | None = None
        """The wall time every case's "now" was moved to: case time + (wall - this) is the replay's clock."""

    def populate(self, now: float) -> None:
        """Put every case's objects into the store with their timestamps moved to `now`."""
        self.rebased_to = now
        for case in self.cases:
            as_of = case.as_of if case.as_of is not None else case.latest()
            shift = 0.0 if as_of is None else now - as_of
            for node in case.nodes:
                self.store["nodes"].put_dict(shift_timestamps(node, shift))
            for pod in case.pods:
                body = shift_timestamps(pod, shift)
                meta = body.setdefault("metadata", {})
                key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
                self._case_of[key] = case.name
                self.store["pods"].put_dict(body)
                self._track(key, body)
            for event in case.events:
                body = shift_timestamps(event, shift)
                meta = body.setdefault("metadata", {})
                about = _event_container(body)
                if about is None or "name" not in meta:
                    continue
                meta.setdefault("namespace", about[0])
                self.store["events"].put_dict(body)
                self._events.setdefault(about, []).append((_field_container(body), str(meta["name"])))
            if "services" in self.store.collections:
                # The endpointslice controller publishes the replayed pods behind each Service, and
                # follows their later writes (readiness, deletion), as `diagnose --dump` derives them.
                attach_endpointslices(self.store)
                for service in case.services:
                    self.store["services"].put_dict(shift_timestamps(service, shift))
            for key, per_container in case.logs.items():
                self.logs.setdefault(key, {}).update(per_container)
            self.deaths_by_case.setdefault(case.name, {})

    def _track(self, key: tuple[str, str], body: Mapping[str, Any]) -> None:
        status = body.get("status") if isinstance(body.get("status"), dict) else {}
        assert isinstance(status, dict)
        if body.get("metadata", {}).get("deletionTimestamp"):
            return  # the kubelet is stopping it: no more restarts
        for statuses_key in ("initContainerStatuses", "containerStatuses"):
            for st in status.get(statuses_key) or ():
                if not isinstance(st, dict) or not isinstance(st.get("name"), str):
                    continue
                loop = _is_crash_loop(st)
                if loop is not None:
                    self.loopers.append(_Looper(key[0], key[1], st["name"], statuses_key, loop[1], loop[0]))
                elif _waiting_retry(st):
                    self.retrying.append((key[0], key[1], st["name"]))

    # -- the kubelet's steps ----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """All `cycles` performed; at once when nothing in the cases crashes or retries."""
        if not (self.loopers or self.retrying):
            return True
        return bool(self.cycles) and self.ticks >= self.cycles * STEPS_PER_CYCLE

    def start(self) -> None:
        if self._task is None and (self.loopers or self.retrying):
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sim-replay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self.done:
            await asyncio.sleep(self.tick_seconds)
            if self.clock is None or not self.clock.paused:
                self.tick(time.time())

    def tick(self, now: float) -> None:
        """One step of every crash loop, and one retry of every stuck container."""
        self.ticks += 1
        for looper in self.loopers:
            self._step(looper, now)
        for namespace, pod, container in self.retrying:
            self._refresh_events(namespace, pod, container, now, in_order=True)

    def _step(self, looper: _Looper, now: float) -> None:
        stored = self.store["pods"].get((looper.namespace, looper.pod))
        if stored is None:
            return
        pod = stored.to_dict()
        status = next((s for s in pod.get("status", {}).get(looper.statuses_key, ()) if s.get("name") ==
                       looper.container), None)
        if status is None:
            return
        if looper.phase == "backoff":
            looper.phase, looper.run_started = "running", now
            status["restartCount"] = int(status.get("restartCount") or 0) + 1
            status["state"] = {"running": {"startedAt": ts(now)}}
            status["ready"], status["started"] = False, True
        elif looper.phase == "running":
            looper.phase = "dead"
            looper.deaths += 1
            case = self.deaths_by_case.setdefault(self._case_of.get((looper.namespace, looper.pod), ""), {})
            case_key = f"{looper.namespace}/{looper.pod}/{looper.container}"
            case[case_key] = case.get(case_key, 0) + 1
            dead = dict(looper.terminated)
            dead["startedAt"], dead["finishedAt"] = ts(looper.run_started or now), ts(now)
            status["state"] = {"terminated": dead}
            status["ready"], status["started"] = False, False
            self._refresh_events(looper.namespace, looper.pod, looper.container, now)
        else:
            looper.phase = "backoff"
            current = status.get("state", {}).get("terminated") or dict(looper.terminated)
            status["lastState"] = {"terminated": current}
            status["state"] = {"waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 10s restarting failed container={looper.container} pod={looper.pod}_"
                           f"{looper.namespace}({pod.get('metadata', {}).get('uid', '')})",
            }}
        self.store["pods"].put_dict(pod)

    def _refresh_events(self, namespace: str, pod: str, container: str, now: float, *, in_order: bool = False) -> None:
        """The kubelet's recorder aggregating a repeat: count + 1, lastTimestamp now.

        `in_order` (a retried start): the kubelet repeats the attempt's events in the order it
        first wrote them (`Pulling`, then the pull's `Failed`), seconds apart at second precision
        as metav1.Time is; refreshed in one instant they would tie and lose that order, so the
        newest recorded one gets `now` and each older one a second less per step back."""
        events = []
        for about, name in self._events.get((namespace, pod), ()):
            if about not in ("", container):
                continue
            stored = self.store["events"].get((namespace, name))
            if stored is not None:
                events.append(stored.to_dict())
        when = [now] * len(events)
        if in_order:
            recorded = [_event_time(e) for e in events]
            steps = sorted(set(recorded), reverse=True)
            when = [now - steps.index(r) for r in recorded]
        for event, wall in zip(events, when, strict=True):
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = ts(wall)
            series = event.get("series")
            if isinstance(series, dict):
                series["count"] = int(series.get("count") or 1) + 1
                series["lastObservedTime"] = ts(wall)
            self.store["events"].put_dict(event)

    # -- what the kubelet serves -----------------------------------------------------------------

    def serves(self, namespace: str, pod: str) -> bool:
        return (namespace, pod) in self._case_of

    def container_log(self, namespace: str, pod: str, container: str | None, *, previous: bool) -> tuple[str, ...]:
        """The recorded previous log: it is what every replayed run wrote before it died."""
        per_container = self.logs.get((namespace, pod), {})
        if container is None:
            if len(per_container) != 1:
                raise SimRequestError(400, "BadRequest", f"a container name must be specified for pod {pod}")
            container = next(iter(per_container))
        stored = self.store["pods"].get((namespace, pod))
        body = stored.to_dict() if stored is not None else {}
        statuses = [*body.get("status", {}).get("initContainerStatuses", ()),
                    *body.get("status", {}).get("containerStatuses", ())]
        status = next((s for s in statuses if s.get("name") == container), None)
        if status is None:
            raise SimRequestError(400, "BadRequest", f"container {container} is not valid for pod {pod}")
        if previous and not (status.get("lastState") or {}).get("terminated"):
            raise SimRequestError(
                400, "BadRequest", f'previous terminated container "{container}" in pod "{pod}" not found')
        text = per_container.get(container, "")
        return tuple(text.splitlines())

    def stats_json(self) -> dict[str, Any]:
        return {"ticks": self.ticks, "done": self.done, "rebased_to": self.rebased_to,
                "deaths": {name: dict(d) for name, d in self.deaths_by_case.items()},
                "loopers": len(self.loopers), "retrying": len(self.retrying)}


class _RawCollector(SnapshotBuilder):
    """A SnapshotBuilder that also keeps the raw objects it accepted, for serving them again."""

    def __init__(self) -> None:
        super().__init__(warn=self._skipped)
        self.raw: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self.warnings: list[str] = []

    def _skipped(self, line: str) -> None:
        self.warnings.append(line)

    def add(self, kind: str, raw: Any, *, where: str) -> bool:
        accepted = super().add(kind, raw, where=where)
        if accepted and isinstance(raw, dict):
            meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
            assert isinstance(meta, dict)
            key = (str(meta.get("namespace", "")), str(meta.get("name", "")))
            self.raw.setdefault(kind, {})[key] = copy.deepcopy(raw)
        return accepted


def load_case(name: str, *, dump: str | None = None, files: Sequence[str] = ()) -> ReplayCase:
    """A case read the way `diagnose --dump` / `diagnose -f` read it, captured as of the same time
    (its latest timestamp), so the replay's "now" is the moment `diagnose` classifies it at."""
    collector = _RawCollector()
    if dump is not None:
        load_dump(dump, builder=collector)
    if files:
        load_files(list(files), builder=collector)
    snapshot = collector.build()
    return ReplayCase(
        name,
        pods=list(collector.raw.get("Pod", {}).values()),
        events=list(collector.raw.get("Event", {}).values()),
        nodes=list(collector.raw.get("Node", {}).values()),
        services=list(collector.raw.get("Service", {}).values()),
        logs={k: dict(v) for k, v in snapshot.logs.items()},
        as_of=snapshot.latest,
    )


def load_cases_file(path: str) -> list[ReplayCase]:
    """`--replay-cases FILE`: a JSON list of cases in `ReplayCase.to_json` form."""
    try:
        data = json.loads(Path(path).read_bytes())
    except FileNotFoundError as e:
        raise InputError(f"--replay-cases {path}: no such file") from e
    except (OSError, ValueError) as e:
        raise InputError(f"--replay-cases {path}: cannot read a JSON list of cases: {e}") from e
    if not isinstance(data, list):
        raise InputError(f"--replay-cases {path}: expected a JSON list of cases")
    return [ReplayCase.from_json(item, where=f"{path} case {i}") for i, item in enumerate(data)]


__all__ = [
    "WAITING_RETRY_REASONS",
    "Replay",
    "ReplayCase",
    "load_case",
    "load_cases_file",
    "shift_timestamps",
]
