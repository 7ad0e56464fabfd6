"""The state and collector tests' pods: one `api` container of Deployment `api` on the first day of
2024, built by the shared builder (`tests/support/kubeobjects.py`) with these tests' defaults."""

from __future__ import annotations

import copy
from typing import Any

from tests.support import kubeobjects as ko

TEMPLATE_HASH = "7d9f4b8c6"


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
    """Waiting for `waiting` (reason, message), else running since `finished`; `last_exit` (exit
    code, reason) is the run that ended at `finished`, and without it there is no `lastState`."""
    state = ko.waiting(*waiting) if waiting is not None else ko.running(finished)
    last = None if last_exit is None else ko.terminated(*last_exit, "2024-01-01T00:09:50Z", finished)
    replicaset = f"{deployment}-{TEMPLATE_HASH}"
    return ko.pod(
        ko.object_meta(
            name, namespace=namespace, uid=uid or f"uid-{name}", created=created,
            labels={"pod-template-hash": TEMPLATE_HASH},
            owners=[ko.owner_reference("ReplicaSet", replicaset, uid=ko.uid(namespace, "replicaset", replicaset))],
        ),
        ko.pod_spec([ko.container(container, "api:1", env=env or ())], node="node-1"),
        ko.pod_status(phase, statuses=[
            ko.container_status(container, image="api:1", state=state, last=last, ready=ready, restarts=restarts),
        ]),
    )


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
