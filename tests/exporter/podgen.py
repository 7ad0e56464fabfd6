"""Builds raw Pod JSON in the kubelet's shape, for state and collector tests."""

from __future__ import annotations

import copy
from typing import Any


def pod(
    name: str,
    *,
    namespace: str = "production",
    uid: str | None = None,
    restarts: int = 0,
    waiting: tuple[str, str] | None = None,
    last_exit: tuple[int, str] | None = None,
    ready: bool = False,
    created: str = "2024-01-01T00:00:00Z",
    finished: str = "2024-01-01T00:10:00Z",
    container: str = "api",
    deployment: str = "api",
    env: list[dict[str, Any]] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    status: dict[str, Any] = {"name": container, "restartCount": restarts, "ready": ready, "image": "api:1"}
    if waiting is not None:
        status["state"] = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
    else:
        status["state"] = {"running": {"startedAt": finished}}
    if last_exit is not None:
        status["lastState"] = {
            "terminated": {
                "exitCode": last_exit[0],
                "reason": last_exit[1],
                "startedAt": "2024-01-01T00:09:50Z",
                "finishedAt": finished,
            }
        }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{name}",
            "creationTimestamp": created,
            "labels": {"pod-template-hash": "7d9f4b8c6"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{deployment}-7d9f4b8c6", "controller": True}
            ],
        },
        "spec": {
            "nodeName": "node-1",
            "restartPolicy": "Always",
            "containers": [{"name": container, "image": "api:1", "env": env or []}],
        },
        "status": {"phase": phase, "containerStatuses": [status]},
    }


def crashing(name: str, restarts: int, *, exit_code: int = 1, reason: str = "Error", **kw: Any) -> dict[str, Any]:
    """A container in CrashLoopBackOff after `restarts` restarts."""
    return pod(
        name,
        restarts=restarts,
        waiting=("CrashLoopBackOff", f"back-off 40s restarting failed container={kw.get('container', 'api')}"),
        last_exit=(exit_code, reason),
        **kw,
    )


def many_containers(name: str, count: int, restarts: int) -> dict[str, Any]:
    """Pod `name` with `count` containers c0..c{count-1}, all in CrashLoopBackOff after `restarts`."""
    base = crashing(name, restarts)
    spec0 = base["spec"]["containers"][0]
    status0 = base["status"]["containerStatuses"][0]
    specs, statuses = [], []
    for i in range(count):
        spec = copy.deepcopy(spec0)
        spec["name"] = f"c{i}"
        status = copy.deepcopy(status0)
        status["name"] = f"c{i}"
        specs.append(spec)
        statuses.append(status)
    base["spec"]["containers"] = specs
    base["status"]["containerStatuses"] = statuses
    return base
