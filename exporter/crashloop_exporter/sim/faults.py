"""Scriptable faults: the misbehaviours of a real apiserver, on demand.

The exporter's watch loop must survive dropped streams, 410 Gone (as a watch ERROR event and as
an HTTP status), expired continue tokens, throttling, garbage lines, silent hangs and apiserver
restarts. Tests script them here (Python or `POST /_sim/faults`) instead of hoping for them.

Request faults (`status`, `slow`, `gone_http`, `gone_watch`, `expire_continue`) wait in a list
and are consumed by the next `count` matching requests (`count: 0` = until cleared); a pods/log fault
with `node` only hits the logs of pods on that node, the way an apiserver that cannot reach one
kubelet fails only that node's log requests. Stream
faults (`drop_stream`, `garbage`, `hang`) act on the resource's open watches at once, or, when
none is open, on the next watch that opens. `reset_rv` and `compact` act on the store at once.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crashloop_exporter.errors import SimError
from crashloop_exporter.sim.kinds import BY_RESOURCE

REQUEST_KINDS = frozenset({"status", "slow", "gone_http", "gone_watch", "expire_continue"})
STREAM_KINDS = frozenset({"drop_stream", "garbage", "hang"})
STORE_KINDS = frozenset({"reset_rv", "compact"})
FAULT_KINDS = REQUEST_KINDS | STREAM_KINDS | STORE_KINDS
RESOURCES = frozenset(BY_RESOURCE) | {"pods/log", "*"}
VERBS = frozenset({"", "list", "watch", "get", "log"})
STATUS_CODES = frozenset({400, 401, 403, 404, 409, 410, 429, 500, 503, 504})
DEFAULT_GARBAGE = "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"


@dataclass(slots=True)
class Fault:
    """One scripted fault. Only the fields of its kind matter."""

    kind: str
    resource: str = "pods"
    """pods, events, nodes, secrets, configmaps, namespaces, pods/log, or * for all."""
    count: int = 1
    """Requests (or new streams) it applies to; 0 = every one until cleared."""
    verb: str = ""
    """status/slow: only list, watch, get or log requests ("" = any)."""
    code: int = 429
    """status: the HTTP code (429, 500, 503, 403, 401...)."""
    retry_after: int = 1
    """status 429/503: the Retry-After header, in seconds."""
    delay: float = 1.0
    """slow: seconds before the response starts."""
    node: str = ""
    """pods/log only: only logs of pods on this node ("" = any pod), as when the apiserver cannot
    reach that node's kubelet."""
    seconds: float = 5.0
    """hang: how long watch streams send nothing at all (no events, no bookmarks)."""
    mid_event: bool = False
    """drop_stream: send the first half of the next line, then cut the connection."""
    clean: bool = False
    """drop_stream: end the stream cleanly (like a timeout) instead of cutting the connection."""
    line: str = DEFAULT_GARBAGE
    """garbage: the non-JSON line injected into the stream."""
    to: int | None = None
    """reset_rv: set the revision counter to this (lower: an etcd restore); None: jump ahead."""
    id: int = 0

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def matches(self, resource: str, verb: str, node: str = "") -> bool:
        return self.resource in ("*", resource) and self.verb in ("", verb) and self.node in ("", node)


def _field_value(name: str, value: Any, default: Any) -> Any:
    """`value` for field `name` when its type is that of the field's default (ints widen to floats)."""
    if name == "to":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
    elif isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise SimError(f"fault field {name!r} has the wrong type: {value!r}")
    return value


def fault_from_json(body: Mapping[str, Any]) -> Fault:
    """Validate a `POST /_sim/faults` body (or keyword arguments) into a Fault; SimError names
    the field that is wrong."""
    fields = {f.name: f for f in dataclasses.fields(Fault)}
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise SimError(f"unknown fault field(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}")
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise SimError(f"fault kind must be one of {', '.join(sorted(FAULT_KINDS))}, got {kind!r}")
    fault = Fault(kind=str(kind))
    for name, value in body.items():
        if name in ("kind", "id"):
            continue
        setattr(fault, name, _field_value(name, value, getattr(fault, name)))
    if fault.resource not in RESOURCES:
        raise SimError(f"fault resource must be one of {', '.join(sorted(RESOURCES))}, got {fault.resource!r}")
    if fault.verb not in VERBS:
        raise SimError(f"fault verb must be list, watch, get or log, got {fault.verb!r}")
    if fault.node and (fault.resource != "pods/log" or fault.kind not in REQUEST_KINDS):
        raise SimError(f"fault field 'node' only applies to request faults on pods/log, got {fault.kind} on "
                       f"{fault.resource}")
    if fault.kind == "status" and fault.code not in STATUS_CODES:
        raise SimError(f"status fault code must be one of {sorted(STATUS_CODES)}, got {fault.code}")
    if fault.count < 0 or fault.delay < 0 or fault.seconds < 0 or fault.retry_after < 0:
        raise SimError("fault count, delay, seconds and retry_after must be >= 0")
    return fault


class FaultBook:
    """The pending faults, consumed by requests and new watch streams, and a ledger of how often
    each fault (by id) has acted, so a test waits for "the fault happened" instead of sleeping."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._ids = itertools.count(1)
        self.consumed: Counter[int] = Counter()
        """fault id -> times it acted (a request it answered, a stream it hit, a store change)."""

    def number(self, fault: Fault) -> Fault:
        """Give a fault its id without queueing it (it acts at once or on open streams)."""
        fault.id = next(self._ids)
        return fault

    def add(self, fault: Fault) -> Fault:
        self._pending.append(self.number(fault))
        return fault

    def acted(self, fault_id: int) -> None:
        """Record that fault `fault_id` acted once."""
        self.consumed[fault_id] += 1

    def take(self, kind: str, resource: str, verb: str, *, node: str = "", record: bool = True) -> Fault | None:
        """The first pending fault of `kind` for this request (`node`: of the pod whose log it
        asks for), consumed once. `record=False` leaves the ledger to whoever acts on it later (a
        stream fault handed to a new watch's pump)."""
        for fault in self._pending:
            if fault.kind == kind and fault.matches(resource, verb, node):
                if fault.count == 1:
                    self._pending.remove(fault)
                elif fault.count > 1:
                    fault.count -= 1
                if record:
                    self.acted(fault.id)
                return fault
        return None

    def clear(self) -> None:
        self._pending.clear()

    def pending(self) -> list[Fault]:
        return list(self._pending)
