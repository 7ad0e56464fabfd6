"""TypedDicts for the raw Kubernetes JSON fields this project reads.

Only the fields we touch are declared (`total=False`: the API omits empty fields). These document
the wire format; `parse` validates types as it reads, because a TypedDict is a promise, not a check.
"""

from __future__ import annotations

from typing import Any, TypedDict


class OwnerReference(TypedDict, total=False):
    kind: str
    name: str
    controller: bool


class ObjectMeta(TypedDict, total=False):
    name: str
    namespace: str
    uid: str
    resourceVersion: str
    labels: dict[str, str]
    ownerReferences: list[OwnerReference]
    deletionTimestamp: str


class ContainerStateWaiting(TypedDict, total=False):
    reason: str
    message: str


class ContainerStateTerminated(TypedDict, total=False):
    exitCode: int
    signal: int
    reason: str
    message: str
    startedAt: str
    finishedAt: str


class ContainerStateRunning(TypedDict, total=False):
    startedAt: str


class ContainerState(TypedDict, total=False):
    waiting: ContainerStateWaiting
    running: ContainerStateRunning
    terminated: ContainerStateTerminated


class ContainerStatus(TypedDict, total=False):
    name: str
    ready: bool
    started: bool
    restartCount: int
    image: str
    state: ContainerState
    lastState: ContainerState


class PodStatus(TypedDict, total=False):
    phase: str
    reason: str
    message: str
    containerStatuses: list[ContainerStatus]
    initContainerStatuses: list[ContainerStatus]
    ephemeralContainerStatuses: list[ContainerStatus]


class PodSpec(TypedDict, total=False):
    nodeName: str
    restartPolicy: str
    containers: list[dict[str, Any]]
    initContainers: list[dict[str, Any]]
    ephemeralContainers: list[dict[str, Any]]
    volumes: list[dict[str, Any]]


class Pod(TypedDict, total=False):
    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus


class ObjectReference(TypedDict, total=False):
    kind: str
    name: str
    namespace: str
    uid: str
    fieldPath: str


class Event(TypedDict, total=False):
    metadata: ObjectMeta
    involvedObject: ObjectReference
    reason: str
    message: str
    type: str
    count: int
    firstTimestamp: str
    lastTimestamp: str
    eventTime: str
    series: dict[str, Any]


class NodeConditionJSON(TypedDict, total=False):
    type: str
    status: str
    lastTransitionTime: str
    message: str


class Node(TypedDict, total=False):
    metadata: ObjectMeta
    status: dict[str, Any]


class WatchEvent(TypedDict):
    type: str
    object: dict[str, Any]
