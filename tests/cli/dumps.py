"""`diagnose`'s inputs: the seed's objects, kubectl's dumps of them, and a runner for `diagnose`.

The objects come from the shared builder (`tests/support/kubeobjects.py`) with the seed's
defaults: namespace `production`, nodes `node-a`..., images in `registry.example.com`, pods owned by
the ReplicaSet their name implies. The dumps follow what kubectl prints: `kind: List` from
`kubectl get a,b -o json`, typed lists from `cluster-info dump`, whose log markers are written
straight after the log bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support import kubeobjects as ko
from tests.support.cli import run_cli_in_process
from tests.support.kubeobjects import Obj, env_secret, terminated, typed_list

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


def status(
    name: str,
    *,
    restarts: int = 0,
    ready: bool = False,
    waiting: tuple[str, str] | None = None,
    running_since: str | None = None,
    last: Obj | None = None,
    image: str = "registry.example.com/app:v1",
) -> Obj:
    """A containerStatuses entry: waiting for (reason, message), else running since `running_since`."""
    if waiting is not None:
        state = ko.waiting(*waiting)
    elif running_since is not None:
        state = ko.running(running_since)
    else:
        state = {}
    return ko.container_status(name, image=image, image_id=image + "@sha256:" + "ab" * 32, state=state,
                               last=last or {}, ready=ready, restarts=restarts, started=running_since is not None)


def container(name: str, *, env: Sequence[Obj] = (), memory_limit: str = "256Mi", image: str = "") -> Obj:
    """A container of the seed: its own image in the example registry and a memory limit."""
    return ko.container(name, image or f"registry.example.com/{name}:v1", env=env,
                        res=ko.resources(cpu="100m", memory="128Mi", limit_memory=memory_limit))


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
    labels: Mapping[str, str] | None = None,
    pod_ip: str = "10.244.0.7",
) -> Obj:
    """A Pod. By default owned by a ReplicaSet `<deployment>-<hash>` derived from the name, as a
    Deployment's pods are (`app-7d9f4b8c6-xk2p9` -> ReplicaSet `app-7d9f4b8c6`, hash `7d9f4b8c6`)."""
    labels = dict(labels or {})
    if owner is None and name.count("-") >= 2:
        rs = name.rsplit("-", 1)[0]
        labels["pod-template-hash"] = rs.rsplit("-", 1)[1]
        owner = ("ReplicaSet", rs)
    owners = [] if owner is None else [ko.owner_reference(*owner, uid=ko.uid(namespace, owner[0].lower(), owner[1]))]
    return ko.pod(
        ko.object_meta(name, namespace=namespace, uid=ko.uid(namespace, name), resource_version="4821",
                       created=created, labels=labels, owners=owners),
        ko.pod_spec(containers, init_containers=init_containers, node=node),
        ko.pod_status(phase, host_ip="10.0.0.11", pod_ip=pod_ip, start_time=created,
                      init_statuses=init_statuses, statuses=statuses, qos_class="Burstable"),
    )


def event(
    pod_obj: Obj,
    *,
    reason: str,
    message: str,
    type_: str = "Warning",
    container_name: str | None = None,
    last: str = "2024-03-15T02:14:30Z",
    count: int = 1,
) -> Obj:
    """A kubelet event about `pod_obj` (about one of its containers with `container_name`)."""
    meta = pod_obj["metadata"]
    event_uid = ko.uid(meta["namespace"], meta["name"], "event", reason, message)
    return ko.with_kind(ko.event(
        ko.pod_reference(pod_obj, field=ko.field_path(container_name) if container_name else ""),
        namespace=meta["namespace"], name=f"{meta['name']}.17bc{event_uid[:8]}", uid=event_uid,
        resource_version="4900", created=last, reason=reason, message=message,
        source={"component": "kubelet", "host": pod_obj["spec"].get("nodeName", "")},
        first=last, last=last, count=count, type_=type_, reporting=("kubelet", ""),
    ), "Event")


def node(name: str, *, pressures: Sequence[str] = (), heartbeat: str = "2024-03-15T02:14:35Z") -> Obj:
    """A Ready node, under the `pressures` condition types since 01:00 on the seed's day."""
    conditions = ko.node_conditions({t: "2024-03-15T01:00:00Z" for t in pressures}, heartbeat=heartbeat,
                                    calm_since="2024-03-15T01:00:00Z", ready_since="2024-03-01T09:13:02Z")
    return {"metadata": ko.object_meta(name, uid=ko.uid("node", name), resource_version="77"),
            "status": {"conditions": conditions, "nodeInfo": {"kubeletVersion": "v1.29.2"}}}


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
    env = [env_secret("DATABASE_URL", "postgres-secret", "url"),
           env_secret("STRIPE_SECRET_KEY", "stripe-secret", "secret-key", optional=True)]
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
    env = [env_secret("DB_PASSWORD", "api-db-credentials", "DB_PASSWORD")]
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


def recovered_pod() -> Obj:
    """Crashed once long ago (exit 1), running and ready since."""
    return pod("cache-6b7c8d9e0f-k2m3n", containers=[container("cache")],
               statuses=[status("cache", restarts=1, ready=True, running_since="2024-03-15T01:00:05Z",
                                last=terminated(exit_code=1, reason="Error", started="2024-03-15T00:59:58Z",
                                                finished="2024-03-15T01:00:01Z"))])


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
