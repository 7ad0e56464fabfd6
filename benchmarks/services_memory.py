"""Memory of dependency chains at scale: 10k Services and their EndpointSlices in the index.

Target (issue 14): 10k Services add at most 10 MiB. Measured with tracemalloc around decoding the
API objects (as bytes, the way a LIST page delivers them) into the index, so the figure is what
stays resident after the JSON is gone.
"""

from __future__ import annotations

import gc
import json
import tracemalloc

from crashloop_exporter.deps.tracker import DependencyTracker

SERVICES = 10_000
TARGET_MIB = 10.0


class _NoPods:
    def pod_workload(self, namespace: str, pod: str) -> None:
        del namespace, pod  # the tracker's pod view protocol; this benchmark has no pods
        return None

    def pod_findings(self, namespace: str, pod: str) -> tuple[()]:
        del namespace, pod  # the tracker's pod view protocol; this benchmark has no pods
        return ()


def objects(i: int) -> tuple[bytes, bytes]:
    ns, name = f"ns-{i % 200}", f"svc-{i}"
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": ns, "uid": f"u-{i}", "resourceVersion": str(i),
                        "labels": {"app": name}, "annotations": {"note": "x" * 200}},
           "spec": {"type": "ClusterIP", "clusterIP": f"10.96.{i // 250}.{i % 250}",
                    "clusterIPs": [f"10.96.{i // 250}.{i % 250}"], "selector": {"app": name},
                    "ports": [{"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}]}}
    sl = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
          "metadata": {"name": f"{name}-abcde", "namespace": ns, "labels": {"kubernetes.io/service-name": name}},
          "addressType": "IPv4",
          "endpoints": [{"addresses": [f"10.244.{i // 250}.{(i + r) % 250}"], "conditions": {"ready": True},
                         "targetRef": {"kind": "Pod", "name": f"{name}-{r}", "namespace": ns}} for r in range(2)],
          "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
    return json.dumps(svc).encode(), json.dumps(sl).encode()


def main() -> None:
    raw = [objects(i) for i in range(SERVICES)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracker = DependencyTracker(view=_NoPods())
    for svc, sl in raw:
        tracker.apply("services", "ADDED", svc)
        tracker.apply("endpointslices", "ADDED", sl)
    gc.collect()
    used = (tracemalloc.get_traced_memory()[0] - before) / 2**20
    tracemalloc.stop()
    ok = used <= TARGET_MIB
    print(f"{SERVICES} services + slices: {used:.2f} MiB resident (target <= {TARGET_MIB:.0f} MiB) "
          f"{'OK' if ok else 'OVER'}")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
