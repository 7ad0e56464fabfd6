"""A tiny builder for `kubectl cluster-info dump` output, used to write the held-out fixtures.

The held-out dumps must look like what kubectl really writes (so the `diagnose --dump` reader is
tested against the real shape, not a convenient one). Writing hundreds of pods by hand would drift
from that shape, so the API objects are assembled here with kubectl's conventions:

- `kubectl cluster-info dump` prints typed lists (`NodeList`, `PodList`, ...) with Go's
  `json.MarshalIndent(obj, "", "    ")`: 4-space indent, struct fields in declaration order, map
  keys sorted, `<`, `>` and `&` escaped as `\\u003c`..., one trailing newline. List items carry no
  `kind`/`apiVersion` (typed list responses drop them).
- The directory layout is `nodes.json` and, per namespace, `events`, `replication-controllers`,
  `services`, `daemonsets`, `deployments`, `replicasets`, `pods` (`.json`), then
  `<ns>/<pod>/logs.txt`; without `--output-directory` the same documents go to stdout in that
  order (see kubectl `pkg/cmd/clusterinfo/clusterinfo_dump.go`).
- Logs are the *current* container's (`PodLogOptions{Container: c}`, no `previous`), init
  containers first, then regular ones (never ephemeral ones), each between
  `==== START logs for container C of pod NS/POD ====` and the matching END line. A container
  that never ran gives the kubelet's `validateContainerLogStatus` error, which kubectl writes as
  `Request log error: ...`.
- The API server lists items in key order, i.e. sorted by name.

The objects' shape (ObjectMeta, container specs, statuses and states, events, node conditions,
typed lists) comes from `tests/support/kubeobjects.py`, the builder every test shares; this module
adds what a whole cluster derives: IDs, IPs, conditions, managedFields, workloads and the dump.
Nothing here knows about causes; the scenarios in `scenarios.py` decide what is broken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from tests.support.kubeobjects import (
    CType,
    Obj,
    container_status,
    event,
    field_path,
    gomap,
    node_conditions,
    object_meta,
    owner_reference,
    pod_reference,
    pod_spec,
    pod_status,
    running,
    terminated,
    ts,
    typed_list,
    uid,
    waiting,
)
from tests.support.kubeobjects import pod as pod_object


def utc(text: str) -> datetime:
    """`2026-04-04T08:12:44Z` as an aware datetime (scenario timestamps are written this way)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def micro(when: datetime) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds (events.k8s.io eventTime)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hexid(*parts: str, size: int = 64) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:size]


def go_json(obj: Any) -> str:
    """What kubectl's JSON printer writes: MarshalIndent with 4 spaces, HTML-safe escapes, newline."""
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def normalized_image(image: str) -> str:
    """The image name as containerd reports it in container statuses (docker.io/library/...)."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    name = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else image + ":latest"
    return ("docker.io/" if "/" in name else "docker.io/library/") + name


def backoff(restarts: int) -> str:
    """The kubelet's CrashLoopBackOff delay after `restarts` restarts (10s doubling, 5m cap)."""
    seconds = min(10 * 2 ** max(restarts - 1, 0), 300)
    minutes, sec = divmod(seconds, 60)
    return f"{minutes}m{sec}s" if minutes else f"{sec}s"


# ---------------------------------------------------------------- containers


@dataclass
class C:
    """One container of a pod: its spec, its status and the text `cluster-info dump` shows as its log."""

    spec: Obj
    state: Obj
    last: Obj = field(default_factory=dict)
    ready: bool = False
    restarts: int = 0
    started: bool | None = None
    log: str = ""
    ctype: CType = "regular"
    pulled: bool = True
    """False when the image was never pulled (no imageID, no containerID)."""
    has_container: bool = True
    """False when the runtime never created a container for this status (no containerID)."""


def crashloop(
    spec: Obj,
    *,
    restarts: int,
    exit_code: int,
    started: datetime,
    finished: datetime,
    log: str,
    reason: str = "Error",
    message: str = "",
    ctype: CType = "regular",
) -> C:
    """A container waiting in CrashLoopBackOff after its last run ended as given."""
    return C(
        spec=spec,
        state=waiting(
            "CrashLoopBackOff",
            f"back-off {backoff(restarts)} restarting failed container={spec['name']} pod={{POD}}",
        ),
        last=terminated(exit_code, reason, started, finished, message=message),
        restarts=restarts,
        started=False,
        log=log,
        ctype=ctype,
    )


def healthy(spec: Obj, since: datetime, log: str, *, restarts: int = 0, last: Obj | None = None) -> C:
    return C(spec=spec, state=running(since), last=last or {}, ready=True, restarts=restarts, started=True, log=log)


# ---------------------------------------------------------------- workloads and the cluster


@dataclass(frozen=True)
class Owner:
    """Who controls a pod. `hash` is the pod-template-hash (ReplicaSet) or controller-revision-hash."""

    kind: Literal["ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Node"]
    name: str
    hash: str = ""
    deployment: str = ""
    cronjob: str = ""


def rs(deployment: str, template_hash: str) -> Owner:
    return Owner("ReplicaSet", f"{deployment}-{template_hash}", template_hash, deployment=deployment)


def sts(name: str, revision: str) -> Owner:
    return Owner("StatefulSet", name, revision)


def ds(name: str, revision: str) -> Owner:
    return Owner("DaemonSet", name, revision)


def job(name: str, *, cronjob: str = "") -> Owner:
    return Owner("Job", name, cronjob=cronjob)


def static(node: str) -> Owner:
    """A mirror pod of a static manifest: the kubelet makes the Node its owner."""
    return Owner("Node", node)


@dataclass
class Node:
    name: str
    ip: str
    created: datetime
    arch: str = "amd64"
    zone: str = "eu-west-1a"
    instance_type: str = "m6i.xlarge"
    memory_ki: int = 16_101_456
    cpu: str = "4"
    pressure: dict[str, datetime] = field(default_factory=dict)
    """Pressure condition type -> since when it is True."""
    kubelet: str = "v1.29.6"
    os_image: str = "Ubuntu 22.04.4 LTS"
    kernel: str = "6.5.0-1022-aws"
    runtime: str = "containerd://1.7.12"
    pod_cidr: str = "10.244.0.0/24"
    region: str = ""
    provider_id: str = ""
    internal_dns: str = ""


class Cluster:
    """One dump: nodes, namespaces and everything `cluster-info dump` writes for them."""

    def __init__(self, *, now: datetime, namespaces: Sequence[str], nodes: Sequence[Node]) -> None:
        self.now = now
        self.namespaces = list(namespaces)
        self.nodes = {n.name: n for n in nodes}
        self.pods: dict[str, list[Obj]] = {ns: [] for ns in namespaces}
        self.events: dict[str, list[Obj]] = {ns: [] for ns in namespaces}
        self.services: dict[str, list[Obj]] = {ns: [] for ns in namespaces}
        self.logs: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._rv = 4_180_000 + int(now.timestamp()) % 900_000
        self._pod_ips: dict[str, int] = {}

    # ------------------------------------------------------------ helpers

    def rv(self) -> str:
        self._rv += 7
        return str(self._rv)

    def pod_ip(self, node: str) -> str:
        n = self.nodes[node]
        base = n.pod_cidr.split("/", 1)[0].rsplit(".", 1)[0]
        self._pod_ips[node] = self._pod_ips.get(node, 10) + 7
        return f"{base}.{self._pod_ips[node] % 120 + 2}"

    # ------------------------------------------------------------ pods

    def pod(
        self,
        ns: str,
        name: str,
        *,
        node: str | None,
        created: datetime,
        containers: Sequence[C],
        init: Sequence[C] = (),
        ephemeral: Sequence[C] = (),
        owner: Owner | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        volumes: Sequence[Obj] = (),
        phase: str | None = None,
        reason: str = "",
        message: str = "",
        restart_policy: str = "Always",
        service_account: str = "default",
        spec_extra: Obj | None = None,
        conditions: list[Obj] | None = None,
        deleting: datetime | None = None,
        scheduled: bool = True,
        sandbox_ready: bool = True,
    ) -> Obj:
        """Adds a pod; statuses, conditions and IPs are derived the way the kubelet would report them."""
        pod_uid = uid(ns, name)
        pod_ref = f"{name}_{ns}({pod_uid})"
        sa_volume = "kube-api-access-" + hexid(ns, name, "sa", size=5).translate(
            str.maketrans("0123456789", "bcdfghjklm")
        )
        labels = _pod_labels(ns, name, owner, labels)
        meta = self._pod_meta(ns, name, pod_uid, created, deleting, labels, annotations, owner)
        spec = _pod_spec(
            sa_volume,
            volumes=volumes,
            init=init,
            containers=containers,
            ephemeral=ephemeral,
            restart_policy=restart_policy,
            service_account=service_account,
            node=node if scheduled else None,
            owner=owner,
            spec_extra=spec_extra,
        )
        status = self._pod_status(
            ns,
            name,
            pod_ref,
            created=created,
            node=node,
            scheduled=scheduled,
            sandbox_ready=sandbox_ready,
            init=init,
            containers=containers,
            ephemeral=ephemeral,
            phase=phase,
            conditions=conditions,
            reason=reason,
            message=message,
        )
        pod = pod_object(meta, spec, status, kind=False)
        # managedFields is the last field of ObjectMeta, and describes the pod as built.
        meta["managedFields"] = _managed_fields(pod, created, owner)
        self.pods[ns].append(pod)

        if node and scheduled:
            sections = []
            for cs in (init, containers):
                for c in cs:
                    sections.append((c.spec["name"], self._log_text(name, c)))
        else:
            sections = [(c.spec["name"], "") for cs in (init, containers) for c in cs]
        self.logs[(ns, name)] = sections
        return pod

    def _statuses(self, ns: str, name: str, pod_ref: str, cs: Sequence[C]) -> list[Obj]:
        """The containers' statuses as the kubelet reports them."""
        out = []
        for c in cs:
            cur_id, last_id = self._container_ids(ns, name, c)
            image = normalized_image(c.spec["image"])
            # The runtime reports an image ID once it has created a container from the image.
            image_id = (
                image.rsplit(":", 1)[0] + "@sha256:" + hexid(c.spec["image"])
                if c.pulled and (cur_id or last_id or not c.has_container)
                else ""
            )
            out.append(container_status(
                c.spec["name"],
                image=image,
                state=_fill(c.state, pod_ref),
                last=_fill(c.last, pod_ref),
                ready=c.ready,
                restarts=c.restarts,
                image_id=image_id,
                container_id=cur_id,
                last_container_id=last_id,
                started=c.started,
            ))
        return out

    def _pod_meta(
        self,
        ns: str,
        name: str,
        pod_uid: str,
        created: datetime,
        deleting: datetime | None,
        labels: dict[str, str],
        annotations: dict[str, str] | None,
        owner: Owner | None,
    ) -> Obj:
        """ObjectMeta without managedFields (added once the pod is whole)."""
        if owner is not None and owner.kind == "Node":
            config_hash = hexid(ns, name, "manifest", size=32)
            annotations = {
                **(annotations or {}),
                "kubernetes.io/config.hash": config_hash,
                "kubernetes.io/config.mirror": config_hash,
                "kubernetes.io/config.seen": created.strftime("%Y-%m-%dT%H:%M:%S.000000000Z"),
                "kubernetes.io/config.source": "file",
            }
        generated = owner is not None and owner.kind in ("ReplicaSet", "DaemonSet", "Job")
        generate_name = owner.name + "-" if owner is not None and generated else ""
        owners = []
        if owner is not None:
            owner_uid = uid("node", owner.name) if owner.kind == "Node" else uid(ns, owner.kind.lower(), owner.name)
            owners.append(owner_reference(owner.kind, owner.name, uid=owner_uid))
        return object_meta(
            name,
            generate_name=generate_name,
            namespace=ns,
            uid=pod_uid,
            resource_version=self.rv(),
            created=created,
            deleting=deleting,
            labels=labels,
            annotations=annotations,
            owners=owners,
        )

    def _pod_status(
        self,
        ns: str,
        name: str,
        pod_ref: str,
        *,
        created: datetime,
        node: str | None,
        scheduled: bool,
        sandbox_ready: bool,
        init: Sequence[C],
        containers: Sequence[C],
        ephemeral: Sequence[C],
        phase: str | None,
        conditions: list[Obj] | None,
        reason: str,
        message: str,
    ) -> Obj:
        """Phase, conditions, IPs and container statuses, derived as the kubelet would."""
        init_done = all("terminated" in c.state and c.state["terminated"]["exitCode"] == 0 for c in init)
        pending = not init_done or any(
            "waiting" in c.state and not c.last and c.state["waiting"]["reason"] != "CrashLoopBackOff"
            for c in containers
        )
        if phase is None:
            phase = "Pending" if pending else "Running"

        if conditions is None:
            conditions = self._conditions(
                created=created,
                scheduled=scheduled and node is not None,
                sandbox_ready=sandbox_ready,
                init=init,
                containers=containers,
                phase=phase,
            )
        if not (node and scheduled):
            # The kubelet has not seen the pod: no IPs, no start time, no container statuses.
            return pod_status(phase, conditions=conditions, message=message, reason=reason, statuses=None,
                              qos_class=_qos([*init, *containers]))
        has_ip = sandbox_ready and phase not in ("Succeeded", "Failed")
        return pod_status(
            phase,
            conditions=conditions,
            message=message,
            reason=reason,
            host_ip=self.nodes[node].ip,
            pod_ip=self.pod_ip(node) if has_ip else "",
            start_time=created + timedelta(seconds=1),
            init_statuses=self._statuses(ns, name, pod_ref, init),
            statuses=self._statuses(ns, name, pod_ref, containers),
            qos_class=_qos([*init, *containers]),
            ephemeral_statuses=self._statuses(ns, name, pod_ref, ephemeral),
        )

    @staticmethod
    def _container_ids(ns: str, pod: str, c: C) -> tuple[str, str]:
        """(current container, previous container) runtime IDs; "" where the runtime has none."""
        if not c.has_container:
            return "", ""
        base = "containerd://"
        cur = (
            base + hexid(ns, pod, c.spec["name"], "current")
            if ("running" in c.state or "terminated" in c.state)
            else ""
        )
        last = base + hexid(ns, pod, c.spec["name"], "previous") if "terminated" in c.last else ""
        return cur, last

    @staticmethod
    def _log_text(pod: str, c: C) -> str:
        """What kubectl writes for this container: the log, or the kubelet's refusal as a request error."""
        name = c.spec["name"]
        if "running" in c.state:
            return c.log
        if "terminated" in c.state:
            return c.log if c.has_container else f'Request log error: container "{name}" in pod "{pod}" is terminated\n'
        if "terminated" in c.last and c.has_container:
            return c.log
        reason = c.state.get("waiting", {}).get("reason", "")
        detail = {
            "ErrImagePull": "image can't be pulled",
            "ImagePullBackOff": "trying and failing to pull image",
        }.get(reason, reason)
        return f'Request log error: container "{name}" in pod "{pod}" is waiting to start: {detail}\n'

    def _conditions(
        self,
        *,
        created: datetime,
        scheduled: bool,
        sandbox_ready: bool,
        init: Sequence[C],
        containers: Sequence[C],
        phase: str,
    ) -> list[Obj]:
        t0 = ts(created)
        t1 = ts(created + timedelta(seconds=2))
        if not scheduled:
            return [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": t0,
                    "reason": "Unschedulable",
                    "message": "",
                }
            ]
        init_bad = [
            c.spec["name"] for c in init if not ("terminated" in c.state and c.state["terminated"]["exitCode"] == 0)
        ]
        unready = [c.spec["name"] for c in containers if not c.ready]
        latest = max(
            (
                utc(c.last["terminated"]["finishedAt"])
                for c in containers
                if "terminated" in c.last and c.last["terminated"].get("finishedAt")
            ),
            default=created + timedelta(seconds=5),
        )
        out: list[Obj] = [
            {
                "type": "PodReadyToStartContainers",
                "status": "True" if sandbox_ready and phase not in ("Succeeded", "Failed") else "False",
                "lastProbeTime": None,
                "lastTransitionTime": t1,
            }
        ]
        if init_bad:
            out.append(
                {
                    "type": "Initialized",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": t0,
                    "reason": "ContainersNotInitialized",
                    "message": f"containers with incomplete status: [{' '.join(init_bad)}]",
                }
            )
        else:
            out.append(
                {
                    "type": "Initialized",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": t1 if init else t0,
                }
            )
        for kind in ("Ready", "ContainersReady"):
            if phase == "Succeeded":
                out.append(
                    {
                        "type": kind,
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": ts(latest),
                        "reason": "PodCompleted",
                    }
                )
            elif phase == "Failed":
                out.append(
                    {
                        "type": kind,
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": ts(latest),
                        "reason": "PodFailed",
                    }
                )
            elif unready:
                out.append(
                    {
                        "type": kind,
                        "status": "False",
                        "lastProbeTime": None,
                        "lastTransitionTime": ts(latest),
                        "reason": "ContainersNotReady",
                        "message": f"containers with unready status: [{' '.join(unready)}]",
                    }
                )
            else:
                since = max(
                    (utc(c.state["running"]["startedAt"]) for c in containers if "running" in c.state),
                    default=created,
                )
                out.append(
                    {
                        "type": kind,
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": ts(since + timedelta(seconds=4)),
                    }
                )
        out.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": t0})
        return out

    # ------------------------------------------------------------ events

    def event(
        self,
        ns: str,
        pod: Obj,
        reason: str,
        message: str,
        *,
        first: datetime,
        last: datetime | None = None,
        count: int = 1,
        warning: bool = False,
        container: str | None = None,
        ctype: CType = "regular",
    ) -> None:
        """A kubelet event about a pod (core/v1 Event as the kubelet's recorder writes it)."""
        node = pod["spec"].get("nodeName", "")
        self._append_event(
            ns,
            pod_reference(pod, field=field_path(container, ctype) if container is not None else ""),
            reason=reason,
            message=message,
            first=first,
            last=last or first,
            count=count,
            warning=warning,
            source={"component": "kubelet", "host": node},
            reporting=("kubelet", node),
        )

    def _append_event(
        self,
        ns: str,
        involved: Obj,
        *,
        reason: str,
        message: str,
        first: datetime,
        last: datetime,
        count: int,
        warning: bool,
        source: Obj,
        reporting: tuple[str, str],
    ) -> None:
        name = f"{involved['name']}.{int(first.timestamp() * 1e9) + len(self.events[ns]) * 7919:x}"
        self._record(ns, involved, name, first, reason=reason, message=message, source=source, first=first,
                     last=last, count=count, type_="Warning" if warning else "Normal", reporting=reporting)

    def _scheduler_event(
        self, ns: str, involved: Obj, *, name: str, when: datetime, event_time: datetime, **fields: Any
    ) -> None:
        """The scheduler writes through events.k8s.io: no first/lastTimestamp, no count, an eventTime."""
        self._record(ns, involved, name, when, source={}, first=None, last=None, count=None,
                     event_time=micro(event_time), **fields)

    def _record(self, ns: str, involved: Obj, name: str, created: datetime, **fields: Any) -> None:
        """Stores an event of `ns` under `name`, with its UID and the next resourceVersion."""
        self.events[ns].append(
            event(
                involved,
                namespace=ns,
                name=name,
                uid=uid(ns, "event", name),
                resource_version=self.rv(),
                created=created,
                **fields,
            )
        )

    def scheduled(self, ns: str, pod: Obj, when: datetime, *, scheduler_host: str = "control-plane") -> None:
        name = pod["metadata"]["name"]
        self._scheduler_event(
            ns,
            pod_reference(pod, resource_version=str(int(pod["metadata"]["resourceVersion"]) - 3)),
            name=f"{name}.{int(when.timestamp() * 1e9) - 1:x}",
            when=when,
            event_time=when + timedelta(microseconds=int(hexid(name, size=5), 16) % 999_999),
            reason="Scheduled",
            message=f"Successfully assigned {ns}/{name} to {pod['spec'].get('nodeName', '')}",
            action="Binding",
            reporting=("default-scheduler", f"default-scheduler-{scheduler_host}"),
        )

    def failed_scheduling(
        self, ns: str, pod: Obj, *, first: datetime, last: datetime, count: int, message: str
    ) -> None:
        name = pod["metadata"]["name"]
        self._scheduler_event(
            ns,
            pod_reference(pod),
            name=f"{name}.{int(first.timestamp() * 1e9) + 3:x}",
            when=first,
            event_time=first,
            reason="FailedScheduling",
            message=message,
            type_="Warning",
            series={"count": count, "lastObservedTime": micro(last)},
            action="Scheduling",
            reporting=("default-scheduler", "default-scheduler-control-plane"),
        )

    def object_event(
        self,
        ns: str,
        *,
        kind: str,
        api_version: str,
        name: str,
        reason: str,
        message: str,
        when: datetime,
        component: str,
        warning: bool = False,
        host: str = "",
        count: int = 1,
        last: datetime | None = None,
    ) -> None:
        """An event about something other than a pod (controllers, nodes): the exporter must skip these."""
        involved: Obj = {"kind": kind, "namespace": ns if kind != "Node" else "", "name": name}
        involved["uid"] = name if kind == "Node" else uid(ns, kind.lower(), name)
        if kind != "Node":
            involved["apiVersion"] = api_version
            involved["resourceVersion"] = self.rv()
        else:
            involved.pop("namespace")
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        self._append_event(
            ns,
            involved,
            reason=reason,
            message=message,
            first=when,
            last=last or when,
            count=count,
            warning=warning,
            source=source,
            reporting=(component, host),
        )

    def crash_events(
        self,
        ns: str,
        pod: Obj,
        c: C,
        *,
        first_start: datetime,
        backoff_count: int | None = None,
        pull_took: str = "",
    ) -> None:
        """The kubelet's usual trail for a restarting container: Pulled, Created, Started, BackOff.

        With `pull_took` the first run pulled the image (Pulling + "Successfully pulled"), later runs
        found it present; otherwise every run found it present (a node that already had the image).
        """
        name = c.spec["name"]
        image = c.spec["image"]
        last_fin = utc(c.last["terminated"]["finishedAt"])
        last_start = utc(c.last["terminated"]["startedAt"])
        runs = c.restarts + 1
        kw: Obj = {"container": name, "ctype": c.ctype}
        if pull_took:
            self.event(ns, pod, "Pulling", f'Pulling image "{image}"', first=first_start - timedelta(seconds=3), **kw)
            self.event(
                ns,
                pod,
                "Pulled",
                f'Successfully pulled image "{image}" in {pull_took} ({pull_took} including waiting)',
                first=first_start - timedelta(seconds=1),
                **kw,
            )
            if runs > 1:
                self.event(
                    ns,
                    pod,
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    first=first_start + timedelta(seconds=12),
                    last=last_start,
                    count=runs - 1,
                    **kw,
                )
        else:
            self.event(
                ns,
                pod,
                "Pulled",
                f'Container image "{image}" already present on machine',
                first=first_start,
                last=last_start,
                count=runs,
                **kw,
            )
        self.event(
            ns, pod, "Created", f"Created container {name}", first=first_start, last=last_start, count=runs, **kw
        )
        self.event(
            ns, pod, "Started", f"Started container {name}", first=first_start, last=last_start, count=runs, **kw
        )
        uid_ = pod["metadata"]["uid"]
        self.event(
            ns,
            pod,
            "BackOff",
            f"Back-off restarting failed container {name} in pod {pod['metadata']['name']}_{ns}({uid_})",
            first=first_start + timedelta(seconds=12),
            last=min(max(last_fin + timedelta(seconds=1), self.now - timedelta(seconds=9)), self.now),
            count=backoff_count if backoff_count is not None else max(c.restarts * 2 + 1, 1),
            warning=True,
            **kw,
        )

    # ------------------------------------------------------------ services

    def service(
        self,
        ns: str,
        name: str,
        *,
        selector: dict[str, str],
        port: int,
        target: int | str,
        created: datetime,
        ip: str = "",
    ) -> None:
        ip = ip or f"10.96.{int(hexid(ns, name, size=2), 16)}.{int(hexid(name, ns, size=2), 16) % 250 + 2}"
        self.services[ns].append(
            {
                "metadata": object_meta(
                    name,
                    namespace=ns,
                    uid=uid(ns, "service", name),
                    resource_version=self.rv(),
                    created=created,
                    labels={"app.kubernetes.io/name": name},
                ),
                "spec": {
                    "ports": [{"name": "http", "protocol": "TCP", "port": port, "targetPort": target}],
                    "selector": gomap(selector),
                    "clusterIP": ip,
                    "clusterIPs": [ip],
                    "type": "ClusterIP",
                    "sessionAffinity": "None",
                    "ipFamilies": ["IPv4"],
                    "ipFamilyPolicy": "SingleStack",
                    "internalTrafficPolicy": "Cluster",
                },
                "status": {"loadBalancer": {}},
            }
        )

    # ------------------------------------------------------------ output

    def node_objects(self) -> list[Obj]:
        out = []
        for n in sorted(self.nodes.values(), key=lambda n: n.name):
            conds = node_conditions(
                n.pressure,
                heartbeat=self.now - timedelta(seconds=41),
                calm_since=n.created + timedelta(seconds=20),
                ready_since=n.created + timedelta(seconds=38),
            )
            taints = [
                {
                    "key": {
                        "MemoryPressure": "node.kubernetes.io/memory-pressure",
                        "DiskPressure": "node.kubernetes.io/disk-pressure",
                        "PIDPressure": "node.kubernetes.io/pid-pressure",
                    }[ctype],
                    "effect": "NoSchedule",
                    "timeAdded": ts(since + timedelta(seconds=1)),
                }
                for ctype, since in sorted(n.pressure.items())
            ]
            mem = f"{n.memory_ki}Ki"
            alloc_mem = f"{n.memory_ki - 1_008_208}Ki"
            spec: Obj = {"podCIDR": n.pod_cidr, "podCIDRs": [n.pod_cidr]}
            # kubeadm nodes on bare metal have no cloud provider, hence no providerID.
            if n.provider_id != "none":
                spec["providerID"] = n.provider_id or f"aws:///{n.zone}/i-0{hexid(n.name, size=16)}"
            if taints:
                spec["taints"] = taints
            out.append(
                {
                    "metadata": object_meta(
                        n.name,
                        uid=uid("node", n.name),
                        resource_version=self.rv(),
                        created=n.created,
                        labels={
                            "beta.kubernetes.io/arch": n.arch,
                            "beta.kubernetes.io/instance-type": n.instance_type,
                            "beta.kubernetes.io/os": "linux",
                            "kubernetes.io/arch": n.arch,
                            "kubernetes.io/hostname": n.name,
                            "kubernetes.io/os": "linux",
                            "node.kubernetes.io/instance-type": n.instance_type,
                            "topology.kubernetes.io/region": n.region or n.zone[:-1],
                            "topology.kubernetes.io/zone": n.zone,
                        },
                        annotations={
                            "node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                        },
                    ),
                    "spec": spec,
                    "status": {
                        "capacity": gomap(
                            {
                                "cpu": n.cpu,
                                "ephemeral-storage": "83873772Ki",
                                "hugepages-1Gi": "0",
                                "hugepages-2Mi": "0",
                                "memory": mem,
                                "pods": "58",
                            }
                        ),
                        "allocatable": gomap(
                            {
                                "cpu": str(int(n.cpu) * 1000 - 90) + "m",
                                "ephemeral-storage": "76224326324",
                                "hugepages-1Gi": "0",
                                "hugepages-2Mi": "0",
                                "memory": alloc_mem,
                                "pods": "58",
                            }
                        ),
                        "conditions": conds,
                        "addresses": [
                            {"type": "InternalIP", "address": n.ip},
                            {"type": "InternalDNS", "address": n.internal_dns or n.name},
                            {"type": "Hostname", "address": n.name},
                        ],
                        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                        "nodeInfo": {
                            "machineID": hexid(n.name, "machine", size=32),
                            "systemUUID": uid("sys", n.name),
                            "bootID": uid("boot", n.name),
                            "kernelVersion": n.kernel,
                            "osImage": n.os_image,
                            "containerRuntimeVersion": n.runtime,
                            "kubeletVersion": n.kubelet,
                            "kubeProxyVersion": n.kubelet,
                            "operatingSystem": "linux",
                            "architecture": n.arch,
                        },
                    },
                }
            )
        return out

    def workloads(self, ns: str) -> tuple[list[Obj], list[Obj], list[Obj]]:
        """Deployments, ReplicaSets and DaemonSets owning this namespace's pods (the dump includes them)."""
        by_rs: dict[str, list[Obj]] = {}
        by_ds: dict[str, list[Obj]] = {}
        for pod in self.pods[ns]:
            refs = pod["metadata"].get("ownerReferences") or []
            if refs and refs[0]["kind"] == "ReplicaSet":
                by_rs.setdefault(refs[0]["name"], []).append(pod)
            elif refs and refs[0]["kind"] == "DaemonSet":
                by_ds.setdefault(refs[0]["name"], []).append(pod)

        replicasets: list[Obj] = []
        per_deploy: dict[str, list[Obj]] = {}
        for rs_name, pods in by_rs.items():
            template_hash = pods[0]["metadata"]["labels"]["pod-template-hash"]
            deploy = rs_name[: -len(template_hash) - 1]
            r = _replicaset(self, ns, rs_name, deploy, template_hash, pods)
            replicasets.append(r)
            per_deploy.setdefault(deploy, []).append(r)

        deployments: list[Obj] = []
        for deploy, sets in per_deploy.items():
            sets.sort(key=lambda r: r["metadata"]["creationTimestamp"])
            for revision, r in enumerate(sets, start=1):
                r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(revision)
            deployments.append(_deployment(self, ns, deploy, sets))

        daemonsets = [_daemonset(self, ns, name, pods) for name, pods in by_ds.items()]
        return deployments, replicasets, daemonsets

    def documents(self) -> Iterable[tuple[str, Obj | str]]:
        """(relative path, object or text) in exactly the order kubectl writes them."""
        nodes = self.node_objects()
        yield "nodes.json", _list("NodeList", self.rv(), nodes)
        for ns in self.namespaces:
            deployments, replicasets, daemonsets = self.workloads(ns)
            yield f"{ns}/events.json", _list("EventList", self.rv(), self.events[ns])
            yield f"{ns}/replication-controllers.json", _list("ReplicationControllerList", self.rv(), [])
            yield f"{ns}/services.json", _list("ServiceList", self.rv(), self.services[ns])
            yield f"{ns}/daemonsets.json", _list("DaemonSetList", self.rv(), daemonsets, apps=True)
            yield f"{ns}/deployments.json", _list("DeploymentList", self.rv(), deployments, apps=True)
            yield f"{ns}/replicasets.json", _list("ReplicaSetList", self.rv(), replicasets, apps=True)
            pods = sorted(self.pods[ns], key=lambda p: p["metadata"]["name"])
            yield f"{ns}/pods.json", _list("PodList", self.rv(), pods)
            for pod in pods:
                name = pod["metadata"]["name"]
                text = ""
                for cname, log in self.logs[(ns, name)]:
                    text += f"==== START logs for container {cname} of pod {ns}/{name} ====\n"
                    if log and not log.endswith("\n"):
                        log += "\n"
                    text += log
                    text += f"==== END logs for container {cname} of pod {ns}/{name} ====\n"
                yield f"{ns}/{name}/logs.txt", text

    def write_dir(self, root: Path) -> None:
        for rel, doc in self.documents():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(doc if isinstance(doc, str) else go_json(doc), encoding="utf-8")

    def write_stream(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for _rel, doc in self.documents():
                out.write(doc if isinstance(doc, str) else go_json(doc))


# ---------------------------------------------------------------- internals

_GENERATED_LABELS = {
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
    "controller-uid",
    "job-name",
}


def _pod_labels(ns: str, name: str, owner: Owner | None, labels: dict[str, str] | None) -> dict[str, str]:
    """The pod's labels plus those its controller adds."""
    labels = dict(labels or {})
    if owner is not None and owner.kind == "ReplicaSet":
        labels["pod-template-hash"] = owner.hash
    if owner is not None and owner.kind in ("StatefulSet", "DaemonSet"):
        labels["controller-revision-hash"] = owner.hash
    if owner is not None and owner.kind == "StatefulSet":
        labels["statefulset.kubernetes.io/pod-name"] = name
        labels["apps.kubernetes.io/pod-index"] = name.rsplit("-", 1)[1]
    if owner is not None and owner.kind == "Job":
        job_uid = uid(ns, "job", owner.name)
        labels |= {
            "batch.kubernetes.io/controller-uid": job_uid,
            "batch.kubernetes.io/job-name": owner.name,
            "controller-uid": job_uid,
            "job-name": owner.name,
        }
    return labels


def _pod_spec(
    sa_volume: str,
    *,
    volumes: Sequence[Obj],
    init: Sequence[C],
    containers: Sequence[C],
    ephemeral: Sequence[C],
    restart_policy: str,
    service_account: str,
    node: str | None,
    owner: Owner | None,
    spec_extra: Obj | None,
) -> Obj:
    """PodSpec with the defaults the API server fills in, in Go's field order."""
    def spec_of(cs: Sequence[C]) -> list[Obj]:
        out = []
        for c in cs:
            s = dict(c.spec)
            if c.ctype != "ephemeral":
                s["volumeMounts"] = [
                    *s.get("volumeMounts", []),
                    {
                        "name": sa_volume,
                        "readOnly": True,
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    },
                ]
            out.append(s)
        return out

    sa_projection: Obj = {
        "name": sa_volume,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }
    spec = pod_spec(
        spec_of(containers),
        init_containers=spec_of(init),
        ephemeral_containers=[dict(c.spec) for c in ephemeral],
        volumes=[*volumes, sa_projection],
        restart_policy=restart_policy,
        service_account=service_account,
        node=node or "",
    )
    spec |= {"securityContext": {}, "schedulerName": "default-scheduler"}
    spec["tolerations"] = [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    if owner is not None and owner.kind == "DaemonSet":
        spec["tolerations"] = [
            {"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": e}
            for t, e in (
                ("not-ready", "NoExecute"),
                ("unreachable", "NoExecute"),
                ("disk-pressure", "NoSchedule"),
                ("memory-pressure", "NoSchedule"),
                ("pid-pressure", "NoSchedule"),
                ("unschedulable", "NoSchedule"),
            )
        ]
    spec |= {"priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority"}
    if spec_extra:
        spec |= spec_extra
    return spec


def _fill(state: Obj, pod_ref: str) -> Obj:
    out = json.loads(json.dumps(state))
    w = out.get("waiting")
    if w and "message" in w:
        w["message"] = w["message"].replace("{POD}", pod_ref)
    return dict(out)


def _qos(cs: Sequence[C]) -> str:
    res = [c.spec.get("resources") or {} for c in cs]
    if not any(r.get("limits") or r.get("requests") for r in res):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get(k) and r.get("limits", {}).get(k) == r.get("requests", {}).get(k, r["limits"][k])
        for r in res
        for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _fields(obj: Any) -> Obj:
    """A fieldsV1-style skeleton of the keys present (what server-side apply records)."""
    if isinstance(obj, dict):
        out: Obj = {}
        for k, v in obj.items():
            out[f"f:{k}"] = _fields(v) if isinstance(v, dict) else ({} if not isinstance(v, list) else _list_fields(v))
        return gomap(out)
    return {}


def _list_fields(items: list[Any]) -> Obj:
    out: Obj = {}
    for item in items:
        if isinstance(item, dict) and "name" in item and isinstance(item["name"], str):
            key = 'k:{"name":"' + item["name"] + '"}'
            out[key] = gomap({".": {}, **_fields(item), "f:name": {}})
        elif isinstance(item, dict) and "type" in item:
            out['k:{"type":"' + str(item["type"]) + '"}'] = gomap({".": {}, **_fields(item)})
    return gomap(out)


def _managed_fields(pod: Obj, created: datetime, owner: Owner | None) -> list[Obj]:
    manager = {
        None: "kubectl-client-side-apply",
        "ReplicaSet": "kube-controller-manager",
        "StatefulSet": "kube-controller-manager",
        "DaemonSet": "kube-controller-manager",
        "Job": "kube-controller-manager",
        "Node": "kubelet",
    }[owner.kind if owner else None]
    spec_fields = _fields({k: v for k, v in pod["spec"].items() if k not in ("nodeName", "ephemeralContainers")})
    meta_fields = _fields(
        {k: v for k, v in pod["metadata"].items() if k in ("labels", "annotations", "ownerReferences")}
    )
    status = pod["status"]
    status_fields = _fields(
        {k: v for k, v in status.items() if k in ("conditions", "hostIP", "phase", "podIP", "startTime")}
    )
    entries: list[Obj] = [
        {
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "time": ts(created),
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": meta_fields, "f:spec": spec_fields},
        }
    ]
    if pod["spec"].get("nodeName"):
        entries.append(
            {
                "manager": "kubelet",
                "operation": "Update",
                "apiVersion": "v1",
                "time": ts(created + timedelta(seconds=3)),
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:status": status_fields},
                "subresource": "status",
            }
        )
    return entries


def _template(pod: Obj, labels: dict[str, str]) -> Obj:
    spec = json.loads(json.dumps(pod["spec"]))
    for key in (
        "nodeName",
        "ephemeralContainers",
        "serviceAccount",
        "priority",
        "enableServiceLinks",
        "preemptionPolicy",
    ):
        spec.pop(key, None)
    spec["volumes"] = [v for v in spec.get("volumes", []) if not v["name"].startswith("kube-api-access-")]
    if not spec["volumes"]:
        spec.pop("volumes")
    spec["tolerations"] = [t for t in spec.get("tolerations", []) if t.get("tolerationSeconds") is None]
    if not spec["tolerations"]:
        spec.pop("tolerations")
    for group in ("initContainers", "containers"):
        for c in spec.get(group, []):
            c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if not m["name"].startswith("kube-api-access-")]
            if not c["volumeMounts"]:
                c.pop("volumeMounts")
    return {"metadata": {"creationTimestamp": None, "labels": gomap(labels)}, "spec": spec}


def _owned_labels(pod: Obj) -> dict[str, str]:
    return {k: v for k, v in pod["metadata"]["labels"].items() if k not in _GENERATED_LABELS}


def _ready(pod: Obj) -> bool:
    return all(c.get("ready") for c in pod["status"].get("containerStatuses", []))


def _replicaset(cluster: Cluster, ns: str, name: str, deploy: str, template_hash: str, pods: list[Obj]) -> Obj:
    labels = _owned_labels(pods[0])
    created = min(utc(p["metadata"]["creationTimestamp"]) for p in pods) - timedelta(seconds=1)
    template = _template(pods[0], {**labels, "pod-template-hash": template_hash})
    ready = sum(_ready(p) for p in pods)
    status: Obj = {"replicas": len(pods), "fullyLabeledReplicas": len(pods)}
    if ready:
        status |= {"readyReplicas": ready, "availableReplicas": ready}
    status["observedGeneration"] = 1
    return {
        "metadata": _controller_meta(
            cluster, ns, "replicaset", name, generation=1, created=created,
            labels={**labels, "pod-template-hash": template_hash},
            annotations={
                "deployment.kubernetes.io/desired-replicas": str(len(pods)),
                "deployment.kubernetes.io/max-replicas": str(len(pods) + 1),
                "deployment.kubernetes.io/revision": "1",
            },
            owners=[owner_reference("Deployment", deploy, uid=uid(ns, "deployment", deploy))],
        ),
        "spec": {
            "replicas": len(pods),
            "selector": {"matchLabels": gomap({**_selector(labels), "pod-template-hash": template_hash})},
            "template": template,
        },
        "status": status,
    }


def _controller_meta(
    cluster: Cluster,
    ns: str,
    kind: str,
    name: str,
    *,
    generation: int,
    created: datetime,
    labels: dict[str, str],
    annotations: dict[str, str],
    owners: Sequence[Obj] = (),
) -> Obj:
    """A workload controller's ObjectMeta; `kind` in lower case names its UID."""
    return object_meta(name, namespace=ns, uid=uid(ns, kind, name), resource_version=cluster.rv(),
                       generation=generation, created=created, labels=labels, annotations=annotations, owners=owners)


def _selector(labels: dict[str, str]) -> dict[str, str]:
    keys = [
        k for k in labels if k in ("app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "k8s-app", "name")
    ]
    return {k: labels[k] for k in keys} or dict(labels)


def _deployment(cluster: Cluster, ns: str, name: str, sets: list[Obj]) -> Obj:
    """The Deployment behind its ReplicaSets (oldest first); the newest one is the current revision."""
    newest = sets[-1]
    labels = {k: v for k, v in newest["metadata"]["labels"].items() if k != "pod-template-hash"}
    template = json.loads(json.dumps(newest["spec"]["template"]))
    template["metadata"]["labels"] = gomap(labels)
    # Mid-rollout the new ReplicaSet is still scaling up: the Deployment wants the larger count.
    want = max(r["spec"]["replicas"] for r in sets)
    updated = newest["spec"]["replicas"]
    total = sum(r["status"]["replicas"] for r in sets)
    available = sum(r["status"].get("availableReplicas", 0) for r in sets)
    new_available = newest["status"].get("availableReplicas", 0)
    created = utc(sets[0]["metadata"]["creationTimestamp"]) - timedelta(seconds=1)
    changed = ts(utc(newest["metadata"]["creationTimestamp"]))
    status: Obj = {"observedGeneration": len(sets), "replicas": total, "updatedReplicas": updated}
    if available:
        status |= {"readyReplicas": available, "availableReplicas": available}
    if total - available > 0:
        status["unavailableReplicas"] = total - available
    min_available = want - want // 4
    status["conditions"] = [
        {
            "type": "Available",
            "status": "True" if available >= min_available else "False",
            "lastUpdateTime": changed,
            "lastTransitionTime": changed,
            "reason": "MinimumReplicasAvailable" if available >= min_available else "MinimumReplicasUnavailable",
            "message": "Deployment has minimum availability."
            if available >= min_available
            else "Deployment does not have minimum availability.",
        },
        {
            "type": "Progressing",
            "status": "True",
            "lastUpdateTime": changed,
            "lastTransitionTime": ts(created),
            "reason": "NewReplicaSetAvailable" if new_available >= updated == want else "ReplicaSetUpdated",
            "message": f'ReplicaSet "{newest["metadata"]["name"]}" '
            + ("has successfully progressed." if new_available >= updated == want else "is progressing."),
        },
    ]
    return {
        "metadata": _controller_meta(cluster, ns, "deployment", name, generation=len(sets), created=created,
                                     labels=_selector(labels),
                                     annotations={"deployment.kubernetes.io/revision": str(len(sets))}),
        "spec": {
            "replicas": want,
            "selector": {"matchLabels": gomap(_selector(labels))},
            "template": template,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": status,
    }


def _daemonset(cluster: Cluster, ns: str, name: str, pods: list[Obj]) -> Obj:
    labels = _owned_labels(pods[0])
    created = min(utc(p["metadata"]["creationTimestamp"]) for p in pods) - timedelta(seconds=1)
    ready = sum(_ready(p) for p in pods)
    status: Obj = {
        "currentNumberScheduled": len(pods),
        "numberMisscheduled": 0,
        "desiredNumberScheduled": len(pods),
        "numberReady": ready,
        "observedGeneration": 1,
        "updatedNumberScheduled": len(pods),
    }
    if ready:
        status["numberAvailable"] = ready
    if len(pods) - ready:
        status["numberUnavailable"] = len(pods) - ready
    return {
        "metadata": _controller_meta(cluster, ns, "daemonset", name, generation=1, created=created,
                                     labels=_selector(labels),
                                     annotations={"deprecated.daemonset.template.generation": "1"}),
        "spec": {
            "selector": {"matchLabels": gomap(_selector(labels))},
            "template": _template(pods[0], labels),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
        "status": status,
    }


def _list(kind: str, rv: str, items: Sequence[Obj], *, apps: bool = False) -> Obj:
    # The API server lists items in key order, i.e. by name within a namespace.
    by_name = sorted(items, key=lambda o: o["metadata"]["name"])
    return typed_list(kind, by_name, "apps/v1" if apps else "v1", resource_version=rv)
