"""Builders for kubectl-shaped inputs (pods, events, nodes, dumps) and a runner for `diagnose`.

The objects follow what the API server returns and kubectl prints: typed lists whose items carry no
`kind`, `kind: List` from `kubectl get a,b -o json`, RFC 3339 timestamps, container fieldPaths on
events, and `cluster-info dump`'s log markers written straight after the log bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.cli import run_cli_in_process

Obj = dict[str, Any]

# The seed's payment-service incident (seed 1): four log lines, then exit 1.
SEED_LOG = (
    "2024-03-15T02:14:22Z INFO  Starting payment-service v2.1.0\n"
    "2024-03-15T02:14:22Z INFO  Loading configuration...\n"
    "2024-03-15T02:14:22Z FATAL Missing required environment variable: STRIPE_SECRET_KEY\n"
    "2024-03-15T02:14:22Z FATAL Application startup failed. Exiting.\n"
)
FINDING_KEYS = {
    "namespace", "pod", "container", "container_type", "workload_kind", "workload", "failing", "cause",
    "reason", "exit_code", "restarts", "evidence", "remediation", "runbook_url", "dependency",
}


def _uid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


def terminated(*, exit_code: int, reason: str, started: str, finished: str) -> Obj:
    return {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": finished,
                           "containerID": "containerd://" + _uid(started + reason).replace("-", "")}}


def status(
    name: str,
    *,
    restarts: int = 0,
    ready: bool = False,
    waiting: tuple[str, str] | None = None,
    running_since: str | None = None,
    last: Obj | None = None,
    current: Obj | None = None,
    image: str = "registry.example.com/app:v1",
) -> Obj:
    """A containerStatuses entry."""
    if waiting is not None:
        state: Obj = {"waiting": {"reason": waiting[0], **({"message": waiting[1]} if waiting[1] else {})}}
    elif running_since is not None:
        state = {"running": {"startedAt": running_since}}
    else:
        state = current or {}
    return {"name": name, "ready": ready, "started": running_since is not None, "restartCount": restarts,
            "image": image, "imageID": image + "@sha256:" + "ab" * 32, "state": state, "lastState": last or {}}


def container(name: str, *, env: Sequence[Obj] = (), memory_limit: str = "256Mi", image: str = "") -> Obj:
    return {
        "name": name,
        "image": image or f"registry.example.com/{name}:v1",
        "imagePullPolicy": "IfNotPresent",
        "env": list(env),
        "resources": {"limits": {"memory": memory_limit}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def pod(
    name: str,
    *,
    namespace: str = "production",
    containers: Sequence[Obj],
    statuses: Sequence[Obj],
    init_containers: Sequence[Obj] = (),
    init_statuses: Sequence[Obj] = (),
    node: str = "node-a",
    created: str = "2024-03-15T02:11:28Z",
    phase: str = "Running",
    owner: tuple[str, str] | None = None,
    with_kind: bool = True,
) -> Obj:
    """A Pod. By default owned by a ReplicaSet `<deployment>-<hash>` derived from the name, as a
    Deployment's pods are (`app-7d9f4b8c6-xk2p9` -> ReplicaSet `app-7d9f4b8c6`, hash `7d9f4b8c6`)."""
    labels: dict[str, str] = {}
    if owner is None and name.count("-") >= 2:
        rs = name.rsplit("-", 1)[0]
        labels["pod-template-hash"] = rs.rsplit("-", 1)[1]
        owner = ("ReplicaSet", rs)
    meta: Obj = {"name": name, "namespace": namespace, "uid": _uid(namespace + "/" + name),
                 "resourceVersion": "4821", "creationTimestamp": created, "labels": labels}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                    "uid": _uid(owner[1]), "controller": True, "blockOwnerDeletion": True}]
    spec: Obj = {"containers": list(containers), "restartPolicy": "Always", "nodeName": node,
                 "serviceAccountName": "default", "terminationGracePeriodSeconds": 30}
    if init_containers:
        spec["initContainers"] = list(init_containers)
    st: Obj = {"phase": phase, "hostIP": "10.0.0.11", "podIP": "10.244.0.7", "startTime": created,
               "qosClass": "Burstable", "containerStatuses": list(statuses)}
    if init_statuses:
        st["initContainerStatuses"] = list(init_statuses)
    obj: Obj = {"metadata": meta, "spec": spec, "status": st}
    if with_kind:
        obj = {"apiVersion": "v1", "kind": "Pod", **obj}
    return obj


def event(
    pod_obj: Obj,
    *,
    reason: str,
    message: str,
    type_: str = "Warning",
    container_name: str | None = None,
    last: str = "2024-03-15T02:14:30Z",
    count: int = 1,
    with_kind: bool = True,
) -> Obj:
    meta = pod_obj["metadata"]
    involved: Obj = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
                     "apiVersion": "v1", "resourceVersion": "4821"}
    if container_name:
        involved["fieldPath"] = f"spec.containers{{{container_name}}}"
    obj: Obj = {
        "metadata": {"name": f"{meta['name']}.17bc{abs(hash((reason, message))) % 10**8:08x}",
                     "namespace": meta["namespace"], "uid": _uid(meta["name"] + reason + message),
                     "resourceVersion": "4900", "creationTimestamp": last},
        "involvedObject": involved, "reason": reason, "message": message,
        "source": {"component": "kubelet", "host": pod_obj["spec"].get("nodeName", "")},
        "firstTimestamp": last, "lastTimestamp": last, "count": count, "type": type_, "eventTime": None,
        "reportingComponent": "kubelet", "reportingInstance": "",
    }
    if with_kind:
        obj = {"apiVersion": "v1", "kind": "Event", **obj}
    return obj


def node(name: str, *, pressures: Sequence[str] = (), heartbeat: str = "2024-03-15T02:14:35Z") -> Obj:
    conditions = [
        {"type": t, "status": "True" if t in pressures else "False", "lastHeartbeatTime": heartbeat,
         "lastTransitionTime": "2024-03-15T01:00:00Z", "reason": "Kubelet" + t, "message": f"{t} check"}
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    conditions.append({"type": "Ready", "status": "True", "lastHeartbeatTime": heartbeat,
                       "lastTransitionTime": "2024-03-01T09:13:02Z", "reason": "KubeletReady", "message": "ok"})
    return {"metadata": {"name": name, "uid": _uid(name), "resourceVersion": "77"},
            "status": {"conditions": conditions, "nodeInfo": {"kubeletVersion": "v1.29.2"}}}


def typed_list(kind: str, items: Sequence[Obj], api_version: str = "v1") -> Obj:
    """A typed list as the API (and `cluster-info dump`) prints it: items without kind/apiVersion."""
    bare = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "5012"}, "items": bare}


def kubectl_list(items: Sequence[Obj]) -> Obj:
    """What `kubectl get pods,events -o json` prints: `kind: List`, every item with its kind."""
    return {"apiVersion": "v1", "items": list(items), "kind": "List", "metadata": {"resourceVersion": ""}}


def kubectl_json(obj: Obj) -> str:
    """kubectl's JSON printer: four-space indent and a trailing newline."""
    return json.dumps(obj, indent=4) + "\n"


def log_section(namespace: str, pod_name: str, container_name: str, text: str) -> str:
    """One `cluster-info dump` log block; the END marker follows the log bytes directly."""
    return (f"==== START logs for container {container_name} of pod {namespace}/{pod_name} ====\n{text}"
            f"==== END logs for container {container_name} of pod {namespace}/{pod_name} ====\n")


def _ns_of(o: Obj) -> str:
    return str(o["metadata"].get("namespace") or o.get("involvedObject", {}).get("namespace"))


def dump_stream(
    *,
    nodes: Sequence[Obj],
    pods: Sequence[Obj],
    events: Sequence[Obj] = (),
    logs: Mapping[tuple[str, str, str], str] | None = None,
) -> str:
    """`kubectl cluster-info dump` to stdout: nodes, then per namespace events, RCs, services,
    daemonsets, deployments, replicasets, pods, then every pod's log sections (init containers first)."""
    logs = logs or {}
    out = [kubectl_json(typed_list("NodeList", nodes))]
    for ns in sorted({_ns_of(p) for p in pods} | {_ns_of(e) for e in events}):
        ns_pods = [p for p in pods if _ns_of(p) == ns]
        out.append(kubectl_json(typed_list("EventList", [e for e in events if _ns_of(e) == ns])))
        out.append(kubectl_json(typed_list("ReplicationControllerList", [])))
        out.append(kubectl_json(typed_list("ServiceList", [])))
        for kind in ("DaemonSetList", "DeploymentList", "ReplicaSetList"):
            out.append(kubectl_json(typed_list(kind, [], "apps/v1")))
        out.append(kubectl_json(typed_list("PodList", ns_pods)))
        for p in ns_pods:
            name = p["metadata"]["name"]
            for c in [*p["spec"].get("initContainers", []), *p["spec"]["containers"]]:
                out.append(log_section(ns, name, c["name"], logs.get((ns, name, c["name"]), "")))
    return "".join(out)


def write_dump_dir(
    root: Path,
    *,
    nodes: Sequence[Obj],
    pods: Sequence[Obj],
    events: Sequence[Obj] = (),
    logs: Mapping[tuple[str, str, str], str] | None = None,
) -> Path:
    """`kubectl cluster-info dump --output-directory=root`."""
    logs = logs or {}
    root.mkdir(parents=True, exist_ok=True)
    (root / "nodes.json").write_text(kubectl_json(typed_list("NodeList", nodes)))
    for ns in sorted({_ns_of(p) for p in pods} | {_ns_of(e) for e in events}):
        d = root / ns
        d.mkdir(exist_ok=True)
        ns_pods = [p for p in pods if _ns_of(p) == ns]
        (d / "events.json").write_text(kubectl_json(typed_list("EventList", [e for e in events if _ns_of(e) == ns])))
        (d / "services.json").write_text(kubectl_json(typed_list("ServiceList", [])))
        (d / "deployments.json").write_text(kubectl_json(typed_list("DeploymentList", [], "apps/v1")))
        (d / "pods.json").write_text(kubectl_json(typed_list("PodList", ns_pods)))
        for p in ns_pods:
            name = p["metadata"]["name"]
            (d / name).mkdir(exist_ok=True)
            text = "".join(
                log_section(ns, name, c["name"], logs.get((ns, name, c["name"]), ""))
                for c in [*p["spec"].get("initContainers", []), *p["spec"]["containers"]]
            )
            (d / name / "logs.txt").write_text(text)
    return root


# --- the scenarios the tests share --------------------------------------------------------------

def payment_service_pod() -> Obj:
    """Seed 1: STRIPE_SECRET_KEY from an optional secretKeyRef to a Secret that does not exist."""
    env = [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "postgres-secret", "key": "url"}}},
        {"name": "STRIPE_SECRET_KEY",
         "valueFrom": {"secretKeyRef": {"name": "stripe-secret", "key": "secret-key", "optional": True}}},
    ]
    return pod(
        "payment-service-7d9f4b8c6-xk2p9",
        containers=[container("payment-service", env=env)],
        statuses=[status(
            "payment-service", restarts=4,
            waiting=("CrashLoopBackOff", "back-off 1m20s restarting failed container=payment-service"),
            last=terminated(exit_code=1, reason="Error", started="2024-03-15T02:14:22Z",
                            finished="2024-03-15T02:14:22Z"),
        )],
    )


def oom_pods() -> list[Obj]:
    """Runbook cause 3: one of three api-deployment replicas OOMKilled, the other two healthy."""
    pods = []
    for suffix, node_name in (("xkp2z", "node-a"), ("m2f8q", "node-a"), ("q7w4n", "node-b")):
        name = f"api-deployment-7d4b9c-{suffix}"
        if suffix == "xkp2z":
            st = status("api", restarts=9, waiting=("CrashLoopBackOff", ""),
                        last=terminated(exit_code=137, reason="OOMKilled", started="2024-03-15T02:12:01Z",
                                        finished="2024-03-15T02:12:44Z"))
        else:
            st = status("api", ready=True, running_since="2024-03-15T01:21:05Z")
        pods.append(pod(name, containers=[container("api", memory_limit="512Mi")], statuses=[st], node=node_name))
    return pods


def missing_secret_replicas(n: int = 3) -> list[Obj]:
    """Runbook cause 2: every replica in CreateContainerConfigError on an absent Secret."""
    msg = 'secret "api-db-credentials" not found'
    env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "api-db-credentials", "key": "DB_PASSWORD"}}}]
    return [
        pod(f"orders-5c6d7e8f9-{s}", containers=[container("orders", env=env)],
            statuses=[status("orders", waiting=("CreateContainerConfigError", msg))], phase="Pending",
            node=("node-a", "node-b", "node-c")[i % 3])
        for i, s in enumerate(("a1b2c", "d3e4f", "g5h6i", "j7k8l")[:n])
    ]


def init_failure_pod() -> Obj:
    """Runbook cause 7: init container init-migrate exits 1."""
    return pod(
        "worker-deployment-5f8bb-r9t4k",
        containers=[container("worker")],
        statuses=[status("worker", waiting=("PodInitializing", ""))],
        init_containers=[container("init-migrate")],
        init_statuses=[status("init-migrate", restarts=4, waiting=("CrashLoopBackOff", ""),
                              last=terminated(exit_code=1, reason="Error", started="2024-03-15T02:12:58Z",
                                              finished="2024-03-15T02:12:59Z"))],
        phase="Pending",
    )


MIGRATE_LOG = (
    "running migration 004_add_sessions_table.sql\n"
    'ERROR: relation "users" does not exist\n'
    "LINE 1: ALTER TABLE users ADD COLUMN last_seen TIMESTAMP;\n"
    "migration failed — exiting with code 1\n"
)


def run_diagnose(
    *args: str, stdin: str | bytes | None = None, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`crashloop-exporter diagnose ARGS` in this process (not a TTY); `timeout` is for the
    subprocess variant's signature only."""
    del timeout
    return run_cli_in_process(["diagnose", *args], stdin=stdin, env=env)


def run_diagnose_subprocess(
    *args: str, stdin: str | bytes | None = None, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m crashloop_exporter diagnose ARGS` as a user would run it (not a TTY)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CRASHLOOP_", "KUBECONFIG", "NO_COLOR"))}
    full_env.setdefault("COLUMNS", "200")
    full_env.update(env or {})
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "-m", "crashloop_exporter", "diagnose", *args],
        input=data, capture_output=True, env=full_env, timeout=timeout, check=False,
    )
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())
