"""One cluster of dependency chains, as Pods, Services and logs (shared by the dump and sim tests).

production/api      -> postgres-service.production.svc.cluster.local:5432 (FQDN) -> StatefulSet/postgres, OOMKilled
production/worker   -> cache:6379 (short name, same namespace)                   -> Deployment/cache, healthy
shop/ingest         -> kafka-0.kafka-headless.data.svc.cluster.local (headless)  -> StatefulSet/kafka, missing_secret
production/reporter -> 10.96.20.7:8080 (bare ClusterIP) -> Deployment/orders -> auth.production:8443 -> Deployment/auth,
                       missing_secret (a two-hop chain)
production/mailer   -> smtp.example.com (outside the cluster)                    -> dependency null
"""

from __future__ import annotations

from pathlib import Path

from tests.cli import dumps as k
from tests.support import kubeobjects as ko
from tests.support.kubeobjects import Obj

CRASHED = ko.terminated(exit_code=1, reason="Error", started="2024-03-15T02:14:20Z", finished="2024-03-15T02:14:22Z")
OOM = ko.terminated(exit_code=137, reason="OOMKilled", started="2024-03-15T02:14:00Z", finished="2024-03-15T02:14:21Z")

LOGS = {
    "api": "Error: unable to connect to PostgreSQL at postgres-service.production.svc.cluster.local:5432\n"
    "dial tcp 10.96.10.5:5432: connect: connection refused\nfailed to initialise application, exiting\n",
    "worker": "redis.exceptions.ConnectionError: Error 111 connecting to cache:6379. Connection refused.\n",
    "ingest": "WARN [AdminClient clientId=adminclient-1] Connection to node -1 "
    "(kafka-0.kafka-headless.data.svc.cluster.local/10.244.3.9:9092) could not be established. "
    "Broker may not be available.\nERROR fatal: connection refused, exiting\n",
    "reporter": "Error: connect ECONNREFUSED 10.96.20.7:8080\n    at TCPConnectWrapper.afterConnect\n",
    "orders": "2024/03/15 02:14:21 dial tcp auth.production:8443: connect: connection refused\n",
    "mailer": "dial tcp: lookup smtp.example.com on 10.96.0.10:53: no such host\n",
}
"""The crashed run's log of each dependent (container name = app name)."""


def _pod(name: str, ns: str, app: str, ip: str, *, status: Obj, owner: tuple[str, str] | None = None,
         hostname: str = "", subdomain: str = "") -> Obj:
    p = k.pod(name, namespace=ns, containers=[k.container(app)], statuses=[status], owner=owner, labels={"app": app},
              pod_ip=ip)
    if hostname:
        p["spec"]["hostname"] = hostname
        p["spec"]["subdomain"] = subdomain
    return p


def _crashing(app: str) -> Obj:
    return k.status(app, restarts=4, waiting=("CrashLoopBackOff", f"back-off 1m20s restarting failed container={app}"),
                    last=CRASHED)


def service(name: str, ns: str, *, selector: dict[str, str] | None, cluster_ip: str = "", port: int = 80,
            external_name: str = "") -> Obj:
    spec: Obj = {"ports": [{"port": port, "protocol": "TCP"}]}
    if external_name:
        spec.update(type="ExternalName", externalName=external_name)
    else:
        spec.update(type="ClusterIP", clusterIP=cluster_ip or "None", clusterIPs=[cluster_ip or "None"])
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": ko.object_meta(name, namespace=ns, uid=ko.uid("service", ns, name), resource_version="77",
                                       created="2024-03-01T00:00:00Z"),
            "spec": spec, "status": {"loadBalancer": {}}}


def pods() -> list[Obj]:
    running = "2024-03-15T01:00:00Z"
    return [
        _pod("api-7d4b9c-xkp2z", "production", "api", "10.244.1.10", status=_crashing("api")),
        _pod("postgres-0", "production", "postgres", "10.244.1.20", owner=("StatefulSet", "postgres"),
             status=k.status("postgres", restarts=5, waiting=("CrashLoopBackOff", "back-off"), last=OOM)),
        _pod("worker-6c9f8d7b5-h2qzr", "production", "worker", "10.244.1.11", status=_crashing("worker")),
        _pod("cache-5f7d8-abcde", "production", "cache", "10.244.1.30",
             status=k.status("cache", ready=True, running_since=running)),
        _pod("ingest-5c8d9-qwert", "shop", "ingest", "10.244.2.10", status=_crashing("ingest")),
        _pod("kafka-0", "data", "kafka", "10.244.3.9", owner=("StatefulSet", "kafka"), hostname="kafka-0",
             subdomain="kafka-headless",
             status=k.status("kafka", waiting=("CreateContainerConfigError", 'secret "kafka-jaas" not found'))),
        _pod("reporter-7b6c5-zxcvb", "production", "reporter", "10.244.1.12", status=_crashing("reporter")),
        _pod("orders-8d7f6-asdfg", "production", "orders", "10.244.1.40", status=_crashing("orders")),
        _pod("auth-9e8d7-hjklm", "production", "auth", "10.244.1.50",
             status=k.status("auth", waiting=("CreateContainerConfigError", 'secret "auth-tls" not found'))),
        _pod("mailer-4a3b2-poiuy", "production", "mailer", "10.244.1.13", status=_crashing("mailer")),
    ]


def services() -> list[Obj]:
    return [
        service("postgres-service", "production", selector={"app": "postgres"}, cluster_ip="10.96.10.5", port=5432),
        service("cache", "production", selector={"app": "cache"}, cluster_ip="10.96.10.6", port=6379),
        service("kafka-headless", "data", selector={"app": "kafka"}, port=9092),
        service("orders", "production", selector={"app": "orders"}, cluster_ip="10.96.20.7", port=8080),
        service("auth", "production", selector={"app": "auth"}, cluster_ip="10.96.20.8", port=8443),
        # Resolve to nothing rather than a guess: no selector, and an alias out of the cluster.
        service("legacy-db", "production", selector=None, cluster_ip="10.96.30.1", port=5432),
        service("smtp", "production", selector=None, external_name="smtp.example.com"),
    ]


def logs() -> dict[tuple[str, str, str], str]:
    return {(p["metadata"]["namespace"], p["metadata"]["name"], app): LOGS[app]
            for p in pods() if (app := p["metadata"]["labels"]["app"]) in LOGS}


def write_dump(root: Path) -> Path:
    """These chains as a `cluster-info dump --output-directory=root`, with each namespace's services."""
    k.write_dump_dir(root, nodes=[k.node("node-a")], pods=pods(), logs=logs())
    for ns in {s["metadata"]["namespace"] for s in services()}:
        items = [s for s in services() if s["metadata"]["namespace"] == ns]
        (root / ns).mkdir(exist_ok=True)
        (root / ns / "services.json").write_text(k.kubectl_json(ko.typed_list("ServiceList", items)))
    return root


EXPECTED: dict[str, Obj | None] = {
    "api": {"target": "postgres-service.production.svc.cluster.local:5432", "namespace": "production",
            "service": "postgres-service", "workload_kind": "StatefulSet", "workload": "postgres",
            "failing": True, "cause": "oomkilled", "root": None},
    "worker": {"target": "cache:6379", "namespace": "production", "service": "cache",
               "workload_kind": "Deployment", "workload": "cache", "failing": False, "cause": None, "root": None},
    "ingest": {"target": "kafka-0.kafka-headless.data.svc.cluster.local:9092", "namespace": "data",
               "service": "kafka-headless", "workload_kind": "StatefulSet", "workload": "kafka", "failing": True,
               "cause": "missing_secret", "root": None},
    "reporter": {"target": "10.96.20.7:8080", "namespace": "production", "service": "orders",
                 "workload_kind": "Deployment", "workload": "orders", "failing": True,
                 "cause": "dependency_unavailable",
                 "root": {"target": "auth.production:8443", "namespace": "production", "service": "auth",
                          "workload_kind": "Deployment", "workload": "auth", "failing": True,
                          "cause": "missing_secret", "root": None}},
    "orders": {"target": "auth.production:8443", "namespace": "production", "service": "auth",
               "workload_kind": "Deployment", "workload": "auth", "failing": True, "cause": "missing_secret",
               "root": None},
    "mailer": None,
}
"""The `dependency` each dependent's finding must carry, offline and live alike."""
