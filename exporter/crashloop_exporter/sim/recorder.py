"""The kubelet's event recorder, as far as a watcher of Events can tell.

client-go's EventCorrelator does not create a new Event for a repeat: an identical event (same
object, fieldPath, reason, message, type and source) updates the existing one, `count` + 1 and a
new `lastTimestamp` (that is what `kubectl describe` shows as `(x4 over 45s)`). Watchers
therefore see one ADDED, then MODIFIED events, and the exporter must not treat a repeat as a new
crash. This module reproduces exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crashloop_exporter.sim.objects import Ids, event_body, event_name
from crashloop_exporter.sim.store import Store


@dataclass(slots=True)
class _Aggregate:
    name: str
    uid: str
    count: int
    first: float
    last: float


class EventRecorder:
    def __init__(self, store: Store, ids: Ids) -> None:
        self._store = store
        self._ids = ids
        self._aggregates: dict[tuple[str, ...], _Aggregate] = {}
        self._names: set[tuple[str, str]] = set()

    def record(self, *, namespace: str, involved: Mapping[str, Any], reason: str, message: str, etype: str,
               component: str, host: str, wall: float) -> None:
        key = (str(involved.get("uid", "")), str(involved.get("fieldPath", "")), reason, message, etype, component)
        agg = self._aggregates.get(key)
        if agg is None:
            name = event_name(str(involved.get("name", "")), wall)
            while (namespace, name) in self._names:
                # Two events in the same nanosecond would collide; the recorder's names never do.
                wall += 1e-9
                name = event_name(str(involved.get("name", "")), wall)
            self._names.add((namespace, name))
            agg = _Aggregate(name=name, uid=self._ids.uid(), count=1, first=wall, last=wall)
            self._aggregates[key] = agg
        else:
            agg.count += 1
            agg.last = wall
        self._store["events"].put_dict(event_body(
            name=agg.name, namespace=namespace, involved=involved, reason=reason, message=message, etype=etype,
            count=agg.count, first=agg.first, last=agg.last, component=component, host=host, uid=agg.uid,
        ))
