"""Turn one `case.yaml` of the real-world corpus into a `kubectl cluster-info dump` directory.

A case is written compactly (the decisive strings of a public incident, verbatim, plus the few
fields around them that the thread implies); the API objects around those strings are assembled by
the held-out builder (`tests/heldout/kube.py`), so every case has kubectl's real dump shape without
hundreds of lines of hand-written JSON. Times in a case are offsets from the dump's `now`
(`-90s`, `-5m`, `-2h`, `-3d`).

Case keys (see README.md for the full list): `id`, `source`, `verbatim`, `reconstructed`,
`root_cause`, `expected: {container: cause}` or `negative: true`, `kubelet`, `runtime`, `pod`,
`events`, `node`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ..heldout import kube
from ..support import kubeobjects

NOW = kube.utc("2024-05-14T09:30:00Z")
"""Every case's dump is taken at this instant; case times are offsets from it."""
GRACE_S = 30
"""terminationGracePeriodSeconds of every built pod (the API default, as the held-out builder writes it)."""
_OFFSET = re.compile(r"^-(?P<n>\d+(?:\.\d+)?)(?P<unit>[smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CASE_KEYS = {
    "id", "source", "verbatim", "reconstructed", "root_cause", "expected", "negative",
    "kubelet", "runtime", "pod", "events", "node", "auto_events",
}
REQUIRED_KEYS = {"id", "source", "verbatim", "reconstructed", "root_cause", "pod"}


class CaseError(ValueError):
    """A case.yaml that does not follow the format; the message names the case and the field."""


def when(offset: str | int | None, *, default: str = "-0s") -> datetime:
    text = str(offset if offset is not None else default)
    m = _OFFSET.match(text)
    if m is None:
        raise CaseError(f"time {text!r} is not an offset like -90s, -5m, -2h, -3d")
    return NOW - timedelta(seconds=float(m["n"]) * _UNITS[m["unit"]])


@dataclass
class Case:
    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def negative(self) -> bool:
        return bool(self.data.get("negative"))

    @property
    def expected(self) -> dict[str, str]:
        return dict(self.data.get("expected") or {})

    @property
    def namespace(self) -> str:
        return str(self.data["pod"].get("namespace", "default"))

    @property
    def pod_name(self) -> str:
        return str(self.data["pod"]["name"])


def load_case(path: Path) -> Case:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CaseError(f"{path}: not a mapping")
    missing = REQUIRED_KEYS - set(data)
    unknown = set(data) - CASE_KEYS
    if missing or unknown:
        raise CaseError(f"{path}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    if bool(data.get("negative")) == bool(data.get("expected")):
        raise CaseError(f"{path}: give exactly one of `expected: {{container: cause}}` and `negative: true`")
    if data["id"] != path.parent.name:
        raise CaseError(f"{path}: id {data['id']!r} differs from its directory name")
    return Case(path, data)


def _state(raw: Any, name: str, restarts: int) -> dict[str, Any]:
    """`crashloop`, `running: -5m`, `{waiting: {reason, message}}`, `{terminated: {...}}`."""
    if raw in (None, {}):
        return {}
    if raw == "crashloop":
        msg = f"back-off {kube.backoff(restarts)} restarting failed container={name} pod={{POD}}"
        return kubeobjects.waiting("CrashLoopBackOff", msg)
    if not isinstance(raw, dict) or len(raw) != 1:
        raise CaseError(f"container {name}: bad state {raw!r}")
    (kind, body), = raw.items()
    if kind == "running":
        return kubeobjects.running(when(body))
    if kind == "waiting":
        return kubeobjects.waiting(body["reason"], body.get("message", ""))
    if kind == "terminated":
        return kubeobjects.terminated(
            int(body["exitCode"]),
            body.get("reason", "Error" if int(body["exitCode"]) else "Completed"),
            when(body.get("started", "-2m")),
            when(body.get("finished", "-1m")),
            message=body.get("message", ""),
        )
    raise CaseError(f"container {name}: unknown state {kind!r}")


def _container(raw: dict[str, Any], ctype: kubeobjects.CType) -> kube.C:
    name = raw["name"]
    res = kubeobjects.resources(
        cpu=raw.get("requests", {}).get("cpu"),
        memory=raw.get("requests", {}).get("memory"),
        limit_cpu=raw.get("limits", {}).get("cpu"),
        limit_memory=raw.get("limits", {}).get("memory"),
    )
    spec = kubeobjects.container(
        name,
        raw.get("image", f"registry.example.com/{name}:1.0"),
        command=raw.get("command"),
        args=raw.get("args"),
        env_from=raw.get("envFrom", ()),
        env=raw.get("env", ()),
        res=res,
        mounts=[(m["name"], m["mountPath"], bool(m.get("readOnly"))) for m in raw.get("volumeMounts", ())],
        liveness=raw.get("livenessProbe"),
        readiness=raw.get("readinessProbe"),
        startup=raw.get("startupProbe"),
    )
    restarts = int(raw.get("restarts", 0))
    state = _state(raw.get("state"), name, restarts)
    last = _state(raw.get("last"), name, restarts)
    running = "running" in state
    ready = bool(raw.get("ready", running and ctype == "regular"))
    waiting_reason = state.get("waiting", {}).get("reason", "")
    never_ran = not last and waiting_reason and waiting_reason != "CrashLoopBackOff"
    return kube.C(
        spec=spec,
        state=state,
        last=last,
        ready=ready,
        restarts=restarts,
        started=(running if ctype == "regular" else None),
        log=raw.get("log", ""),
        ctype=ctype,
        pulled=waiting_reason not in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
        and not (waiting_reason == "ContainerCreating" and not last),
        has_container=not never_ran,
    )


_OWNER = re.compile(r"^(?P<kind>deployment|statefulset|daemonset|job|cronjob|pod)/(?P<name>[\w.-]+)$")


def _owner(raw: str | None, pod_name: str) -> kube.Owner | None:
    if raw is None:
        raw = "pod/" + pod_name
    m = _OWNER.match(raw)
    if m is None:
        raise CaseError(f"owner {raw!r} is not deployment/X, statefulset/X, daemonset/X, job/X, cronjob/X or pod/X")
    kind, name = m["kind"], m["name"]
    if kind == "deployment":
        template_hash = pod_name.removeprefix(name + "-").split("-", 1)[0]
        return kube.rs(name, template_hash)
    if kind == "statefulset":
        return kube.sts(name, f"{name}-{kube.hexid(name, size=10)}")
    if kind == "daemonset":
        return kube.ds(name, kube.hexid(name, size=10))
    if kind == "job":
        return kube.job(name)
    if kind == "cronjob":
        return kube.job(pod_name.rsplit("-", 1)[0], cronjob=name)
    return None


def build_cluster(case: Case) -> kube.Cluster:
    d = case.data
    p = d["pod"]
    ns = case.namespace
    node_name = p.get("node", "worker-1")
    node_raw = d.get("node") or {}
    node = kube.Node(
        name=node_name,
        ip="10.0.1.21",
        created=NOW - timedelta(days=40),
        pressure={k: when(v) for k, v in (node_raw.get("pressure") or {}).items()},
        kubelet=str(d.get("kubelet", "v1.27.8")),
        runtime=str(d.get("runtime", "containerd://1.6.24")),
    )
    cluster = kube.Cluster(now=NOW, namespaces=[ns], nodes=[node])
    init = [_container(c, "init") for c in p.get("initContainers", ())]
    containers = [_container(c, "regular") for c in p["containers"]]
    created = when(p.get("created", "-1h"))
    pod = cluster.pod(
        ns,
        case.pod_name,
        node=node_name if p.get("scheduled", True) else None,
        created=created,
        containers=containers,
        init=init,
        owner=_owner(p.get("owner"), case.pod_name),
        labels=p.get("labels") or {"app": p.get("app", case.pod_name.split("-")[0])},
        volumes=p.get("volumes", ()),
        phase=p.get("phase"),
        reason=p.get("reason", ""),
        message=p.get("message", ""),
        restart_policy=p.get("restartPolicy", "Always"),
        # `deleting` is when the delete was requested; the API server sets deletionTimestamp to
        # that instant plus the grace period (30 s), the deadline by which the pod must be gone.
        deleting=when(p["deleting"]) + timedelta(seconds=GRACE_S) if "deleting" in p else None,
    )
    cluster.scheduled(ns, pod, created)
    if d.get("auto_events", True):
        for c in [*init, *containers]:
            if "terminated" in c.last and c.restarts > 0 and "waiting" in c.state:
                cluster.crash_events(ns, pod, c, first_start=created + timedelta(seconds=5))
    for ev in d.get("events") or ():
        ctype: kubeobjects.CType = "init" if any(c.spec["name"] == ev.get("container") for c in init) else "regular"
        cluster.event(
            ns,
            pod,
            ev["reason"],
            ev["message"],
            first=when(ev.get("first", ev.get("last", "-1m"))),
            last=when(ev.get("last", ev.get("first", "-1m"))),
            count=int(ev.get("count", 1)),
            warning=ev.get("type", "Warning") == "Warning",
            container=ev.get("container"),
            ctype=ctype,
        )
    return cluster


def write_dump(case: Case, root: Path) -> Path:
    """Writes the case's dump directory under `root/<id>` and returns it."""
    out = root / case.id
    build_cluster(case).write_dir(out)
    return out


def load_cases(directory: Path) -> list[Case]:
    return [load_case(p) for p in sorted(directory.glob("*/case.yaml"))]
