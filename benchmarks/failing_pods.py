"""Raw Pod JSON of containers stuck in CrashLoopBackOff, for the `/metrics` render benchmark.

The simulator's filler pods are healthy, so they produce no `crashloop_container_failing` series;
the render benchmark needs thousands of failing containers instead. These pods have the
kubelet's shape (owner references, a defaulted spec, container statuses with lastState) so they
take the same parse/classify path as real ones, and their exit codes vary so the series spread
over several causes the way a bad day in a real cluster does.
"""

from __future__ import annotations

import time
from typing import Any

PODS_PER_NAMESPACE = 500
PODS_PER_DEPLOYMENT = 2
FAILURES: tuple[tuple[int, str], ...] = (
    (1, "Error"),
    (137, "OOMKilled"),
    (139, "Error"),
    (2, "Error"),
    (127, "Error"),
    (143, "Error"),
)
"""(exit code, terminated reason) cycled over the pods: app crash, OOM kill, segfault, ..."""
NODES = ("sw-infrarunbook-01", "sw-infrarunbook-02", "sw-infrarunbook-03", "sw-infrarunbook-04")
"""Nodes the simulator always has (its base cluster), so node lookups find something."""


def _ts(wall: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall))


def failing_pod(index: int, *, restarts: int = 5, now: float) -> dict[str, Any]:
    """Pod number `index`: one container in CrashLoopBackOff after `restarts` restarts."""
    ns = f"crash-{index // PODS_PER_NAMESPACE:03d}"
    deployment = f"api-{index // PODS_PER_DEPLOYMENT:05d}"
    rs = f"{deployment}-7d9f4b8c6"
    name = f"{rs}-{index:05d}"
    exit_code, reason = FAILURES[index % len(FAILURES)]
    created, finished = now - 3600, now - 20
    image = "registry.example.com/shop/api:2.3.1"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{rs}-",
            "namespace": ns,
            "uid": f"bench0000-0000-4000-8000-{index:012x}",
            "creationTimestamp": _ts(created),
            "labels": {"app": deployment, "pod-template-hash": "7d9f4b8c6"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": f"rs-{deployment}",
                 "controller": True, "blockOwnerDeletion": True}
            ],
        },
        "spec": {
            "nodeName": NODES[index % len(NODES)],
            "restartPolicy": "Always",
            "containers": [
                {
                    "name": "api",
                    "image": image,
                    "env": [{"name": "LOG_LEVEL", "value": "info"}],
                    "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                }
            ],
        },
        "status": {
            "phase": "Running",
            "startTime": _ts(created),
            "containerStatuses": [
                {
                    "name": "api",
                    "image": image,
                    "imageID": f"{image}@sha256:{'ab' * 32}",
                    "containerID": f"containerd://{index:064x}",
                    "ready": False,
                    "started": False,
                    "restartCount": restarts,
                    "state": {"waiting": {"reason": "CrashLoopBackOff",
                                          "message": f"back-off 5m0s restarting failed container=api pod={name}"}},
                    "lastState": {"terminated": {"exitCode": exit_code, "reason": reason,
                                                 "startedAt": _ts(finished - 10), "finishedAt": _ts(finished),
                                                 "containerID": f"containerd://{index:064x}"}},
                }
            ],
        },
    }
