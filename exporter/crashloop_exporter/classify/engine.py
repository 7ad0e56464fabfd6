"""`classify()`: pod (+ its events, logs and node) in, findings out. Pure: no I/O, no clock.

For every container that is failing now, or has a past termination worth reporting, the signals
are collected per cause (status, events, spec, node, log tail) and the catalog's priority order
picks the first cause that has evidence. `diagnose` calls `classify` on dumps; the exporter keeps
a `pod_context` per pod and calls `classify_container` for the containers an update, an event or a
log answer concerns, so one log answer on a pod with thousands of containers costs one container. Both hand in `now`
explicitly, so a dump from last week classifies as of last week.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crashloop_exporter.catalog import (
    BY_ID,
    CAUSES,
    CREATING,
    FAILING_WAITING,
    HOLDING_EVENTS,
    PULLING_EVENT,
    Cause,
    Signal,
)
from crashloop_exporter.classify import logs as logtools
from crashloop_exporter.classify.redact import clean
from crashloop_exporter.classify.remediation import KEY_SEPARATOR, render, suggest_memory
from crashloop_exporter.classify.user_rules import LogRules, default_rules
from crashloop_exporter.findings import Evidence, EvidenceSource, Finding
from crashloop_exporter.model import (
    ContainerRecord,
    EnvRef,
    EventRecord,
    NodeRecord,
    ObjectKind,
    PodRecord,
    Terminated,
)

RECENT_CRASH_SECONDS = 600.0
"""A container whose last abnormal termination is less than this ago is still failing, ready or
not: the kubelet resets its crash backoff only after 10 minutes of running, so before that it is
one crash loop (it flaps between Running and CrashLoopBackOff, and the gauge must not)."""
STUCK_CREATING_SECONDS = 600.0
"""ContainerCreating for longer than this with nothing to explain it is reported as `unknown`."""
EVENT_SLACK_SECONDS = 5.0

_ENV_COMPLAINT = re.compile(
    r"missing|not set|unset|required|empty|invalid|undefined|not defined|not found|KeyError|must be set|no value|"
    r"could not resolve|unresolvable|placeholder",
    re.IGNORECASE,
)
_SIGNAL_EXIT = {137: "SIGKILL", 139: "SIGSEGV", 143: "SIGTERM", 134: "SIGABRT"}
_FACT_GROUPS = ("secret", "configmap", "key", "volume", "resource", "module", "var", "host", "port")


@dataclass(slots=True)
class _Decision:
    """Evidence gathered for one cause; the cause with the lowest priority number wins."""

    cause: str
    evidence: list[Evidence] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)


def _ts(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else "?"


def _ev(source: EvidenceSource, text: str) -> Evidence:
    return Evidence(source=source, detail=clean(text))


def _event_text(e: EventRecord) -> str:
    count = f" (x{e.count})" if e.count > 1 else ""
    return f"{e.reason}{count}: {e.message}"


def needs_logs(container: ContainerRecord) -> bool:
    """True when the previous run's log could change this container's cause.

    Not for terminations whose reason decides the cause on its own (an OOM kill; a StartError or
    ContainerCannotRun run that never started a process), nor for clean exits.
    """
    term = container.terminated or container.last_terminated
    if term is None:
        return False
    if term.reason in _decisive_terminated():
        return False
    return term.exit_code != 0


def _decisive_terminated() -> frozenset[str]:
    return frozenset(r for c in CAUSES for r in c.terminated_reasons)


def _last_termination(c: ContainerRecord) -> Terminated | None:
    return c.terminated or c.last_terminated


def _abnormal(pod: PodRecord, c: ContainerRecord, t: Terminated) -> bool:
    """A termination the kubelet answers with a restart: non-zero, an OOM kill, or exit 0 under
    restartPolicy Always (a regular container that must not stop)."""
    return t.exit_code != 0 or t.reason == "OOMKilled" or (pod.restarts_clean_exits and c.type == "regular")


def _held_creating(pod: PodRecord, events: Sequence[EventRecord], now: float) -> bool:
    """ContainerCreating (or no status yet) held back by a failure event, or stuck with nothing to
    explain it. A pull under way (a `Pulling` event with no failure after it) is not a failure,
    however long a big image takes; events are newest first."""
    for e in events:
        if e.reason in HOLDING_EVENTS:
            return True
        if e.reason == PULLING_EVENT:
            return False
    return pod.created is not None and now - pod.created > STUCK_CREATING_SECONDS


def _failing_state(pod: PodRecord, c: ContainerRecord, events: Sequence[EventRecord], now: float) -> tuple[bool, str]:
    """(failing, kubelet reason) following SPEC: failing waiting states, Evicted, or an abnormal
    termination less than 10 minutes ago, ready or not. Readiness failures alone never make a
    container failing, and nothing of a pod being deleted does."""
    failing, reason = _state(pod, c, events, now)
    return failing and not pod.terminating, reason


def _state(pod: PodRecord, c: ContainerRecord, events: Sequence[EventRecord], now: float) -> tuple[bool, str]:
    if pod.reason == "Evicted":
        return True, "Evicted"
    if c.waiting is not None:
        return _waiting_state(pod, c, c.waiting.reason, events, now)
    if c.terminated is not None:
        return _terminated_state(pod, c, c.terminated)
    if c.running_since is None and c.last_terminated is None:
        # No status at all yet (pending pod); a failure event still explains a stuck start.
        if c.type != "ephemeral" and any(e.reason in HOLDING_EVENTS for e in events):
            return _held_creating(pod, events, now), CREATING
        return False, ""
    last = c.last_terminated
    if _recent_crash(pod, c, now) and last is not None:
        return True, last.reason or "Error"
    return False, "Running"


def _waiting_state(
    pod: PodRecord, c: ContainerRecord, reason: str, events: Sequence[EventRecord], now: float
) -> tuple[bool, str]:
    if reason in FAILING_WAITING or any(reason in cause.waiting_reasons for cause in CAUSES):
        # A waiting reason that decides a cause is a failure by the catalog's word.
        return True, reason
    if " " in reason and _message_explains(reason):
        # Kubelets before v1.8 put the error itself in the reason (`Couldn't find key ...`).
        return True, reason
    if reason == CREATING:
        return _held_creating(pod, events, now), reason
    return _recent_crash(pod, c, now), reason


def _terminated_state(pod: PodRecord, c: ContainerRecord, t: Terminated) -> tuple[bool, str]:
    if c.type == "init":
        return t.exit_code != 0, t.reason or "Error"
    if t.exit_code != 0 or t.reason == "OOMKilled":
        if c.type == "ephemeral":
            return False, t.reason or "Error"
        return True, t.reason or "Error"
    # Exit 0: fine for Jobs; abnormal when the kubelet restarts it (`clean_exit`), the first exit
    # too: its dead run is counted when it dies, and it must be counted as what it is.
    return _abnormal(pod, c, t), t.reason


def _message_explains(text: str) -> bool:
    """A waiting text that a catalog waiting wording explains."""
    return any(
        CAUSES.rx(s.wording).search(text)
        for cause in CAUSES
        for s in cause.detect
        if s.on == "waiting" and s.wording is not None and not s.reasons
    )


def _recent_crash(pod: PodRecord, c: ContainerRecord, now: float) -> bool:
    """The last abnormal termination was less than RECENT_CRASH_SECONDS ago (ready or not)."""
    last = c.last_terminated
    if last is None or c.type != "regular" or not _abnormal(pod, c, last):
        return False
    return last.finished_at is not None and now - last.finished_at < RECENT_CRASH_SECONDS


@dataclass(frozen=True, slots=True)
class PodContext:
    """What classifying one container needs from the rest of its pod, computed once per pod.

    A pod can hold thousands of containers. Filtering and sorting the pod's events for each of
    them (and checking the node) is the per-pod part of classification; done once here, a caller
    that re-evaluates one container (a log answer) does O(its events) work, not O(pod).
    """

    own: Mapping[str, tuple[tuple[int, EventRecord], ...]]
    """Events naming one container (`involvedObject.fieldPath`), by container, each with its
    position in the newest-first order of all the pod's events."""
    pod_wide: tuple[tuple[int, EventRecord], ...]
    """Events about the whole pod (no container), with their positions."""
    node: NodeRecord | None
    """The pod's node, or None when the node handed in is another one."""

    def events_for(self, container: str) -> list[EventRecord]:
        """Events about this pod that concern `container` (or the whole pod), newest first."""
        own = self.own.get(container, ())
        if not own:
            return [e for _, e in self.pod_wide]
        if not self.pod_wide:
            return [e for _, e in own]
        return [e for _, e in sorted((*own, *self.pod_wide), key=lambda ie: ie[0])]

    def changed_containers(self, before: PodContext | None) -> frozenset[str] | None:
        """The containers whose events differ from `before`'s; None when every container's may
        (no earlier context, another node, or a change in the pod-wide events)."""
        if before is None or before.node != self.node or _events(before.pod_wide) != _events(self.pod_wide):
            return None
        names = before.own.keys() | self.own.keys()
        return frozenset(n for n in names if _events(before.own.get(n, ())) != _events(self.own.get(n, ())))


def _events(indexed: Sequence[tuple[int, EventRecord]]) -> tuple[EventRecord, ...]:
    return tuple(e for _, e in indexed)


def pod_context(pod: PodRecord, *, events: Sequence[EventRecord] = (), node: NodeRecord | None = None) -> PodContext:
    """The per-pod part of classification; `classify_container` reads it for each container."""
    mine = [
        e
        for e in events
        if (e.pod_uid == pod.uid if (e.pod_uid and pod.uid) else (e.pod == pod.name and e.namespace == pod.namespace))
    ]
    # A stable sort, then split by container: filtering a stably sorted list gives each container
    # the same list, in the same order, as sorting its own events would.
    mine.sort(key=lambda e: e.last_seen or 0.0, reverse=True)
    own: dict[str, list[tuple[int, EventRecord]]] = {}
    pod_wide: list[tuple[int, EventRecord]] = []
    for i, e in enumerate(mine):
        if e.container:
            own.setdefault(e.container, []).append((i, e))
        else:
            pod_wide.append((i, e))
    return PodContext(
        own={k: tuple(v) for k, v in own.items()},
        pod_wide=tuple(pod_wide),
        node=node if node is not None and node.name == pod.node_name else None,
    )


def _during(term: Terminated | None, e: EventRecord) -> bool:
    """Did event `e` happen during (or after the start of) the run that `term` ended?"""
    if term is None or term.started_at is None or e.last_seen is None:
        return True
    return e.last_seen >= term.started_at - EVENT_SLACK_SECONDS


class _Collector:
    """Collects per-cause evidence for one container; `best()` applies catalog priority."""

    def __init__(self) -> None:
        self.decisions: dict[str, _Decision] = {}
        self.context: list[Evidence] = []
        """Signals that explain nothing on their own but are the evidence of an `unknown`."""

    def add(self, cause: str, source: EvidenceSource, text: str, **facts: str) -> None:
        d = self.decisions.setdefault(cause, _Decision(cause))
        if len(d.evidence) < 4:
            ev = _ev(source, text)
            if ev not in d.evidence:
                d.evidence.append(ev)
        for k, v in facts.items():
            if v and k not in d.facts:
                d.facts[k] = v

    def best(self) -> _Decision | None:
        for c in CAUSES:
            if c.id in self.decisions:
                return self.decisions[c.id]
        return None


def _collector_facts(cause: Cause, c: ContainerRecord, pod: PodRecord, groups: Mapping[str, str]) -> dict[str, str]:
    """Facts for the remediation from a wording's named groups, completed from the pod spec: the
    env var that reads a missing key, the Secret a volume mounts, the keys read from an object."""
    facts = {k: v for k, v in groups.items() if k in _FACT_GROUPS and v}
    if "var" in facts:
        facts["env_var"] = facts.pop("var")
    kind: ObjectKind | None = cause.config_object or None
    if kind is None:
        return facts
    name_key = "secret" if kind == "Secret" else "configmap"
    volume = facts.pop("volume", "")
    if volume and not facts.get(name_key):
        facts[name_key] = next((r.name for r in pod.volume_refs if r.var == volume and r.kind == kind), "")
    name, key = facts.get(name_key, ""), facts.get("key", "")
    if name and key and "env_var" not in facts:
        facts["env_var"] = next((r.var for r in _env_refs(c) if r.kind == kind and r.name == name and r.key == key), "")
    if name and not key:
        facts["key"] = _keys_for(c, kind, name)
    return facts


def _env_refs(c: ContainerRecord) -> tuple[EnvRef, ...]:
    return c.spec.env_refs if c.spec is not None else ()


def _keys_for(c: ContainerRecord, kind: ObjectKind, name: str) -> str:
    """Keys the spec reads from that Secret/ConfigMap, for `--from-literal=K=<value>`."""
    if c.spec is None:
        return ""
    keys = [r.key for r in c.spec.env_refs if r.kind == kind and r.name == name and r.key]
    # The template reads `--from-literal=${key}=<value>`: several keys become several flags
    # (rendered, and each quoted, by `remediation.render`).
    return KEY_SEPARATOR.join(dict.fromkeys(keys)) if keys else ""


def _matches(s: Signal, reason: str, text: str) -> dict[str, str] | None:
    """The wording's named groups when the signal matches (`reason`, then `text`), else None."""
    if s.reasons and reason not in s.reasons:
        return None
    if s.wording is None:
        return {}
    m = CAUSES.rx(s.wording).search(text)
    return {k: v for k, v in m.groupdict().items() if v} if m else None


def _applies(s: Signal, cause: Cause, c: ContainerRecord, term: Terminated | None, e: EventRecord) -> bool:
    if s.when == "during_run":
        return _during(term, e)
    if s.when == "not_running":
        return c.running_since is None
    if s.when == "starting":
        w = c.waiting
        return c.running_since is None and (w is None or w.reason == CREATING or w.reason in cause.waiting_reasons)
    return True


def _memory_facts(c: ContainerRecord) -> dict[str, str]:
    limit = c.spec.memory_limit if c.spec is not None else ""
    request = c.spec.memory_request if c.spec is not None else ""
    new_limit, new_request = suggest_memory(limit, request)
    return {"memory_limit": limit, "suggested_memory_limit": new_limit, "suggested_memory_request": new_request}


def _status_signals(col: _Collector, pod: PodRecord, c: ContainerRecord, term: Terminated | None) -> None:
    """Waiting, terminated and pod-status signals of every cause."""
    w = c.waiting
    wtext = (f"waiting {w.reason}: {w.message}" if w.message else f"waiting {w.reason}") if w is not None else ""
    tdesc = ""
    if term is not None:
        tdesc = f"terminated {term.reason or 'Error'} (exit code {term.exit_code})"
        if term.message:
            tdesc += f": {term.message}"
    ptext = f"pod {pod.reason}: {pod.message}" if pod.reason else ""
    for cause in CAUSES:
        for s in cause.detect:
            if s.on == "waiting" and w is not None:
                # Old kubelets put the whole message in the reason; match both.
                groups = _matches(s, w.reason, f"{w.reason}: {w.message}")
                text = wtext
            elif s.on == "terminated" and term is not None:
                groups = _matches(s, term.reason, f"{term.reason}: {term.message}")
                text = tdesc
            elif s.on == "pod" and pod.reason:
                groups = _matches(s, pod.reason, pod.message)
                text = ptext
            else:
                continue
            if groups is None:
                continue
            facts = _collector_facts(cause, c, pod, groups)
            if s.memory:
                facts.update(_memory_facts(c))
                limit = facts["memory_limit"]
                text += f"; memory limit {limit}" if limit else "; no memory limit set"
            if s.on == "pod":
                facts.setdefault("node", pod.node_name)
            col.add(cause.id, "status", text, **facts)
    if w is not None and w.message and not col.decisions:
        # A waiting message no cause explains (a runAsNonRoot image running as root, a bad
        # subPath) is the evidence of `unknown`, rather than borrowing another cause's fix.
        col.context.append(_ev("status", wtext))


def _node_signals(
    col: _Collector,
    pod: PodRecord,
    term: Terminated | None,
    node: NodeRecord | None,
    log_text: str,
) -> None:
    """A kill (or a process that died of exhaustion) while the node's pressure conditions held."""
    if pod.reason == "Evicted" or node is None or not node.pressures or term is None:
        return
    for cause in CAUSES:
        ns = cause.node
        if ns is None or term.reason in _decisive_terminated():
            continue
        killed = term.exit_code in ns.killed_codes or term.reason in ns.killed_reasons or term.signal == 9
        exhausted = None
        if not killed and log_text:
            patterns = [CAUSES.rx(w) for w in ns.exhaustion]
            exhausted = next(
                (ln for ln in reversed(logtools.tail_lines(log_text)) if any(p.search(ln) for p in patterns)), None
            )
        if not (killed or exhausted):
            continue
        if exhausted:
            col.add(cause.id, "log", exhausted)
        for p in node.pressures:
            if p.since is None or term.finished_at is None or p.since <= term.finished_at:
                col.add(
                    cause.id,
                    "node",
                    f"node {node.name} {p.type}=True since {_ts(p.since)}" + (f": {p.message}" if p.message else ""),
                    node=node.name,
                    resource=ns.conditions.get(p.type, p.type),
                )


def _event_signals(
    col: _Collector, pod: PodRecord, c: ContainerRecord, term: Terminated | None, events: Sequence[EventRecord]
) -> None:
    """Event signals of every cause; corroborating ones (an Unhealthy under its Killing) last,
    and only the newest of each."""
    later: list[tuple[Cause, str]] = []
    for cause in CAUSES:
        for s in cause.detect:
            if s.on != "event":
                continue
            for e in events:
                if not s.reasons and e.type != "Warning":
                    continue
                groups = _matches(s, e.reason, e.message)
                if groups is None or not _applies(s, cause, c, term, e):
                    continue
                if s.corroborates:
                    later.append((cause, _event_text(e)))
                    break
                facts = _collector_facts(cause, c, pod, groups)
                if s.probe:
                    probe = getattr(c.spec, s.probe) if c.spec is not None else None
                    facts.update(probe_path=probe.path if probe else "", probe_port=probe.port if probe else "")
                col.add(cause.id, "event", _event_text(e), **facts)
                if s.probe:
                    break
    for cause, text in later:
        if cause.id in col.decisions:
            col.add(cause.id, "event", text)


def _optional_ref_signal(col: _Collector, c: ContainerRecord, lines: Sequence[str]) -> None:
    """Seed 1: the app starts, an env var from an *optional* Secret/ConfigMap ref is empty, the app
    exits naming that variable. The log alone says "bad config"; the spec says the object is missing."""
    if c.spec is None:
        return
    optional = [r for r in c.spec.env_refs if r.optional and r.var]
    if not optional:
        return
    by_kind = {cause.config_object: cause for cause in CAUSES if cause.optional_ref and cause.config_object}
    for ln in lines:
        if not _ENV_COMPLAINT.search(ln) or logtools.is_non_fatal(ln):
            continue
        for ref in optional:
            cause = by_kind.get(ref.kind)
            if cause is None:
                continue
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(ref.var)}(?![A-Za-z0-9_])", ln):
                name_key = "secret" if ref.kind == "Secret" else "configmap"
                col.add(cause.id, "log", ln, env_var=ref.var, key=ref.key, **{name_key: ref.name})
                ref_kind = "secretKeyRef" if ref.kind == "Secret" else "configMapKeyRef"
                col.add(
                    cause.id,
                    "spec",
                    f"env {ref.var} <- {ref_kind} {ref.name}/{ref.key} (optional: true): the container starts "
                    f"with {ref.var} empty when the {ref.kind.lower()} or its key is missing",
                )
                return


def _log_signals(col: _Collector, c: ContainerRecord, log_text: str, rules: LogRules) -> None:
    if not log_text:
        return
    lines = logtools.tail_lines(log_text)
    decisive, rest = logtools.tiers(lines)
    for tier in (decisive, rest):
        before = set(col.decisions)
        _optional_ref_signal(col, c, tier)
        for cause_id in rules.log_causes:
            m = logtools.first_match(rules.for_cause(cause_id), tier)
            if m is None:
                continue
            # The evidence line comes from this tier; names (host, port, var) from anywhere in the tail.
            everywhere = logtools.first_match(rules.for_cause(cause_id), [*decisive, *rest])
            g = {**(everywhere.groups if everywhere else {}), **m.groups}
            facts = {
                "env_var": g.get("var", ""),
                "host": g.get("host", ""),
                "port": g.get("port", ""),
                "module": g.get("module", ""),
            }
            col.add(cause_id, "log", m.line, **facts)
        if set(col.decisions) - before:
            return


def _exit_signals(col: _Collector, pod: PodRecord, c: ContainerRecord, term: Terminated | None, failing: bool) -> None:
    if term is None:
        return
    code = term.exit_code
    desc = f"terminated {term.reason or 'Error'} (exit code {code}"
    desc += f", {_SIGNAL_EXIT[code]})" if code in _SIGNAL_EXIT else ")"
    matched = False
    for cause in CAUSES:
        for x in cause.exits:
            if c.type not in x.container_types:
                continue
            if not (code in x.codes if x.codes is not None else code != 0) and term.signal not in x.signals:
                continue
            if x.restarted and not (pod.restarts_clean_exits and (failing or c.restart_count > 0)):
                continue
            matched = True
            col.add(cause.id, "status", f"init container {desc}" if c.type == "init" and x.codes is None else desc)
    if not matched and code != 0:
        col.add(CAUSES.crashed, "status", desc)


def _classify_container(
    pod: PodRecord,
    c: ContainerRecord,
    *,
    cevents: Sequence[EventRecord],
    log_text: str,
    node: NodeRecord | None,
    now: float,
    rules: LogRules,
) -> Finding | None:
    failing, reason = _failing_state(pod, c, cevents, now)
    term = _last_termination(c)
    if not failing and (c.last_terminated is None or c.restart_count == 0):
        return None
    col = _Collector()
    _status_signals(col, pod, c, term)
    _node_signals(col, pod, term, node, log_text)
    _event_signals(col, pod, c, term, cevents)
    if term is not None and term.reason not in _decisive_terminated():
        _log_signals(col, c, log_text, rules)
    _exit_signals(col, pod, c, term, failing)
    best = col.best()
    if best is not None and BY_ID[best.cause].quotes_log_errors and log_text:
        for i, line in enumerate(logtools.error_lines(log_text)):
            best.evidence.insert(i, _ev("log", line))
    if best is None:
        if not failing:
            return None
        best = _Decision(CAUSES.unexplained)
        if col.context:
            best.evidence.extend(col.context)
        else:
            what = f"waiting {reason}" if c.waiting is not None else reason or "no container status"
            best.evidence.append(_ev("status", f"{what}; no termination, waiting message or event explains it"))
    if term is not None and not any(e.source == "status" for e in best.evidence):
        best.evidence.append(
            _ev(
                "status", f"terminated {term.reason or 'Error'} (exit code {term.exit_code}) at {_ts(term.finished_at)}"
            )
        )
    cause_def = BY_ID[best.cause]
    facts = {
        "namespace": pod.namespace,
        "pod": pod.name,
        "container": c.name,
        "workload": pod.workload,
        "node": pod.node_name,
        "image": c.spec.image if c.spec is not None else "",
    }
    facts.update({k: v for k, v in best.facts.items() if v})
    if c.spec is not None and "memory_limit" not in facts:
        facts["memory_limit"] = c.spec.memory_limit
    return Finding(
        namespace=pod.namespace,
        pod=pod.name,
        container=c.name,
        container_type=c.type,
        workload_kind=pod.workload_kind,
        workload=pod.workload,
        failing=failing,
        cause=best.cause,
        # A recovered container's reason is the kubelet's reason for its last termination.
        reason=(reason if failing else "") or (term.reason if term is not None else reason),
        exit_code=term.exit_code if term is not None else None,
        restarts=c.restart_count,
        evidence=tuple(best.evidence),
        remediation=render(cause_def, facts, workload_kind=pod.workload_kind),
        runbook_url=cause_def.runbook_url,
        pod_uid=pod.uid,
        last_termination=term.finished_at if term is not None else None,
        facts={k: v for k, v in facts.items() if k in ("secret", "configmap", "key", "env_var", "host", "module")},
    )


def classify_container(
    pod: PodRecord,
    container: ContainerRecord,
    *,
    context: PodContext,
    log_text: str = "",
    now: float,
    rules: LogRules | None = None,
) -> Finding | None:
    """The finding for one container of `pod` (None when it has nothing to report), given the
    pod's `context` from `pod_context`. `classify` is this for every container."""
    return _classify_container(
        pod,
        container,
        cevents=context.events_for(container.name),
        log_text=log_text,
        node=context.node,
        now=now,
        rules=rules or default_rules(),
    )


def classify(
    pod: PodRecord,
    *,
    events: Sequence[EventRecord] = (),
    logs: Mapping[str, str] | None = None,
    node: NodeRecord | None = None,
    now: float,
    rules: LogRules | None = None,
) -> list[Finding]:
    """Findings for every container of `pod` that is failing, or that crashed before and recovered
    (`failing=False`). `logs` maps container name to the previous run's log text."""
    rules = rules or default_rules()
    logs = logs or {}
    context = pod_context(pod, events=events, node=node)
    findings = []
    for c in pod.containers:
        f = classify_container(pod, c, context=context, log_text=logs.get(c.name, ""), now=now, rules=rules)
        if f is not None:
            findings.append(f)
    return findings
