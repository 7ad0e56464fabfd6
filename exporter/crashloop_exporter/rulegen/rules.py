"""Prometheus recording and alerting rules, generated from the cause catalog.

Four groups: recording rules for the dashboards, one alert per cause, the seed document's
restart-increase and Failed-phase alerts (enriched with the cause), and the exporter's own health.

Sharding. Each pod belongs to exactly one shard (`--shard N --total-shards M`, by pod UID), so a
container's `crashloop_container_failing` series comes from one exporter instance, and
`crashloop_crashes_total` series of one workload from several instances count *different* pods'
crashes. Summing over instances is therefore correct and never double counts; every rule
aggregates the `instance`/`job` target labels away, so an alert keeps its identity when a pod
moves to another shard. The exception is `up`: it is per scrape target, so the down alert fires
per shard. Do not scrape two unsharded replicas of the exporter at once: that *would* double count.

Windows (why these numbers):
- per-cause alerts on the failing gauge use the catalog's `alert_for`: a missing Secret never heals
  by waiting (2m), an image pull may be a registry blip (5m), an app crash may be one bad request
  during a rollout (10m);
- per-cause crash-count alerts (OOMKilled, probe kills, signals) count crashes over the catalog's
  `alert_window` (30m): such containers run between crashes, so the failing gauge comes and goes,
  but the kubelet's back-off is capped at 5 minutes, so a container that keeps crashing crashes
  at least 6 times in 30m, and 2-3 crashes in 30m are a pattern, not a blip;
- the restart-increase alerts use the seed's `> 3 in 15m`: back-off delays are 10s, 20s, 40s, 80s,
  160s, so the 4th restart comes about 2.5 minutes in, well before the delay reaches its 5 minute
  cap, which is the point of alerting early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from crashloop_exporter.catalog import CAUSES, Cause, CauseId
from crashloop_exporter.rulegen import output, templates
from crashloop_exporter.rulegen.config import RulesConfig, duration_seconds

RECORDING_GROUP = "crashloop-exporter.recording"
CAUSES_GROUP = "crashloop-exporter.causes"
RESTARTS_GROUP = "crashloop-exporter.restarts"
HEALTH_GROUP = "crashloop-exporter.health"

RESTARTS_INCREASING = "CrashLoopRestartsIncreasing"
CRASHES_INCREASING = "CrashLoopCrashesIncreasing"
POD_FAILED = "CrashLoopPodFailed"
EXPORTER_DOWN = "CrashLoopExporterDown"
EXPORTER_ABSENT = "CrashLoopExporterAbsent"
EXPORTER_NOT_SYNCED = "CrashLoopExporterNotSynced"
EXPORTER_NO_WATCH_EVENTS = "CrashLoopExporterNoWatchEvents"
EXPORTER_LOG_FETCHES_FORBIDDEN = "CrashLoopExporterLogFetchesForbidden"

HEALTH_TEAM = "platform"
"""Whoever runs the monitoring stack owns the exporter's health."""

FAILING_BY = ("namespace", "workload_kind", "workload", "pod", "container", "container_type", "cause")
"""Identity of a per-cause alert on the failing gauge: one per container. `reason` is left out on
purpose (see `templates.kubelet_reason`); `instance` too, so a reshard does not reset `for`."""
CRASH_COUNT_BY = ("namespace", "workload_kind", "workload", "container", "cause")
"""Identity of a crash-count alert: per workload and container (crashes_total has no pod label)."""
CONTAINER_ON = ("namespace", "pod", "container")
"""How kube-state-metrics' per-container series join the exporter's."""
NO_WATCH_EVENTS_SECONDS = 1800
"""A watch that has seen nothing for 30 minutes on pods or events is almost certainly stuck: any
cluster with workloads changes pods (and emits events) more often than that."""


@dataclass(frozen=True, slots=True)
class RecordingRule:
    record: str
    expr: str

    def to_dict(self) -> dict[str, object]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True, slots=True)
class AlertRule:
    alert: str
    expr: str
    for_: str
    labels: dict[str, str]
    annotations: dict[str, str]
    cause: str | None = None
    """The catalog cause this alert is about, when it is a per-cause alert."""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"alert": self.alert, "expr": self.expr}
        if duration_seconds(self.for_) > 0:
            out["for"] = self.for_
        out["labels"] = dict(self.labels)
        out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str
    rules: tuple[RecordingRule | AlertRule, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "rules": [r.to_dict() for r in self.rules]}

    @property
    def alerts(self) -> tuple[AlertRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, AlertRule))


def selector(*matchers: str) -> str:
    """`{a="x", b="y"}` from matcher strings; empty ones (an empty configured selector) drop out."""
    return "{" + ", ".join(m for m in matchers if m) + "}"


def by(config: RulesConfig, labels: Sequence[str]) -> str:
    """`(cluster, a, b)`: the cluster label first when configured. Where a series has no cluster
    label, aggregating by it keeps it absent, so one pack serves single- and multi-cluster setups."""
    names = ([config.cluster_label] if config.cluster_label else []) + list(labels)
    return "(" + ", ".join(names) + ")"


def _indent(expr: str, spaces: int = 2) -> str:
    return "\n".join(" " * spaces + line if line else line for line in expr.splitlines())


def recording_rules(config: RulesConfig) -> RuleGroup:
    """The recording rules the dashboards read (names fixed by the SPEC)."""
    crashes = f"crashloop_crashes_total{selector(config.exporter_selector)}"
    failing = f"crashloop_container_failing{selector(config.exporter_selector)}"
    workload = ("namespace", "workload_kind", "workload", "cause")
    return RuleGroup(
        RECORDING_GROUP,
        (
            RecordingRule("cause:crashloop_crashes:rate5m", f"sum by {by(config, ['cause'])} (rate({crashes}[5m]))"),
            RecordingRule(
                "namespace_workload_cause:crashloop_crashes:rate5m",
                f"sum by {by(config, workload)} (rate({crashes}[5m]))",
            ),
            RecordingRule(
                "namespace_cause:crashloop_crashes:increase1h",
                f"sum by {by(config, ['namespace', 'cause'])} (increase({crashes}[1h]))",
            ),
            RecordingRule("cause:crashloop_container_failing:sum", f"sum by {by(config, ['cause'])} ({failing})"),
            RecordingRule(
                "namespace_workload_cause:crashloop_container_failing:sum",
                f"sum by {by(config, workload)} ({failing})",
            ),
        ),
    )


def _with_labels(expr: str, copies: Sequence[tuple[str, str]], constants: Sequence[tuple[str, str]] = ()) -> str:
    """`expr` with label `dst` set to the value of label `src` for each (dst, src) of `copies`, and
    to a fixed value for each (dst, value) of `constants`: nested `label_replace`s."""
    for dst, src in copies:
        expr = f'label_replace(\n{_indent(expr)},\n  "{dst}", "$1", "{src}", "(.*)"\n)'
    for dst, value in constants:
        expr = f'label_replace(\n{_indent(expr)},\n  "{dst}", "{value}", "", ""\n)'
    return expr


OWN_ROOT = (("root_namespace", "namespace"), ("root_workload", "workload"))
"""An ordinary alert is its own root: the workload whose fix ends it."""
DEPENDENCY_ROOT = (("root_namespace", "dependency_namespace"), ("root_workload", "dependency_workload"))
"""A dependent's root is the failing workload at the end of its chain (the dependency gauge)."""
DEPENDENCY_LABELS = ("dependency_namespace", "dependency_workload_kind", "dependency_workload", "dependency_cause")
DEPENDENT_LABEL = ("dependent", "true")
"""Marks the alert of a container whose dependency is itself failing: the inhibition's target."""


def _dependency_alert_expr(config: RulesConfig, failing_expr: str) -> str:
    """`failing_expr` split in two: containers whose dependency is failing (joined with the
    dependency gauge, rooted at the dependency) and the rest (their own root). `topk` keeps the
    join one-to-one while a dependent's root changes between two scrapes."""
    on = by(config, CONTAINER_ON)
    gauge = f"crashloop_container_dependency_failing{selector(config.exporter_selector)}"
    dependency = (
        f"topk by {on} (1,\n"
        f"  max by {by(config, (*CONTAINER_ON, *DEPENDENCY_LABELS))} ({gauge})\n"
        ")"
    )
    joined = (
        f"(\n{_indent(failing_expr)}\n)\n"
        f"* on {on} group_left ({', '.join(DEPENDENCY_LABELS)})\n"
        f"{dependency}"
    )
    alone = f"(\n{_indent(failing_expr)}\n)\nunless on {on}\n{gauge}"
    return (
        _with_labels(joined, DEPENDENCY_ROOT, (DEPENDENT_LABEL,))
        + "\nor\n"
        + _with_labels(alone, OWN_ROOT)
    )


def cause_alert(config: RulesConfig, cause: Cause) -> AlertRule:
    """The one alert of a cause; its form depends on `alert_min_crashes` (see the catalog).

    Every per-cause alert carries `root_namespace`/`root_workload`: its own workload, or, for a
    dependent whose dependency is itself failing, that root's (with `dependent="true"` and the
    dependency's labels), so Alertmanager mutes the dependents while the root's own alert fires.
    """
    matchers = selector(f'cause="{cause.id}"', config.exporter_selector)
    if cause.alert_min_crashes == 0:
        failing = f"max by {by(config, FAILING_BY)} (\n  crashloop_container_failing{matchers}\n) > 0"
        if cause.id == CauseId.DEPENDENCY_UNAVAILABLE:
            expr = _dependency_alert_expr(config, failing)
        else:
            expr = _with_labels(failing, OWN_ROOT)
        annotations = templates.failing_annotations(config, cause, root_note=cause.id == CauseId.DEPENDENCY_UNAVAILABLE)
    else:
        expr = _with_labels(
            f"sum by {by(config, CRASH_COUNT_BY)} (\n"
            f"  increase(crashloop_crashes_total{matchers}[{cause.alert_window}])\n"
            f") >= {cause.alert_min_crashes}",
            OWN_ROOT,
        )
        annotations = templates.crash_count_annotations(config, cause)
    return AlertRule(
        alert=cause.alert_name,
        expr=expr,
        for_=config.effective_for(cause.alert_for),
        labels={"cause": cause.id, "severity": cause.severity, "team": cause.team},
        annotations=annotations,
        cause=cause.id,
    )


def cause_alerts(config: RulesConfig) -> RuleGroup:
    return RuleGroup(CAUSES_GROUP, tuple(cause_alert(config, c) for c in CAUSES))


def _ksm_restarts(config: RulesConfig) -> str:
    restarts = f"kube_pod_container_status_restarts_total{selector(config.ksm_selector)}"
    return (
        f"sum by {by(config, CONTAINER_ON)} (\n"
        f"  increase({restarts}[{config.restart_window}])\n"
        f") > {config.restart_threshold}"
    )


def restarts_increasing(config: RulesConfig) -> AlertRule:
    """The seed's `increase(kube_pod_container_status_restarts_total[15m]) > 3`, with a cause.

    The cause (and workload) come from the exporter's failing gauge over the same window: an OOM
    or probe-killed container runs, and so is not failing, between crashes. `topk(1)` keeps the
    join one-to-one if the cause changed inside the window. Containers the exporter does not know
    (not watched, exporter down, excluded namespace) still alert, with cause="unknown", so adding
    the exporter never makes the seed's alert quieter.
    """
    on = by(config, CONTAINER_ON)
    window = config.restart_window
    seen = f"max_over_time(crashloop_container_failing{selector(config.exporter_selector)}[{window}])"
    cause_of = (
        f"topk by {on} (1,\n"
        f"  max by {by(config, (*CONTAINER_ON, 'workload_kind', 'workload', 'cause'))} (\n"
        f"    {seen}\n"
        "  )\n"
        ")"
    )
    restarts = _ksm_restarts(config)
    expr = (
        f"(\n{_indent(restarts)}\n)\n"
        f"* on {on} group_left (cause, workload_kind, workload)\n"
        f"{cause_of}\n"
        "or\n"
        "label_replace(\n"
        f"  (\n{_indent(restarts, 4)}\n  )\n"
        f"  unless on {on}\n"
        f"  {seen},\n"
        '  "cause", "unknown", "", ""\n'
        ")"
    )
    ns, pod, container = templates.label("namespace"), templates.label("pod"), templates.label("container")
    return AlertRule(
        alert=RESTARTS_INCREASING,
        expr=expr,
        for_=config.effective_for("0m"),
        labels={"severity": "warning"},
        annotations={
            "summary": f"{ns}/{pod} container {container} restarted {templates.VALUE} times in {window} "
            f"(cause {templates.label('cause')})",
            "description": (
                f"Container {container} of pod {ns}/{pod} restarted {templates.VALUE} times in the last {window} "
                f"(kube-state-metrics), cause {templates.label('cause')}"
                '{{ if eq $labels.cause "unknown" }}: crashloop-exporter has not classified this container '
                "(is it running, and watching this namespace?){{ end }}.\n"
                f"Evidence and the fix: crashloop-exporter diagnose {pod} -n {ns}\n"
            ),
            "runbook_url": templates.cause_runbook_url(config),
        },
    )


def crashes_increasing(config: RulesConfig) -> AlertRule:
    """The restart-increase alert without kube-state-metrics: the exporter's own crash counter."""
    crashes = f"crashloop_crashes_total{selector(config.exporter_selector)}"
    window = config.restart_window
    ns, container = templates.label("namespace"), templates.label("container")
    return AlertRule(
        alert=CRASHES_INCREASING,
        expr=(
            f"sum by {by(config, CRASH_COUNT_BY)} (\n"
            f"  increase({crashes}[{window}])\n"
            f") > {config.restart_threshold}"
        ),
        for_=config.effective_for("0m"),
        labels={"severity": "warning"},
        annotations={
            "summary": f"{ns}/{templates.label('workload')} container {container} crashed {templates.VALUE} "
            f"times in {window} (cause {templates.label('cause')})",
            "description": (
                f"Container {container} of {templates.WORKLOAD_REF} in namespace {ns} crashed {templates.VALUE} "
                f"times in the last {window}, classified as {templates.label('cause')} "
                "(counted over all pods of the workload).\n"
                f"Evidence and the fix: crashloop-exporter diagnose -n {ns}\n"
            ),
            "runbook_url": templates.cause_runbook_url(config),
        },
    )


POD_FAILED_FOR = "10m"
"""Longer than `node_pressure`'s `for`, on purpose: most Failed pods outside Jobs are evicted, and
Alertmanager mutes a pod's Failed alert only if the node-pressure alert explaining it is already
known when the Failed alert is first flushed."""


def pod_failed(config: RulesConfig) -> AlertRule:
    """The seed's `kube_pod_status_phase{phase="Failed"} > 0`."""
    phase = "kube_pod_status_phase" + selector(config.ksm_selector, 'phase="Failed"')
    ns, pod = templates.label("namespace"), templates.label("pod")
    return AlertRule(
        alert=POD_FAILED,
        expr=f"sum by {by(config, ('namespace', 'pod'))} ({phase}) > 0",
        for_=config.effective_for(POD_FAILED_FOR),
        labels={"severity": "warning"},
        annotations={
            "summary": f"Pod {ns}/{pod} is in phase Failed",
            "description": (
                f"Pod {ns}/{pod} is in phase Failed: all its containers have terminated and it will not be "
                "restarted (evicted, a Job pod past its backoffLimit, or restartPolicy Never).\n"
                f"kubectl describe pod {pod} -n {ns}   # Reason: Evicted names the resource the node ran out of\n"
                f"crashloop-exporter diagnose {pod} -n {ns}\n"
            ),
            "runbook_url": templates.pack_runbook_url(config, POD_FAILED),
        },
    )


def restart_alerts(config: RulesConfig) -> RuleGroup:
    return RuleGroup(RESTARTS_GROUP, (restarts_increasing(config), crashes_increasing(config), pod_failed(config)))


def _health(config: RulesConfig, *, name: str, expr: str, for_: str, severity: str, summary: str,
            description: str) -> AlertRule:
    return AlertRule(
        alert=name,
        expr=expr,
        for_=config.effective_for(for_),
        labels={"severity": severity, "team": HEALTH_TEAM},
        annotations={
            "summary": summary,
            "description": description,
            "runbook_url": templates.pack_runbook_url(config, name),
        },
    )


def health_alerts(config: RulesConfig) -> RuleGroup:
    """The exporter watching itself: if it is blind, the cause alerts are silent for the wrong reason."""
    sel = config.exporter_selector
    instance = templates.label("instance")
    resource = templates.label("resource")
    return RuleGroup(
        HEALTH_GROUP,
        (
            _health(
                config,
                name=EXPORTER_DOWN,
                # `up` is per scrape target: with shards, each down shard alerts on its own.
                expr=f"up{selector(sel)} == 0",
                for_="5m",
                severity="critical",
                summary=f"crashloop-exporter {instance} is down",
                description=(
                    f"Prometheus cannot scrape crashloop-exporter at {instance}: crash causes of the pods "
                    "it watches are not reported, so their cause alerts cannot fire.\n"
                ),
            ),
            _health(
                config,
                name=EXPORTER_ABSENT,
                expr=f"absent(up{selector(sel)})",
                for_="15m",
                severity="critical",
                summary="crashloop-exporter is not scraped",
                description=(
                    f"No scrape target matches {selector(sel)}: either crashloop-exporter is not deployed or "
                    "Prometheus does not discover it (ServiceMonitor labels, namespace selector). No cause alert "
                    "can fire.\n"
                ),
            ),
            _health(
                config,
                name=EXPORTER_NOT_SYNCED,
                expr=f"crashloop_exporter_synced{selector(sel)} == 0",
                for_="10m",
                severity="warning",
                summary=f"crashloop-exporter {instance} has not synced {resource}",
                description=(
                    f"crashloop-exporter at {instance} has not completed its list of {resource}, so what it "
                    "reports is incomplete. Check its logs for API errors (RBAC: get/list/watch on pods, "
                    "events, nodes).\n"
                ),
            ),
            _health(
                config,
                name=EXPORTER_NO_WATCH_EVENTS,
                expr=(
                    "time() - crashloop_exporter_last_event_timestamp_seconds"
                    + selector(sel, 'resource=~"pods|events"')
                    + f" > {NO_WATCH_EVENTS_SECONDS}"
                ),
                for_="5m",
                severity="warning",
                summary=f"crashloop-exporter {instance} saw no {resource} watch event for 30m",
                description=(
                    f"crashloop-exporter at {instance} has received no watch event for {resource} in over "
                    "30 minutes: the watch is probably hung, and new crashes are not seen. Restart the exporter "
                    "and check its watch restart counters.\n"
                ),
            ),
            _health(
                config,
                name=EXPORTER_LOG_FETCHES_FORBIDDEN,
                expr=(
                    "increase(crashloop_exporter_log_fetches_total"
                    + selector(sel, 'result="forbidden"')
                    + "[30m]) > 0"
                ),
                for_="0m",
                severity="warning",
                summary=f"crashloop-exporter {instance} may not read container logs",
                description=(
                    f"crashloop-exporter at {instance} got 403 Forbidden reading previous container logs: "
                    "causes found only in logs (bad config, missing dependency, dependency unavailable) fall "
                    "back to app_crash. Grant `get` on `pods/log` in its ClusterRole, or run it with --no-logs "
                    "to make the choice explicit.\n"
                ),
            ),
        ),
    )


def rule_groups(config: RulesConfig) -> tuple[RuleGroup, ...]:
    """Every rule group of the pack, in file order."""
    return (recording_rules(config), cause_alerts(config), restart_alerts(config), health_alerts(config))


FILE_NOTE = """\
Prometheus rules for crashloop-exporter, generated from the cause catalog.
Selectors: exporter {exporter}, kube-state-metrics {ksm}.
Shards: each pod belongs to exactly one exporter shard, so sums over instances never double
count; `up` is per instance, so CrashLoopExporterDown fires per shard. Scrape the exporter with
honor_labels: true (its `namespace`/`pod` labels describe the crashing pod, not the target)."""

GROUP_NOTES = {
    RECORDING_GROUP: "Recording rules the dashboards read: crash rates and failing containers by cause.",
    CAUSES_GROUP: (
        "One alert per cause. Causes whose container stays broken alert on crashloop_container_failing\n"
        "after the catalog's `for`; causes whose container runs between crashes (OOM, probe kills, signals)\n"
        "alert on the increase of crashloop_crashes_total over the catalog's window."
    ),
    RESTARTS_GROUP: (
        "The seed runbook's early warnings: restarts increasing (from kube-state-metrics, enriched with\n"
        "the cause; and from the exporter's own counter) and pods in phase Failed."
    ),
    HEALTH_GROUP: "The exporter's own health: when it is blind, cause alerts are silent for the wrong reason.",
}


def render(config: RulesConfig) -> str:
    """The rules file: every group, each preceded by a comment saying why it is there."""
    return "".join(
        (
            output.HEADER,
            output.comment(
                FILE_NOTE.format(
                    exporter=selector(config.exporter_selector), ksm=selector(config.ksm_selector)
                )
            ),
            output.commented_list("groups", [(GROUP_NOTES[g.name], g.to_dict()) for g in rule_groups(config)]),
        )
    )
