"""A bounded store of recent Events about pods, keyed by pod.

The classifier needs a pod's recent events (Killing for a liveness kill, FailedMount for a missing
secret). The event recorder updates one Event object (count+1, lastTimestamp) on repeats, so events
are keyed by (container, reason, message) and replaced, and each pod keeps only its newest
`window` events. Pods we never see (other shards, other namespaces) cost at most `max_pods` keys.
"""

from __future__ import annotations

from collections import OrderedDict

from crashloop_exporter.model import EventRecord

PodKey = tuple[str, str]
"""(namespace, pod name): events name their pod; the uid is checked by the classifier."""


class EventStore:
    def __init__(self, *, window: int, max_age: float, max_pods: int = 50_000) -> None:
        self._window = window
        self._max_age = max_age
        self._max_pods = max_pods
        self._by_pod: OrderedDict[PodKey, dict[tuple[str, str, str], EventRecord]] = OrderedDict()

    def add(self, e: EventRecord) -> PodKey:
        key = (e.namespace, e.pod)
        events = self._by_pod.get(key)
        if events is None:
            events = self._by_pod[key] = {}
            while len(self._by_pod) > self._max_pods:
                self._by_pod.popitem(last=False)
        else:
            self._by_pod.move_to_end(key)
        events[(e.container, e.reason, e.message[:200])] = e
        if len(events) > self._window:
            oldest = sorted(events, key=lambda k: events[k].last_seen or 0.0)
            for k in oldest[: len(events) - self._window]:
                del events[k]
        return key

    def remove(self, e: EventRecord) -> None:
        events = self._by_pod.get((e.namespace, e.pod))
        if events is not None:
            events.pop((e.container, e.reason, e.message[:200]), None)

    def for_pod(self, namespace: str, name: str, *, now: float) -> list[EventRecord]:
        events = self._by_pod.get((namespace, name))
        if not events:
            return []
        cutoff = now - self._max_age
        return [e for e in events.values() if e.last_seen is None or e.last_seen >= cutoff]

    def forget_pod(self, namespace: str, name: str) -> None:
        self._by_pod.pop((namespace, name), None)

    def clear(self) -> None:
        self._by_pod.clear()

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_pod.values())
