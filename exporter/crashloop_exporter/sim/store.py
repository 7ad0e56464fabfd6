"""An etcd-shaped object store for the simulated apiserver.

The exporter's correctness rests on resourceVersion semantics, so the store keeps them honest:
one global, monotonically increasing revision (like etcd's), stamped on every write; a bounded
per-resource change history (the watch cache) that a WATCH replays from its starting revision,
and that compaction trims so old revisions answer 410 Gone; and paginated LISTs served from a
consistent snapshot at the first page's revision, reconstructed from that same history, so a
continue token stays valid exactly as long as its revision has not been compacted.

Objects are immutable once stored (every write stores a new object), which lets history entries,
snapshots and watch queues share them without copies, and lets each object cache its JSON. A
watcher therefore queues the changes themselves and renders each one's line only when its
stream writes it: a slow watcher holds references, not ~6 KB of JSON per event.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from crashloop_exporter.errors import SimError, SimRequestError
from crashloop_exporter.sim.kinds import BY_RESOURCE, ResourceKind
from crashloop_exporter.sim.selectors import FieldRequirement, LabelRequirement, labels_match

Key = tuple[str, str]
"""(namespace, name); namespace is "" for cluster-scoped objects. Sorted like etcd keys."""


class StoredObject:
    """An immutable API object at one resourceVersion."""

    __slots__ = ("name", "namespace", "rv")

    namespace: str
    name: str
    rv: int

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    def labels(self) -> Mapping[str, str]:
        raise NotImplementedError

    def field(self, path: str) -> str:
        """The value of a dotted field-selector path, "" when absent (as the apiserver does)."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The object's JSON, as served."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return dict(msgspec.json.decode(self.to_bytes()))

    def watch_line(self, event_type: str) -> bytes:
        """The object as one watch event line of `event_type`."""
        return watch_line(event_type, self.to_bytes())

    def write_line(self, event_type: str, out: list[bytes]) -> None:
        """Append `watch_line(event_type)` to `out`, in as many pieces as suits the object (a
        stream joins its whole batch once, so a template-rendered object need not join its own)."""
        out.append(self.watch_line(event_type))

    def with_rv(self, rv: int) -> StoredObject:
        """The same object stamped with another resourceVersion (DELETED events carry the
        revision of the delete, not of the last write)."""
        raise NotImplementedError


S = TypeVar("S", bound=StoredObject)


class DictObject(StoredObject):
    """An object held as its full JSON dict (scenario pods, events, nodes, secrets...)."""

    __slots__ = ("_body", "_bytes")

    def __init__(self, body: dict[str, Any], rv: int) -> None:
        meta = body.setdefault("metadata", {})
        meta["resourceVersion"] = str(rv)
        self._body = body
        self._bytes: bytes | None = None
        self.namespace = str(meta.get("namespace", ""))
        self.name = str(meta["name"])
        self.rv = rv

    @property
    def body(self) -> Mapping[str, Any]:
        """Read-only view; writers build a new dict and store it."""
        return self._body

    def labels(self) -> Mapping[str, str]:
        labels = self._body["metadata"].get("labels")
        return labels if isinstance(labels, dict) else {}

    def field(self, path: str) -> str:
        node: Any = self._body
        for part in path.split("."):
            if not isinstance(node, dict):
                return ""
            node = node.get(part)
        if node is None:
            return ""
        if isinstance(node, bool):
            return "true" if node else "false"
        return str(node)

    def to_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = msgspec.json.encode(self._body)
        return self._bytes

    def to_dict(self) -> dict[str, Any]:
        return dict(msgspec.json.decode(self.to_bytes()))

    def with_rv(self, rv: int) -> DictObject:
        body = dict(self._body)
        body["metadata"] = dict(self._body["metadata"])
        return DictObject(body, rv)


@dataclass(slots=True)
class Change:
    """One write in a resource's history (the watch cache)."""

    rv: int
    type: str
    """ADDED, MODIFIED or DELETED."""
    obj: StoredObject
    prev: StoredObject | None
    """The state before this write (None for ADDED): snapshots and selector transitions need it."""
    at: float
    """time.monotonic() of the write; compaction drops changes older than the window."""


def watch_line(event_type: str, obj_json: bytes) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + obj_json + b"}\n"


@dataclass(frozen=True, slots=True)
class Filter:
    """What one LIST or WATCH selects: a namespace (None: all), label and field requirements."""

    namespace: str | None = None
    labels: tuple[LabelRequirement, ...] = ()
    fields: tuple[FieldRequirement, ...] = ()
    field_paths: Mapping[str, str] | None = None

    def matches(self, obj: StoredObject) -> bool:
        if self.namespace is not None and obj.namespace != self.namespace:
            return False
        if self.labels and not labels_match(self.labels, obj.labels()):
            return False
        if self.fields:
            paths = self.field_paths or {}
            return all(r.matches(lambda f: obj.field(paths.get(f, f))) for r in self.fields)
        return True

    @property
    def has_selectors(self) -> bool:
        return bool(self.labels or self.fields)

    @property
    def selects_all(self) -> bool:
        """Every object of the resource matches (a cluster-wide watch without selectors)."""
        return self.namespace is None and not self.labels and not self.fields


class Watcher:
    """The server side of one WATCH: a queue of events to send plus control requests.

    Events are queued synchronously when a change is written, so a watch registered in the same
    loop turn as its history replay can never miss or reorder an event. The queue holds the
    `Change` itself when the watcher sees it as-is (its line is rendered when written) and a
    ready line only for the rare selector transitions.
    """

    MAX_BUFFER = 200_000
    """Queued events before the watcher is closed as too slow (the apiserver drops slow watchers)."""

    def __init__(self, collection: Collection, flt: Filter, initial: list[StoredObject]) -> None:
        self.collection = collection
        self.filter = flt
        self.initial: Iterator[StoredObject] = iter(initial)
        """Synthetic ADDED events still to send (a watch from rv "" or "0")."""
        self.queue: deque[Change | bytes] = deque()
        self.controls: deque[tuple[str, Mapping[str, Any]]] = deque()
        """Fault actions for the stream handler: ("drop", {...}), ("garbage", {...}), ("hang", {...})."""
        self.wake = asyncio.Event()
        self.overflowed = False
        self.closed = False
        self._sees_all = flt.selects_all
        if initial:
            self.wake.set()

    def offer(self, change: Change) -> None:
        if self._sees_all:
            self.queue.append(change)
        else:
            item = self._as_seen(change)
            if item is None:
                return
            self.queue.append(item)
        if len(self.queue) > self.MAX_BUFFER:
            self.overflowed = True
        self.wake.set()

    def offer_many(self, changes: list[Change]) -> None:
        """`offer` each change, in order (a batch of writes)."""
        if not self._sees_all:
            for change in changes:
                self.offer(change)
            return
        self.queue.extend(changes)
        if len(self.queue) > self.MAX_BUFFER:
            self.overflowed = True
        self.wake.set()

    def _as_seen(self, change: Change) -> Change | bytes | None:
        """What this watcher's selection makes of `change`: the change as-is, another event's
        line, or None (it does not see it)."""
        flt = self.filter
        now_match = flt.matches(change.obj)
        was_match = change.prev is not None and flt.matches(change.prev)
        if change.type == "ADDED":
            return change if now_match else None
        if change.type == "DELETED":
            return change if (was_match or now_match) else None
        if now_match and was_match:
            return change
        if now_match:
            # The object moved into the selection: the watcher has never seen it.
            return change.obj.watch_line("ADDED")
        if was_match and change.prev is not None:
            # It moved out: the apiserver sends DELETED with the last state it matched.
            return change.prev.with_rv(change.rv).watch_line("DELETED")
        return None

    def take(self, out: list[bytes], count: int) -> int:
        """Move up to `count` queued events into `out` as lines (each in one or more pieces, to
        be joined); returns how many were moved."""
        queue = self.queue
        taken = min(count, len(queue))
        for _ in range(taken):
            item = queue.popleft()
            if isinstance(item, bytes):
                out.append(item)
            else:
                item.obj.write_line(item.type, out)
        return taken

    def control(self, action: str, params: Mapping[str, Any]) -> None:
        self.controls.append((action, params))
        self.wake.set()

    def close(self) -> None:
        """End the stream cleanly (server shutdown, apiserver restart)."""
        self.closed = True
        self.wake.set()

    def next_initial(self) -> bytes | None:
        obj = next(self.initial, None)
        return None if obj is None else obj.watch_line("ADDED")


class Collection:
    """All objects of one resource, their sorted keys, history and watchers."""

    SNAPSHOT_CACHE = 16

    def __init__(self, kind: ResourceKind, store: Store) -> None:
        self.kind = kind
        self.store = store
        self.objects: dict[Key, StoredObject] = {}
        self.keys: list[Key] = []
        self.history: deque[Change] = deque()
        self.floor = 0
        """Changes with rv > floor are all in `history`; older revisions are compacted away."""
        self.watchers: set[Watcher] = set()
        self.observers: list[Callable[[Change], None]] = []
        """In-process controllers told of every write after the watchers (the endpointslice
        controller follows pods and Services); they may write to other collections."""
        self._snapshots: OrderedDict[int, tuple[int, dict[Key, StoredObject | None]]] = OrderedDict()

    # -- writes -------------------------------------------------------------------------------

    def _record(self, change: Change) -> None:
        self.history.append(change)
        self.store.trim(self)
        for w in tuple(self.watchers):
            w.offer(change)
        for observe in tuple(self.observers):
            observe(change)

    def put(self, make: Callable[[int], StoredObject]) -> StoredObject:
        """Create or replace an object: `make(rv)` builds it stamped with the new revision."""
        rv = self.store.next_rv()
        obj = make(rv)
        key = obj.key
        prev = self.objects.get(key)
        self.objects[key] = obj
        if prev is None:
            bisect.insort(self.keys, key)
        self._record(Change(rv, "MODIFIED" if prev else "ADDED", obj, prev, time.monotonic()))
        return obj

    def replace_many(self, objs: Iterable[S], update: Callable[[S, int], StoredObject]) -> int:
        """`put(lambda rv: update(obj, rv))` for each of `objs`, in order, with the per-write costs
        (the clock, the watchers' queues) paid once for the batch: the churn's hot path, hence
        the inlined revision, key and compaction. Observers still see each change, after all of
        them are stored. Returns how many were written."""
        objects, history, store = self.objects, self.history, self.store
        now = time.monotonic()
        limit = store.history_limit
        changes: list[Change] = []
        for old in objs:
            store.rv += 1
            rv = store.rv
            obj = update(old, rv)
            key = (obj.namespace, obj.name)
            prev = objects.get(key)
            objects[key] = obj
            if prev is None:
                bisect.insort(self.keys, key)
            change = Change(rv, "MODIFIED" if prev else "ADDED", obj, prev, now)
            changes.append(change)
            # Compacted write by write, not after the batch: at a full history each write then
            # frees as many objects as it makes, and the cyclic GC, which counts allocations
            # net of frees, is not set off every few hundred writes to rescan the history.
            history.append(change)
            if len(history) > limit:
                self.floor = history.popleft().rv
        store.trim(self, now=now)  # the age limit
        for w in tuple(self.watchers):
            w.offer_many(changes)
        observers = tuple(self.observers)
        for change in changes:
            for observe in observers:
                observe(change)
        return len(changes)

    def put_dict(self, body: dict[str, Any]) -> StoredObject:
        return self.put(lambda rv: DictObject(body, rv))

    def delete(self, key: Key) -> StoredObject | None:
        prev = self.objects.pop(key, None)
        if prev is None:
            return None
        i = bisect.bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]
        rv = self.store.next_rv()
        final = prev.with_rv(rv)
        self._record(Change(rv, "DELETED", final, prev, time.monotonic()))
        return final

    def restamp_all(self) -> None:
        """Give every object a fresh revision without history (an etcd restore)."""
        for key, obj in list(self.objects.items()):
            self.objects[key] = obj.with_rv(self.store.next_rv())

    # -- reads --------------------------------------------------------------------------------

    def get(self, key: Key) -> StoredObject | None:
        return self.objects.get(key)

    def check_rv(self, rv: int) -> None:
        """410 Expired when `rv` is older than the compaction window of this resource."""
        if rv < self.floor:
            raise SimRequestError(
                410, "Expired", f"too old resource version: {rv} ({self.floor + 1})"
            )

    def changes_after(self, rv: int) -> Iterator[Change]:
        start = bisect.bisect_right(self.history, rv, key=lambda c: c.rv)
        return itertools.islice(self.history, start, None)

    def _state_at(self, rv: int) -> dict[Key, StoredObject | None]:
        """Keys written after `rv`, mapped to their state at `rv` (None: did not exist then).

        Cached per revision and extended incrementally, so paging a 150k-object list under
        a steady write load does not rescan the whole history for every page.
        """
        cached = self._snapshots.get(rv)
        done, states = cached if cached else (rv, {})
        for change in self.changes_after(done):
            states.setdefault(change.obj.key, change.prev)
            done = change.rv
        self._snapshots[rv] = (done, states)
        self._snapshots.move_to_end(rv)
        while len(self._snapshots) > self.SNAPSHOT_CACHE:
            self._snapshots.popitem(last=False)
        return states

    def snapshot_page(
        self, *, rv: int, start_after: Key | None, limit: int | None, flt: Filter
    ) -> tuple[list[StoredObject], Key | None, int | None]:
        """Items of the list as it was at `rv`, after `start_after`, at most `limit`.

        Returns (items, last key if more keys follow else None, remaining item count when the
        list has no selectors, like the apiserver's `remainingItemCount`).
        """
        self.check_rv(rv)
        states = self._state_at(rv) if rv < self.store.rv else {}
        begin = bisect.bisect_right(self.keys, start_after) if start_after is not None else 0
        extra = sorted(
            k for k, s in states.items()
            if s is not None and k not in self.objects and (start_after is None or k > start_after)
        )
        merged = heapq.merge(itertools.islice(self.keys, begin, None), extra)
        items: list[StoredObject] = []
        last: Key | None = None
        for key in merged:
            if limit is not None and len(items) >= limit:
                # More keys follow: the client gets a continue token even if none of them match.
                assert last is not None
                return items, last, self._remaining(last, states, flt)
            state = states[key] if key in states else self.objects[key]
            last = key
            if state is None:
                continue
            if flt.matches(state):
                items.append(state)
        return items, None, None

    def _remaining(self, after: Key, states: Mapping[Key, StoredObject | None], flt: Filter) -> int | None:
        if flt.has_selectors:
            return None
        count = len(self.keys) - bisect.bisect_right(self.keys, after)
        for key, state in states.items():
            if key <= after:
                continue
            exists_now = key in self.objects
            if state is None and exists_now:
                count -= 1
            elif state is not None and not exists_now:
                count += 1
        return max(count, 0)


class Store:
    """Every collection, the global revision counter and the compaction policy."""

    def __init__(self, *, history_seconds: float = 300.0, history_limit: int = 200_000) -> None:
        self.rv = 0
        self.history_seconds = history_seconds
        """Like etcd's periodic compaction: older changes are gone, their revisions answer 410."""
        self.history_limit = history_limit
        """Per-resource cap on retained changes, whichever of the two bites first."""
        self.collections: dict[str, Collection] = {r: Collection(k, self) for r, k in BY_RESOURCE.items()}
        self.controllers: dict[str, object] = {}
        """Controllers attached to this store, by name, so each is attached once."""

    def __getitem__(self, resource: str) -> Collection:
        try:
            return self.collections[resource]
        except KeyError:
            raise SimError(f"the simulator does not serve resource {resource!r}") from None

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def trim(self, coll: Collection, *, now: float | None = None) -> None:
        horizon = (time.monotonic() if now is None else now) - self.history_seconds
        history = coll.history
        while history and (len(history) > self.history_limit or history[0].at < horizon):
            coll.floor = history.popleft().rv

    def compact(self, resource: str | None = None) -> None:
        """Drop all history (of one resource, or all): every older revision now answers 410."""
        for name, coll in self.collections.items():
            if resource in (None, "*", name):
                coll.history.clear()
                coll.floor = self.rv
                coll._snapshots.clear()

    def reset(self, *, to: int | None) -> None:
        """An apiserver restart (`to` None: the counter jumps ahead) or an etcd restore (`to`
        lower than now: every object is re-stamped from there). Watches are closed and no
        history survives, so clients relist."""
        if to is None:
            self.rv += 1_000_000
        else:
            self.rv = to
            for coll in self.collections.values():
                coll.restamp_all()
        for coll in self.collections.values():
            coll.history.clear()
            coll.floor = self.rv
            coll._snapshots.clear()
            for w in tuple(coll.watchers):
                w.close()
