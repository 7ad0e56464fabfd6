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

from crashloop_exporter.catalog import BY_ID, CAUSES
from crashloop_exporter.classify import logs as logtools
from crashloop_exporter.classify.redact import clean
from crashloop_exporter.classify.remediation import KEY_SEPARATOR, render, suggest_memory
from crashloop_exporter.classify.user_rules import DEFAULT_RULES, LogRules
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

FAILING_WAITING = frozenset(
    {
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "PreStartHookError",
        "PostStartHookError",
    }
)
RECENT_CRASH_SECONDS = 600.0
"""A running-but-not-ready container that crashed less than this ago is still failing: the kubelet
resets its crash backoff only after 10 minutes of running, so before that it is one crash loop."""
STUCK_CREATING_SECONDS = 600.0
"""ContainerCreating for longer than this with nothing to explain it is reported as `unknown`."""
EVENT_SLACK_SECONDS = 5.0

_SECRET_NOT_FOUND = re.compile(r"secrets? \\?\"(?P<name>[^\"\\]+)\\?\" not found")
_CONFIGMAP_NOT_FOUND = re.compile(r"configmaps? \\?\"(?P<name>[^\"\\]+)\\?\" not found")
_MISSING_KEY = re.compile(r"couldn't find key (?P<key>\S+) in (?P<kind>Secret|ConfigMap) (?P<ns>[^/\s]+)/(?P<name>\S+)")
_MOUNT_MISSING_KEY = re.compile(
    r"for volume \\?\"(?P<volume>[^\"\\]+)\\?\" : (?P<kind>configmap|)\s*references non-existent "
    r"(?:secret|config) key: (?P<key>\S+)"
)
_CONFIG_HINT = re.compile(r"not found|couldn't find key|non-existent")
_EVICTED_RESOURCE = re.compile(r"low on resource: (?P<resource>[\w-]+)")
_ENV_COMPLAINT = re.compile(
    r"missing|not set|unset|required|empty|invalid|undefined|not defined|not found|KeyError|must be set|no value|"
    r"could not resolve|unresolvable|placeholder",
    re.IGNORECASE,
)
_EXHAUSTION = re.compile(
    r"failed to create new OS thread|pthread_create failed|fork: (?:retry: )?Resource temporarily unavailable|"
    r"can't start new thread|unable to create (?:new )?native thread|Cannot allocate memory|No space left on device",
    re.IGNORECASE,
)
"""A process that died because the node ran out of PIDs, memory or disk says so in its last words."""
_LIVENESS_KILL = re.compile(r"failed liveness probe", re.IGNORECASE)
_STARTUP_KILL = re.compile(r"failed startup probe", re.IGNORECASE)
_IMAGE_EVENT = re.compile(r"Failed to pull image|ErrImagePull|ImagePullBackOff|InvalidImageName", re.IGNORECASE)
_GENERIC_CAUSES = frozenset({"app_crash", "init_container_failed", "segfault", "sigkill", "sigterm"})
"""Causes decided by the exit code alone; the log's last error line still tells a human most."""
_SIGNAL_EXIT = {137: "SIGKILL", 139: "SIGSEGV", 143: "SIGTERM", 134: "SIGABRT"}


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

    Not for OOM kills (the status decides) and not for runs that never started a process
    (StartError/ContainerCannotRun leave no log), nor for clean exits.
    """
    term = container.terminated or container.last_terminated
    if term is None:
        return False
    if term.reason in ("OOMKilled", "StartError", "ContainerCannotRun"):
        return False
    return term.exit_code != 0


def _last_termination(c: ContainerRecord) -> Terminated | None:
    return c.terminated or c.last_terminated


def _failing_state(pod: PodRecord, c: ContainerRecord, events: Sequence[EventRecord], now: float) -> tuple[bool, str]:
    """(failing, kubelet reason) following SPEC: failing waiting states, Evicted, or an abnormal
    termination not followed by readiness. Readiness failures alone never make a container failing."""
    if pod.reason == "Evicted":
        return True, "Evicted"
    if c.waiting is not None:
        reason = c.waiting.reason
        if reason in FAILING_WAITING:
            return True, reason
        if reason == "ContainerCreating":
            if any(e.reason == "FailedMount" for e in events):
                return True, reason
            if pod.created is not None and now - pod.created > STUCK_CREATING_SECONDS:
                return True, reason
        if reason == "PodInitializing":
            return False, reason
        return False, reason
    if c.terminated is not None:
        t = c.terminated
        if c.type == "init":
            return t.exit_code != 0, t.reason or "Error"
        if t.exit_code != 0 or t.reason == "OOMKilled":
            if c.type == "ephemeral":
                return False, t.reason or "Error"
            return True, t.reason or "Error"
        # Exit 0: fine for Jobs; a restart loop under restartPolicy Always waits in CrashLoopBackOff.
        return (pod.restart_policy == "Always" and c.restart_count > 0 and c.type == "regular"), t.reason
    if c.running_since is None and c.last_terminated is None:
        # No status at all yet (pending pod); a FailedMount event still explains a stuck start.
        if c.type != "ephemeral" and any(e.reason in ("FailedMount", "Failed") for e in events):
            return True, "ContainerCreating"
        return False, ""
    last = c.last_terminated
    if last is not None and not c.ready and c.type == "regular":
        crashed_at = last.finished_at
        if crashed_at is not None and now - crashed_at < RECENT_CRASH_SECONDS:
            return True, last.reason or "Error"
    return False, "Running"


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


def _config_refs(col: _Collector, c: ContainerRecord, pod: PodRecord, text: str, source: EvidenceSource) -> None:
    """Secret/ConfigMap problems named in a waiting message or an event."""
    m = _MOUNT_MISSING_KEY.search(text)
    if m:
        is_cm = m.group("kind") == "configmap"
        kind: ObjectKind = "ConfigMap" if is_cm else "Secret"
        name = next((r.name for r in pod.volume_refs if r.var == m.group("volume") and r.kind == kind), "")
        col.add(
            "missing_configmap_key" if is_cm else "missing_secret_key",
            source,
            text,
            **{"configmap" if is_cm else "secret": name, "key": m.group("key")},
        )
        return
    m = _MISSING_KEY.search(text)
    if m:
        cause = "missing_secret_key" if m.group("kind") == "Secret" else "missing_configmap_key"
        name_key = "secret" if m.group("kind") == "Secret" else "configmap"
        var = next((r.var for r in _env_refs(c) if r.name == m.group("name") and r.key == m.group("key")), "")
        col.add(cause, source, text, **{name_key: m.group("name"), "key": m.group("key"), "env_var": var})
        return
    m = _SECRET_NOT_FOUND.search(text)
    if m:
        col.add("missing_secret", source, text, secret=m.group("name"), key=_keys_for(c, pod, "Secret", m["name"]))
        return
    m = _CONFIGMAP_NOT_FOUND.search(text)
    if m:
        col.add("missing_configmap", source, text, configmap=m.group("name"))


def _env_refs(c: ContainerRecord) -> tuple[EnvRef, ...]:
    return c.spec.env_refs if c.spec is not None else ()


def _keys_for(c: ContainerRecord, pod: PodRecord, kind: ObjectKind, name: str) -> str:
    """Keys the spec reads from that Secret/ConfigMap, for `--from-literal=K=<value>`."""
    if c.spec is None:
        return ""
    keys = [r.key for r in c.spec.env_refs if r.kind == kind and r.name == name and r.key]
    # The template reads `--from-literal=${key}=<value>`: several keys become several flags
    # (rendered, and each quoted, by `remediation.render`).
    return KEY_SEPARATOR.join(dict.fromkeys(keys)) if keys else ""


def _status_signals(col: _Collector, pod: PodRecord, c: ContainerRecord, term: Terminated | None) -> None:
    w = c.waiting
    if w is not None:
        text = f"waiting {w.reason}: {w.message}" if w.message else f"waiting {w.reason}"
        if w.reason in BY_ID["image_pull"].waiting_reasons:
            image = c.spec.image if c.spec is not None else ""
            col.add("image_pull", "status", text, image=image)
        elif w.reason == "CreateContainerConfigError":
            # Only the Secret/ConfigMap messages have a catalog cause; others (a runAsNonRoot
            # image running as root, a bad subPath) fall through to `unknown`, whose evidence is
            # this message, rather than borrowing start_error's entrypoint/architecture fix.
            _config_refs(col, c, pod, text, "status")
            if not col.decisions:
                col.context.append(_ev("status", text))
        elif w.reason in BY_ID["start_error"].waiting_reasons or w.reason in (
            "PreStartHookError",
            "PostStartHookError",
        ):
            col.add("start_error", "status", text)
    if term is not None:
        desc = f"terminated {term.reason or 'Error'} (exit code {term.exit_code})"
        if term.message:
            desc += f": {term.message}"
        if term.reason in BY_ID["start_error"].terminated_reasons:
            col.add("start_error", "status", desc)
        elif term.reason == "OOMKilled":
            limit = c.spec.memory_limit if c.spec is not None else ""
            request = c.spec.memory_request if c.spec is not None else ""
            new_limit, new_request = suggest_memory(limit, request)
            col.add(
                "oomkilled",
                "status",
                desc + (f"; memory limit {limit}" if limit else "; no memory limit set"),
                memory_limit=limit,
                suggested_memory_limit=new_limit,
                suggested_memory_request=new_request,
            )


def _pod_signals(
    col: _Collector,
    pod: PodRecord,
    c: ContainerRecord,
    term: Terminated | None,
    node: NodeRecord | None,
    log_text: str,
) -> None:
    if pod.reason == "Evicted":
        m = _EVICTED_RESOURCE.search(pod.message)
        col.add(
            "node_pressure",
            "status",
            f"pod Evicted: {pod.message}",
            node=pod.node_name,
            resource=m.group("resource") if m else "",
        )
        return
    if node is None or not node.pressures or term is None:
        return
    killed = term.exit_code in (137, 143) or term.reason in ("ContainerStatusUnknown", "Evicted") or term.signal == 9
    exhausted = None
    if not killed and log_text:
        exhausted = next((ln for ln in reversed(logtools.tail_lines(log_text)) if _EXHAUSTION.search(ln)), None)
    if not (killed or exhausted) or term.reason == "OOMKilled":
        return
    if exhausted:
        col.add("node_pressure", "log", exhausted)
    for p in node.pressures:
        if p.since is None or term.finished_at is None or p.since <= term.finished_at:
            resource = {"MemoryPressure": "memory", "DiskPressure": "disk", "PIDPressure": "pids"}.get(p.type, p.type)
            col.add(
                "node_pressure",
                "node",
                f"node {node.name} {p.type}=True since {_ts(p.since)}" + (f": {p.message}" if p.message else ""),
                node=node.name,
                resource=resource,
            )


def _event_signals(
    col: _Collector, pod: PodRecord, c: ContainerRecord, term: Terminated | None, events: Sequence[EventRecord]
) -> None:
    unhealthy: dict[str, EventRecord | None] = {"liveness": None, "startup": None}
    for e in events:
        msg = e.message
        if e.reason == "Unhealthy":
            low = msg.lower()
            for kind in unhealthy:
                if low.startswith(f"{kind} probe failed") and unhealthy[kind] is None and _during(term, e):
                    unhealthy[kind] = e
            continue
        if e.reason == "Killing" and _during(term, e):
            for pattern, cause_id, kind in (
                (_LIVENESS_KILL, "liveness_probe", "liveness"),
                (_STARTUP_KILL, "startup_probe", "startup"),
            ):
                if pattern.search(msg):
                    probe = getattr(c.spec, kind) if c.spec is not None else None
                    col.add(
                        cause_id,
                        "event",
                        _event_text(e),
                        probe_path=probe.path if probe else "",
                        probe_port=probe.port if probe else "",
                    )
                    break
            continue
        if e.reason in ("Failed", "FailedMount", "FailedCreatePodContainer") or e.type == "Warning":
            pulling = c.waiting is not None and c.waiting.reason in BY_ID["image_pull"].waiting_reasons
            if _IMAGE_EVENT.search(msg) and pulling:
                col.add("image_pull", "event", _event_text(e))
            elif _CONFIG_HINT.search(msg) and c.running_since is None:
                # Only a container that is not running can be held back by a missing config object.
                _config_refs(col, c, pod, _event_text(e), "event")
    for kind, cause in (("liveness", "liveness_probe"), ("startup", "startup_probe")):
        probe_event = unhealthy[kind]
        if probe_event is not None and cause in col.decisions:
            col.add(cause, "event", _event_text(probe_event))


def _optional_ref_signal(col: _Collector, c: ContainerRecord, lines: Sequence[str]) -> None:
    """Seed 1: the app starts, an env var from an *optional* Secret/ConfigMap ref is empty, the app
    exits naming that variable. The log alone says "bad config"; the spec says the object is missing."""
    if c.spec is None:
        return
    optional = [r for r in c.spec.env_refs if r.optional and r.var]
    if not optional:
        return
    for ln in lines:
        if not _ENV_COMPLAINT.search(ln) or logtools.is_non_fatal(ln):
            continue
        for ref in optional:
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(ref.var)}(?![A-Za-z0-9_])", ln):
                cause = "missing_secret" if ref.kind == "Secret" else "missing_configmap"
                name_key = "secret" if ref.kind == "Secret" else "configmap"
                col.add(cause, "log", ln, env_var=ref.var, key=ref.key, **{name_key: ref.name})
                ref_kind = "secretKeyRef" if ref.kind == "Secret" else "configMapKeyRef"
                col.add(
                    cause,
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
    if code == 139 or term.signal == 11:
        col.add("segfault", "status", desc)
    elif code == 137 or term.signal == 9:
        col.add("sigkill", "status", desc, node=pod.node_name)
    elif code == 143 or term.signal == 15:
        col.add("sigterm", "status", desc)
    elif code == 0:
        if c.type == "regular" and (failing or c.restart_count > 0) and pod.restart_policy == "Always":
            col.add("clean_exit", "status", desc)
        return
    if c.type == "init":
        col.add("init_container_failed", "status", f"init container {desc}")
    else:
        col.add("app_crash", "status", desc)


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
    _pod_signals(col, pod, c, term, node, log_text)
    _event_signals(col, pod, c, term, cevents)
    if term is not None and term.reason not in ("OOMKilled",):
        _log_signals(col, c, log_text, rules)
    _exit_signals(col, pod, c, term, failing)
    best = col.best()
    if best is not None and best.cause in _GENERIC_CAUSES and log_text:
        for i, line in enumerate(logtools.error_lines(log_text)):
            best.evidence.insert(i, _ev("log", line))
    if best is None:
        if not failing:
            return None
        best = _Decision("unknown")
        if col.context:
            best.evidence.extend(col.context)
        else:
            what = f"waiting {reason}" if c.waiting is not None else reason or "no container status"
            best.evidence.append(_ev("status", f"{what}; no termination, waiting message or event explains it"))
    if term is not None and best.cause not in ("oomkilled",) and not any(e.source == "status" for e in best.evidence):
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
        rules=rules or DEFAULT_RULES,
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
    rules = rules or DEFAULT_RULES
    logs = logs or {}
    context = pod_context(pod, events=events, node=node)
    findings = []
    for c in pod.containers:
        f = classify_container(pod, c, context=context, log_text=logs.get(c.name, ""), now=now, rules=rules)
        if f is not None:
            findings.append(f)
    return findings
