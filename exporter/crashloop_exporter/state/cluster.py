"""ClusterState: the watch handler that turns Pod/Event/Node changes into findings and crash counts.

Why deltas of dead runs and not states: a watch can miss intermediate states (a gap, a relist, a
coalesced update), but a container's dead runs (`runs`: restartCount, plus one while its latest run
is dead and not yet replaced) only grow, so `new - old` is exactly the number of deaths since we
last looked, even across a gap, and a death is counted when the container dies, not a back-off
later when the kubelet restarts it. Dead runs already there when we first see a pod are a
baseline and never counted; a pod created after we started counts from zero; a terminating pod
(deletionTimestamp set) counts nothing, its containers' kills are the deletion. One bad update must
not move a baseline: a restartCount that is not a non-negative int32 makes the update a counted
skip (`parse`), a container the update carries no status for keeps its last one, and a count
that goes backwards (the kubelet lost its state) is a new baseline, never a delta.

Failed starts that never restart a container (CreateContainerConfigError, ImagePullBackOff, a
FailedMount) are counted once per episode; a failed restartPolicy=Never run and an eviction's
kill are dead runs like any other.

When logs can decide the cause, the count waits (at most `LOG_WAIT_SECONDS`) for the dead run's
log, fetched at once (while the run is `state.terminated` the kubelet serves it as the current
log; once it is lastState, as the previous one), so the crash is counted under its real cause; a
deleted pod or a failed fetch flushes it with the best cause known, so no counted crash is lost.

An Event can decide a death's cause too (a liveness kill's Killing, an OOMKilling), and it travels
on another watch than the pod: the pod's terminated status may come first. A death whose cause an
Event could still beat (`event_can_change`: an exit code's cause, a log's, or none) is therefore
held the same way for at most `kill_event_grace` seconds after it was seen; every reclassification
of its container meanwhile (the Event arriving, a node's pressure) updates the cause it will be
counted under, and one no later Event can change counts it at once. A held death is one pending
entry like a log wait: counted exactly once, by whichever comes first (the deciding classification,
the log's answer past the grace, `tick` past the grace, the pod's deletion).
Log text is only held while classifying: what survives is the finding (redacted evidence), kept
as a *verdict* for that run (its dead-run number and the termination it ended with) so a later
status-only reclassification (a relist, a MODIFIED of the same state, an Event) keeps both the
cause and the log line, until the container dies again.

Work per event is bounded by what it concerns, because one pod can hold thousands of containers
and the event loop also serves /healthz: the per-pod part of classification (the pod's events
sorted and split by container, its node) is a `PodContext` computed once per pod update or Event;
a log answer for container C re-evaluates C alone; a pod update re-evaluates the containers whose
status, events or pod changed (plus those whose verdict depends on the clock), each once.

Even bounded, the work of one such update is seconds of CPU (parsing, classifying and counting 5000
containers), so it is done in steps (`steps`): `event_steps` and `relist_item_steps` yield every
`CONTAINERS_PER_STEP` containers, and the async handler lets the event loop run between steps. What
may run in between (a log answer, `tick`, a scrape, another watcher's Event or node change) sees a
whole state: the pod's new record, each container's old or new finding, each restart counted once
(in the step that reaches its container). Each step re-reads the pod's current record and context,
so interleaved updates of one pod do not undo each other, and a pod deleted meanwhile stays deleted.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from crashloop_exporter import wire
from crashloop_exporter.catalog import BY_ID, CAUSES, CREATING, EXPLAINING_EVENTS
from crashloop_exporter.classify import (
    FAILING_WAITING,
    LogRules,
    PodContext,
    classify_container,
    needs_logs,
    pod_context,
)
from crashloop_exporter.classify.engine import RECENT_CRASH_SECONDS, STUCK_CREATING_SECONDS
from crashloop_exporter.deps.chain import annotate_targets
from crashloop_exporter.deps.tracker import RESOURCES as DEPENDENCY_RESOURCES
from crashloop_exporter.deps.tracker import DependencyTracker
from crashloop_exporter.errors import MalformedObjectError
from crashloop_exporter.findings import Finding
from crashloop_exporter.model import ContainerRecord, NodeRecord, PodRecord
from crashloop_exporter.parse import (
    RawObject,
    fingerprint,
    listed_meta,
    parse_event,
    parse_node,
    parse_pod_steps,
)
from crashloop_exporter.settings import Settings
from crashloop_exporter.state.counter import CrashCounter, CrashKey
from crashloop_exporter.state.events import EventStore
from crashloop_exporter.state.runs import dead_runs, latest_run_dead
from crashloop_exporter.state.shard import owns
from crashloop_exporter.steps import Steps, chunks, run_steps

log = logging.getLogger(__name__)

LOG_WAIT_SECONDS = 60.0
"""A crash waiting for its previous log is counted with the status-only cause after this long."""
NEW_POD_SLACK_SECONDS = 30.0
"""A pod created this long before our first list started is still treated as pre-existing."""
START_FAILURES = FAILING_WAITING - {"CrashLoopBackOff"}
"""Waiting reasons of a container that never started: one counted episode each, not restarts."""
CONTAINERS_PER_STEP = 16
"""Containers classified and counted per step of `event_steps`: ~0.2 ms each, so one step holds the
event loop ~3 ms and a crash wave of a 5000-container pod is ~310 steps. A request needs several
turns of the loop (accept, read, handler), each waiting for one step of every task that is stepping
(the watch handler, a scrape's prepare), so a step must be a small part of the probe's budget."""
WIDE_POD = 16
"""Pods with more containers than this keep a by-name map of them (`_wide`): a lookup of one of
5000 containers by a scan of the tuple, for each log answer, would be quadratic."""
CLASSIFY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)

DEATH_EVENT_CAUSES = frozenset(
    c.id for c in CAUSES if any(s.on == "event" and s.when == "during_run" and not s.corroborates for s in c.detect)
)
"""Causes an Event about the run that died decides (a probe kill's Killing)."""
_FIRST_DEATH_EVENT_PRIORITY = min(BY_ID[c].priority for c in DEATH_EVENT_CAUSES)


def event_can_change(cause: str) -> bool:
    """Whether an Event arriving after a death could still give it another cause: the cause is
    not decided by such an Event itself, and one of those outranks it (lower priority wins)."""
    return cause not in DEATH_EVENT_CAUSES and BY_ID[cause].priority > _FIRST_DEATH_EVENT_PRIORITY


ContainerKey = tuple[str, str]
"""(pod uid, container name): container names are unique across a pod's container kinds."""


@dataclass(frozen=True, slots=True)
class LogRequest:
    """Ask the I/O layer for a container's log; answered with `ClusterState.apply_logs`."""

    pod_uid: str
    namespace: str
    pod: str
    container: str
    restart_count: int
    previous: bool
    """True for a restarted container (`previous=true`); False for a terminated, never-restarted one."""
    node: str = ""
    """The pod's spec.nodeName: its kubelet serves the log, so fetches are limited per node."""
    run: int = 0
    """The dead run the log is about (`runs.dead_runs` when asked): the same from the run's death
    to its restart, so it names one run, the key a log is fetched once per."""


@dataclass(slots=True)
class _Pending:
    """Crashes counted but not yet attributed, waiting for the log or the Event that decides their cause."""

    amount: int
    since: float
    fallback: CrashKey
    record: PodRecord
    """The pod as last seen: a rollout may delete it while its log is in flight, and the log's
    answer still has to be classified against it."""
    request: LogRequest | None
    """The fetch whose answer counts these crashes; the answer of an earlier one is stale. None:
    no log is awaited, only an Event until `hold_until`."""
    hold_until: float = 0.0
    """Until then an Event may still change the cause (`event_can_change`)."""


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What the log said about one run of one container."""

    run: int
    """`runs.dead_runs` of the container when its log was asked for."""
    finding: Finding

    def same_run(self, run: int, f: Finding) -> bool:
        """`f` is about the run this log was read from: same dead-run number, same termination."""
        return self.run == run and self.finding.last_termination == f.last_termination


class _Histogram:
    """Classification latency buckets; the collector renders them."""

    def __init__(self, buckets: Iterable[float]) -> None:
        self.bounds = tuple(buckets)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.sum += value
        for i, b in enumerate(self.bounds):
            if value <= b:
                self.counts[i] += 1
                return
        self.counts[-1] += 1


class ClusterState:
    """Implements the watch handler protocol (relist_begin/relist_item/relist_end/event)."""

    def __init__(
        self,
        *,
        settings: Settings,
        rules: LogRules,
        request_logs: Callable[[LogRequest], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._rules = rules
        self._request_logs = None if settings.no_logs else request_logs
        self._clock = clock
        self.pods: dict[str, PodRecord] = {}
        self.findings: dict[str, tuple[Finding, ...]] = {}
        """Per pod uid, its findings in container order (what the collector renders)."""
        self._by_container: dict[str, dict[str, Finding]] = {}
        """The same findings by container name, so one container's can be replaced alone."""
        self._wide: dict[str, dict[str, ContainerRecord]] = {}
        """Containers by name of the pods with more than `WIDE_POD` containers; a narrower pod's
        are found in its record's tuple (a dict per pod cost ~400 bytes, at 150k pods 57 MiB)."""
        self._contexts: dict[str, PodContext] = {}
        self.nodes: dict[str, NodeRecord] = {}
        self.events = EventStore(window=settings.event_window, max_age=settings.event_max_age)
        self.crashes = CrashCounter(holdback=settings.new_series_holdback)
        self.skipped: Counter[tuple[str, str]] = Counter()
        self.classify_seconds = _Histogram(CLASSIFY_BUCKETS)
        self._by_name: dict[str, dict[str, str]] = {}
        """Pod uid by namespace, then name (a (namespace, name) key tuple cost 72 bytes a pod)."""
        self._episodes: set[tuple[str, str, str]] = set()
        self._pending: dict[ContainerKey, _Pending] = {}
        self._verdicts: dict[ContainerKey, _Verdict] = {}
        self._recheck_at: dict[ContainerKey, float] = {}
        """When a container's finding changes with time alone (`_time_turn`), to re-evaluate it then."""
        self._rechecks: list[tuple[float, str, str]] = []
        """The same as a heap of (when, pod uid, container); entries not in `_recheck_at` are stale."""
        self._relist_seen: dict[tuple[str, str | None], set[str]] = {}
        self._first_list_started: float | None = None
        self._synced: set[str] = set()
        self._namespaces = frozenset(settings.namespaces)
        self._excluded = frozenset(settings.exclude_namespaces)
        self.deps = DependencyTracker(view=_PodView(self), enabled=not settings.no_dependencies)
        """Services, EndpointSlices and pod IPs: what a dependency_unavailable container waits on."""

    # ---- watch handler protocol -------------------------------------------------------------

    def relist_begin(self, resource: str, *, namespace: str | None = None) -> None:
        if self._first_list_started is None:
            self._first_list_started = self._clock()
        if resource == "pods" and not self._holds_pods(namespace):
            # Nothing of this scope is held, so nothing can be missing from the fresh list: the
            # seen set (4 MiB at 150k pods, at the peak of the first sync) is not needed.
            self._relist_seen.pop((resource, namespace), None)
            return
        self._relist_seen[(resource, namespace)] = set()

    def _holds_pods(self, namespace: str | None) -> bool:
        return bool(self._by_name.get(namespace)) if namespace is not None else bool(self.pods)

    def relist_item(self, resource: str, obj: RawObject) -> None:
        run_steps(self.relist_item_steps(resource, obj))

    def relist_item_steps(self, resource: str, obj: RawObject) -> Steps[None]:
        """`relist_item` in steps (see `event_steps`)."""
        key = yield from self._apply(resource, "ADDED", obj)
        pod = self.pods.get(key) if key is not None and resource == "pods" else None
        # Read again only for an object that was not taken (malformed, untracked): its key and scope.
        meta = listed_meta(obj) if key is None else {}
        ns = pod.namespace if pod is not None else meta.get("namespace")
        if key is None:
            # A malformed copy of an object that is in the list still says the object exists:
            # reconciling it away would drop its series and, when a good copy comes back,
            # baseline the restarts it had meanwhile instead of counting them.
            key = _listed_key(resource, meta)
            if key is None:
                return
        for scope in ((resource, None), (resource, ns)):
            seen = self._relist_seen.get(scope)
            if seen is not None:
                seen.add(key)

    def relist_end(self, resource: str, *, namespace: str | None = None) -> None:
        """Reconcile: whatever the fresh list did not contain was deleted during the gap. A
        per-namespace watcher (`--namespaces`) only reconciles its own namespace."""
        seen = self._relist_seen.pop((resource, namespace), None)
        if resource == "pods":
            if seen is not None:  # None: the scope held no pod when the list began (relist_begin)
                gone = [
                    u for u, p in self.pods.items() if u not in seen and (namespace is None or p.namespace == namespace)
                ]
                for uid in gone:
                    self._delete_pod(uid)
        elif resource == "nodes":
            for name in [n for n in self.nodes if n not in (seen or ())]:
                del self.nodes[name]
        elif resource in DEPENDENCY_RESOURCES:
            self.deps.reconcile(resource, seen or set(), namespace=namespace)
        self._synced.add(resource)
        self._refresh_dependencies()

    def event(self, resource: str, type_: str, obj: RawObject) -> None:
        run_steps(self.event_steps(resource, type_, obj))

    def event_steps(self, resource: str, type_: str, obj: RawObject) -> Steps[None]:
        """`event`, yielding between chunks of a pod's containers (and between a node's pods) so
        that the caller can let others run; the state is whole at every yield (see the module
        docstring). An object that concerns at most `CONTAINERS_PER_STEP` containers never yields,
        so the common case costs no extra turn of the event loop."""
        yield from self._apply(resource, type_, obj)
        self._refresh_dependencies()

    # ---- objects ------------------------------------------------------------------------------

    def _apply(self, resource: str, type_: str, obj: RawObject) -> Steps[str | None]:
        try:
            if resource == "pods":
                return (yield from self._pod(type_, obj))
            if resource == "events":
                return (yield from self._event(type_, obj))
            if resource == "nodes":
                return (yield from self._node(type_, obj))
            if resource in DEPENDENCY_RESOURCES:
                return self.deps.apply(resource, type_, obj)
        except MalformedObjectError as e:
            self.skipped[(resource, "malformed")] += 1
            log.warning("skipping malformed %s object: %s", resource, e)
            return None
        self.skipped[(resource, "unknown_resource")] += 1
        return None

    def _tracked(self, namespace: str, uid: str) -> bool:
        if self._namespaces and namespace not in self._namespaces:
            return False
        if namespace in self._excluded:
            return False
        return owns(uid, shard=self._settings.shard, total_shards=self._settings.total_shards)

    def _pod(self, type_: str, raw: RawObject) -> Steps[str | None]:
        known: int | None = None
        if isinstance(raw, wire.Pod):
            known = fingerprint(raw)
            if known and type_ != "DELETED" and self._unchanged(raw.metadata.uid, lambda old: old.fingerprint == known):
                return raw.metadata.uid  # not even parsed
        # Parsing is pure: until it returns, nothing of the state has changed.
        rec = yield from parse_pod_steps(raw, known_fingerprint=known)
        if not rec.uid:
            raise MalformedObjectError(f"pod {rec.namespace}/{rec.name} has no metadata.uid")
        if not self._tracked(rec.namespace, rec.uid):
            return None
        if type_ == "DELETED":
            self._delete_pod(rec.uid)
            return rec.uid
        if self._unchanged(rec.uid, lambda old: old == rec):
            return rec.uid  # a dict or bytes with no fingerprint to compare before parsing
        if len(rec.containers) > CONTAINERS_PER_STEP:
            yield  # the last parse step and the first classify step are each a full step
        yield from self._upsert_pod(rec)
        return rec.uid

    def _unchanged(self, uid: str, same: Callable[[PodRecord], bool]) -> bool:
        """A healthy pod's update that changes nothing its record is built from (most updates: the
        resourceVersion, annotations, a condition's timestamp), by `same(old record)`: the
        fingerprint `parse` kept, before parsing, or the new record itself, after. A pod with
        something to explain or count takes the full path."""
        old = self.pods.get(uid)
        return old is not None and same(old) and uid not in self.findings and _quiet(old)

    def _event(self, type_: str, raw: RawObject) -> Steps[str | None]:
        e = parse_event(raw)
        if e is None:
            return None
        if type_ == "DELETED":
            self.events.remove(e)
            return None
        if e.pod_uid and not self._tracked(e.namespace, e.pod_uid):
            return None
        self.events.add(e)
        uid = self.uid_of(e.namespace, e.pod)
        # Pods that already have something to explain are reclassified, and so is any pod an
        # event can explain a failure of (a pod stuck in ContainerCreating never changes its
        # status; only its FailedMount events repeat). A healthy pod's other events (Pulled,
        # Started, Scheduled) cannot change its findings. Of those pods, only the containers whose
        # events changed (the one the Event names, or all for a pod-wide Event).
        if uid is not None and (uid in self.findings or e.reason in EXPLAINING_EVENTS):
            yield from self._reclassify(uid)
        return f"{e.namespace}/{e.pod}"

    def _node(self, type_: str, raw: RawObject) -> Steps[str | None]:
        n = parse_node(raw)
        if type_ == "DELETED":
            self.nodes.pop(n.name, None)
            return n.name
        old = self.nodes.get(n.name)
        self.nodes[n.name] = n
        if old is None or old.pressures != n.pressures:
            for i, uid in enumerate([u for u, fs in self.findings.items() if self.pods[u].node_name == n.name and fs]):
                if i:
                    yield  # one node's pods can be thousands
                yield from self._reclassify(uid, every_container=True)
        return n.name

    # ---- pods, counting -----------------------------------------------------------------------

    def _is_new_pod(self, rec: PodRecord) -> bool:
        """Created after our first list started: its restarts all happened while we watched."""
        start = self._first_list_started
        if start is None or rec.created is None:
            return False
        return rec.created > start - NEW_POD_SLACK_SECONDS and "pods" in self._synced

    def _upsert_pod(self, rec: PodRecord) -> Steps[None]:
        now = self._clock()
        old = self.pods.get(rec.uid)
        if old is not None:
            rec = _keep_unreported(rec, old)
        first_sight = old is None and not self._is_new_pod(rec)
        # The record first, all of it: a step of this update, or a log answer between two steps,
        # evaluates a container against this record, whichever chunk it is in.
        self.pods[rec.uid] = rec
        names = self._by_name.setdefault(rec.namespace, {})
        replaced = names.get(rec.name) if old is None else None
        names[rec.name] = rec.uid
        # A pod recreated under its name (a StatefulSet's) takes over the name's IPs from the one before.
        was = old if old is not None else self.pods.get(replaced) if replaced is not None else None
        self.deps.pod_ips(rec, rec.ip_keys, old=was.ip_keys if was is not None else ())
        before = _name_map(old.containers) if old is not None else {}
        containers = rec.containers  # built once: a healthy pod's are built from templates (`model`)
        if len(containers) > WIDE_POD:
            self._wide[rec.uid] = _name_map(containers)
        elif old is not None and len(old.containers) > WIDE_POD:
            del self._wide[rec.uid]
        classify = not (_quiet(rec) and rec.uid not in self.findings)
        every = False
        changed: frozenset[str] = frozenset()
        if classify:
            ctx = self._context(rec, now=now)
            changed_events = ctx.changed_containers(self._contexts.get(rec.uid))
            self._contexts[rec.uid] = ctx
            every = old is None or changed_events is None or _pod_fields(old) != _pod_fields(rec)
            changed = changed_events or frozenset()
        else:
            self._contexts.pop(rec.uid, None)
        spent, added = 0.0, False
        for i, chunk in enumerate(chunks(containers, CONTAINERS_PER_STEP)):
            if i:
                yield
            if classify:
                started = time.perf_counter()
                todo = [
                    c.name
                    for c in chunk
                    if every or c.name in changed or before.get(c.name) != c or _clock_dependent(c)
                ]
                added |= self._classify_chunk(rec.uid, todo, now=now)
                spent += time.perf_counter() - started
            # Counted in the step that publishes the container's new finding: a scrape between
            # two steps sees the crashes (counted, or waiting for their log) of exactly the
            # containers whose new run it shows.
            found = self._by_container.get(rec.uid, {})
            for c in chunk:
                self._count_container(
                    rec, c, before.get(c.name), found.get(c.name), first_sight=first_sight, now=now
                )
        if classify:
            if added or every:
                self._settle(rec.uid)
            self.classify_seconds.observe(spent)

    def _count_container(
        self,
        rec: PodRecord,
        c: ContainerRecord,
        prev: ContainerRecord | None,
        finding: Finding | None,
        *,
        first_sight: bool,
        now: float,
    ) -> None:
        ckey = (rec.uid, c.name)
        run = dead_runs(rec, c)
        if first_sight:
            baseline = run
        elif prev is None:
            baseline = 0
        else:
            baseline = dead_runs(rec, prev)
        # Negative: the kubelet lost its state (its dead containers were garbage-collected or the
        # node rebooted) and restarts from a lower count; this update is the new baseline.
        delta = 0 if rec.terminating else run - baseline

        # Failed-start and terminal-failure episodes: counted once each, never on first sight.
        waiting = c.waiting.reason if c.waiting is not None else ""
        in_start_failure = waiting in START_FAILURES or (
            finding is not None and finding.failing and finding.reason == "ContainerCreating"
        )
        episode = 0
        ek = ("start", rec.uid, c.name)
        if in_start_failure and ek not in self._episodes:
            self._episodes.add(ek)
            if not first_sight and delta <= 0 and not rec.terminating:
                episode = 1
        elif not in_start_failure:
            self._episodes.discard(ek)

        amount = max(delta, 0) + episode
        p = self._pending.get(ckey)
        wants_logs = (
            self._request_logs is not None
            and needs_logs(c)
            and (amount > 0 or (first_sight and finding is not None))
            and not self._has_verdict(ckey, rec, c)
        )
        req: LogRequest | None = None
        if wants_logs or (p is not None and p.request is not None and _stale_current_log(p.request, c, run)):
            # While a dead run is state.terminated its log is the *current* log (previous=true is
            # the run before it); once it is lastState, the previous log. A current-log fetch
            # still unanswered then may read the next run, so the previous log is asked for
            # again and the earlier answer is ignored.
            req = LogRequest(
                pod_uid=rec.uid,
                namespace=rec.namespace,
                pod=rec.name,
                container=c.name,
                restart_count=c.restart_count,
                previous=c.terminated is None,
                node=rec.node_name,
                run=run,
            )
            if p is not None:
                p.request = req
            if self._request_logs is not None:
                self._request_logs(req)
        if amount <= 0:
            return
        key = self._crash_key(rec, c, finding)
        hold = self._settings.kill_event_grace > 0 and event_can_change(key.cause)
        if (wants_logs and req is not None) or hold:
            hold_until = now + self._settings.kill_event_grace if hold else 0.0
            if p is None:
                self._pending[ckey] = _Pending(amount, now, key, rec, req if wants_logs else None, hold_until)
            else:
                p.amount += amount
                p.fallback = key
                p.record = rec
                # The earliest death's deadline stands: a loop dying faster than the grace must
                # not postpone its count again and again.
                p.hold_until = p.hold_until or hold_until
            return
        self.crashes.inc(key, amount, now=now)

    def _crash_key(self, rec: PodRecord, c: ContainerRecord, finding: Finding | None) -> CrashKey:
        return CrashKey(
            namespace=rec.namespace,
            workload_kind=rec.workload_kind,
            workload=rec.workload,
            container=c.name,
            container_type=c.type,
            cause=finding.cause if finding is not None else "unknown",
        )

    def _has_verdict(self, ckey: ContainerKey, rec: PodRecord, c: ContainerRecord) -> bool:
        """A log already answered for this run of the container (dead-run number and termination)."""
        v = self._verdicts.get(ckey)
        if v is None or v.run != dead_runs(rec, c):
            return False
        term = c.terminated or c.last_terminated
        return v.finding.last_termination == (term.finished_at if term is not None else None)

    def _delete_pod(self, uid: str) -> None:
        rec = self.pods.pop(uid, None)
        self.findings.pop(uid, None)
        self._by_container.pop(uid, None)
        self._wide.pop(uid, None)
        self._contexts.pop(uid, None)
        if rec is None:
            return
        for c in rec.containers:
            ckey = (uid, c.name)
            # A pending crash stays pending: its log may still answer (counted then, with the
            # cause the log gives), and `tick` flushes it with the status cause if it never does.
            p = self._pending.get(ckey)
            v = self._verdicts.pop(ckey, None)
            if p is not None and v is not None and BY_ID[v.finding.cause].priority < BY_ID[p.fallback.cause].priority:
                # Without a fresh log, what the previous run's log said beats a status-only guess.
                p.fallback = p.fallback._replace(cause=v.finding.cause)
            self._episodes.discard(("start", uid, c.name))
        self.deps.dependents.discard(uid)
        names = self._by_name.get(rec.namespace, {})
        if names.get(rec.name) == uid:
            del names[rec.name]
            if not names:
                del self._by_name[rec.namespace]
            self.events.forget_pod(rec.namespace, rec.name)
            self.deps.pod_gone(rec.namespace, rec.name, rec.ip_keys)

    # ---- classification -----------------------------------------------------------------------

    def _context(self, rec: PodRecord, *, now: float) -> PodContext:
        return pod_context(
            rec, events=self.events.for_pod(rec.namespace, rec.name, now=now), node=self.nodes.get(rec.node_name)
        )

    def _classify_chunk(
        self, uid: str, names: Sequence[str], *, now: float, logs: Mapping[str, str] | None = None
    ) -> bool:
        """Re-evaluate the named containers of pod `uid` and publish their findings (the other
        containers keep theirs). One step, so it reads the pod's current record, containers and
        context: a step of an older update must not undo a newer one, nor bring a pod deleted
        between steps back as a ghost series. Returns whether a container got its first finding,
        which `_settle` puts back in container order."""
        rec = self.pods.get(uid)
        if rec is None or not names:
            return False
        ctx = self._contexts.get(uid)
        if ctx is None:
            ctx = self._contexts[uid] = self._context(rec, now=now)
        fresh_logs = logs or {}
        found = self._by_container.get(uid, {})
        added = False
        for name in names:
            c = self._container(uid, rec, name)
            if c is None:
                continue
            f = classify_container(rec, c, context=ctx, log_text=fresh_logs.get(name, ""), now=now, rules=self._rules)
            if f is None:
                found.pop(name, None)
                continue
            if name not in found:
                added = True
            f = annotate_targets(f, fresh_logs.get(name, ""))
            found[name] = self.deps.attach(self._with_verdict(uid, f, fresh_log=name in fresh_logs))
            if (uid, name) in self._pending:
                self._held_cause(uid, name, found[name].cause, now=now)
        for name in names:
            c = self._container(uid, rec, name)
            turn = _time_turn(rec, c) if c is not None else None
            if turn is not None and turn > now and self._recheck_at.get((uid, name)) != turn:
                self._recheck_at[(uid, name)] = turn
                heapq.heappush(self._rechecks, (turn, uid, name))
        self._publish(uid, found)
        return added

    def _held_cause(self, uid: str, name: str, cause: str, *, now: float) -> None:
        """A container with pending crashes was reclassified: they will be counted under its new
        cause; a death waiting only for an Event is counted now if no Event can change it any more."""
        p = self._pending[(uid, name)]
        p.fallback = p.fallback._replace(cause=cause)
        if p.request is None and not event_can_change(cause):
            del self._pending[(uid, name)]
            self.crashes.inc(p.fallback, p.amount, now=now)

    def _publish(self, uid: str, found: dict[str, Finding]) -> None:
        """`found` becomes pod `uid`'s findings: what the collector renders and /causes lists."""
        if found:
            self._by_container[uid] = found
            self.findings[uid] = tuple(found.values())
        else:
            self._by_container.pop(uid, None)
            self.findings.pop(uid, None)
        rec = self.pods.get(uid)
        if rec is not None:
            self.deps.published(uid, rec.namespace, rec.name, found)

    def _refresh_dependencies(self) -> None:
        """Dependents whose dependency's findings (or the Service index) changed, re-evaluated now."""
        self.deps.refresh(
            self._by_container.get, lambda uid: self._publish(uid, self._by_container.get(uid, {}))
        )

    def _settle(self, uid: str) -> None:
        """After the last step: the findings of the pod's current containers only, in container
        order (the order `classify` gives and the collector renders); a step appends a
        container's first finding at the end."""
        found, rec = self._by_container.get(uid), self.pods.get(uid)
        if found is None or rec is None:
            return
        ordered = {c.name: found[c.name] for c in rec.containers if c.name in found}
        if list(ordered) != list(found):
            self._publish(uid, ordered)

    def _with_verdict(self, uid: str, f: Finding, *, fresh_log: bool) -> Finding:
        """Keep what an earlier log said about this same run, unless the status now says more.

        Same cause counts as "not more": a status-only reclassification of an app_crash (a
        relist, an Event) must keep the log line that says why the app crashed. A verdict about
        a run that is over is not applied, so a new run never shows the old run's log.
        """
        if fresh_log:
            return f
        ckey = (uid, f.container)
        v = self._verdicts.get(ckey)
        if v is None:
            return f
        rec = self.pods.get(uid)
        c = self._container(uid, rec, f.container) if rec is not None else None
        if rec is None or c is None or not v.same_run(dead_runs(rec, c), f):
            # Kept (one per container) for `_delete_pod`: the last log's cause still beats a
            # status-only guess for a crash whose own log never comes.
            return f
        if BY_ID[v.finding.cause].priority > BY_ID[f.cause].priority:
            return f
        return dataclasses.replace(
            f,
            cause=v.finding.cause,
            evidence=v.finding.evidence,
            remediation=v.finding.remediation,
            runbook_url=v.finding.runbook_url,
            facts=v.finding.facts,
        )

    def _reclassify(self, uid: str, *, every_container: bool = False) -> Steps[None]:
        """After an Event or a node change: the containers whose context changed, in steps."""
        rec = self.pods.get(uid)
        if rec is None:
            return
        now = self._clock()
        ctx = self._context(rec, now=now)
        changed = None if every_container else ctx.changed_containers(self._contexts.get(uid))
        self._contexts[uid] = ctx
        names = [c.name for c in rec.containers if changed is None or c.name in changed]
        spent, added = 0.0, False
        for i, chunk in enumerate(chunks(names, CONTAINERS_PER_STEP)):
            if i:
                yield
            started = time.perf_counter()
            added |= self._classify_chunk(uid, chunk, now=now)
            spent += time.perf_counter() - started
        if added or changed is None:
            self._settle(uid)
        self.classify_seconds.observe(spent)

    def apply_logs(self, req: LogRequest, text: str | None) -> None:
        """The answer to a LogRequest (`text` None when the fetch failed or was refused).

        Only the container the log is about is re-evaluated: its pod's context was computed at
        the last pod update or Event, and the other containers' findings cannot depend on it.
        """
        ckey = (req.pod_uid, req.container)
        rec = self.pods.get(req.pod_uid)
        p = self._pending.get(ckey)
        if p is not None and p.request != req:
            # Superseded (`_stale_current_log`): it may have read a newer run; the newer fetch
            # answers for these crashes (or `tick` counts them if it never does).
            return
        self._pending.pop(ckey, None)
        finding: Finding | None = None
        if rec is not None:
            c = self._container(rec.uid, rec, req.container)
            if c is not None and text:
                started = time.perf_counter()
                if self._classify_chunk(rec.uid, (c.name,), now=self._clock(), logs={c.name: text}):
                    self._settle(rec.uid)
                self.classify_seconds.observe(time.perf_counter() - started)
                finding = self._by_container.get(rec.uid, {}).get(c.name)
                if finding is not None:
                    self._verdicts[ckey] = _Verdict(req.run, finding)
            else:
                # No log: the container's finding from its last update is the best known.
                finding = self._by_container.get(rec.uid, {}).get(req.container)
        elif p is not None and text:
            # The pod was deleted while its log was in flight: classify its last known state.
            gone = p.record.container(req.container)
            if gone is not None:
                finding = classify_container(
                    p.record,
                    gone,
                    context=pod_context(p.record),
                    log_text=text,
                    now=self._clock(),
                    rules=self._rules,
                )
        if p is not None:
            key = p.fallback._replace(cause=finding.cause) if finding is not None else p.fallback
            now = self._clock()
            if rec is not None and now < p.hold_until and event_can_change(key.cause):
                # Answered, but an Event may still outrank what the log says: held until then.
                p.fallback, p.request = key, None
                self._pending[ckey] = p
            else:
                self.crashes.inc(key, p.amount, now=now)
        self._refresh_dependencies()

    def tick(self) -> None:
        """Flush crashes whose log never came back or whose Event grace is over; release
        held-back counter increments."""
        now = self._clock()
        for ckey in [k for k, p in self._pending.items() if _flush_due(p, now)]:
            p = self._pending.pop(ckey)
            self.crashes.inc(p.fallback, p.amount, now=now)
        self._time_turns(now)
        self.crashes.release(now=now)

    def _time_turns(self, now: float) -> None:
        """Re-evaluate the containers whose finding time alone has changed since (a crash ten minutes
        old, a start stuck for ten minutes): no pod update may ever come to do it."""
        touched: set[str] = set()
        while self._rechecks and self._rechecks[0][0] < now:
            turn, uid, name = heapq.heappop(self._rechecks)
            if self._recheck_at.get((uid, name)) != turn:
                continue  # superseded by a later turn of the same container
            del self._recheck_at[(uid, name)]
            if uid in self.pods:
                self._classify_chunk(uid, (name,), now=now)
                touched.add(uid)
        for uid in touched:
            self._settle(uid)
        if touched:
            self._refresh_dependencies()

    # ---- readers ------------------------------------------------------------------------------

    def uid_of(self, namespace: str, pod: str) -> str | None:
        """The uid of the pod of that name, if tracked."""
        names = self._by_name.get(namespace)
        return names.get(pod) if names is not None else None

    def _container(self, uid: str, rec: PodRecord, name: str) -> ContainerRecord | None:
        wide = self._wide.get(uid)
        return wide.get(name) if wide is not None else rec.container(name)

    def now(self) -> float:
        return self._clock()

    def all_findings(self) -> list[Finding]:
        return [f for fs in self.findings.values() for f in fs]

    @property
    def pending_crashes(self) -> int:
        return sum(p.amount for p in self._pending.values())


def _flush_due(p: _Pending, now: float) -> bool:
    if p.request is None:
        return now >= p.hold_until
    return now - p.since > LOG_WAIT_SECONDS


def _stale_current_log(req: LogRequest, c: ContainerRecord, run: int) -> bool:
    """`req` asked for the current log of a run that has since moved to lastState: the kubelet
    serves a lastState run as the previous log (and, until the restart, as the current one),
    so the previous log is the one that stays right."""
    return not req.previous and req.run == run and c.terminated is None and c.last_terminated is not None


class _PodView:
    """The state's pods and findings by namespace and name, for the dependency walk."""

    def __init__(self, state: ClusterState) -> None:
        self._state = state

    def pod_workload(self, namespace: str, pod: str) -> tuple[str, str] | None:
        uid = self._state.uid_of(namespace, pod)
        rec = self._state.pods.get(uid) if uid is not None else None
        return (rec.workload_kind, rec.workload) if rec is not None else None

    def pod_findings(self, namespace: str, pod: str) -> Sequence[Finding]:
        uid = self._state.uid_of(namespace, pod)
        return self._state.findings.get(uid, ()) if uid is not None else ()


def _name_map(containers: Sequence[ContainerRecord]) -> dict[str, ContainerRecord]:
    return {c.name: c for c in containers}


def _keep_unreported(rec: PodRecord, old: PodRecord) -> PodRecord:
    """`rec` with the last reported status of every container this update carried none for.

    An update whose status is null, whose containerStatuses is empty or missing, or that omits
    one container, does not mean the kubelet reset anything: containers cannot leave a pod, and
    their restartCount never returns to 0 without a new container ID. Taking the spec-only zeros
    as a new baseline would count every earlier restart again on the next good update, so the
    container keeps its previous status (and baseline) for as long as the pod lives.
    """
    if rec.all_running and rec.packed_containers is old.packed_containers:
        return rec  # the same templates: every container reported, and none left out
    before = {c.name: c for c in old.containers if c.reported}
    if not before:
        return rec
    current = rec.containers
    containers: list[ContainerRecord] = []
    for c in current:
        prev = before.pop(c.name, None)
        containers.append(prev if prev is not None and not c.reported else c)
    if not before and all(a is b for a, b in zip(containers, current, strict=True)):
        return rec
    return rec.with_containers((*containers, *before.values()))


def _listed_key(resource: str, meta: object) -> str | None:
    """The reconciliation key of a listed object that could not be parsed, if it has one."""
    if not isinstance(meta, Mapping):
        return None
    key = meta.get("uid") if resource == "pods" else meta.get("name") if resource == "nodes" else None
    return key if isinstance(key, str) and key else None


def _pod_fields(rec: PodRecord) -> tuple[object, ...]:
    """Everything of a pod record but its containers: when any of it changes, every container's
    classification may (an eviction, a move to another node, a new restartPolicy)."""
    return (
        rec.phase,
        rec.reason,
        rec.message,
        rec.node_name,
        rec.restart_policy,
        rec.workload_kind,
        rec.workload,
        rec.volume_refs,
        rec.created,
    )


def _time_turn(rec: PodRecord, c: ContainerRecord) -> float | None:
    """When the container's finding next changes with time alone, its status unchanged: a running
    container stops failing ten minutes after its last crash, a ContainerCreating one starts once
    it has waited ten minutes (`classify.engine`)."""
    if c.waiting is not None:
        if c.waiting.reason == CREATING and rec.created is not None:
            return rec.created + STUCK_CREATING_SECONDS
        return None
    last = c.last_terminated
    if c.terminated is None and last is not None and last.finished_at is not None:
        return last.finished_at + RECENT_CRASH_SECONDS
    return None


def _clock_dependent(c: ContainerRecord) -> bool:
    """Whether this container's finding can change with time alone, its status unchanged: a
    running container is failing only for 10 minutes after a crash, and a ContainerCreating one
    becomes failing once it has waited too long. Those are re-evaluated on every pod update, as
    every container was before; a container waiting in CrashLoopBackOff is not."""
    if c.waiting is not None:
        return c.waiting.reason == "ContainerCreating"
    return c.terminated is None


def _quiet(rec: PodRecord) -> bool:
    """Nothing to explain: every container running or cleanly done, never restarted, pod not evicted."""
    if rec.reason == "Evicted":
        return False
    if rec.all_running:
        return True  # what the loop below would find, without building the containers' records
    for c in rec.containers:
        if c.restart_count or (c.waiting is not None and c.waiting.reason not in ("PodInitializing", "")):
            return False
        if c.terminated is not None and (c.terminated.exit_code != 0 or latest_run_dead(rec, c)):
            return False  # a failure, or a clean exit that restartPolicy Always restarts: a death
        if c.running_since is None and c.terminated is None and c.waiting is None and c.type != "ephemeral":
            # No status yet: only interesting if something (FailedMount) is holding it back.
            return False
    return True
