"""The held-out scenarios: clusters in trouble, and what an SRE would name as each crash's cause.

Each scenario builds one `kubectl cluster-info dump` (a directory or the single stdout stream) and
records, next to the pod it concerns, the expectation an expert reading the SPEC's cause table
would write. Healthy pods and non-failing distractors carry no expectation (the classifier must
report nothing for them, or `failing: false`). `generate.py` turns these into files.

Wording, runtimes and languages differ on purpose from the classifier's own fixtures; the two
seed documents' situations appear once each (payments-outage, runbook-production).
"""

# Log lines are quoted verbatim as the programs print them; wrapping them would change the data.
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from tests.support.kubeobjects import (
    Obj,
    container,
    env,
    env_cm,
    env_field,
    env_secret,
    exec_probe,
    http_probe,
    resources,
    running,
    terminated,
    waiting,
)

from .kube import C, Cluster, Node, Owner, crashloop, ds, healthy, job, rs, static, sts, utc

Output = Literal["dir", "stream"]


@dataclass
class Scenario:
    name: str
    output: Output
    cluster: Cluster
    expected: list[Obj] = field(default_factory=list)

    def expect(self, ns: str, pod: str, container_name: str, cause: str, *, failing: bool = True) -> None:
        self.expected.append(
            {"namespace": ns, "pod": pod, "container": container_name, "cause": cause, "failing": failing}
        )


def s(delta: float) -> timedelta:
    return timedelta(seconds=delta)


def m(delta: float) -> timedelta:
    return timedelta(minutes=delta)


def h(delta: float) -> timedelta:
    return timedelta(hours=delta)


def d(delta: float) -> timedelta:
    return timedelta(days=delta)


def iso(when: datetime, ms: int | None = None) -> str:
    if ms is None:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"


def crash_pod(
    sc: Scenario,
    ns: str,
    name: str,
    *,
    owner: Owner | None,
    node: str,
    created: datetime,
    spec: Obj,
    restarts: int,
    exit_code: int,
    started: datetime,
    finished: datetime,
    log: str,
    labels: dict[str, str],
    reason: str = "Error",
    first_start: datetime | None = None,
    pull_took: str = "",
    volumes: tuple[Obj, ...] = (),
    spec_extra: Obj | None = None,
) -> tuple[Obj, C]:
    """A one-container pod in CrashLoopBackOff, with the kubelet events that go with it."""
    cl = sc.cluster
    c = crashloop(
        spec, restarts=restarts, exit_code=exit_code, reason=reason, started=started, finished=finished, log=log
    )
    pod = cl.pod(
        ns,
        name,
        node=node,
        created=created,
        containers=[c],
        owner=owner,
        labels=labels,
        volumes=volumes,
        spec_extra=spec_extra,
    )
    if cl.now - created < h(1):
        cl.scheduled(ns, pod, created)
    cl.crash_events(ns, pod, c, first_start=first_start or created + s(2), pull_took=pull_took)
    return pod, c


def healthy_pod(
    sc: Scenario,
    ns: str,
    name: str,
    *,
    owner: Owner | None,
    node: str,
    created: datetime,
    spec: Obj,
    log: str,
    labels: dict[str, str],
    restarts: int = 0,
    last: Obj | None = None,
    since: datetime | None = None,
) -> Obj:
    c = healthy(spec, since or created + s(4), log, restarts=restarts, last=last)
    return sc.cluster.pod(ns, name, node=node, created=created, containers=[c], owner=owner, labels=labels)


def kube_system(
    sc: Scenario, nodes: list[str], *, created: datetime, dns_hash: str, coredns: str, static_proxy: bool = False
) -> None:
    """The usual kube-system residents, all healthy: CoreDNS and one kube-proxy per node.

    With `static_proxy` kube-proxy runs from a static manifest (GKE), so each pod is a mirror pod
    owned by its Node and named after it.
    """
    cl = sc.cluster
    for i, suffix in enumerate(("x7k2q", "m9w4t")):
        spec = container(
            "coredns",
            f"registry.k8s.io/coredns/coredns:{coredns}",
            args=["-conf", "/etc/coredns/Corefile"],
            ports=[("dns", 53), ("dns-tcp", 53), ("metrics", 9153)],
            res=resources(cpu="100m", memory="70Mi", limit_memory="170Mi"),
            mounts=[("config-volume", "/etc/coredns", True)],
            liveness=http_probe("/health", 8080, initialDelaySeconds=60, timeoutSeconds=5, failureThreshold=5),
            readiness=http_probe("/ready", 8181),
            security={
                "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
            },
        )
        healthy_pod(
            sc,
            "kube-system",
            f"coredns-{dns_hash}-{suffix}",
            owner=rs("coredns", dns_hash),
            node=nodes[i % len(nodes)],
            created=created + m(3 * i),
            spec=spec,
            labels={"k8s-app": "kube-dns"},
            log=(
                ".:53\n"
                f"[INFO] plugin/reload: Running configuration SHA512 = {'9e2a' * 4}\n"
                f"CoreDNS-{coredns.lstrip('v')}\n"
                "linux/amd64, go1.21.8, 87b7a4d\n"
            ),
        )
    for i, node in enumerate(nodes):
        suffix = "".join("bcdfghjklmnpqrstvwxz2456789"[(i * 7 + k * 3) % 27] for k in range(5))
        spec = container(
            "kube-proxy",
            "registry.k8s.io/kube-proxy:v1.30.4",
            command=[
                "/usr/local/bin/kube-proxy",
                "--config=/var/lib/kube-proxy/config.conf",
                "--hostname-override=$(NODE_NAME)",
            ],
            env=[env_field("NODE_NAME", "spec.nodeName")],
            mounts=[("kube-proxy", "/var/lib/kube-proxy", False), ("xtables-lock", "/run/xtables.lock", False)],
            security={"privileged": True},
        )
        healthy_pod(
            sc,
            "kube-system",
            f"kube-proxy-{node}" if static_proxy else f"kube-proxy-{suffix}",
            owner=static(node) if static_proxy else ds("kube-proxy", "6d5f8c7b9c"),
            node=node,
            created=created - m(2),
            spec=spec,
            labels={"k8s-app": "kube-proxy"},
            log=(
                f'I0101 00:00:00.000000       1 server_linux.go:69] "Using iptables proxy"\n'
                f'I0101 00:00:00.000000       1 server.go:1062] "Successfully retrieved node IP(s)" IPs=["{cl.nodes[node].ip}"]\n'
                "I0101 00:00:00.000000       1 shared_informer.go:320] Caches are synced for service config\n"
            ),
        )


# =============================================================================================
# 1. The worked scenario: payment-service after a deploy, STRIPE_SECRET_KEY from an absent secret.
# =============================================================================================


def payments_outage() -> Scenario:
    now = utc("2024-03-15T02:15:30Z")
    nodes = [
        Node(
            f"ip-10-0-{a}-{b}.eu-west-1.compute.internal",
            f"10.0.{a}.{b}",
            utc("2024-02-27T09:12:40Z"),
            zone=f"eu-west-1{z}",
            kubelet="v1.28.5-eks-5e0fdde",
            os_image="Amazon Linux 2",
            kernel="5.10.210-201.852.amzn2.x86_64",
            runtime="containerd://1.7.11",
            pod_cidr=f"10.0.{a}.0/24",
            instance_type="m5.xlarge",
        )
        for a, b, z in ((1, 23, "a"), (2, 117, "b"), (3, 64, "c"))
    ]
    cl = Cluster(now=now, namespaces=["production", "kube-system"], nodes=nodes)
    sc = Scenario("payments-outage", "dir", cl)
    n1, n2, n3 = (n.name for n in nodes)

    def payment_spec(image: str, stripe: bool) -> Obj:
        envs = [
            env("PORT", "8080"),
            env("LOG_LEVEL", "info"),
            env_secret("DATABASE_URL", "postgres-secret", "url"),
        ]
        if stripe:
            envs.append(env_secret("STRIPE_SECRET_KEY", "stripe-secret", "secret-key", optional=True))
        return container(
            "payment-service",
            image,
            ports=[("http", 8080)],
            env=envs,
            res=resources(cpu="250m", memory="256Mi", limit_memory="512Mi"),
            readiness=http_probe("/health", 8080, initialDelaySeconds=5, failureThreshold=3),
        )

    labels = {"app": "payment-service", "team": "payments"}
    # The new revision: crashes at once, every run.
    created = utc("2024-03-15T02:12:18Z")
    run_last = utc("2024-03-15T02:14:22Z")
    pod, _ = crash_pod(
        sc,
        "production",
        "payment-service-7d9f4b8c6-xk2p9",
        owner=rs("payment-service", "7d9f4b8c6"),
        node=n2,
        created=created,
        spec=payment_spec("123456789012.dkr.ecr.eu-west-1.amazonaws.com/payment-service:v2.1.0", True),
        restarts=4,
        exit_code=1,
        started=run_last,
        finished=run_last,
        labels=labels,
        pull_took="1.873s",
        first_start=created + s(3),
        log=(
            "2024-03-15T02:14:22Z INFO  Starting payment-service v2.1.0\n"
            "2024-03-15T02:14:22Z INFO  Loading configuration...\n"
            "2024-03-15T02:14:22Z FATAL Missing required environment variable: STRIPE_SECRET_KEY\n"
            "2024-03-15T02:14:22Z FATAL Application startup failed. Exiting.\n"
        ),
    )
    sc.expect("production", "payment-service-7d9f4b8c6-xk2p9", "payment-service", "missing_secret")
    cl.object_event(
        "production",
        kind="ReplicaSet",
        api_version="apps/v1",
        name="payment-service-7d9f4b8c6",
        reason="SuccessfulCreate",
        message="Created pod: payment-service-7d9f4b8c6-xk2p9",
        when=created,
        component="replicaset-controller",
    )
    cl.object_event(
        "production",
        kind="Deployment",
        api_version="apps/v1",
        name="payment-service",
        reason="ScalingReplicaSet",
        message="Scaled up replica set payment-service-7d9f4b8c6 to 1",
        when=created - s(1),
        component="deployment-controller",
    )
    # The previous revision keeps serving while the rollout is stuck.
    for suffix, node in (("q7w2m", n1), ("z4bn8", n3)):
        healthy_pod(
            sc,
            "production",
            f"payment-service-5b6c8d9f7-{suffix}",
            owner=rs("payment-service", "5b6c8d9f7"),
            node=node,
            created=utc("2024-03-09T16:40:02Z"),
            spec=payment_spec("123456789012.dkr.ecr.eu-west-1.amazonaws.com/payment-service:v2.0.4", False),
            labels=labels,
            log=(
                "2024-03-09T16:40:05Z INFO  Starting payment-service v2.0.4\n"
                "2024-03-09T16:40:05Z INFO  Loading configuration...\n"
                "2024-03-09T16:40:06Z INFO  Connected to postgres (pool size 10)\n"
                "2024-03-09T16:40:06Z INFO  Listening on :8080\n"
                "2024-03-15T02:10:41Z INFO  POST /v1/charges 201 143ms\n"
                "2024-03-15T02:13:02Z INFO  POST /v1/charges 201 97ms\n"
            ),
        )

    # Frontend: readiness fails because payments is degraded; it is never restarted.
    fe_labels = {"app": "frontend-web"}
    fe_spec = container(
        "frontend-web",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/frontend-web:4.12.0",
        ports=[("http", 3000)],
        res=resources(cpu="100m", memory="192Mi", limit_memory="384Mi"),
        readiness=http_probe("/api/ready", 3000, periodSeconds=5),
        liveness=http_probe("/api/live", 3000, initialDelaySeconds=10),
    )
    fe = cl.pod(
        "production",
        "frontend-web-6f8d9c7b4-r2kx8",
        node=n3,
        created=utc("2024-03-12T11:02:45Z"),
        owner=rs("frontend-web", "6f8d9c7b4"),
        labels=fe_labels,
        containers=[
            C(
                spec=fe_spec,
                state=running(utc("2024-03-12T11:02:48Z")),
                ready=False,
                started=True,
                log=(
                    "  ▲ Next.js 14.1.0\n"
                    "   - Local:        http://frontend-web-6f8d9c7b4-r2kx8:3000\n\n"
                    " ✓ Ready in 412ms\n"
                    "[ready] dependency check failed: payment-service returned 503, reporting not ready\n"
                    "[ready] dependency check failed: payment-service returned 503, reporting not ready\n"
                ),
            )
        ],
    )
    cl.event(
        "production",
        fe,
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        first=now - m(3) - s(2),
        last=now - s(4),
        count=37,
        warning=True,
        container="frontend-web",
    )
    healthy_pod(
        sc,
        "production",
        "frontend-web-6f8d9c7b4-9fj4t",
        owner=rs("frontend-web", "6f8d9c7b4"),
        node=n1,
        created=utc("2024-03-12T11:02:45Z"),
        spec=fe_spec,
        labels=fe_labels,
        log="  ▲ Next.js 14.1.0\n\n ✓ Ready in 398ms\n",
    )
    pg = container(
        "postgres",
        "postgres:15.6",
        ports=[("postgres", 5432)],
        env=[
            env_secret("POSTGRES_PASSWORD", "postgres-secret", "password"),
            env("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ],
        res=resources(cpu="500m", memory="1Gi", limit_memory="2Gi"),
        mounts=[("data", "/var/lib/postgresql/data", False)],
        readiness=exec_probe(["pg_isready", "-U", "postgres"]),
    )
    healthy_pod(
        sc,
        "production",
        "postgres-0",
        owner=sts("postgres", "postgres-6c7d8f9b5"),
        node=n1,
        created=utc("2024-02-28T08:00:12Z"),
        spec=pg,
        labels={"app": "postgres"},
        log=(
            "2024-02-28 08:00:15.102 UTC [1] LOG:  starting PostgreSQL 15.6 (Debian 15.6-1.pgdg120+2) on x86_64-pc-linux-gnu\n"
            '2024-02-28 08:00:15.103 UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432\n'
            "2024-02-28 08:00:15.119 UTC [1] LOG:  database system is ready to accept connections\n"
        ),
    )
    cl.service(
        "production",
        "payment-service",
        selector={"app": "payment-service"},
        port=80,
        target=8080,
        created=utc("2023-11-02T10:00:00Z"),
    )
    cl.service(
        "production",
        "frontend-web",
        selector={"app": "frontend-web"},
        port=80,
        target=3000,
        created=utc("2023-11-02T10:00:00Z"),
    )
    cl.service(
        "production",
        "postgres",
        selector={"app": "postgres"},
        port=5432,
        target=5432,
        created=utc("2023-11-02T10:00:00Z"),
    )

    kube_system(
        sc, [n1, n2, n3], created=utc("2024-02-27T09:14:00Z"), dns_hash="5d78c9869d", coredns="v1.10.1-eksbuild.7"
    )
    # aws-node restarted once at node boot, ready ever since: not failing.
    aws_node = container(
        "aws-node",
        "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.16.2-eksbuild.1",
        ports=[("metrics", 61678)],
        env=[env("AWS_VPC_K8S_CNI_LOGLEVEL", "DEBUG"), env_field("MY_NODE_NAME", "spec.nodeName")],
        res=resources(cpu="25m"),
        liveness=exec_probe(
            ["/app/grpc-health-probe", "-addr=:50051", "-connect-timeout=5s", "-rpc-timeout=5s"],
            initialDelaySeconds=60,
            timeoutSeconds=10,
        ),
        readiness=exec_probe(
            ["/app/grpc-health-probe", "-addr=:50051", "-connect-timeout=5s", "-rpc-timeout=5s"],
            initialDelaySeconds=1,
            timeoutSeconds=10,
        ),
        security={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
    )
    booted = utc("2024-02-27T09:13:05Z")
    healthy_pod(
        sc,
        "kube-system",
        "aws-node-7hxq2",
        owner=ds("aws-node", "7c8b9d6f5"),
        node=n1,
        created=booted,
        spec=aws_node,
        labels={"k8s-app": "aws-node"},
        restarts=1,
        last=terminated(1, "Error", booted + s(3), booted + s(9)),
        since=booted + s(21),
        log=(
            '{"level":"info","ts":"2024-02-27T09:13:27.402Z","caller":"entrypoint.sh","msg":"Checking for IPAM connectivity ... "}\n'
            '{"level":"info","ts":"2024-02-27T09:13:29.611Z","caller":"entrypoint.sh","msg":"Copying config file ... "}\n'
            '{"level":"info","ts":"2024-02-27T09:13:29.640Z","caller":"entrypoint.sh","msg":"Successfully copied CNI plugin binary and config file."}\n'
        ),
    )
    for name, node in (("aws-node-9dkc4", n2), ("aws-node-tq5wz", n3)):
        healthy_pod(
            sc,
            "kube-system",
            name,
            owner=ds("aws-node", "7c8b9d6f5"),
            node=node,
            created=booted + s(40),
            spec=aws_node,
            labels={"k8s-app": "aws-node"},
            log='{"level":"info","ts":"2024-02-27T09:14:02.118Z","caller":"entrypoint.sh","msg":"Successfully copied CNI plugin binary and config file."}\n',
        )
    _ = pod
    return sc


# =============================================================================================
# 2. The runbook's seven root causes, in one production namespace.
# =============================================================================================


def runbook_production() -> Scenario:
    now = utc("2026-04-04T08:16:30Z")
    nodes = [
        Node(
            f"sw-infrarunbook-0{i}",
            f"10.0.0.{10 + i}",
            utc("2026-01-12T07:30:00Z"),
            zone="dc1-a",
            region="dc1",
            provider_id="",
            kubelet="v1.30.4",
            os_image="Ubuntu 24.04.1 LTS",
            kernel="6.8.0-45-generic",
            runtime="containerd://1.7.22",
            pod_cidr=f"10.244.{i}.0/24",
            instance_type="bare-metal",
            cpu="16",
            memory_ki=65_842_320,
        )
        for i in (1, 2, 3)
    ]
    for n in nodes:
        n.provider_id = f"baremetal://{n.name}"
    cl = Cluster(now=now, namespaces=["production"], nodes=nodes)
    sc = Scenario("runbook-production", "dir", cl)
    n1, n2, n3 = (n.name for n in nodes)
    reg = "registry.solvethenetwork.com"

    # Root cause 1: a bad environment value, and a required variable that is not set at all.
    fin = utc("2026-04-04T08:14:02Z")
    crash_pod(
        sc,
        "production",
        "api-deployment-7d4b9c-xkp2z",
        owner=rs("api-deployment", "7d4b9c"),
        node=n1,
        created=now - m(14),
        spec=container(
            "api",
            f"{reg}/api:v1.2.1",
            ports=[("http", 8080)],
            env=[
                env("DATABASE_HOST", "postgres-service.production.svc.cluster.local"),
                env("DATABASE_PORT", "abc"),
                env_secret("DATABASE_USER", "api-db-credentials", "DB_USER"),
            ],
            res=resources(cpu="200m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=8,
        exit_code=1,
        started=fin - s(1),
        finished=fin,
        labels={"app": "api"},
        log=(
            "2026-04-04T08:14:01Z INFO  api v1.2.1 (commit 4be1f0c) starting\n"
            "2026-04-04T08:14:01Z INFO  reading configuration from environment\n"
            'FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)\n'
        ),
    )
    sc.expect("production", "api-deployment-7d4b9c-xkp2z", "api", "bad_config")
    fin = utc("2026-04-04T08:13:21Z")
    crash_pod(
        sc,
        "production",
        "worker-deployment-5f8bb-r9t4k",
        owner=rs("worker-deployment", "5f8bb"),
        node=n2,
        created=now - m(22),
        spec=container(
            "worker",
            f"{reg}/worker:v1.2.1",
            env=[
                env("QUEUE_URL", "amqp://rabbitmq.production.svc:5672"),
                env("DATABSE_URL", "postgres://api@postgres-service:5432/app"),
            ],
            res=resources(cpu="100m", memory="128Mi", limit_memory="256Mi"),
        ),
        restarts=12,
        exit_code=2,
        started=fin,
        finished=fin,
        labels={"app": "worker"},
        log=(
            "panic: DATABASE_URL environment variable is not set\n"
            "\n"
            "goroutine 1 [running]:\n"
            "main.mustGetEnv(...)\n"
            "\t/app/main.go:22 +0x5a\n"
            "main.main()\n"
            "\t/app/main.go:37 +0x1d4\n"
        ),
    )
    sc.expect("production", "worker-deployment-5f8bb-r9t4k", "worker", "bad_config")

    # Root cause 2: the secret exists but lacks the key (CreateContainerConfigError).
    created = now - s(52)
    spec = container(
        "orders-api",
        f"{reg}/orders-api:v3.0.2",
        ports=[("http", 8080)],
        env=[
            env_secret("DB_USER", "api-db-credentials", "DB_USER"),
            env_secret("DB_HOST", "api-db-credentials", "DB_HOST"),
            env_secret("DB_PASSWORD", "api-db-credentials", "DB_PASSWORD"),
        ],
        res=resources(cpu="200m", memory="256Mi", limit_memory="512Mi"),
    )
    msg = "couldn't find key DB_PASSWORD in Secret production/api-db-credentials"
    pod = cl.pod(
        "production",
        "orders-api-6b9f7c5d48-pz7vd",
        node=n3,
        created=created,
        owner=rs("orders-api", "6b9f7c5d48"),
        labels={"app": "orders-api"},
        containers=[C(spec=spec, state=waiting("CreateContainerConfigError", msg), started=False)],
    )
    cl.scheduled("production", pod, created)
    cl.event(
        "production",
        pod,
        "Pulled",
        f'Container image "{spec["image"]}" already present on machine',
        first=created + s(2),
        last=now - s(5),
        count=6,
        container="orders-api",
    )
    cl.event(
        "production",
        pod,
        "Failed",
        f"Error: {msg}",
        first=created + s(2),
        last=now - s(5),
        count=6,
        warning=True,
        container="orders-api",
    )
    sc.expect("production", "orders-api-6b9f7c5d48-pz7vd", "orders-api", "missing_secret_key")

    # Root cause 3: OOMKilled at a 512Mi limit.
    crash_pod(
        sc,
        "production",
        "ledger-sync-6c9b7d5f4-t8wq2",
        owner=rs("ledger-sync", "6c9b7d5f4"),
        node=n2,
        created=now - m(47),
        spec=container(
            "ledger-sync",
            f"{reg}/ledger-sync:v1.2.1",
            env=[env("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=90")],
            res=resources(cpu="500m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=9,
        exit_code=137,
        reason="OOMKilled",
        started=utc("2026-04-04T08:12:01Z"),
        finished=utc("2026-04-04T08:12:44Z"),
        labels={"app": "ledger-sync"},
        log=(
            "Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=90\n"
            "08:12:03.311 [main] INFO  c.s.ledger.LedgerSyncApplication - Started LedgerSyncApplication in 1.9 seconds\n"
            "08:12:05.022 [sync-1] INFO  c.s.ledger.sync.BatchReader - loading ledger batch 2026-04-03 (1843221 rows)\n"
            "08:12:31.870 [sync-1] INFO  c.s.ledger.sync.BatchReader - 1200000 rows buffered\n"
            "08:12:42.407 [sync-1] INFO  c.s.ledger.sync.BatchReader - 1700000 rows buffered\n"
        ),
    )
    sc.expect("production", "ledger-sync-6c9b7d5f4-t8wq2", "ledger-sync", "oomkilled")

    # Root cause 4: the dependency is down, because the database itself is crashing.
    fin = utc("2026-04-04T08:15:49Z")
    crash_pod(
        sc,
        "production",
        "inventory-api-5d7f9c8b6-hq4zn",
        owner=rs("inventory-api", "5d7f9c8b6"),
        node=n1,
        created=now - m(9),
        spec=container(
            "inventory-api",
            f"{reg}/inventory-api:v2.8.0",
            ports=[("http", 8080)],
            env=[env("PGHOST", "postgres-service.production.svc.cluster.local"), env("PGPORT", "5432")],
            res=resources(cpu="200m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=5,
        exit_code=1,
        started=fin - s(3),
        finished=fin,
        labels={"app": "inventory-api"},
        log=(
            "2026-04-04T08:15:46Z INFO  inventory-api v2.8.0 starting\n"
            "Error: unable to connect to PostgreSQL at postgres-service.production.svc.cluster.local:5432\n"
            "dial tcp 10.0.1.45:5432: connect: connection refused\n"
            "failed to initialise application, exiting\n"
        ),
    )
    sc.expect("production", "inventory-api-5d7f9c8b6-hq4zn", "inventory-api", "dependency_unavailable")
    fin = utc("2026-04-04T08:13:09Z")
    crash_pod(
        sc,
        "production",
        "postgres-0",
        owner=sts("postgres", "postgres-7f8d9c6b5"),
        node=n3,
        created=now - m(8),
        spec=container(
            "postgres",
            "postgres:16.2",
            ports=[("postgres", 5432)],
            env=[
                env_secret("POSTGRES_PASSWORD", "postgres-superuser", "password", optional=False),
                env("PGDATA", "/var/lib/postgresql/data/pgdata"),
            ],
            res=resources(cpu="1", memory="2Gi", limit_memory="4Gi"),
            mounts=[("data", "/var/lib/postgresql/data", False)],
        ),
        restarts=5,
        exit_code=1,
        started=fin - s(1),
        finished=fin,
        labels={"app": "postgres"},
        log=(
            "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n"
            "2026-04-04 08:13:08.412 UTC [1] LOG:  starting PostgreSQL 16.2 (Debian 16.2-1.pgdg120+2) on x86_64-pc-linux-gnu, "
            "compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit\n"
            '2026-04-04 08:13:08.413 UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432\n'
            '2026-04-04 08:13:08.413 UTC [1] LOG:  listening on IPv6 address "::", port 5432\n'
            '2026-04-04 08:13:08.418 UTC [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"\n'
            "2026-04-04 08:13:08.425 UTC [29] LOG:  database system was interrupted; last known up at 2026-04-04 07:58:40 UTC\n"
            "2026-04-04 08:13:08.611 UTC [29] LOG:  invalid checkpoint record\n"
            "2026-04-04 08:13:08.611 UTC [29] PANIC:  could not locate a valid checkpoint record\n"
            "2026-04-04 08:13:09.002 UTC [1] LOG:  startup process (PID 29) was terminated by signal 6: Aborted\n"
            "2026-04-04 08:13:09.002 UTC [1] LOG:  aborting startup due to startup process failure\n"
            "2026-04-04 08:13:09.011 UTC [1] LOG:  database system is shut down\n"
        ),
    )
    sc.expect("production", "postgres-0", "postgres", "app_crash")
    cl.service(
        "production",
        "postgres-service",
        selector={"app": "postgres"},
        port=5432,
        target=5432,
        created=utc("2026-01-12T08:00:00Z"),
        ip="10.0.1.45",
    )

    # Root cause 5: the liveness probe points at a path that does not exist.
    started = now - s(31)
    spec = container(
        "api",
        f"{reg}/catalog-api:v1.2.1",
        ports=[("http", 8080)],
        res=resources(cpu="200m", memory="256Mi", limit_memory="512Mi"),
        liveness=http_probe("/healthz", 8080, initialDelaySeconds=5),
        readiness=http_probe("/readyz", 8080, initialDelaySeconds=5),
    )
    c = C(
        spec=spec,
        state=running(started),
        last=terminated(143, "Error", started - s(62), started - s(1)),
        ready=False,
        started=True,
        restarts=7,
        log=(
            "2026-04-04T08:15:59Z INFO  catalog-api v1.2.1 starting\n"
            "2026-04-04T08:15:59Z INFO  warming product cache (48210 items)\n"
            "2026-04-04T08:16:21Z INFO  server listening on :8080 after 22s startup\n"
            '2026-04-04T08:16:25Z INFO  GET /healthz 404 0.2ms ua="kube-probe/1.30"\n'
            '2026-04-04T08:16:25Z INFO  GET /readyz 404 0.1ms ua="kube-probe/1.30"\n'
        ),
    )
    pod = cl.pod(
        "production",
        "catalog-api-58d7c9b6f4-jw5nc",
        node=n2,
        created=now - m(11),
        owner=rs("catalog-api", "58d7c9b6f4"),
        labels={"app": "catalog-api"},
        containers=[c],
    )
    cl.scheduled("production", pod, now - m(11))
    cl.event(
        "production",
        pod,
        "Pulled",
        f'Container image "{spec["image"]}" already present on machine',
        first=now - m(11) + s(2),
        last=started,
        count=8,
        container="api",
    )
    cl.event(
        "production",
        pod,
        "Created",
        "Created container api",
        first=now - m(11) + s(2),
        last=started,
        count=8,
        container="api",
    )
    cl.event(
        "production",
        pod,
        "Started",
        "Started container api",
        first=now - m(11) + s(2),
        last=started,
        count=8,
        container="api",
    )
    cl.event(
        "production",
        pod,
        "Unhealthy",
        "Liveness probe failed: HTTP probe failed with statuscode: 404",
        first=now - m(11) + s(9),
        last=now - s(6),
        count=23,
        warning=True,
        container="api",
    )
    cl.event(
        "production",
        pod,
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 404",
        first=now - m(11) + s(9),
        last=now - s(6),
        count=24,
        warning=True,
        container="api",
    )
    cl.event(
        "production",
        pod,
        "Killing",
        "Container api failed liveness probe, will be restarted",
        first=now - m(11) + s(29),
        last=started - s(2),
        count=7,
        container="api",
    )
    sc.expect("production", "catalog-api-58d7c9b6f4-jw5nc", "api", "liveness_probe")

    # Root cause 6: a module and a shared library missing from the image.
    fin = utc("2026-04-04T08:14:40Z")
    crash_pod(
        sc,
        "production",
        "auth-service-6f8b9d7c5-kx9mz",
        owner=rs("auth-service", "6f8b9d7c5"),
        node=n3,
        created=now - m(17),
        spec=container(
            "auth-service", f"{reg}/auth-service:v1.2.2", command=["python", "/app/main.py"], ports=[("http", 8000)]
        ),
        restarts=8,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app": "auth-service"},
        log=(
            "Traceback (most recent call last):\n"
            '  File "/app/main.py", line 14, in <module>\n'
            "    from utils.auth import verify_token\n"
            "ModuleNotFoundError: No module named 'utils.auth'\n"
        ),
    )
    sc.expect("production", "auth-service-6f8b9d7c5-kx9mz", "auth-service", "missing_runtime_dependency")
    fin = utc("2026-04-04T08:15:05Z")
    crash_pod(
        sc,
        "production",
        "token-gateway-7c6d5b9f8-vn2hl",
        owner=rs("token-gateway", "7c6d5b9f8"),
        node=n1,
        created=now - m(12),
        spec=container("token-gateway", f"{reg}/token-gateway:v0.9.3", command=["/app/server"], ports=[("grpc", 9090)]),
        restarts=7,
        exit_code=127,
        started=fin,
        finished=fin,
        labels={"app": "token-gateway"},
        log="/app/server: error while loading shared libraries: libssl.so.3: cannot open shared object file: No such file or directory\n",
    )
    sc.expect("production", "token-gateway-7c6d5b9f8-vn2hl", "token-gateway", "missing_runtime_dependency")

    # Root cause 7: the init container's migration fails (Init:CrashLoopBackOff).
    created = now - m(6)
    fin = utc("2026-04-04T08:14:51Z")
    init = crashloop(
        container(
            "init-migrate",
            f"{reg}/billing-api:v1.2.1",
            command=["/app/migrate", "up"],
            env=[env_secret("DATABASE_URL", "billing-db", "url")],
        ),
        restarts=4,
        exit_code=1,
        started=fin - s(2),
        finished=fin,
        ctype="init",
        log=(
            "running migration 004_add_sessions_table.sql\n"
            'ERROR: relation "users" does not exist\n'
            "LINE 1: ALTER TABLE users ADD COLUMN last_seen TIMESTAMP;\n"
            "migration failed — exiting with code 1\n"
        ),
    )
    app = C(
        spec=container(
            "api", f"{reg}/billing-api:v1.2.1", ports=[("http", 8080)], readiness=http_probe("/ready", 8080)
        ),
        state=waiting("PodInitializing"),
        started=False,
    )
    pod = cl.pod(
        "production",
        "billing-api-7d4b9c6f5-xkp2z",
        node=n2,
        created=created,
        owner=rs("billing-api", "7d4b9c6f5"),
        labels={"app": "billing-api"},
        init=[init],
        containers=[app],
    )
    cl.scheduled("production", pod, created)
    cl.crash_events("production", pod, init, first_start=created + s(2))
    sc.expect("production", "billing-api-7d4b9c6f5-xkp2z", "init-migrate", "init_container_failed")

    # Distractors: one liveness blip long ago without a kill, and a plain healthy pod.
    spec = container(
        "search-api",
        f"{reg}/search-api:v2.2.0",
        ports=[("http", 8080)],
        liveness=http_probe("/health", 8080, initialDelaySeconds=15),
        readiness=http_probe("/ready", 8080),
    )
    pod = healthy_pod(
        sc,
        "production",
        "search-api-84c9d7f6b5-2gq7r",
        owner=rs("search-api", "84c9d7f6b5"),
        node=n3,
        created=utc("2026-04-01T10:00:00Z"),
        spec=spec,
        labels={"app": "search-api"},
        log="2026-04-01T10:00:04Z INFO  search-api listening on :8080\n",
    )
    cl.event(
        "production",
        pod,
        "Unhealthy",
        'Liveness probe failed: Get "http://10.244.3.31:8080/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        first=now - m(38),
        count=1,
        warning=True,
        container="search-api",
    )
    healthy_pod(
        sc,
        "production",
        "web-7b8c9d6f5-lm3nq",
        owner=rs("web", "7b8c9d6f5"),
        node=n1,
        created=utc("2026-03-30T14:00:00Z"),
        spec=container("web", "nginx:1.25.4", ports=[("http", 80)]),
        labels={"app": "web"},
        log='10.244.1.1 - - [04/Apr/2026:08:16:02 +0000] "GET / HTTP/1.1" 200 615 "-" "kube-probe/1.30" "-"\n',
    )
    for svc, port in (("api-deployment", 8080), ("orders-api", 8080), ("catalog-api", 8080), ("inventory-api", 8080)):
        cl.service(
            "production",
            svc,
            selector={"app": svc.removesuffix("-deployment")},
            port=80,
            target=port,
            created=utc("2026-01-12T08:00:00Z"),
        )
    return sc


# =============================================================================================
# 3. A GKE cluster with many workload shapes: sidecars, ephemeral debuggers, StatefulSets,
#    DaemonSets, CronJobs, and one Deployment whose three replicas all fail the same way.
# =============================================================================================

SPRING_BANNER = (
    "\n"
    "  .   ____          _            __ _ _\n"
    " /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\\n"
    "( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\\n"
    " \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )\n"
    "  '  |____| .__|_| |_|_| |_\\__, | / / / /\n"
    " =========|_|==============|___/=/_/_/_/\n"
    "\n"
)


def spring_line(when: datetime, ms: int, level: str, app: str, thread: str, logger: str, text: str) -> str:
    return f"{iso(when, ms)} {level:>5} 1 --- [{app}] [{thread:>15}] {logger:<40} : {text}\n"


def platform_mixed() -> Scenario:
    now = utc("2025-10-07T13:42:00Z")
    nodes: list[Node] = []
    for name, ip, zone in (
        ("gke-prod-pool-1-3f9a1c2e-k8d2", "10.132.0.21", "europe-west1-b"),
        ("gke-prod-pool-1-3f9a1c2e-p2mx", "10.132.0.22", "europe-west1-b"),
        ("gke-prod-pool-1-7b2d4e6f-zt5q", "10.132.0.35", "europe-west1-c"),
        ("gke-prod-pool-1-7b2d4e6f-w9hc", "10.132.0.36", "europe-west1-c"),
    ):
        nodes.append(
            Node(
                name,
                ip,
                utc("2025-09-29T04:11:00Z"),
                zone=zone,
                region="europe-west1",
                provider_id=f"gce://acme-prod/{zone}/{name}",
                internal_dns=f"{name}.{zone}.c.acme-prod.internal",
                instance_type="e2-standard-8",
                cpu="8",
                memory_ki=32_880_588,
                kubelet="v1.31.5-gke.1023000",
                os_image="Container-Optimized OS from Google",
                kernel="6.1.112+",
                runtime="containerd://1.7.24",
                pod_cidr=f"10.48.{len(nodes)}.0/24",
            )
        )
    # The last node ran out of PIDs twenty minutes ago (a fork-bombing batch pod since evicted).
    nodes[3].pressure["PIDPressure"] = utc("2025-10-07T13:20:41Z")
    cl = Cluster(now=now, namespaces=["shop", "data", "monitoring", "kube-system"], nodes=nodes)
    sc = Scenario("platform-mixed", "dir", cl)
    n1, n2, n3, n4 = (n.name for n in nodes)
    reg = "europe-docker.pkg.dev/acme-prod/apps"

    # --- shop: checkout, three replicas, all refused by a Redis that never got scheduled.
    cl.service(
        "shop",
        "redis-master",
        selector={"app": "redis"},
        port=6379,
        target=6379,
        created=utc("2025-10-07T12:55:00Z"),
        ip="10.96.112.40",
    )
    checkout = container(
        "checkout",
        f"{reg}/checkout:3.4.2",
        command=["node", "dist/server.js"],
        ports=[("http", 8080)],
        env=[
            env("REDIS_URL", "redis://redis-master.shop.svc.cluster.local:6379/0"),
            env("NODE_ENV", "production"),
        ],
        res=resources(cpu="250m", memory="256Mi", limit_memory="512Mi"),
        readiness=http_probe("/readyz", 8080),
        liveness=http_probe("/livez", 8080, initialDelaySeconds=20),
    )
    for suffix, node, restarts, fin in (
        ("2xkqp", n1, 6, utc("2025-10-07T13:38:11Z")),
        ("7mzcw", n2, 6, utc("2025-10-07T13:38:40Z")),
        ("qh5rt", n3, 5, utc("2025-10-07T13:39:02Z")),
    ):
        pod_name = f"checkout-6b8f9d7c5d-{suffix}"
        ms = int(fin.timestamp() * 1000)
        crash_pod(
            sc,
            "shop",
            pod_name,
            owner=rs("checkout", "6b8f9d7c5d"),
            node=node,
            created=utc("2025-10-07T12:56:30Z"),
            spec=checkout,
            restarts=restarts,
            exit_code=1,
            started=fin - s(1),
            finished=fin,
            labels={"app": "checkout", "app.kubernetes.io/part-of": "shop"},
            log=(
                f'{{"level":30,"time":{ms - 388},"pid":1,"hostname":"{pod_name}","msg":"checkout 3.4.2 starting"}}\n'
                f'{{"level":30,"time":{ms - 372},"pid":1,"hostname":"{pod_name}","msg":"connecting to redis",'
                '"url":"redis://redis-master.shop.svc.cluster.local:6379/0"}\n'
                "node:internal/process/promises:289\n"
                "            triggerUncaughtException(err, true /* fromPromise */);\n"
                "            ^\n"
                "\n"
                "Error: connect ECONNREFUSED 10.96.112.40:6379\n"
                "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {\n"
                "  errno: -111,\n"
                "  code: 'ECONNREFUSED',\n"
                "  syscall: 'connect',\n"
                "  address: '10.96.112.40',\n"
                "  port: 6379\n"
                "}\n"
                "\n"
                "Node.js v20.12.2\n"
            ),
        )
        sc.expect("shop", pod_name, "checkout", "dependency_unavailable")
    redis = container(
        "redis",
        "redis:7.2.4",
        ports=[("redis", 6379)],
        res=resources(cpu="250m", memory="1Gi", limit_memory="1Gi"),
        mounts=[("data", "/data", False)],
    )
    created = utc("2025-10-07T12:55:05Z")
    pod = cl.pod(
        "shop",
        "redis-master-0",
        node=None,
        scheduled=False,
        created=created,
        owner=sts("redis-master", "redis-master-5d9c8b7f6"),
        labels={"app": "redis"},
        containers=[C(spec=redis, state={})],
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-redis-master-0"}}],
    )
    cl.failed_scheduling(
        "shop",
        pod,
        first=created,
        last=now - m(2),
        count=19,
        message=(
            "0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are "
            "available: 4 Preemption is not helpful for scheduling."
        ),
    )

    # --- shop: cart (Spring) needs a property nobody set.
    fin = utc("2025-10-07T13:39:47Z")
    st = fin - s(6)
    cart_log = SPRING_BANNER + " :: Spring Boot ::                (v3.2.4)\n\n"
    cart_log += spring_line(
        st,
        118,
        "INFO",
        "cart",
        "main",
        "com.acme.cart.CartApplication",
        "Starting CartApplication v2.7.0 using Java 21.0.2 with PID 1 (/app/app.jar started by app in /app)",
    )
    cart_log += spring_line(
        st, 121, "INFO", "cart", "main", "com.acme.cart.CartApplication", 'The following 1 profile is active: "prod"'
    )
    cart_log += spring_line(
        st + s(2),
        904,
        "INFO",
        "cart",
        "main",
        "o.s.b.w.embedded.tomcat.TomcatWebServer",
        "Tomcat initialized with port 8080 (http)",
    )
    cart_log += spring_line(
        st + s(5),
        612,
        "WARN",
        "cart",
        "main",
        "ConfigServletWebServerApplicationContext",
        "Exception encountered during context initialization - cancelling refresh attempt: org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'cartExpiryScheduler': Injection of autowired dependencies failed",
    )
    cart_log += spring_line(
        st + s(5), 655, "INFO", "cart", "main", "o.apache.catalina.core.StandardService", "Stopping service [Tomcat]"
    )
    cart_log += spring_line(
        st + s(5), 701, "ERROR", "cart", "main", "o.s.boot.SpringApplication", "Application run failed"
    )
    cart_log += (
        "\n"
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'cartExpiryScheduler': Injection of autowired dependencies failed\n"
        "\tat org.springframework.beans.factory.annotation.AutowiredAnnotationBeanPostProcessor.postProcessProperties(AutowiredAnnotationBeanPostProcessor.java:498)\n"
        "\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.populateBean(AbstractAutowireCapableBeanFactory.java:1419)\n"
        "\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.doCreateBean(AbstractAutowireCapableBeanFactory.java:599)\n"
        "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:334)\n"
        "\tat com.acme.cart.CartApplication.main(CartApplication.java:12)\n"
        "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n"
        "\tat org.springframework.boot.loader.launch.Launcher.launch(Launcher.java:91)\n"
        "\tat org.springframework.boot.loader.launch.JarLauncher.main(JarLauncher.java:64)\n"
        "Caused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'CART_TTL_SECONDS' in value \"${CART_TTL_SECONDS}\"\n"
        "\tat org.springframework.util.PropertyPlaceholderHelper.parseStringValue(PropertyPlaceholderHelper.java:180)\n"
        "\tat org.springframework.util.PropertyPlaceholderHelper.replacePlaceholders(PropertyPlaceholderHelper.java:126)\n"
        "\tat org.springframework.core.env.AbstractPropertyResolver.doResolvePlaceholders(AbstractPropertyResolver.java:239)\n"
        "\tat org.springframework.beans.factory.support.AbstractBeanFactory.resolveEmbeddedValue(AbstractBeanFactory.java:964)\n"
        "\tat org.springframework.beans.factory.annotation.AutowiredAnnotationBeanPostProcessor$AutowiredFieldElement.inject(AutowiredAnnotationBeanPostProcessor.java:765)\n"
        "\t... 25 common frames omitted\n"
        "\n"
    )
    crash_pod(
        sc,
        "shop",
        "cart-7c9d8f6b5-x2lmn",
        owner=rs("cart", "7c9d8f6b5"),
        node=n2,
        created=utc("2025-10-07T13:05:12Z"),
        spec=container(
            "cart",
            f"{reg}/cart:2.7.0",
            ports=[("http", 8080)],
            env=[env("SPRING_PROFILES_ACTIVE", "prod"), env("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=75")],
            res=resources(cpu="500m", memory="768Mi", limit_memory="1Gi"),
            readiness=http_probe("/actuator/health/readiness", 8080, initialDelaySeconds=20),
        ),
        restarts=7,
        exit_code=1,
        started=st,
        finished=fin,
        labels={"app": "cart", "app.kubernetes.io/part-of": "shop"},
        log="Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75\n" + cart_log,
    )
    sc.expect("shop", "cart-7c9d8f6b5-x2lmn", "cart", "bad_config")

    # --- shop: catalog-api is fine, its log-shipper sidecar is OOMKilled at 64Mi.
    created = utc("2025-10-06T22:14:09Z")
    fin = utc("2025-10-07T13:40:06Z")
    app_spec = container(
        "catalog-api",
        f"{reg}/catalog-api:5.1.0",
        command=["gunicorn", "catalog.wsgi", "-b", "0.0.0.0:8000", "-w", "4"],
        ports=[("http", 8000)],
        res=resources(cpu="500m", memory="512Mi", limit_memory="1Gi"),
        mounts=[("app-logs", "/var/log/app", False)],
        readiness=http_probe("/healthz", 8000),
    )
    shipper = container(
        "log-shipper",
        "cr.fluentbit.io/fluent/fluent-bit:2.2.2",
        res=resources(cpu="20m", memory="32Mi", limit_memory="64Mi"),
        mounts=[("app-logs", "/var/log/app", True), ("fluent-bit-config", "/fluent-bit/etc/", True)],
    )
    shipper_c = crashloop(
        shipper,
        restarts=14,
        exit_code=137,
        reason="OOMKilled",
        started=fin - s(15),
        finished=fin,
        log=(
            "Fluent Bit v2.2.2\n"
            "* Copyright (C) 2015-2024 The Fluent Bit Authors\n"
            "* Fluent Bit is a CNCF sub-project under the umbrella of Fluentd\n"
            "* https://fluentbit.io\n\n"
            "[2025/10/07 13:39:51] [ info] [fluent bit] version=2.2.2, commit=eeea396e88, pid=1\n"
            "[2025/10/07 13:39:51] [ info] [storage] ver=1.5.1, type=memory, sync=normal, checksum=off, max_chunks_up=128\n"
            "[2025/10/07 13:39:51] [ info] [input:tail:tail.0] initializing\n"
            "[2025/10/07 13:39:51] [ info] [output:forward:forward.0] worker #0 started\n"
            "[2025/10/07 13:39:51] [ info] [sp] stream processor started\n"
            "[2025/10/07 13:39:52] [ info] [input:tail:tail.0] inotify_fs_add(): inode=1048601 watch_fd=1 name=/var/log/app/catalog.log\n"
            "[2025/10/07 13:40:04] [ warn] [input] tail.0 paused (mem buf overlimit)\n"
            "[2025/10/07 13:40:05] [ info] [input] tail.0 resume (mem buf overlimit)\n"
        ),
    )
    pod = cl.pod(
        "shop",
        "catalog-api-5f7b8c9d6-wq2zt",
        node=n3,
        created=created,
        owner=rs("catalog-api", "5f7b8c9d6"),
        labels={"app": "catalog-api", "app.kubernetes.io/part-of": "shop"},
        volumes=[
            {"name": "app-logs", "emptyDir": {}},
            {"name": "fluent-bit-config", "configMap": {"name": "catalog-fluent-bit", "defaultMode": 420}},
        ],
        containers=[
            healthy(
                app_spec,
                created + s(5),
                "[2025-10-06 22:14:14 +0000] [1] [INFO] Starting gunicorn 21.2.0\n"
                "[2025-10-06 22:14:14 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)\n"
                "[2025-10-06 22:14:14 +0000] [1] [INFO] Using worker: sync\n"
                "[2025-10-06 22:14:14 +0000] [8] [INFO] Booting worker with pid: 8\n",
            ),
            shipper_c,
        ],
    )
    cl.crash_events("shop", pod, shipper_c, first_start=created + s(5), backoff_count=61)
    sc.expect("shop", "catalog-api-5f7b8c9d6-wq2zt", "log-shipper", "oomkilled")

    # --- shop: recommendations dies in native code.
    fin = utc("2025-10-07T13:40:21Z")
    crash_pod(
        sc,
        "shop",
        "recommendations-8d6f5c7b9-pl4xr",
        owner=rs("recommendations", "8d6f5c7b9"),
        node=n1,
        created=utc("2025-10-07T11:30:44Z"),
        spec=container(
            "recommendations",
            f"{reg}/recommendations:1.19.0",
            command=["python", "-X", "faulthandler", "-m", "recs.serve"],
            ports=[("http", 8000)],
            res=resources(cpu="1", memory="2Gi", limit_memory="4Gi"),
            mounts=[("models", "/models", True)],
        ),
        restarts=11,
        exit_code=139,
        started=fin - s(10),
        finished=fin,
        volumes=({"name": "models", "persistentVolumeClaim": {"claimName": "recs-models", "readOnly": True}},),
        labels={"app": "recommendations", "app.kubernetes.io/part-of": "shop"},
        log=(
            "2025-10-07 13:40:11,004 INFO recs.serve: loading ALS model from /models/als-2025-10-06.npz\n"
            "2025-10-07 13:40:19,771 INFO recs.serve: model loaded (factors=128, items=412877)\n"
            "2025-10-07 13:40:19,902 INFO recs.serve: warming up user vectors\n"
            "Fatal Python error: Segmentation fault\n"
            "\n"
            "Current thread 0x00007f8d2c3fd740 (most recent call first):\n"
            '  File "/usr/local/lib/python3.11/site-packages/implicit/cpu/als.py", line 152 in recalculate_user\n'
            '  File "/app/recs/serve.py", line 64 in warm_up\n'
            '  File "/app/recs/serve.py", line 91 in main\n'
            '  File "/app/recs/serve.py", line 97 in <module>\n'
            '  File "<frozen runpy>", line 88 in _run_code\n'
            '  File "<frozen runpy>", line 198 in _run_module_as_main\n'
            "\n"
            "Extension modules: numpy.core._multiarray_umath, numpy.core._multiarray_tests, numpy.linalg._umath_linalg, "
            "scipy._lib._ccallback_c, scipy.sparse._sparsetools, implicit.cpu._als (total: 38)\n"
        ),
    )
    sc.expect("shop", "recommendations-8d6f5c7b9-pl4xr", "recommendations", "segfault")

    # --- shop: search was built without its application jar on the classpath.
    fin = utc("2025-10-07T13:39:30Z")
    crash_pod(
        sc,
        "shop",
        "search-7b5d9c6f8-mk2vh",
        owner=rs("search", "7b5d9c6f8"),
        node=n2,
        created=utc("2025-10-07T13:01:02Z"),
        spec=container(
            "search",
            f"{reg}/search:4.0.0",
            command=["java", "-cp", "/app/lib/*", "com.acme.search.SearchApplication"],
            ports=[("http", 8080)],
            res=resources(cpu="500m", memory="1Gi", limit_memory="2Gi"),
        ),
        restarts=8,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app": "search", "app.kubernetes.io/part-of": "shop"},
        log=(
            "Error: Could not find or load main class com.acme.search.SearchApplication\n"
            "Caused by: java.lang.ClassNotFoundException: com.acme.search.SearchApplication\n"
        ),
    )
    sc.expect("shop", "search-7b5d9c6f8-mk2vh", "search", "missing_runtime_dependency")

    # --- shop: notifications reads SMTP_PASSWORD, filled from an optional secret that is absent.
    fin = utc("2025-10-07T13:38:58Z")
    crash_pod(
        sc,
        "shop",
        "notifications-5c8f7d6b9-zt6nq",
        owner=rs("notifications", "5c8f7d6b9"),
        node=n3,
        created=utc("2025-10-07T12:40:20Z"),
        spec=container(
            "notifications",
            f"{reg}/notifications:2.3.1",
            command=["bundle", "exec", "puma", "-C", "config/puma.rb"],
            ports=[("http", 3000)],
            env=[
                env("RAILS_ENV", "production"),
                env("SMTP_HOST", "smtp.sendgrid.net"),
                env_secret("SMTP_USER", "smtp-credentials", "username", optional=True),
                env_secret("SMTP_PASSWORD", "smtp-credentials", "password", optional=True),
                env_secret("SECRET_KEY_BASE", "notifications-rails", "secret_key_base"),
            ],
            res=resources(cpu="200m", memory="384Mi", limit_memory="768Mi"),
        ),
        restarts=10,
        exit_code=1,
        started=fin - s(4),
        finished=fin,
        labels={"app": "notifications", "app.kubernetes.io/part-of": "shop"},
        log=(
            "=> Booting Puma\n"
            "=> Rails 7.1.3.2 application starting in production\n"
            "=> Run `bin/rails server --help` for more startup options\n"
            "Exiting\n"
            '/app/config/initializers/mailer.rb:6:in `fetch\': key not found: "SMTP_PASSWORD" (KeyError)\n'
            "\tfrom /app/config/initializers/mailer.rb:6:in `block in <main>'\n"
            "\tfrom /usr/local/bundle/gems/activesupport-7.1.3.2/lib/active_support/lazy_load_hooks.rb:94:in `block in execute_hook'\n"
            "\tfrom /usr/local/bundle/gems/activesupport-7.1.3.2/lib/active_support/lazy_load_hooks.rb:87:in `with_execution_control'\n"
            "\tfrom /usr/local/bundle/gems/activesupport-7.1.3.2/lib/active_support/lazy_load_hooks.rb:92:in `execute_hook'\n"
            "\tfrom /usr/local/bundle/gems/activesupport-7.1.3.2/lib/active_support/lazy_load_hooks.rb:62:in `on_load'\n"
            "\tfrom /app/config/initializers/mailer.rb:3:in `<main>'\n"
            "\tfrom /usr/local/bundle/gems/railties-7.1.3.2/lib/rails/engine.rb:689:in `load'\n"
            "\tfrom /usr/local/bundle/gems/railties-7.1.3.2/lib/rails/engine.rb:689:in `block in load_config_initializer'\n"
            "\tfrom /usr/local/bundle/gems/railties-7.1.3.2/lib/rails/initializable.rb:32:in `run'\n"
            "\tfrom /usr/local/bundle/gems/railties-7.1.3.2/lib/rails/application.rb:426:in `initialize!'\n"
            "\tfrom /app/config/environment.rb:5:in `<main>'\n"
            "\tfrom config.ru:3:in `block in <main>'\n"
            "\tfrom /usr/local/bundle/gems/puma-6.4.2/lib/puma/cli.rb:75:in `run'\n"
            "\tfrom /usr/local/bundle/gems/puma-6.4.2/bin/puma:10:in `<top (required)>'\n"
            "\tfrom /usr/local/bundle/bin/puma:25:in `load'\n"
            "\tfrom /usr/local/bundle/bin/puma:25:in `<main>'\n"
        ),
    )
    sc.expect("shop", "notifications-5c8f7d6b9-zt6nq", "notifications", "missing_secret")

    # --- shop: storefront crashes on a bug; someone attached an ephemeral debugger to look.
    created = utc("2025-10-07T12:58:33Z")
    fin = utc("2025-10-07T13:39:55Z")
    front = crashloop(
        container(
            "storefront",
            f"{reg}/storefront:8.2.0",
            command=["node", "dist/main.js"],
            ports=[("http", 3000)],
            res=resources(cpu="250m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=9,
        exit_code=1,
        started=fin - s(2),
        finished=fin,
        log=(
            '{"level":"info","ts":"2025-10-07T13:39:53.410Z","msg":"storefront 8.2.0 listening","port":3000}\n'
            '{"level":"info","ts":"2025-10-07T13:39:53.455Z","msg":"precomputing featured bundles"}\n'
            "/app/dist/bundles/pricing.js:41\n"
            "    const total = items.reduce((sum, it) => sum + it.variant.price.amount, 0);\n"
            "                                                                   ^\n"
            "\n"
            "TypeError: Cannot read properties of undefined (reading 'amount')\n"
            "    at /app/dist/bundles/pricing.js:41:68\n"
            "    at Array.reduce (<anonymous>)\n"
            "    at bundleTotal (/app/dist/bundles/pricing.js:41:25)\n"
            "    at /app/dist/bundles/featured.js:18:34\n"
            "    at Array.map (<anonymous>)\n"
            "    at precomputeFeatured (/app/dist/bundles/featured.js:17:22)\n"
            "    at async main (/app/dist/main.js:63:3)\n"
            "\n"
            "Node.js v20.12.2\n"
        ),
    )
    debugger = C(
        spec={
            "name": "debugger-8vt2k",
            "image": "busybox:1.36",
            "resources": {},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
            "stdin": True,
            "tty": True,
            "targetContainerName": "storefront",
        },
        state=running(now - m(6)),
        ctype="ephemeral",
        log="",
    )
    pod = cl.pod(
        "shop",
        "storefront-6d9c8b7f5-hx3kd",
        node=n1,
        created=created,
        owner=rs("storefront", "6d9c8b7f5"),
        labels={"app": "storefront", "app.kubernetes.io/part-of": "shop"},
        containers=[front],
        ephemeral=[debugger],
    )
    cl.crash_events("shop", pod, front, first_start=created + s(2))
    cl.event(
        "shop",
        pod,
        "Pulled",
        'Container image "busybox:1.36" already present on machine',
        first=now - m(6) - s(1),
        container="debugger-8vt2k",
        ctype="ephemeral",
    )
    cl.event(
        "shop",
        pod,
        "Created",
        "Created container debugger-8vt2k",
        first=now - m(6) - s(1),
        container="debugger-8vt2k",
        ctype="ephemeral",
    )
    cl.event(
        "shop",
        pod,
        "Started",
        "Started container debugger-8vt2k",
        first=now - m(6),
        container="debugger-8vt2k",
        ctype="ephemeral",
    )
    sc.expect("shop", "storefront-6d9c8b7f5-hx3kd", "storefront", "app_crash")

    # --- data: the warehouse Postgres is killed by its liveness probe during crash recovery.
    created = utc("2025-10-07T12:31:18Z")
    fin = utc("2025-10-07T13:38:24Z")
    pg_spec = container(
        "postgresql",
        "postgres:15.6",
        ports=[("tcp-postgresql", 5432)],
        env=[
            env_secret("POSTGRES_PASSWORD", "warehouse-pg", "postgres-password"),
            env("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ],
        res=resources(cpu="2", memory="8Gi", limit_memory="8Gi", limit_cpu="2"),
        mounts=[("data", "/var/lib/postgresql/data", False)],
        liveness=exec_probe(
            ["pg_isready", "-U", "postgres", "-h", "127.0.0.1", "-p", "5432"],
            initialDelaySeconds=30,
            timeoutSeconds=5,
            failureThreshold=6,
        ),
        readiness=exec_probe(
            ["pg_isready", "-U", "postgres", "-h", "127.0.0.1", "-p", "5432"], initialDelaySeconds=5, timeoutSeconds=5
        ),
    )
    pg_c = crashloop(
        pg_spec,
        restarts=4,
        exit_code=137,
        started=fin - s(91),
        finished=fin,
        log=(
            "\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n"
            "2025-10-07 13:36:53.201 UTC [1] LOG:  starting PostgreSQL 15.6 (Debian 15.6-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit\n"
            '2025-10-07 13:36:53.202 UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432\n'
            '2025-10-07 13:36:53.209 UTC [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"\n'
            "2025-10-07 13:36:53.224 UTC [28] LOG:  database system was interrupted while in recovery at 2025-10-07 13:35:19 UTC\n"
            "2025-10-07 13:36:53.224 UTC [28] HINT:  This probably means that some data is corrupted and you will have to use the last backup for recovery.\n"
            "2025-10-07 13:36:53.641 UTC [28] LOG:  database system was not properly shut down; automatic recovery in progress\n"
            "2025-10-07 13:36:53.660 UTC [28] LOG:  redo starts at 3A/1C0012F8\n"
            "2025-10-07 13:37:03.702 UTC [28] LOG:  redo in progress, elapsed time: 10.04 s, current LSN: 3A/52A8C310\n"
            "2025-10-07 13:37:13.702 UTC [28] LOG:  redo in progress, elapsed time: 20.04 s, current LSN: 3A/8E11F0A8\n"
            "2025-10-07 13:37:23.702 UTC [28] LOG:  redo in progress, elapsed time: 30.04 s, current LSN: 3A/C7342D90\n"
            "2025-10-07 13:37:33.703 UTC [28] LOG:  redo in progress, elapsed time: 40.04 s, current LSN: 3B/0318B6E0\n"
            "2025-10-07 13:37:43.703 UTC [28] LOG:  redo in progress, elapsed time: 50.04 s, current LSN: 3B/3F0C2A18\n"
            "2025-10-07 13:37:53.704 UTC [28] LOG:  redo in progress, elapsed time: 60.04 s, current LSN: 3B/7A46E3C0\n"
            "2025-10-07 13:37:54.011 UTC [1] LOG:  received smart shutdown request\n"
        ),
    )
    pod = cl.pod(
        "data",
        "warehouse-pg-0",
        node=n2,
        created=created,
        owner=sts("warehouse-pg", "warehouse-pg-7b9f6d8c5"),
        labels={"app.kubernetes.io/name": "warehouse-pg", "app.kubernetes.io/component": "primary"},
        containers=[pg_c],
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-warehouse-pg-0"}}],
    )
    cl.crash_events("data", pod, pg_c, first_start=created + s(40))
    cl.event(
        "data",
        pod,
        "Unhealthy",
        "Liveness probe failed: 127.0.0.1:5432 - rejecting connections\n",
        first=created + m(2),
        last=fin - s(31),
        count=24,
        warning=True,
        container="postgresql",
    )
    cl.event(
        "data",
        pod,
        "Unhealthy",
        "Readiness probe failed: 127.0.0.1:5432 - rejecting connections\n",
        first=created + m(1),
        last=fin - s(31),
        count=67,
        warning=True,
        container="postgresql",
    )
    cl.event(
        "data",
        pod,
        "Killing",
        "Container postgresql failed liveness probe, will be restarted",
        first=created + m(3),
        last=fin - s(30),
        count=4,
        container="postgresql",
    )
    sc.expect("data", "warehouse-pg-0", "postgresql", "liveness_probe")

    # --- data: last night's ETL Job pod failed (restartPolicy Never): the warehouse had no DNS name.
    sched = utc("2025-10-07T02:00:00Z")
    job_name = f"etl-nightly-{int(sched.timestamp()) // 60}"
    etl = container(
        "etl",
        f"{reg}/etl:2025.10.1",
        command=["python", "-m", "etl.run", "--since", "24h"],
        env=[env("WAREHOUSE_DSN", "host=warehouse-db.data.svc port=5432 dbname=dwh user=etl")],
        res=resources(cpu="1", memory="2Gi", limit_memory="4Gi"),
    )
    etl_c = C(
        spec=etl,
        state=terminated(1, "Error", sched + s(4), sched + s(9)),
        restarts=0,
        started=False,
        log=(
            "2025-10-07 02:00:05,118 INFO etl.run: starting nightly load since=24h\n"
            "2025-10-07 02:00:05,122 INFO etl.run: extracting orders from shop-replica\n"
            "2025-10-07 02:00:08,907 INFO etl.run: extracted 84211 orders\n"
            "Traceback (most recent call last):\n"
            '  File "<frozen runpy>", line 198, in _run_module_as_main\n'
            '  File "<frozen runpy>", line 88, in _run_code\n'
            '  File "/app/etl/run.py", line 112, in <module>\n'
            "    main()\n"
            '  File "/app/etl/run.py", line 97, in main\n'
            "    with warehouse.connect(settings.WAREHOUSE_DSN) as conn:\n"
            "         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
            '  File "/app/etl/warehouse.py", line 21, in connect\n'
            "    return psycopg2.connect(dsn, connect_timeout=10)\n"
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
            '  File "/usr/local/lib/python3.12/site-packages/psycopg2/__init__.py", line 122, in connect\n'
            "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)\n"
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
            'psycopg2.OperationalError: could not translate host name "warehouse-db.data.svc" to address: Name or service not known\n'
            "\n"
        ),
    )
    pod = cl.pod(
        "data",
        f"{job_name}-7kq2d",
        node=n1,
        created=sched + s(1),
        owner=job(job_name, cronjob="etl-nightly"),
        labels={"app": "etl"},
        containers=[etl_c],
        restart_policy="Never",
        phase="Failed",
    )
    sc.expect("data", f"{job_name}-7kq2d", "etl", "dependency_unavailable")
    # The hourly job ran fine: a completed pod is not a crash.
    hourly = utc("2025-10-07T13:00:00Z")
    hjob = f"etl-hourly-{int(hourly.timestamp()) // 60}"
    cl.pod(
        "data",
        f"{hjob}-5fz8w",
        node=n3,
        created=hourly + s(1),
        owner=job(hjob, cronjob="etl-hourly"),
        labels={"app": "etl-hourly"},
        containers=[
            C(
                spec=container("etl", f"{reg}/etl:2025.10.1", command=["python", "-m", "etl.run", "--since", "1h"]),
                state=terminated(0, "Completed", hourly + s(3), hourly + s(41)),
                started=False,
                log="2025-10-07 13:00:04,002 INFO etl.run: starting hourly load since=1h\n2025-10-07 13:00:41,331 INFO etl.run: loaded 3120 rows, done\n",
            )
        ],
        restart_policy="OnFailure",
        phase="Succeeded",
    )

    # --- data: feature-builder never finishes warming up before its startup probe gives up.
    created = utc("2025-10-07T13:02:10Z")
    started = now - s(48)
    fb_spec = container(
        "feature-builder",
        f"{reg}/feature-builder:0.14.2",
        ports=[("http", 8080)],
        env=[env("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=80")],
        res=resources(cpu="2", memory="6Gi", limit_memory="8Gi"),
        startup=http_probe("/actuator/health/liveness", 8080, periodSeconds=5, failureThreshold=12),
        liveness=http_probe("/actuator/health/liveness", 8080),
        readiness=http_probe("/actuator/health/readiness", 8080),
    )
    fb_log = SPRING_BANNER + " :: Spring Boot ::                (v3.3.1)\n\n"
    fb_log += spring_line(
        started,
        402,
        "INFO",
        "feature-builder",
        "main",
        "c.a.features.FeatureBuilderApplication",
        "Starting FeatureBuilderApplication v0.14.2 using Java 21.0.3 with PID 1 (/app/app.jar started by app in /app)",
    )
    fb_log += spring_line(
        started + s(3),
        18,
        "INFO",
        "feature-builder",
        "main",
        "c.a.features.store.SnapshotLoader",
        "Loading feature store snapshot gs://acme-features/snap-2025-10-07 (12.4 GB, 311 shards)",
    )
    for i, pct in enumerate((9, 18, 27, 35, 44)):
        fb_log += spring_line(
            started + s(11 + 8 * i),
            530 + i,
            "INFO",
            "feature-builder",
            "main",
            "c.a.features.store.SnapshotLoader",
            f"snapshot load {pct}% ({pct * 311 // 100}/311 shards)",
        )
    fb = C(
        spec=fb_spec,
        state=running(started),
        last=terminated(143, "Error", started - s(72), started - s(2)),
        ready=False,
        started=False,
        restarts=6,
        log=fb_log,
    )
    pod = cl.pod(
        "data",
        "feature-builder-6f9d8c7b5-rr8kp",
        node=n3,
        created=created,
        owner=rs("feature-builder", "6f9d8c7b5"),
        labels={"app": "feature-builder"},
        containers=[fb],
    )
    cl.scheduled("data", pod, created)
    for reason, text in (
        ("Pulled", f'Container image "{fb_spec["image"]}" already present on machine'),
        ("Created", "Created container feature-builder"),
        ("Started", "Started container feature-builder"),
    ):
        cl.event("data", pod, reason, text, first=created + s(2), last=started, count=7, container="feature-builder")
    cl.event(
        "data",
        pod,
        "Unhealthy",
        'Startup probe failed: Get "http://10.48.2.31:8080/actuator/health/liveness": dial tcp 10.48.2.31:8080: connect: connection refused',
        first=created + s(7),
        last=now - s(3),
        count=79,
        warning=True,
        container="feature-builder",
    )
    cl.event(
        "data",
        pod,
        "Killing",
        "Container feature-builder failed startup probe, will be restarted",
        first=created + s(62),
        last=started - s(3),
        count=6,
        container="feature-builder",
    )
    cl.event(
        "data",
        pod,
        "BackOff",
        f"Back-off restarting failed container feature-builder in pod feature-builder-6f9d8c7b5-rr8kp_data({pod['metadata']['uid']})",
        first=created + m(4),
        last=started - s(1),
        count=9,
        warning=True,
        container="feature-builder",
    )
    sc.expect("data", "feature-builder-6f9d8c7b5-rr8kp", "feature-builder", "startup_probe")

    # --- data: ingest-router cannot create threads on the node that is out of PIDs.
    fin = utc("2025-10-07T13:39:36Z")
    crash_pod(
        sc,
        "data",
        "ingest-router-7d8c9f6b5-vz5hq",
        owner=rs("ingest-router", "7d8c9f6b5"),
        node=n4,
        created=utc("2025-10-05T09:20:11Z"),
        spec=container(
            "ingest-router",
            f"{reg}/ingest-router:1.8.3",
            ports=[("grpc", 9000)],
            res=resources(cpu="500m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=5,
        exit_code=2,
        started=fin - s(20),
        finished=fin,
        first_start=utc("2025-10-07T13:22:02Z"),
        labels={"app": "ingest-router"},
        log=(
            '{"level":"info","ts":"2025-10-07T13:39:16Z","msg":"ingest-router 1.8.3 starting","shards":64}\n'
            '{"level":"info","ts":"2025-10-07T13:39:17Z","msg":"opening shard consumers"}\n'
            "runtime: failed to create new OS thread (have 11 already; errno=11)\n"
            "runtime: may need to increase max user processes (ulimit -u)\n"
            "fatal error: newosproc\n"
            "\n"
            "runtime stack:\n"
            "runtime.throw({0x9c5c1e?, 0x0?})\n"
            "\t/usr/local/go/src/runtime/panic.go:1077 +0x5c fp=0x7ffd7a3e1f28 sp=0x7ffd7a3e1ef8 pc=0x43a39c\n"
            "runtime.newosproc(0xc000180000)\n"
            "\t/usr/local/go/src/runtime/os_linux.go:184 +0x13f fp=0x7ffd7a3e1f90 sp=0x7ffd7a3e1f28 pc=0x4376ff\n"
            "runtime.newm1(0xc000180000)\n"
            "\t/usr/local/go/src/runtime/proc.go:2392 +0xd6 fp=0x7ffd7a3e1fd0 sp=0x7ffd7a3e1f90 pc=0x441a56\n"
            "runtime.newm(0xa2b6b8?, 0x0, 0x0?)\n"
            "\t/usr/local/go/src/runtime/proc.go:2364 +0x10f fp=0x7ffd7a3e2000 sp=0x7ffd7a3e1fd0 pc=0x44196f\n"
        ),
    )
    sc.expect("data", "ingest-router-7d8c9f6b5-vz5hq", "ingest-router", "node_pressure")

    # --- monitoring: node-exporter rollout stuck on its first pod (a misspelled flag); the rest run.
    def exporter_spec(flags: list[str], tag: str) -> Obj:
        return container(
            "node-exporter",
            f"quay.io/prometheus/node-exporter:{tag}",
            args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root", *flags],
            ports=[("metrics", 9100)],
            res=resources(cpu="50m", memory="64Mi", limit_memory="128Mi"),
            mounts=[("proc", "/host/proc", True), ("sys", "/host/sys", True), ("root", "/host/root", True)],
            liveness=http_probe("/", 9100),
            readiness=http_probe("/", 9100),
        )

    for suffix, node in (("5jw8c", n2), ("hq7ts", n3), ("zz2dq", n4)):
        healthy_pod(
            sc,
            "monitoring",
            f"node-exporter-{suffix}",
            owner=ds("node-exporter", "7f9c6d5b8"),
            node=node,
            created=utc("2025-09-29T04:20:00Z"),
            spec=exporter_spec(["--collector.systemd"], "v1.7.0"),
            labels={"app.kubernetes.io/name": "node-exporter"},
            log='ts=2025-09-29T04:20:03.118Z caller=tls_config.go:313 level=info msg="Listening on" address=[::]:9100\n',
        )
    fin = utc("2025-10-07T13:38:50Z")
    crash_pod(
        sc,
        "monitoring",
        "node-exporter-8bz4k",
        owner=ds("node-exporter", "6c8d9b7f4"),
        node=n1,
        created=utc("2025-10-07T13:21:30Z"),
        spec=exporter_spec(["--collector.systemdd", "--collector.processes"], "v1.8.1"),
        restarts=8,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app.kubernetes.io/name": "node-exporter"},
        log="node_exporter: error: unknown long flag '--collector.systemdd', try --help\n",
    )
    sc.expect("monitoring", "node-exporter-8bz4k", "node-exporter", "bad_config")

    # --- monitoring: Prometheus replaying its WAL is not ready, and that is all.
    created = utc("2025-10-07T13:31:02Z")
    prom = C(
        spec=container(
            "prometheus",
            "quay.io/prometheus/prometheus:v2.53.0",
            args=[
                "--storage.tsdb.path=/prometheus",
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.retention.time=15d",
            ],
            ports=[("web", 9090)],
            res=resources(cpu="1", memory="6Gi", limit_memory="8Gi"),
            readiness=http_probe("/-/ready", 9090, periodSeconds=5, failureThreshold=3),
            startup=http_probe("/-/ready", 9090, periodSeconds=15, failureThreshold=60),
        ),
        state=running(created + s(3)),
        ready=False,
        started=True,
        log=(
            'ts=2025-10-07T13:31:05.221Z caller=main.go:680 level=info msg="Starting Prometheus Server" mode=server version="(version=2.53.0, branch=HEAD, revision=4c35b9250afefede41c5f5acd76191f90f625898)"\n'
            'ts=2025-10-07T13:31:05.512Z caller=head.go:626 level=info component=tsdb msg="Replaying on-disk memory mappable chunks if any"\n'
            'ts=2025-10-07T13:36:41.904Z caller=head.go:760 level=info component=tsdb msg="WAL segment loaded" segment=1811 maxSegment=2344\n'
            'ts=2025-10-07T13:41:12.377Z caller=dedupe.go:112 component=remote level=warn remote_name=a1b2c3 url=https://metrics.acme.internal/api/v1/push msg="Failed to send batch, retrying" err="Post \\"https://metrics.acme.internal/api/v1/push\\": context deadline exceeded"\n'
        ),
    )
    pod = cl.pod(
        "monitoring",
        "prometheus-k8s-0",
        node=n4,
        created=created,
        owner=sts("prometheus-k8s", "prometheus-k8s-7d6f9c8b5"),
        labels={"app.kubernetes.io/name": "prometheus"},
        containers=[prom],
    )
    cl.scheduled("monitoring", pod, created)
    cl.event(
        "monitoring",
        pod,
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        first=created + s(9),
        last=now - s(2),
        count=131,
        warning=True,
        container="prometheus",
    )

    kube_system(
        sc,
        [n1, n2, n3, n4],
        created=utc("2025-09-29T04:12:00Z"),
        dns_hash="7f8d8c5f9d",
        coredns="v1.11.3",
        static_proxy=True,
    )
    return sc


# =============================================================================================
# 4. EKS: references to Secrets/ConfigMaps that are missing, images that do not pull, and
#    containers the runtime cannot start.
# =============================================================================================


def config_refs() -> Scenario:
    now = utc("2025-11-18T10:30:00Z")
    nodes = [
        Node(
            name,
            ip,
            utc("2025-11-03T18:02:00Z"),
            zone=zone,
            arch=arch,
            instance_type=itype,
            kubelet="v1.32.9-eks-113cf36",
            os_image="Amazon Linux 2023.9.20251027",
            kernel=f"6.1.155-176.282.amzn2023.{'aarch64' if arch == 'arm64' else 'x86_64'}",
            runtime="containerd://1.7.27",
            pod_cidr=f"10.20.{ip.split('.')[2]}.0/24",
            cpu="4",
        )
        for name, ip, zone, arch, itype in (
            ("ip-10-20-1-14.us-east-2.compute.internal", "10.20.1.14", "us-east-2a", "amd64", "m6i.xlarge"),
            ("ip-10-20-2-201.us-east-2.compute.internal", "10.20.2.201", "us-east-2b", "amd64", "m6i.xlarge"),
            ("ip-10-20-3-57.us-east-2.compute.internal", "10.20.3.57", "us-east-2c", "amd64", "m6i.xlarge"),
            ("ip-10-20-7-88.us-east-2.compute.internal", "10.20.7.88", "us-east-2c", "arm64", "m7g.xlarge"),
        )
    ]
    cl = Cluster(now=now, namespaces=["billing", "edge"], nodes=nodes)
    sc = Scenario("config-refs", "dir", cl)
    n1, n2, n3, n_arm = (n.name for n in nodes)
    ecr = "318244191044.dkr.ecr.us-east-2.amazonaws.com"

    def config_error(
        ns: str,
        name: str,
        owner: Owner,
        node: str,
        created: datetime,
        spec: Obj,
        message: str,
        count: int,
        labels: dict[str, str],
    ) -> Obj:
        pod = cl.pod(
            ns,
            name,
            node=node,
            created=created,
            owner=owner,
            labels=labels,
            containers=[C(spec=spec, state=waiting("CreateContainerConfigError", message), started=False)],
        )
        if now - created < h(1):
            cl.scheduled(ns, pod, created)
        cname = spec["name"]
        text = message.replace("{POD}", f"{name}_{ns}({pod['metadata']['uid']})")
        cl.event(
            ns,
            pod,
            "Pulled",
            f'Container image "{spec["image"]}" already present on machine',
            first=created + s(2),
            last=now - s(14),
            count=count,
            container=cname,
        )
        cl.event(
            ns,
            pod,
            "Failed",
            f"Error: {text}",
            first=created + s(2),
            last=now - s(14),
            count=count,
            warning=True,
            container=cname,
        )
        return pod

    # --- billing: the ledger's database secret was never created in this namespace.
    config_error(
        "billing",
        "ledger-7f9c8d6b5-m2k8r",
        rs("ledger", "7f9c8d6b5"),
        n1,
        now - m(12),
        container(
            "ledger",
            f"{ecr}/billing/ledger:1.31.0",
            ports=[("http", 8080)],
            env_from=[{"secretRef": {"name": "ledger-db"}}, {"configMapRef": {"name": "ledger-settings"}}],
            res=resources(cpu="250m", memory="512Mi", limit_memory="1Gi"),
        ),
        'secret "ledger-db" not found',
        58,
        {"app": "ledger"},
    )
    sc.expect("billing", "ledger-7f9c8d6b5-m2k8r", "ledger", "missing_secret")

    # --- billing: the Stripe secret exists but has no webhook key.
    config_error(
        "billing",
        "invoicer-5b7c9d8f6-q4rtx",
        rs("invoicer", "5b7c9d8f6"),
        n2,
        now - m(26),
        container(
            "invoicer",
            f"{ecr}/billing/invoicer:4.2.0",
            ports=[("http", 8080)],
            env=[
                env_secret("STRIPE_API_KEY", "stripe", "STRIPE_API_KEY"),
                env_secret("STRIPE_WEBHOOK_SECRET", "stripe", "STRIPE_WEBHOOK_SECRET"),
            ],
        ),
        "couldn't find key STRIPE_WEBHOOK_SECRET in Secret billing/stripe",
        121,
        {"app": "invoicer"},
    )
    sc.expect("billing", "invoicer-5b7c9d8f6-q4rtx", "invoicer", "missing_secret_key")

    # --- billing: reports reads a ConfigMap key that was renamed.
    config_error(
        "billing",
        "reports-6d8f7c9b5-j6wpm",
        rs("reports", "6d8f7c9b5"),
        n3,
        now - m(41),
        container(
            "reports",
            f"{ecr}/billing/reports:2.0.3",
            env=[
                env_cm("REPORT_BUCKET", "reports-config", "report.bucket"),
                env_cm("REPORT_REGION", "reports-config", "report.region"),
            ],
        ),
        "couldn't find key report.bucket in ConfigMap billing/reports-config",
        190,
        {"app": "reports"},
    )
    sc.expect("billing", "reports-6d8f7c9b5-j6wpm", "reports", "missing_configmap_key")

    # --- billing: pdf-renderer waits forever for a fonts ConfigMap volume.
    created = now - m(9)
    pod = cl.pod(
        "billing",
        "pdf-renderer-84b6c7d9f5-ns2lv",
        node=n1,
        created=created,
        owner=rs("pdf-renderer", "84b6c7d9f5"),
        labels={"app": "pdf-renderer"},
        sandbox_ready=False,
        volumes=[{"name": "fonts", "configMap": {"name": "pdf-fonts", "defaultMode": 420}}],
        containers=[
            C(
                spec=container(
                    "pdf-renderer",
                    f"{ecr}/billing/pdf-renderer:0.9.7",
                    ports=[("http", 3000)],
                    mounts=[("fonts", "/usr/share/fonts/custom", True)],
                ),
                state=waiting("ContainerCreating"),
                started=False,
                pulled=False,
                has_container=False,
            )
        ],
    )
    cl.scheduled("billing", pod, created)
    cl.event(
        "billing",
        pod,
        "FailedMount",
        'MountVolume.SetUp failed for volume "fonts" : configmap "pdf-fonts" not found',
        first=created + s(1),
        last=now - s(47),
        count=12,
        warning=True,
    )
    cl.event(
        "billing",
        pod,
        "FailedMount",
        "Unable to attach or mount volumes: unmounted volumes=[fonts], unattached volumes=[], failed to process volumes=[]: timed out waiting for the condition",
        first=created + m(2) + s(1),
        last=now - m(1) + s(1),
        count=3,
        warning=True,
    )
    sc.expect("billing", "pdf-renderer-84b6c7d9f5-ns2lv", "pdf-renderer", "missing_configmap")

    # --- billing: a plain .NET bug.
    fin = utc("2025-11-18T10:27:12Z")
    crash_pod(
        sc,
        "billing",
        "tax-engine-7c5d8b9f6-wd8zk",
        owner=rs("tax-engine", "7c5d8b9f6"),
        node=n2,
        created=utc("2025-11-18T09:40:03Z"),
        spec=container(
            "tax-engine",
            f"{ecr}/billing/tax-engine:3.8.0",
            ports=[("http", 8080)],
            env=[env("ASPNETCORE_URLS", "http://+:8080"), env("DOTNET_ENVIRONMENT", "Production")],
            res=resources(cpu="250m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=10,
        exit_code=134,
        started=fin - s(3),
        finished=fin,
        labels={"app": "tax-engine"},
        log=(
            "warn: Microsoft.AspNetCore.DataProtection.Repositories.FileSystemXmlRepository[60]\n"
            "      Storing keys in a directory '/home/app/.aspnet/DataProtection-Keys' that may not be persisted outside of the container. Protected data will be unavailable when container is destroyed. For more information go to https://aka.ms/aspnet/dataprotectionwarning\n"
            "info: Acme.Tax.RateTableLoader[0]\n"
            "      Loading rate tables for 51 jurisdictions\n"
            "Unhandled exception. System.NullReferenceException: Object reference not set to an instance of an object.\n"
            "   at Acme.Tax.RateTableLoader.Normalize(RateTable table) in /src/Acme.Tax/RateTableLoader.cs:line 57\n"
            "   at System.Linq.Enumerable.SelectListIterator`2.Fill(ReadOnlySpan`1 source, Span`1 destination, Func`2 func)\n"
            "   at System.Linq.Enumerable.SelectListIterator`2.ToList()\n"
            "   at Acme.Tax.RateTableLoader.LoadAsync(CancellationToken ct) in /src/Acme.Tax/RateTableLoader.cs:line 33\n"
            "   at Program.<Main>$(String[] args) in /src/Acme.Tax/Program.cs:line 41\n"
            "   at Program.<Main>(String[] args)\n"
        ),
    )
    sc.expect("billing", "tax-engine-7c5d8b9f6-wd8zk", "tax-engine", "app_crash")

    # --- billing: a release-candidate tag that was never pushed.
    created = now - m(14)
    image = "ghcr.io/acme-fin/fx-rates:2.14.0-rc1"
    err = (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": failed to resolve reference '
        f'"{image}": {image}: not found'
    )
    pod = cl.pod(
        "billing",
        "fx-rates-6c9b8d7f5-tn4bq",
        node=n3,
        created=created,
        owner=rs("fx-rates", "6c9b8d7f5"),
        labels={"app": "fx-rates"},
        containers=[
            C(
                spec=container("fx-rates", image, ports=[("http", 8080)]),
                state=waiting("ImagePullBackOff", f'Back-off pulling image "{image}"'),
                started=False,
                pulled=False,
            )
        ],
    )
    cl.scheduled("billing", pod, created)
    kw: Obj = {"container": "fx-rates"}
    cl.event(
        "billing", pod, "Pulling", f'Pulling image "{image}"', first=created + s(1), last=now - m(2), count=7, **kw
    )
    cl.event(
        "billing",
        pod,
        "Failed",
        f'Failed to pull image "{image}": {err}',
        first=created + s(2),
        last=now - m(2) + s(1),
        count=7,
        warning=True,
        **kw,
    )
    cl.event(
        "billing",
        pod,
        "Failed",
        "Error: ErrImagePull",
        first=created + s(2),
        last=now - m(2) + s(1),
        count=7,
        warning=True,
        **kw,
    )
    cl.event(
        "billing",
        pod,
        "BackOff",
        f'Back-off pulling image "{image}"',
        first=created + s(3),
        last=now - s(11),
        count=52,
        **kw,
    )
    cl.event(
        "billing",
        pod,
        "Failed",
        "Error: ImagePullBackOff",
        first=created + s(3),
        last=now - s(11),
        count=52,
        warning=True,
        **kw,
    )
    sc.expect("billing", "fx-rates-6c9b8d7f5-tn4bq", "fx-rates", "image_pull")

    # --- billing: statements' init container image lives in a registry the node cannot log in to.
    created = now - m(5)
    tpl_image = "910376442215.dkr.ecr.us-east-2.amazonaws.com/shared/statement-templates:2025.11"
    err = (
        f'failed to pull and unpack image "{tpl_image}": failed to resolve reference "{tpl_image}": unexpected status '
        "from HEAD request to https://910376442215.dkr.ecr.us-east-2.amazonaws.com/v2/shared/statement-templates/manifests/2025.11: "
        "403 Forbidden"
    )
    init = C(
        spec=container(
            "fetch-templates",
            tpl_image,
            command=["cp", "-r", "/templates/.", "/work/templates/"],
            mounts=[("templates", "/work/templates", False)],
        ),
        state=waiting("ErrImagePull", err),
        started=False,
        pulled=False,
        ctype="init",
    )
    app = C(
        spec=container("statements", f"{ecr}/billing/statements:1.4.1", mounts=[("templates", "/app/templates", True)]),
        state=waiting("PodInitializing"),
        started=False,
    )
    pod = cl.pod(
        "billing",
        "statements-5d9f8c7b6-kr7vx",
        node=n2,
        created=created,
        owner=rs("statements", "5d9f8c7b6"),
        labels={"app": "statements"},
        init=[init],
        containers=[app],
        volumes=[{"name": "templates", "emptyDir": {}}],
    )
    cl.scheduled("billing", pod, created)
    kw = {"container": "fetch-templates", "ctype": "init"}
    cl.event(
        "billing", pod, "Pulling", f'Pulling image "{tpl_image}"', first=created + s(1), last=now - s(6), count=5, **kw
    )
    cl.event(
        "billing",
        pod,
        "Failed",
        f'Failed to pull image "{tpl_image}": {err}',
        first=created + s(1),
        last=now - s(5),
        count=5,
        warning=True,
        **kw,
    )
    cl.event(
        "billing",
        pod,
        "Failed",
        "Error: ErrImagePull",
        first=created + s(1),
        last=now - s(5),
        count=5,
        warning=True,
        **kw,
    )
    cl.event(
        "billing",
        pod,
        "BackOff",
        f'Back-off pulling image "{tpl_image}"',
        first=created + s(2),
        last=now - s(31),
        count=14,
        **kw,
    )
    cl.event(
        "billing",
        pod,
        "Failed",
        "Error: ImagePullBackOff",
        first=created + s(2),
        last=now - s(31),
        count=14,
        warning=True,
        **kw,
    )
    sc.expect("billing", "statements-5d9f8c7b6-kr7vx", "fetch-templates", "image_pull")

    # --- billing: a fresh pod still pulling its image is not failing.
    created = now - s(24)
    big = f"{ecr}/billing/ledger-backfill:1.31.0"
    pod = cl.pod(
        "billing",
        "ledger-backfill-59d8f7c6b4-vh5gc",
        node=n3,
        created=created,
        owner=rs("ledger-backfill", "59d8f7c6b4"),
        labels={"app": "ledger-backfill"},
        containers=[
            C(
                spec=container("ledger-backfill", big),
                state=waiting("ContainerCreating"),
                started=False,
                pulled=False,
                has_container=False,
            )
        ],
    )
    cl.scheduled("billing", pod, created)
    cl.event("billing", pod, "Pulling", f'Pulling image "{big}"', first=created + s(1), container="ledger-backfill")
    healthy_pod(
        sc,
        "billing",
        "billing-ui-7d6c5b8f9-c2xrw",
        owner=rs("billing-ui", "7d6c5b8f9"),
        node=n1,
        created=utc("2025-11-10T12:00:00Z"),
        spec=container("billing-ui", f"{ecr}/billing/billing-ui:6.0.1", ports=[("http", 8080)]),
        labels={"app": "billing-ui"},
        log="billing-ui 6.0.1 serving /usr/share/nginx/html on :8080\n",
    )

    # --- edge: the gateway's TLS secret volume is missing.
    created = now - m(7)
    pod = cl.pod(
        "edge",
        "edge-gateway-6b7c8d9f5-fw8jd",
        node=n2,
        created=created,
        owner=rs("edge-gateway", "6b7c8d9f5"),
        labels={"app": "edge-gateway"},
        sandbox_ready=False,
        volumes=[{"name": "tls", "secret": {"secretName": "edge-tls", "defaultMode": 420}}],
        containers=[
            C(
                spec=container(
                    "gateway", "haproxy:2.9.7", ports=[("https", 8443)], mounts=[("tls", "/etc/haproxy/certs", True)]
                ),
                state=waiting("ContainerCreating"),
                started=False,
                pulled=False,
                has_container=False,
            )
        ],
    )
    cl.scheduled("edge", pod, created)
    cl.event(
        "edge",
        pod,
        "FailedMount",
        'MountVolume.SetUp failed for volume "tls" : secret "edge-tls" not found',
        first=created + s(1),
        last=now - s(12),
        count=11,
        warning=True,
    )
    sc.expect("edge", "edge-gateway-6b7c8d9f5-fw8jd", "gateway", "missing_secret")

    # --- edge: nginx rejects its own configuration.
    fin = utc("2025-11-18T10:27:41Z")
    crash_pod(
        sc,
        "edge",
        "edge-nginx-5f6d7c8b9-lk4pz",
        owner=rs("edge-nginx", "5f6d7c8b9"),
        node=n1,
        created=utc("2025-11-18T10:08:19Z"),
        spec=container("nginx", "nginx:1.27.2", ports=[("http", 80)], mounts=[("conf", "/etc/nginx/conf.d", True)]),
        volumes=({"name": "conf", "configMap": {"name": "edge-nginx-conf", "defaultMode": 420}},),
        restarts=9,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app": "edge-nginx"},
        log=(
            "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n"
            "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n"
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh\n"
            "10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)\n"
            "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh\n"
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh\n"
            "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh\n"
            "/docker-entrypoint.sh: Configuration complete; ready for start up\n"
            '2025/11/18 10:27:41 [emerg] 1#1: unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:14\n'
            'nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:14\n'
        ),
    )
    sc.expect("edge", "edge-nginx-5f6d7c8b9-lk4pz", "nginx", "bad_config")

    # --- edge: authz's command names a binary the image does not have (StartError, exit 128).
    created = utc("2025-11-18T10:05:40Z")
    fin = utc("2025-11-18T10:26:02Z")
    msg = (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: "
        'unable to start container process: exec: "/app/authz": stat /app/authz: no such file or directory: unknown'
    )
    authz = crashloop(
        container(
            "authz",
            f"{ecr}/edge/authz:2.2.0",
            command=["/app/authz", "--config", "/etc/authz/config.yaml"],
            ports=[("grpc", 9191)],
        ),
        restarts=9,
        exit_code=128,
        reason="StartError",
        message=msg,
        # A container that never started reports the zero time as its start.
        started=utc("1970-01-01T00:00:00Z"),
        finished=fin,
        log="",
    )
    pod = cl.pod(
        "edge",
        "authz-7b6d5c9f8-g9t2m",
        node=n3,
        created=created,
        owner=rs("authz", "7b6d5c9f8"),
        labels={"app": "authz"},
        containers=[authz],
    )
    kw = {"container": "authz"}
    cl.event(
        "edge",
        pod,
        "Pulled",
        f'Container image "{authz.spec["image"]}" already present on machine',
        first=created + s(2),
        last=fin,
        count=10,
        **kw,
    )
    cl.event("edge", pod, "Created", "Created container authz", first=created + s(2), last=fin, count=10, **kw)
    cl.event("edge", pod, "Failed", f"Error: {msg}", first=created + s(2), last=fin, count=10, warning=True, **kw)
    cl.event(
        "edge",
        pod,
        "BackOff",
        f"Back-off restarting failed container authz in pod authz-7b6d5c9f8-g9t2m_edge({pod['metadata']['uid']})",
        first=created + s(14),
        last=now - s(8),
        count=94,
        warning=True,
        **kw,
    )
    sc.expect("edge", "authz-7b6d5c9f8-g9t2m", "authz", "start_error")

    # --- edge: an amd64-only image scheduled on the Graviton node.
    fin = utc("2025-11-18T10:28:33Z")
    crash_pod(
        sc,
        "edge",
        "geoip-5c7d9b8f6-xm3wq",
        owner=rs("geoip", "5c7d9b8f6"),
        node=n_arm,
        created=utc("2025-11-18T10:11:51Z"),
        spec=container("geoip", f"{ecr}/edge/geoip:1.6.0", ports=[("http", 8080)]),
        restarts=8,
        exit_code=255,
        started=fin,
        finished=fin,
        labels={"app": "geoip"},
        log="exec /usr/local/bin/geoip-server: exec format error\n",
    )
    sc.expect("edge", "geoip-5c7d9b8f6-xm3wq", "geoip", "start_error")

    # --- edge: varnish runs; its exporter sidecar has no command (CreateContainerError).
    created = utc("2025-11-18T09:58:12Z")
    cid = "8c1e5a7f2b9d4c3e6a1f0b7d2c9e4a5f3b8d1c6e7a2f9b0d4c3e5a1f6b7d2c8e"
    msg = f'failed to generate container "{cid}" spec: failed to generate spec: no command specified'
    varnish = healthy(
        container(
            "varnish",
            "varnish:7.6.1",
            ports=[("http", 80)],
            res=resources(cpu="500m", memory="1Gi", limit_memory="1Gi"),
        ),
        created + s(4),
        "Debug: Version: varnish-7.6.1 revision 7b0bb6d2a4b3b5a6b7bd9d4f7f6a2c5c0e1d2f3a\nDebug: Platform: Linux,6.1.155-176.282.amzn2023.x86_64,x86_64,-junix,-sdefault,-sdefault,-hcritbit\nChild launched OK\n",
    )
    exporter = C(
        spec=container("varnish-exporter", f"{ecr}/edge/varnish-exporter:1.6.1", ports=[("metrics", 9131)]),
        state=waiting("CreateContainerError", msg),
        started=False,
        has_container=False,
    )
    pod = cl.pod(
        "edge",
        "edge-cache-6f7c9d8b5-wz4xr",
        node=n1,
        created=created,
        owner=rs("edge-cache", "6f7c9d8b5"),
        labels={"app": "edge-cache"},
        containers=[varnish, exporter],
    )
    cl.event(
        "edge",
        pod,
        "Pulled",
        f'Container image "{exporter.spec["image"]}" already present on machine',
        first=created + s(3),
        last=now - s(20),
        count=141,
        container="varnish-exporter",
    )
    cl.event(
        "edge",
        pod,
        "Failed",
        f"Error: {msg}",
        first=created + s(3),
        last=now - s(20),
        count=141,
        warning=True,
        container="varnish-exporter",
    )
    sc.expect("edge", "edge-cache-6f7c9d8b5-wz4xr", "varnish-exporter", "start_error")

    # --- edge: the kubelet refuses to run an image as root under runAsNonRoot.
    config_error(
        "edge",
        "edge-proxy-6c9f7d5b8-h2kdp",
        rs("edge-proxy", "6c9f7d5b8"),
        n2,
        now - m(18),
        container(
            "envoy",
            "envoyproxy/envoy:v1.31.2",
            args=["-c", "/etc/envoy/envoy.yaml"],
            ports=[("http", 10000)],
            security={"runAsNonRoot": True, "allowPrivilegeEscalation": False},
        ),
        'container has runAsNonRoot and image will run as root (pod: "{POD}", container: envoy)',
        83,
        {"app": "edge-proxy"},
    )
    sc.expect("edge", "edge-proxy-6c9f7d5b8-h2kdp", "envoy", "unknown")
    return sc


# =============================================================================================
# 5. A kubeadm cluster: processes killed by signals, processes that exit 0, node pressure and an
#    eviction, and a pod that was OOMKilled days ago but has been healthy since.
# =============================================================================================


def batch_and_signals() -> Scenario:
    now = utc("2025-09-02T14:00:00Z")
    nodes = [
        Node(
            f"k8s-worker-0{i}",
            f"192.168.40.{20 + i}",
            utc("2025-03-14T10:00:00Z"),
            zone="rack-b",
            region="dc-muc",
            provider_id="none",
            instance_type="r640",
            cpu="32",
            memory_ki=131_895_244,
            kubelet="v1.31.4",
            os_image="Ubuntu 20.04.6 LTS",
            kernel="5.4.0-193-generic",
            runtime="containerd://1.7.20",
            pod_cidr=f"10.244.{i}.0/24",
        )
        for i in range(1, 6)
    ]
    # Worker 4 has been under memory pressure since 13:45 (a runaway cache on the host).
    nodes[3].pressure["MemoryPressure"] = utc("2025-09-02T13:45:31Z")
    cl = Cluster(now=now, namespaces=["jobs", "web", "ingest", "default"], nodes=nodes)
    sc = Scenario("batch-and-signals", "dir", cl)
    w1, w2, w3, w4, w5 = (n.name for n in nodes)
    reg = "harbor.muc.example.net/platform"

    # --- jobs: a worker wrapped in `timeout -s KILL 120`, so every run ends with SIGKILL.
    fin = utc("2025-09-02T13:57:40Z")
    st = fin - s(120)
    lines = "".join(
        f"I, [{(st + s(3 + 14 * k)).strftime('%Y-%m-%dT%H:%M:%S')}.{118412 + k * 7919:06d} #7]  INFO -- : processing batch {311 + k}/1200 "
        f"(account_id {(311 + k) * 10000}..{(311 + k) * 10000 + 9999})\n"
        for k in range(8)
    )
    crash_pod(
        sc,
        "jobs",
        "report-worker-7f8d9c6b5-p8xq4",
        owner=rs("report-worker", "7f8d9c6b5"),
        node=w1,
        created=utc("2025-09-02T12:58:03Z"),
        spec=container(
            "report-worker",
            f"{reg}/report-worker:5.3.2",
            command=["timeout", "-s", "KILL", "120", "bundle", "exec", "ruby", "bin/report_worker.rb"],
            res=resources(cpu="500m", memory="512Mi", limit_memory="1Gi"),
        ),
        restarts=9,
        exit_code=137,
        started=st,
        finished=fin,
        labels={"app": "report-worker"},
        log=f"I, [{st.strftime('%Y-%m-%dT%H:%M:%S')}.004211 #7]  INFO -- : report worker starting (queue=reports.monthly)\n"
        + lines,
    )
    sc.expect("jobs", "report-worker-7f8d9c6b5-p8xq4", "report-worker", "sigkill")

    # --- jobs: sync-worker is SIGKILLed by a watchdog sidecar that shares its PID namespace.
    created = utc("2025-09-02T11:20:44Z")
    fin = utc("2025-09-02T13:58:02Z")
    sync_c = crashloop(
        container(
            "sync",
            f"{reg}/tenant-sync:0.22.0",
            env=[env("HEARTBEAT_FILE", "/tmp/hb/heartbeat")],
            mounts=[("hb", "/tmp/hb", False)],
            res=resources(cpu="200m", memory="256Mi", limit_memory="512Mi"),
        ),
        restarts=12,
        exit_code=137,
        started=fin - s(96),
        finished=fin,
        log=(
            '{"level":"info","ts":"2025-09-02T13:56:26.118Z","msg":"tenant-sync starting","version":"0.22.0"}\n'
            '{"level":"info","ts":"2025-09-02T13:56:26.902Z","msg":"syncing","tenant":"t-0412","cursor":"2025-09-01T00:00:00Z"}\n'
            '{"level":"info","ts":"2025-09-02T13:56:31.447Z","msg":"fetching page","tenant":"t-0412","page":1}\n'
        ),
    )
    watchdog = healthy(
        container(
            "watchdog",
            "busybox:1.36",
            command=["sh", "-c", "/scripts/watchdog.sh"],
            mounts=[("hb", "/tmp/hb", True), ("scripts", "/scripts", True)],
        ),
        created + s(3),
        "watchdog: watching /tmp/hb/heartbeat (max age 90s)\n"
        "watchdog: no heartbeat for 91s; sending SIGKILL to tenant-sync (pid 7)\n"
        "watchdog: no heartbeat for 92s; sending SIGKILL to tenant-sync (pid 7)\n",
    )
    pod = cl.pod(
        "jobs",
        "sync-worker-6c7d8b9f5-bw6hs",
        node=w2,
        created=created,
        owner=rs("sync-worker", "6c7d8b9f5"),
        labels={"app": "sync-worker"},
        containers=[sync_c, watchdog],
        volumes=[
            {"name": "hb", "emptyDir": {"medium": "Memory"}},
            {"name": "scripts", "configMap": {"name": "sync-watchdog", "defaultMode": 493}},
        ],
        spec_extra={"shareProcessNamespace": True},
    )
    cl.crash_events("jobs", pod, sync_c, first_start=created + s(3))
    sc.expect("jobs", "sync-worker-6c7d8b9f5-bw6hs", "sync", "sigkill")

    # --- jobs: an export wrapped in `timeout --preserve-status 600`: SIGTERM, exit 143.
    fin = utc("2025-09-02T13:58:30Z")
    st = fin - s(600)
    crash_pod(
        sc,
        "jobs",
        "export-batch-5f6c7d8b9-mm4kd",
        owner=rs("export-batch", "5f6c7d8b9"),
        node=w3,
        created=utc("2025-09-02T12:05:10Z"),
        spec=container(
            "export",
            f"{reg}/export-batch:1.4.0",
            command=["timeout", "--preserve-status", "600", "python", "-u", "export.py"],
            res=resources(cpu="1", memory="1Gi", limit_memory="2Gi"),
        ),
        restarts=7,
        exit_code=143,
        started=st,
        finished=fin,
        labels={"app": "export-batch"},
        log="".join(
            f"{(st + s(2 + 37 * k)).strftime('%Y-%m-%d %H:%M:%S')},{(k * 131) % 1000:03d} INFO export: partition {k + 1}/64 written "
            f"({118_000 + k * 977} rows)\n"
            for k in range(16)
        ),
    )
    sc.expect("jobs", "export-batch-5f6c7d8b9-mm4kd", "export", "sigterm")

    # --- jobs: archive-writer's init container cannot chown its volume.
    created = utc("2025-09-02T13:41:12Z")
    fin = utc("2025-09-02T13:57:58Z")
    fix = crashloop(
        container(
            "fix-perms",
            "busybox:1.36",
            command=["sh", "-c", "chown -R 1000:1000 /data"],
            mounts=[("archive", "/data", False)],
            security={"runAsUser": 0},
        ),
        restarts=7,
        exit_code=1,
        started=fin,
        finished=fin,
        ctype="init",
        log="chown: /data/lost+found: Operation not permitted\nchown: /data: Operation not permitted\n",
    )
    app = C(
        spec=container("archive-writer", f"{reg}/archive-writer:2.0.0", mounts=[("archive", "/data", False)]),
        state=waiting("PodInitializing"),
        started=False,
    )
    pod = cl.pod(
        "jobs",
        "archive-writer-78c9d6f5b4-q2zxn",
        node=w5,
        created=created,
        owner=rs("archive-writer", "78c9d6f5b4"),
        labels={"app": "archive-writer"},
        init=[fix],
        containers=[app],
        volumes=[{"name": "archive", "nfs": {"server": "192.168.40.5", "path": "/export/archive"}}],
    )
    cl.scheduled("jobs", pod, created)
    cl.crash_events("jobs", pod, fix, first_start=created + s(2))
    sc.expect("jobs", "archive-writer-78c9d6f5b4-q2zxn", "fix-perms", "init_container_failed")

    # --- jobs: a janitor in CrashLoopBackOff whose last termination the kubelet no longer knows
    #     (node restarted, dead containers garbage-collected): nothing explains it.
    created = utc("2025-09-01T22:10:00Z")
    janitor = C(
        spec=container(
            "janitor", f"{reg}/queue-janitor:0.3.1", res=resources(cpu="50m", memory="64Mi", limit_memory="128Mi")
        ),
        state=waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container=janitor pod={POD}"),
        restarts=23,
        started=False,
        has_container=False,
    )
    pod = cl.pod(
        "jobs",
        "queue-janitor-5b6f7d8c9-t4kw2",
        node=w5,
        created=created,
        owner=rs("queue-janitor", "5b6f7d8c9"),
        labels={"app": "queue-janitor"},
        containers=[janitor],
    )
    cl.event(
        "jobs",
        pod,
        "BackOff",
        f"Back-off restarting failed container janitor in pod queue-janitor-5b6f7d8c9-t4kw2_jobs({pod['metadata']['uid']})",
        first=now - m(52),
        last=now - s(40),
        count=11,
        warning=True,
        container="janitor",
    )
    sc.expect("jobs", "queue-janitor-5b6f7d8c9-t4kw2", "janitor", "unknown")

    # --- jobs: the nightly cleanup CronJob completed; not a crash.
    sched = utc("2025-09-02T03:00:00Z")
    cj = f"cleanup-{int(sched.timestamp()) // 60}"
    cl.pod(
        "jobs",
        f"{cj}-8w4lf",
        node=w1,
        created=sched + s(1),
        owner=job(cj, cronjob="cleanup"),
        labels={"app": "cleanup"},
        restart_policy="Never",
        phase="Succeeded",
        containers=[
            C(
                spec=container("cleanup", f"{reg}/cleanup:1.0.2"),
                state=terminated(0, "Completed", sched + s(3), sched + s(19)),
                started=False,
                log="deleted 1832 expired exports\n",
            )
        ],
    )

    # --- web: a Spring app that a config-reloader sidecar keeps SIGTERMing.
    created = utc("2025-09-02T13:02:40Z")
    fin = utc("2025-09-02T13:57:12Z")
    st = fin - s(47)
    portal_log = SPRING_BANNER + " :: Spring Boot ::                (v3.1.12)\n\n"
    portal_log += spring_line(
        st,
        204,
        "INFO",
        "legacy-portal",
        "main",
        "com.acme.portal.PortalApplication",
        "Starting PortalApplication v11.2.0 using Java 17.0.12 with PID 14 (/app/portal.jar started by app in /app)",
    )
    portal_log += spring_line(
        st + s(19),
        771,
        "INFO",
        "legacy-portal",
        "main",
        "o.s.b.w.embedded.tomcat.TomcatWebServer",
        "Tomcat started on port(s): 8080 (http) with context path ''",
    )
    portal_log += spring_line(
        st + s(19),
        790,
        "INFO",
        "legacy-portal",
        "main",
        "com.acme.portal.PortalApplication",
        "Started PortalApplication in 20.113 seconds (process running for 21.02)",
    )
    portal_log += spring_line(
        fin - s(1),
        3,
        "INFO",
        "legacy-portal",
        "ionShutdownHook",
        "o.s.b.w.e.tomcat.GracefulShutdown",
        "Commencing graceful shutdown. Waiting for active requests to complete",
    )
    portal_log += spring_line(
        fin - s(1),
        11,
        "INFO",
        "legacy-portal",
        "tomcat-shutdown",
        "o.s.b.w.e.tomcat.GracefulShutdown",
        "Graceful shutdown complete",
    )
    portal = crashloop(
        container(
            "portal",
            f"{reg}/legacy-portal:11.2.0",
            command=["sh", "-c", "exec java -jar /app/portal.jar"],
            ports=[("http", 8080)],
            res=resources(cpu="1", memory="1Gi", limit_memory="2Gi"),
            mounts=[("config", "/config", True)],
            readiness=http_probe("/actuator/health", 8080, initialDelaySeconds=20),
        ),
        restarts=6,
        exit_code=143,
        started=st,
        finished=fin,
        log=portal_log,
    )
    reloader = healthy(
        container(
            "config-reloader",
            f"{reg}/config-reloader:0.4.0",
            args=["--watch=/config/application.yaml", "--process=java", "--signal=TERM"],
            mounts=[("config", "/config", True)],
        ),
        created + s(3),
        "2025-09-02T13:02:44Z reloader: watching /config/application.yaml\n"
        "2025-09-02T13:47:31Z reloader: /config/application.yaml changed (..2025_09_02_13_47_30.1780622907), sending SIGTERM to java (pid 14)\n"
        "2025-09-02T13:57:11Z reloader: /config/application.yaml changed (..2025_09_02_13_57_10.2291547733), sending SIGTERM to java (pid 14)\n",
    )
    pod = cl.pod(
        "web",
        "legacy-portal-6d5c8b7f9-r7nmx",
        node=w2,
        created=created,
        owner=rs("legacy-portal", "6d5c8b7f9"),
        labels={"app": "legacy-portal"},
        containers=[portal, reloader],
        volumes=[{"name": "config", "configMap": {"name": "legacy-portal", "defaultMode": 420}}],
        spec_extra={"shareProcessNamespace": True},
    )
    cl.crash_events("web", pod, portal, first_start=created + s(3))
    sc.expect("web", "legacy-portal-6d5c8b7f9-r7nmx", "portal", "sigterm")

    # --- web: nginx started without `daemon off;` forks into the background; PID 1 exits 0.
    fin = utc("2025-09-02T13:56:20Z")
    crash_pod(
        sc,
        "web",
        "static-site-5c9d8f7b6-hv2lq",
        owner=rs("static-site", "5c9d8f7b6"),
        node=w3,
        created=utc("2025-09-02T13:10:02Z"),
        spec=container("static-site", f"{reg}/static-site:2025.09.02", command=["nginx"], ports=[("http", 80)]),
        restarts=8,
        exit_code=0,
        reason="Completed",
        started=fin,
        finished=fin,
        labels={"app": "static-site"},
        log="",
    )
    sc.expect("web", "static-site-5c9d8f7b6-hv2lq", "static-site", "clean_exit")

    # --- web: a shell wrapper that backgrounds node and returns.
    fin = utc("2025-09-02T13:58:41Z")
    crash_pod(
        sc,
        "web",
        "hooks-relay-7f6b5d9c8-jd8vw",
        owner=rs("hooks-relay", "7f6b5d9c8"),
        node=w1,
        created=utc("2025-09-02T13:22:17Z"),
        spec=container(
            "hooks-relay",
            f"{reg}/hooks-relay:1.1.0",
            command=[
                "sh",
                "-c",
                'echo "hooks-relay: starting server in background"; node /app/server.js >/var/log/relay.log 2>&1 &',
            ],
            ports=[("http", 3000)],
        ),
        restarts=7,
        exit_code=0,
        reason="Completed",
        started=fin,
        finished=fin,
        labels={"app": "hooks-relay"},
        log="hooks-relay: starting server in background\n",
    )
    sc.expect("web", "hooks-relay-7f6b5d9c8-jd8vw", "hooks-relay", "clean_exit")

    # --- web: a .NET service whose cache warm-up outlasts the startup probe; it exits 0 on SIGTERM.
    created = utc("2025-09-02T13:29:55Z")
    fin = utc("2025-09-02T13:57:33Z")
    st = fin - s(62)
    qe = crashloop(
        container(
            "quote-engine",
            f"{reg}/quote-engine:7.0.4",
            ports=[("http", 8080)],
            res=resources(cpu="1", memory="1Gi", limit_memory="2Gi"),
            startup=http_probe("/healthz/startup", 8080, periodSeconds=10, failureThreshold=6),
        ),
        restarts=5,
        exit_code=0,
        reason="Completed",
        started=st,
        finished=fin,
        log=(
            "info: Microsoft.Hosting.Lifetime[14]\n"
            "      Now listening on: http://[::]:8080\n"
            "info: Acme.Quotes.Startup.PriceCacheWarmer[0]\n"
            "      Warming price cache for 18 markets\n"
            "info: Acme.Quotes.Startup.PriceCacheWarmer[0]\n"
            "      Warmed 4/18 markets (elapsed 31.7s)\n"
            "info: Acme.Quotes.Startup.PriceCacheWarmer[0]\n"
            "      Warmed 7/18 markets (elapsed 58.9s)\n"
            "info: Microsoft.Hosting.Lifetime[0]\n"
            "      Application is shutting down...\n"
        ),
    )
    pod = cl.pod(
        "web",
        "quote-engine-64f8d9c7b5-zs6pt",
        node=w5,
        created=created,
        owner=rs("quote-engine", "64f8d9c7b5"),
        labels={"app": "quote-engine"},
        containers=[qe],
    )
    cl.scheduled("web", pod, created)
    cl.crash_events("web", pod, qe, first_start=created + s(2), backoff_count=9)
    cl.event(
        "web",
        pod,
        "Unhealthy",
        "Startup probe failed: HTTP probe failed with statuscode: 503",
        first=created + s(12),
        last=fin - s(2),
        count=36,
        warning=True,
        container="quote-engine",
    )
    cl.event(
        "web",
        pod,
        "Killing",
        "Container quote-engine failed startup probe, will be restarted",
        first=created + s(63),
        last=fin - s(1),
        count=6,
        container="quote-engine",
    )
    sc.expect("web", "quote-engine-64f8d9c7b5-zs6pt", "quote-engine", "startup_probe")

    # --- web: chat-gateway loads a big snapshot before listening; liveness kills it (connection
    #     refused on the probe port is the probe's own failure, not a dependency).
    created = utc("2025-09-02T13:14:26Z")
    fin = utc("2025-09-02T13:57:51Z")
    st = fin - s(71)
    cg = crashloop(
        container(
            "chat-gateway",
            f"{reg}/chat-gateway:3.9.1",
            command=["node", "--max-old-space-size=1536", "dist/index.js"],
            ports=[("http", 3000)],
            res=resources(cpu="500m", memory="1Gi", limit_memory="2Gi"),
            liveness=http_probe("/healthz", 3000, initialDelaySeconds=10, periodSeconds=10),
        ),
        restarts=7,
        exit_code=137,
        started=st,
        finished=fin,
        log=(
            f'{{"level":"info","time":"{iso(st + s(1), 302)}","msg":"chat-gateway 3.9.1 booting"}}\n'
            f'{{"level":"info","time":"{iso(st + s(1), 410)}","msg":"loading session snapshot","keys":2104332}}\n'
            f'{{"level":"info","time":"{iso(st + s(15), 77)}","msg":"snapshot progress","loaded":512000}}\n'
            f'{{"level":"info","time":"{iso(st + s(29), 903)}","msg":"snapshot progress","loaded":1024000}}\n'
            f'{{"level":"warn","time":"{iso(st + s(40), 12)}","msg":"received SIGTERM, waiting for in-flight snapshot writes","pending":2}}\n'
        ),
    )
    pod = cl.pod(
        "web",
        "chat-gateway-5b8c7d6f9-kq3ds",
        node=w3,
        created=created,
        owner=rs("chat-gateway", "5b8c7d6f9"),
        labels={"app": "chat-gateway"},
        containers=[cg],
    )
    cl.crash_events("web", pod, cg, first_start=created + s(2))
    cl.event(
        "web",
        pod,
        "Unhealthy",
        'Liveness probe failed: Get "http://10.244.3.38:3000/healthz": dial tcp 10.244.3.38:3000: connect: connection refused',
        first=created + s(13),
        last=fin - s(49),
        count=24,
        warning=True,
        container="chat-gateway",
    )
    cl.event(
        "web",
        pod,
        "Killing",
        "Container chat-gateway failed liveness probe, will be restarted",
        first=created + s(33),
        last=fin - s(31),
        count=8,
        container="chat-gateway",
    )
    sc.expect("web", "chat-gateway-5b8c7d6f9-kq3ds", "chat-gateway", "liveness_probe")

    # --- web: api is up but not ready (pool exhausted): readiness failures alone are no crash.
    created = utc("2025-08-28T09:00:00Z")
    pod = cl.pod(
        "web",
        "api-6f5d8c9b7-xp4gn",
        node=w1,
        created=created,
        owner=rs("api", "6f5d8c9b7"),
        labels={"app": "api"},
        containers=[
            C(
                spec=container(
                    "api",
                    f"{reg}/api:12.4.0",
                    ports=[("http", 8080)],
                    readiness=http_probe("/ready", 8080),
                    liveness=http_probe("/live", 8080, initialDelaySeconds=15),
                ),
                state=running(created + s(3)),
                ready=False,
                started=True,
                log=(
                    "2025-09-02T13:58:10Z WARN  db pool exhausted (20/20 in use), /ready returns 503\n"
                    "2025-09-02T13:59:10Z WARN  db pool exhausted (20/20 in use), /ready returns 503\n"
                ),
            )
        ],
    )
    cl.event(
        "web",
        pod,
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        first=now - m(14),
        last=now - s(3),
        count=84,
        warning=True,
        container="api",
    )

    # --- ingest: a shell entrypoint reports the native thumbnailer's segfault.
    fin = utc("2025-09-02T13:56:05Z")
    crash_pod(
        sc,
        "ingest",
        "thumbnailer-6b9c8d7f5-w5mzr",
        owner=rs("thumbnailer", "6b9c8d7f5"),
        node=w5,
        created=utc("2025-09-02T12:44:40Z"),
        spec=container(
            "thumbnailer",
            f"{reg}/thumbnailer:4.1.0",
            command=["/entrypoint.sh"],
            args=["--inbox", "s3://acme-media-inbox/uploads/"],
            res=resources(cpu="1", memory="1Gi", limit_memory="2Gi"),
        ),
        restarts=11,
        exit_code=139,
        started=fin - s(6),
        finished=fin,
        labels={"app": "thumbnailer"},
        log=(
            "thumbnailer: watching s3://acme-media-inbox/uploads/\n"
            "thumbnailer: processing uploads/2025/09/02/IMG_20250902_134512.HEIC (4032x3024)\n"
            '/entrypoint.sh: line 14:     9 Segmentation fault      (core dumped) /usr/local/bin/thumbnailer "$@"\n'
        ),
    )
    sc.expect("ingest", "thumbnailer-6b9c8d7f5-w5mzr", "thumbnailer", "segfault")

    # --- ingest: the Kafka consumer on worker 4 is killed (not OOMKilled) while the node is under
    #     memory pressure; the node's own SystemOOM events name the victim.
    created = utc("2025-09-02T13:44:12Z")
    fin = utc("2025-09-02T13:57:20Z")
    st = fin - s(92)
    crash_pod(
        sc,
        "ingest",
        "clickstream-consumer-7c8f9d6b5-n2hxk",
        owner=rs("clickstream-consumer", "7c8f9d6b5"),
        node=w4,
        created=created,
        spec=container(
            "consumer",
            f"{reg}/clickstream-consumer:2.2.7",
            env=[env("KAFKA_BOOTSTRAP", "kafka-0.kafka.ingest.svc:9092"), env("JAVA_TOOL_OPTIONS", "-Xmx3g")],
        ),
        restarts=6,
        exit_code=137,
        started=st,
        finished=fin,
        labels={"app": "clickstream-consumer"},
        log=(
            "Picked up JAVA_TOOL_OPTIONS: -Xmx3g\n"
            f"{(st + s(2)).strftime('%H:%M:%S')}.204 [main] INFO  c.a.ingest.ClickstreamConsumer - Subscribed to topic(s): clickstream.v2\n"
            f"{(st + s(9)).strftime('%H:%M:%S')}.015 [main] INFO  c.a.ingest.ClickstreamConsumer - partition assignment: [clickstream.v2-4, clickstream.v2-5]\n"
            f"{(st + s(44)).strftime('%H:%M:%S')}.442 [main] INFO  c.a.ingest.ClickstreamConsumer - committed offsets up to 88412231\n"
            f"{(st + s(88)).strftime('%H:%M:%S')}.918 [main] INFO  c.a.ingest.ClickstreamConsumer - committed offsets up to 88519902\n"
        ),
    )
    sc.expect("ingest", "clickstream-consumer-7c8f9d6b5-n2hxk", "consumer", "node_pressure")
    cl.object_event(
        "default",
        kind="Node",
        api_version="v1",
        name=w4,
        reason="NodeHasInsufficientMemory",
        message=f"Node {w4} status is now: NodeHasInsufficientMemory",
        when=utc("2025-09-02T13:45:31Z"),
        component="kubelet",
        host=w4,
    )
    cl.object_event(
        "default",
        kind="Node",
        api_version="v1",
        name=w4,
        reason="SystemOOM",
        message="System OOM encountered, victim process: java, pid: 2718133",
        when=utc("2025-09-02T13:47:02Z"),
        last=fin,
        count=6,
        component="kubelet",
        host=w4,
        warning=True,
    )
    cl.object_event(
        "default",
        kind="Node",
        api_version="v1",
        name=w4,
        reason="EvictionThresholdMet",
        message="Attempting to reclaim memory",
        when=utc("2025-09-02T13:45:33Z"),
        last=now - m(1),
        count=14,
        component="kubelet",
        host=w4,
        warning=True,
    )

    # --- ingest: log-compactor was evicted from worker 2 when its disk filled up (since resolved).
    created = utc("2025-09-01T06:00:00Z")
    evicted_at = utc("2025-09-02T13:21:07Z")
    msg = (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 8Gi, available: 6872712Ki. "
        "Container log-compactor was using 11253768Ki, request is 0, has larger consumption of ephemeral-storage. "
    )
    comp_spec = container("log-compactor", f"{reg}/log-compactor:1.12.0", mounts=[("scratch", "/scratch", False)])
    pod = cl.pod(
        "ingest",
        "log-compactor-59c8d7f6b5-8rkzt",
        node=w2,
        created=created,
        owner=rs("log-compactor", "59c8d7f6b5"),
        labels={"app": "log-compactor"},
        volumes=[{"name": "scratch", "emptyDir": {}}],
        phase="Failed",
        reason="Evicted",
        message=msg,
        containers=[
            C(
                spec=comp_spec,
                state=terminated(
                    137,
                    "ContainerStatusUnknown",
                    None,
                    None,
                    message="The container could not be located when the pod was terminated",
                ),
                started=False,
                has_container=False,
            )
        ],
        conditions=[
            {
                "type": "DisruptionTarget",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-09-02T13:21:07Z",
                "reason": "TerminationByKubelet",
                "message": msg,
            },
            {
                "type": "PodReadyToStartContainers",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-09-02T13:21:40Z",
            },
            {
                "type": "Initialized",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-09-01T06:00:00Z",
            },
            {
                "type": "Ready",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-09-02T13:21:39Z",
                "reason": "PodFailed",
            },
            {
                "type": "ContainersReady",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-09-02T13:21:39Z",
                "reason": "PodFailed",
            },
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-09-01T06:00:00Z",
            },
        ],
    )
    cl.event("ingest", pod, "Evicted", msg, first=evicted_at, warning=True)
    cl.event("ingest", pod, "Killing", "Stopping container log-compactor", first=evicted_at, container="log-compactor")
    sc.expect("ingest", "log-compactor-59c8d7f6b5-8rkzt", "log-compactor", "node_pressure")
    healthy_pod(
        sc,
        "ingest",
        "log-compactor-59c8d7f6b5-zq7cm",
        owner=rs("log-compactor", "59c8d7f6b5"),
        node=w3,
        created=evicted_at + s(1),
        spec=comp_spec,
        labels={"app": "log-compactor"},
        log="log-compactor 1.12.0: compacting /scratch segments every 60s\n",
    )
    cl.object_event(
        "default",
        kind="Node",
        api_version="v1",
        name=w2,
        reason="NodeHasDiskPressure",
        message=f"Node {w2} status is now: NodeHasDiskPressure",
        when=utc("2025-09-02T13:20:50Z"),
        component="kubelet",
        host=w2,
    )
    cl.object_event(
        "default",
        kind="Node",
        api_version="v1",
        name=w2,
        reason="EvictionThresholdMet",
        message="Attempting to reclaim ephemeral-storage",
        when=utc("2025-09-02T13:20:55Z"),
        component="kubelet",
        host=w2,
        warning=True,
    )
    cl.object_event(
        "default",
        kind="Node",
        api_version="v1",
        name=w2,
        reason="NodeHasNoDiskPressure",
        message=f"Node {w2} status is now: NodeHasNoDiskPressure",
        when=utc("2025-09-02T13:24:10Z"),
        component="kubelet",
        host=w2,
    )

    # --- ingest: parser was OOMKilled three days ago and has been ready ever since.
    created = utc("2025-08-25T08:00:00Z")
    oom_at = utc("2025-08-30T02:11:48Z")
    healthy_pod(
        sc,
        "ingest",
        "parser-7d9c6b8f5-lw2jt",
        owner=rs("parser", "7d9c6b8f5"),
        node=w1,
        created=created,
        spec=container("parser", f"{reg}/parser:3.3.0", res=resources(cpu="500m", memory="768Mi", limit_memory="1Gi")),
        labels={"app": "parser"},
        restarts=1,
        last=terminated(137, "OOMKilled", created + s(4), oom_at),
        since=oom_at + s(11),
        log="2025-08-30T02:12:00Z INFO parser 3.3.0 ready, consuming raw.events\n2025-09-02T13:59:40Z INFO parsed 1200433 events in the last hour\n",
    )
    sc.expect("ingest", "parser-7d9c6b8f5-lw2jt", "parser", "oomkilled", failing=False)
    return sc


# =============================================================================================
# 6. Stream: `kubectl cluster-info dump` to stdout with the default namespaces (kube-system, then
#    the context's namespace, default). JSON-lines logs sit between the JSON documents.
# =============================================================================================


def stream_default() -> Scenario:
    now = utc("2025-06-10T07:45:00Z")
    nodes = [
        Node(
            name,
            ip,
            utc("2025-05-20T15:31:00Z"),
            zone="fra1",
            region="fra1",
            provider_id=f"digitalocean://{droplet}",
            instance_type="s-4vcpu-8gb",
            cpu="4",
            memory_ki=8_148_560,
            kubelet="v1.32.2",
            os_image="Debian GNU/Linux 12 (bookworm)",
            kernel="6.1.0-31-amd64",
            runtime="containerd://1.6.33",
            pod_cidr=f"10.244.{k}.0/25",
        )
        for k, (name, ip, droplet) in enumerate(
            (
                ("pool-main-qk3x1", "10.114.0.2", 471220931),
                ("pool-main-qk3x7", "10.114.0.3", 471220932),
                ("pool-main-qk3xr", "10.114.0.4", 471220937),
            )
        )
    ]
    cl = Cluster(now=now, namespaces=["kube-system", "default"], nodes=nodes)
    sc = Scenario("stream-default", "stream", cl)
    a, b, c = (n.name for n in nodes)
    reg = "registry.digitalocean.com/acme"

    kube_system(sc, [a, b, c], created=utc("2025-05-20T15:33:00Z"), dns_hash="6799fbcd5", coredns="v1.11.4")
    # metrics-server loops, but the kubelet lost its last termination (lastState empty) and no
    # event but BackOff survives: failing, unexplained.
    created = utc("2025-06-09T19:02:10Z")
    ms = C(
        spec=container(
            "metrics-server",
            "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
            args=[
                "--cert-dir=/tmp",
                "--secure-port=10250",
                "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-use-node-status-port",
                "--metric-resolution=15s",
            ],
            ports=[("https", 10250)],
            res=resources(cpu="100m", memory="200Mi"),
            liveness=http_probe("/livez", "https", periodSeconds=10),
            readiness=http_probe("/readyz", "https", initialDelaySeconds=20, periodSeconds=10),
            security={
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": 1000,
                "allowPrivilegeEscalation": False,
            },
        ),
        state=waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container=metrics-server pod={POD}"),
        restarts=17,
        started=False,
        has_container=False,
    )
    pod = cl.pod(
        "kube-system",
        "metrics-server-7f9c5b6d84-jq2mc",
        node=b,
        created=created,
        owner=rs("metrics-server", "7f9c5b6d84"),
        labels={"k8s-app": "metrics-server"},
        containers=[ms],
        service_account="metrics-server",
    )
    cl.event(
        "kube-system",
        pod,
        "BackOff",
        f"Back-off restarting failed container metrics-server in pod metrics-server-7f9c5b6d84-jq2mc_kube-system({pod['metadata']['uid']})",
        first=now - m(58),
        last=now - s(51),
        count=13,
        warning=True,
        container="metrics-server",
    )
    sc.expect("kube-system", "metrics-server-7f9c5b6d84-jq2mc", "metrics-server", "unknown")
    # The CSI node plugin restarted once at node boot and has been ready for days.
    booted = utc("2025-05-20T15:32:40Z")
    healthy_pod(
        sc,
        "kube-system",
        "csi-do-node-9zt4k",
        owner=ds("csi-do-node", "5c6b7d8f9"),
        node=a,
        created=booted,
        spec=container(
            "csi-do-plugin",
            "digitalocean/do-csi-plugin:v4.14.0",
            args=["--endpoint=$(CSI_ENDPOINT)", "--url=$(DIGITALOCEAN_API_URL)"],
            security={"privileged": True},
        ),
        labels={"app": "csi-do-node"},
        restarts=1,
        last=terminated(1, "Error", booted + s(2), booted + s(6)),
        since=booted + s(18),
        log='time="2025-05-20T15:32:58Z" level=info msg="server started" addr=/csi/csi.sock region=fra1 version=v4.14.0\n',
    )

    # --- default: flags the binary does not know.
    fin = utc("2025-06-10T07:41:58Z")
    crash_pod(
        sc,
        "default",
        "hello-api-6d9f8b7c5-2mdkx",
        owner=rs("hello-api", "6d9f8b7c5"),
        node=a,
        created=utc("2025-06-10T07:12:30Z"),
        spec=container(
            "hello-api",
            f"{reg}/hello-api:0.4.0",
            command=["/usr/local/bin/hello-api"],
            args=["-listen-addr=:8080", "-log-level=debug"],
            ports=[("http", 8080)],
        ),
        restarts=9,
        exit_code=2,
        started=fin,
        finished=fin,
        labels={"app": "hello-api"},
        log=(
            "flag provided but not defined: -listen-addr\n"
            "Usage of /usr/local/bin/hello-api:\n"
            "  -addr string\n"
            '    \tlisten address (default ":8080")\n'
            "  -log-level string\n"
            '    \tdebug, info, warn or error (default "info")\n'
            "  -metrics-addr string\n"
            '    \tmetrics listen address (default ":9090")\n'
        ),
    )
    sc.expect("default", "hello-api-6d9f8b7c5-2mdkx", "hello-api", "bad_config")

    # --- default: a Ruby gem missing from the image.
    fin = utc("2025-06-10T07:42:40Z")
    crash_pod(
        sc,
        "default",
        "legacy-billing-5b8d7c6f9-v9pqs",
        owner=rs("legacy-billing", "5b8d7c6f9"),
        node=b,
        created=utc("2025-06-10T06:58:02Z"),
        spec=container("legacy-billing", f"{reg}/legacy-billing:2019.4", command=["ruby", "/app/bin/billing"]),
        restarts=11,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app": "legacy-billing"},
        log=(
            "/usr/local/lib/ruby/3.3.0/bundled_gems.rb:74:in `require': cannot load such file -- nokogiri (LoadError)\n"
            "\tfrom /usr/local/lib/ruby/3.3.0/bundled_gems.rb:74:in `block (2 levels) in replace_require'\n"
            "\tfrom /app/lib/invoice_parser.rb:3:in `<top (required)>'\n"
            "\tfrom /app/bin/billing:5:in `require_relative'\n"
            "\tfrom /app/bin/billing:5:in `<main>'\n"
        ),
    )
    sc.expect("default", "legacy-billing-5b8d7c6f9-v9pqs", "legacy-billing", "missing_runtime_dependency")

    # --- default: a JVM batch that outgrows its 2Gi limit; it logs JSON lines.
    fin = utc("2025-06-10T07:43:12Z")
    st = fin - s(44)
    json_lines = "".join(
        f'{{"@timestamp":"{iso(st + s(1 + 9 * k), 118 + k)}","@version":"1","message":"rendered {k * 12000}/96000 invoices",'
        f'"logger_name":"c.a.invoices.BatchRunner","thread_name":"main","level":"INFO","heap_used_mb":{410 + k * 352}}}\n'
        for k in range(5)
    )
    crash_pod(
        sc,
        "default",
        "invoice-batch-7c6d9f8b5-h4kzn",
        owner=rs("invoice-batch", "7c6d9f8b5"),
        node=c,
        created=utc("2025-06-10T07:01:17Z"),
        spec=container(
            "invoice-batch",
            f"{reg}/invoice-batch:8.1.0",
            env=[env("JAVA_TOOL_OPTIONS", "-XX:MaxRAMPercentage=95")],
            res=resources(cpu="1", memory="1Gi", limit_memory="2Gi"),
        ),
        restarts=6,
        exit_code=137,
        reason="OOMKilled",
        started=st,
        finished=fin,
        labels={"app": "invoice-batch"},
        log="Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=95\n" + json_lines,
    )
    sc.expect("default", "invoice-batch-7c6d9f8b5-h4kzn", "invoice-batch", "oomkilled")

    # --- default: an init gate that refuses an older release against a newer schema.
    created = utc("2025-06-10T07:30:45Z")
    fin = utc("2025-06-10T07:42:21Z")
    gate = crashloop(
        container(
            "check-schema",
            f"{reg}/orders:5.9.2",
            command=["/app/orders", "check-schema", "--max-version=40"],
            env=[env_secret("DATABASE_URL", "orders-db", "url")],
        ),
        restarts=6,
        exit_code=3,
        started=fin - s(1),
        finished=fin,
        ctype="init",
        log=(
            "check-schema: connected to orders-db (PostgreSQL 16.3)\n"
            "check-schema: schema_version=41, this release supports <= 40\n"
            "check-schema: refusing to start an older release against a newer schema\n"
        ),
    )
    pod = cl.pod(
        "default",
        "orders-5d6c7b8f9-x7wq2",
        node=a,
        created=created,
        owner=rs("orders", "5d6c7b8f9"),
        labels={"app": "orders"},
        init=[gate],
        containers=[
            C(
                spec=container("orders", f"{reg}/orders:5.9.2", ports=[("http", 8080)]),
                state=waiting("PodInitializing"),
                started=False,
            )
        ],
    )
    cl.scheduled("default", pod, created)
    cl.crash_events("default", pod, gate, first_start=created + s(2))
    sc.expect("default", "orders-5d6c7b8f9-x7wq2", "check-schema", "init_container_failed")

    # --- default: exits 1 without a word.
    fin = utc("2025-06-10T07:42:03Z")
    crash_pod(
        sc,
        "default",
        "webhook-receiver-84d7c9b6f5-m8tzl",
        owner=rs("webhook-receiver", "84d7c9b6f5"),
        node=b,
        created=utc("2025-06-10T07:19:40Z"),
        spec=container("webhook-receiver", f"{reg}/webhook-receiver:1.0.3", ports=[("http", 8080)]),
        restarts=8,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app": "webhook-receiver"},
        log="",
    )
    sc.expect("default", "webhook-receiver-84d7c9b6f5-m8tzl", "webhook-receiver", "app_crash")

    # --- default: the session cache was evicted when the node ran short of memory an hour ago.
    created = utc("2025-06-10T06:02:08Z")
    msg = (
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91236Ki. "
        "Container session-cache was using 5912340Ki, request is 256Mi, has larger consumption of memory. "
    )
    pod = cl.pod(
        "default",
        "session-cache-6b5f8d9c7-rd2xv",
        node=c,
        created=created,
        owner=rs("session-cache", "6b5f8d9c7"),
        labels={"app": "session-cache"},
        phase="Failed",
        reason="Evicted",
        message=msg,
        containers=[
            C(
                spec=container(
                    "session-cache", "redis:7.2.5", ports=[("redis", 6379)], res=resources(cpu="100m", memory="256Mi")
                ),
                state=terminated(137, "Error", created + s(3), utc("2025-06-10T06:44:19Z")),
                started=False,
                log=(
                    "1:C 10 Jun 2025 06:02:11.402 * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n"
                    "1:C 10 Jun 2025 06:02:11.402 * Redis version=7.2.5, bits=64, commit=00000000, modified=0, pid=1, just started\n"
                    "1:M 10 Jun 2025 06:02:11.403 * Server initialized\n"
                    "1:M 10 Jun 2025 06:02:11.403 * Ready to accept connections tcp\n"
                ),
            )
        ],
        conditions=[
            {
                "type": "DisruptionTarget",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-06-10T06:44:18Z",
                "reason": "TerminationByKubelet",
                "message": msg,
            },
            {
                "type": "PodReadyToStartContainers",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-06-10T06:44:21Z",
            },
            {
                "type": "Initialized",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-06-10T06:02:08Z",
            },
            {
                "type": "Ready",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-06-10T06:44:20Z",
                "reason": "PodFailed",
            },
            {
                "type": "ContainersReady",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-06-10T06:44:20Z",
                "reason": "PodFailed",
            },
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2025-06-10T06:02:08Z",
            },
        ],
    )
    cl.event("default", pod, "Evicted", msg, first=utc("2025-06-10T06:44:18Z"), warning=True)
    cl.event(
        "default",
        pod,
        "Killing",
        "Stopping container session-cache",
        first=utc("2025-06-10T06:44:18Z"),
        container="session-cache",
    )
    sc.expect("default", "session-cache-6b5f8d9c7-rd2xv", "session-cache", "node_pressure")

    # --- default: healthy neighbours, one with a single readiness blip.
    healthy_pod(
        sc,
        "default",
        "docs-site-7b9f8c6d5-pq6vt",
        owner=rs("docs-site", "7b9f8c6d5"),
        node=a,
        created=utc("2025-06-01T10:00:00Z"),
        spec=container("docs", f"{reg}/docs-site:2025.06.01", ports=[("http", 8080)]),
        labels={"app": "docs-site"},
        log='{"level":"info","msg":"serving /srv/docs","addr":":8080"}\n',
    )
    pod = healthy_pod(
        sc,
        "default",
        "status-page-5c7d6b9f8-w2nxc",
        owner=rs("status-page", "5c7d6b9f8"),
        node=c,
        created=utc("2025-06-05T12:00:00Z"),
        spec=container(
            "status-page", f"{reg}/status-page:3.0.0", ports=[("http", 3000)], readiness=http_probe("/ready", 3000)
        ),
        labels={"app": "status-page"},
        log="status-page listening on :3000\n",
    )
    cl.event(
        "default",
        pod,
        "Unhealthy",
        'Readiness probe failed: Get "http://10.244.2.24:3000/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        first=now - m(21),
        count=1,
        warning=True,
        container="status-page",
    )
    return sc


# =============================================================================================
# 7. Stream: `kubectl cluster-info dump --namespaces staging` on AKS.
# =============================================================================================


def stream_staging() -> Scenario:
    now = utc("2025-12-01T16:20:00Z")
    sub = "/subscriptions/8f2c1d7e-4b6a-4e0f-9a3b-2d5c7e9f1a04/resourceGroups/mc_staging_aks-staging_westeurope"
    nodes = [
        Node(
            f"aks-nodepool1-31718369-vmss00000{k}",
            f"10.224.0.{4 + k}",
            utc("2025-11-24T08:00:00Z"),
            zone=f"westeurope-{k + 1}",
            region="westeurope",
            provider_id=f"azure://{sub}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-31718369-vmss/virtualMachines/{k}",
            instance_type="Standard_D4ds_v5",
            cpu="4",
            memory_ki=16_375_828,
            kubelet="v1.31.3",
            os_image="Ubuntu 22.04.5 LTS",
            kernel="5.15.0-1075-azure",
            runtime="containerd://1.7.23-1",
            pod_cidr=f"10.244.{k}.0/24",
        )
        for k in range(3)
    ]
    cl = Cluster(now=now, namespaces=["staging"], nodes=nodes)
    sc = Scenario("stream-staging", "stream", cl)
    a, b, c = (n.name for n in nodes)
    acr = "acmestaging.azurecr.io"

    def config_error(
        name: str, owner: Owner, node: str, created: datetime, spec: Obj, message: str, count: int
    ) -> None:
        pod = cl.pod(
            "staging",
            name,
            node=node,
            created=created,
            owner=owner,
            labels={"app": owner.deployment},
            containers=[C(spec=spec, state=waiting("CreateContainerConfigError", message), started=False)],
        )
        cl.scheduled("staging", pod, created)
        cl.event(
            "staging",
            pod,
            "Pulled",
            f'Container image "{spec["image"]}" already present on machine',
            first=created + s(2),
            last=now - s(8),
            count=count,
            container=spec["name"],
        )
        cl.event(
            "staging",
            pod,
            "Failed",
            f"Error: {message}",
            first=created + s(2),
            last=now - s(8),
            count=count,
            warning=True,
            container=spec["name"],
        )

    # --- flags-ui imports a whole ConfigMap that does not exist.
    config_error(
        "flags-ui-5f8c7d9b6-k2vhx",
        rs("flags-ui", "5f8c7d9b6"),
        a,
        now - m(16),
        container(
            "flags-ui",
            f"{acr}/flags-ui:0.8.0",
            ports=[("http", 8080)],
            env_from=[{"configMapRef": {"name": "feature-flags"}}],
        ),
        'configmap "feature-flags" not found',
        76,
    )
    sc.expect("staging", "flags-ui-5f8c7d9b6-k2vhx", "flags-ui", "missing_configmap")

    # --- search-indexer reads a key the ConfigMap does not have.
    config_error(
        "search-indexer-6c9d8b7f5-t5zmr",
        rs("search-indexer", "6c9d8b7f5"),
        b,
        now - m(33),
        container(
            "search-indexer",
            f"{acr}/search-indexer:2.1.4",
            env=[
                env_cm("ES_URL", "search-settings", "ES_URL"),
                env_cm("ES_INDEX_PREFIX", "search-settings", "ES_INDEX_PREFIX"),
            ],
        ),
        "couldn't find key ES_INDEX_PREFIX in ConfigMap staging/search-settings",
        152,
    )
    sc.expect("staging", "search-indexer-6c9d8b7f5-t5zmr", "search-indexer", "missing_configmap_key")

    # --- pricing (Spring): PRICING_REGION comes from an optional ConfigMap key; the ConfigMap is absent.
    fin = utc("2025-12-01T16:17:26Z")
    st = fin - s(5)
    plog = SPRING_BANNER + " :: Spring Boot ::                (v3.4.0)\n\n"
    plog += spring_line(
        st,
        310,
        "INFO",
        "pricing",
        "main",
        "com.acme.pricing.PricingApplication",
        "Starting PricingApplication v1.12.0 using Java 21.0.5 with PID 1 (/app/app.jar started by app in /app)",
    )
    plog += spring_line(
        st,
        313,
        "INFO",
        "pricing",
        "main",
        "com.acme.pricing.PricingApplication",
        'The following 1 profile is active: "staging"',
    )
    plog += spring_line(
        st + s(4),
        120,
        "WARN",
        "pricing",
        "main",
        "ConfigServletWebServerApplicationContext",
        "Exception encountered during context initialization - cancelling refresh attempt: org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'regionalPriceService': Injection of autowired dependencies failed",
    )
    plog += spring_line(
        st + s(4), 201, "ERROR", "pricing", "main", "o.s.boot.SpringApplication", "Application run failed"
    )
    plog += (
        "\n"
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'regionalPriceService': Injection of autowired dependencies failed\n"
        "\tat org.springframework.beans.factory.annotation.AutowiredAnnotationBeanPostProcessor.postProcessProperties(AutowiredAnnotationBeanPostProcessor.java:515)\n"
        "\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory.populateBean(AbstractAutowireCapableBeanFactory.java:1439)\n"
        "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:335)\n"
        "\tat com.acme.pricing.PricingApplication.main(PricingApplication.java:10)\n"
        "Caused by: org.springframework.util.PlaceholderResolutionException: Could not resolve placeholder 'PRICING_REGION' in value \"${PRICING_REGION}\"\n"
        "\tat org.springframework.util.PlaceholderResolutionException.withValue(PlaceholderResolutionException.java:81)\n"
        "\tat org.springframework.util.PlaceholderParser$ParsedValue.resolve(PlaceholderParser.java:423)\n"
        "\tat org.springframework.util.PlaceholderParser.replacePlaceholders(PlaceholderParser.java:128)\n"
        "\tat org.springframework.beans.factory.support.AbstractBeanFactory.resolveEmbeddedValue(AbstractBeanFactory.java:971)\n"
        "\t... 18 common frames omitted\n"
        "\n"
    )
    crash_pod(
        sc,
        "staging",
        "pricing-7d8f6c9b5-q9rlw",
        owner=rs("pricing", "7d8f6c9b5"),
        node=c,
        created=utc("2025-12-01T15:47:02Z"),
        spec=container(
            "pricing",
            f"{acr}/pricing:1.12.0",
            ports=[("http", 8080)],
            env=[
                env("SPRING_PROFILES_ACTIVE", "staging"),
                env_cm("PRICING_REGION", "pricing-settings", "region", optional=True),
                env_cm("PRICING_CURRENCY", "pricing-settings", "currency", optional=True),
            ],
            res=resources(cpu="500m", memory="768Mi", limit_memory="1Gi"),
        ),
        restarts=8,
        exit_code=1,
        started=st,
        finished=fin,
        labels={"app": "pricing"},
        log=plog,
    )
    sc.expect("staging", "pricing-7d8f6c9b5-q9rlw", "pricing", "missing_configmap")

    # --- profile-svc's init container waits for Vault, whose DNS name does not resolve.
    created = utc("2025-12-01T16:01:40Z")
    fin = utc("2025-12-01T16:17:58Z")
    tries = "".join(
        f"curl: (6) Could not resolve host: vault.security.svc.cluster.local\nwaiting for vault ({i}/10)\n"
        for i in range(1, 11)
    )
    wait = crashloop(
        container(
            "wait-for-vault",
            "curlimages/curl:8.11.0",
            command=[
                "sh",
                "-c",
                'for i in $(seq 1 10); do curl -sSf -m 3 http://vault.security.svc.cluster.local:8200/v1/sys/health && exit 0; echo "waiting for vault ($i/10)"; sleep 3; done; echo "vault not reachable after 10 attempts, giving up"; exit 1',
            ],
        ),
        restarts=5,
        exit_code=1,
        started=fin - s(31),
        finished=fin,
        ctype="init",
        log=tries + "vault not reachable after 10 attempts, giving up\n",
    )
    pod = cl.pod(
        "staging",
        "profile-svc-6b7c5d8f9-zw4kp",
        node=a,
        created=created,
        owner=rs("profile-svc", "6b7c5d8f9"),
        labels={"app": "profile-svc"},
        init=[wait],
        containers=[
            C(
                spec=container("profile-svc", f"{acr}/profile-svc:3.2.0", ports=[("http", 8080)]),
                state=waiting("PodInitializing"),
                started=False,
            )
        ],
    )
    cl.scheduled("staging", pod, created)
    cl.crash_events("staging", pod, wait, first_start=created + s(2))
    sc.expect("staging", "profile-svc-6b7c5d8f9-zw4kp", "wait-for-vault", "dependency_unavailable")

    # --- web-bff compiles its GraphQL operations longer than the startup probe allows.
    created = utc("2025-12-01T15:58:30Z")
    fin = utc("2025-12-01T16:16:52Z")
    st = fin - s(61)
    bff = crashloop(
        container(
            "web-bff",
            f"{acr}/web-bff:5.0.0",
            command=["node", "dist/server.js"],
            ports=[("http", 4000)],
            startup=http_probe("/health", 4000, periodSeconds=10, failureThreshold=6, timeoutSeconds=2),
        ),
        restarts=6,
        exit_code=143,
        started=st,
        finished=fin,
        log=(
            f'{{"level":"info","time":"{iso(st + s(1), 10)}","msg":"web-bff 5.0.0 starting"}}\n'
            f'{{"level":"info","time":"{iso(st + s(1), 52)}","msg":"compiling persisted GraphQL operations","count":1204}}\n'
            f'{{"level":"info","time":"{iso(st + s(31), 880)}","msg":"compiled operations","done":590}}\n'
        ),
    )
    pod = cl.pod(
        "staging",
        "web-bff-59f7c8d6b4-hm2tx",
        node=b,
        created=created,
        owner=rs("web-bff", "59f7c8d6b4"),
        labels={"app": "web-bff"},
        containers=[bff],
    )
    cl.scheduled("staging", pod, created)
    cl.crash_events("staging", pod, bff, first_start=created + s(2))
    cl.event(
        "staging",
        pod,
        "Unhealthy",
        'Startup probe failed: Get "http://10.244.1.41:4000/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        first=created + s(12),
        last=fin - s(2),
        count=42,
        warning=True,
        container="web-bff",
    )
    cl.event(
        "staging",
        pod,
        "Killing",
        "Container web-bff failed startup probe, will be restarted",
        first=created + s(63),
        last=fin - s(1),
        count=7,
        container="web-bff",
    )
    sc.expect("staging", "web-bff-59f7c8d6b4-hm2tx", "web-bff", "startup_probe")

    # --- orders: a nil pointer in Go (exit 2, SIGSEGV in the text but not a signal death).
    fin = utc("2025-12-01T16:18:09Z")
    crash_pod(
        sc,
        "staging",
        "orders-84c6d9f7b5-b7jxq",
        owner=rs("orders", "84c6d9f7b5"),
        node=c,
        created=utc("2025-12-01T15:30:11Z"),
        spec=container(
            "orders",
            f"{acr}/orders:6.0.0-beta.3",
            ports=[("http", 8080)],
            env=[env("ORDERS_DB_URL", "postgres://orders@orders-db.staging.svc:5432/orders")],
        ),
        restarts=12,
        exit_code=2,
        started=fin - s(1),
        finished=fin,
        labels={"app": "orders"},
        log=(
            '{"time":"2025-12-01T16:18:08.611Z","level":"INFO","msg":"orders starting","version":"6.0.0-beta.3"}\n'
            '{"time":"2025-12-01T16:18:08.902Z","level":"INFO","msg":"connected to database","host":"orders-db.staging.svc"}\n'
            "panic: runtime error: invalid memory address or nil pointer dereference\n"
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x8f2c41]\n"
            "\n"
            "goroutine 1 [running]:\n"
            "github.com/acme/orders/internal/outbox.(*Relay).Start(0x0, {0xb3e2a0, 0xc000120000})\n"
            "\t/src/internal/outbox/relay.go:77 +0x21\n"
            "main.main()\n"
            "\t/src/cmd/orders/main.go:54 +0x3c5\n"
        ),
    )
    sc.expect("staging", "orders-84c6d9f7b5-b7jxq", "orders", "app_crash")

    # --- ssr-frontend: production install skipped a runtime dependency.
    fin = utc("2025-12-01T16:17:40Z")
    crash_pod(
        sc,
        "staging",
        "ssr-frontend-7b9d6c8f5-c4nwk",
        owner=rs("ssr-frontend", "7b9d6c8f5"),
        node=a,
        created=utc("2025-12-01T15:52:19Z"),
        spec=container(
            "ssr-frontend", f"{acr}/ssr-frontend:12.3.0", command=["node", "server.js"], ports=[("http", 3000)]
        ),
        restarts=9,
        exit_code=1,
        started=fin,
        finished=fin,
        labels={"app": "ssr-frontend"},
        log=(
            "node:internal/modules/cjs/loader:1228\n"
            "  throw err;\n"
            "  ^\n"
            "\n"
            "Error: Cannot find module 'express'\n"
            "Require stack:\n"
            "- /app/server.js\n"
            "    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)\n"
            "    at Module._load (node:internal/modules/cjs/loader:1051:27)\n"
            "    at Module.require (node:internal/modules/cjs/loader:1311:19)\n"
            "    at require (node:internal/modules/helpers:179:18)\n"
            "    at Object.<anonymous> (/app/server.js:3:17)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1469:14) {\n"
            "  code: 'MODULE_NOT_FOUND',\n"
            "  requireStack: [ '/app/server.js' ]\n"
            "}\n"
            "\n"
            "Node.js v20.18.1\n"
        ),
    )
    sc.expect("staging", "ssr-frontend-7b9d6c8f5-c4nwk", "ssr-frontend", "missing_runtime_dependency")

    # --- catalog-sync: an image reference with upper-case letters is not a reference.
    created = now - m(11)
    bad = f"{acr}/Catalog/catalog-sync:1.4.0"
    msg = (
        f'Failed to apply default image tag "{bad}": couldn\'t parse image name "{bad}": invalid reference format: '
        "repository name (Catalog/catalog-sync) must be lowercase"
    )
    pod = cl.pod(
        "staging",
        "catalog-sync-5d7f9c6b8-r8vzq",
        node=b,
        created=created,
        owner=rs("catalog-sync", "5d7f9c6b8"),
        labels={"app": "catalog-sync"},
        containers=[
            C(
                spec=container("catalog-sync", bad),
                state=waiting("InvalidImageName", msg),
                started=False,
                pulled=False,
                has_container=False,
            )
        ],
    )
    cl.scheduled("staging", pod, created)
    cl.event(
        "staging",
        pod,
        "InspectFailed",
        msg,
        first=created + s(1),
        last=now - s(13),
        count=54,
        warning=True,
        container="catalog-sync",
    )
    cl.event(
        "staging",
        pod,
        "Failed",
        "Error: InvalidImageName",
        first=created + s(1),
        last=now - s(13),
        count=54,
        warning=True,
        container="catalog-sync",
    )
    sc.expect("staging", "catalog-sync-5d7f9c6b8-r8vzq", "catalog-sync", "image_pull")

    # --- healthy neighbours and a finished seeding Job.
    healthy_pod(
        sc,
        "staging",
        "api-gateway-6d8b9c7f5-n5qkt",
        owner=rs("api-gateway", "6d8b9c7f5"),
        node=c,
        created=utc("2025-11-28T09:00:00Z"),
        spec=container("api-gateway", f"{acr}/api-gateway:2.9.0", ports=[("http", 8080)]),
        labels={"app": "api-gateway"},
        log='{"level":"info","msg":"api-gateway listening","port":8080}\n{"level":"warn","msg":"upstream pricing has no ready endpoints"}\n',
    )
    cl.pod(
        "staging",
        "db-seed-x8k2p",
        node=a,
        created=utc("2025-12-01T15:30:00Z"),
        owner=job("db-seed"),
        labels={"app": "db-seed"},
        restart_policy="Never",
        phase="Succeeded",
        containers=[
            C(
                spec=container("seed", f"{acr}/db-seed:2025.12.01"),
                state=terminated(0, "Completed", utc("2025-12-01T15:30:03Z"), utc("2025-12-01T15:31:12Z")),
                started=False,
                log="seeded 412 products, 18 warehouses\n",
            )
        ],
    )
    return sc


ALL = (
    payments_outage,
    runbook_production,
    platform_mixed,
    config_refs,
    batch_and_signals,
    stream_default,
    stream_staging,
)
