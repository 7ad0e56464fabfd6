"""promtool unit tests for every alert and recording rule of the pack, generated with it.

Each alert gets a scenario a reader can follow: one evaluation before its `for` it is silent, at
its `for` it fires with exactly the expected labels and annotations, and it resolves when the
cause goes away. Generating the tests keeps one per cause as causes are added. The expected
remediation comes from the one remediation renderer run with the test's concrete label values
(kind choices made in Python), while the rules hold its Go-template output (label references,
`if`s on the kind, escaped braces); promtool checks that Prometheus renders the two alike. The
rest of each expected annotation is spelled here, not taken from the rule writer. Test names are
sentences, as promtool prints them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crashloop_exporter.catalog import CAUSES, Cause, CauseId, cause
from crashloop_exporter.errors import InputError
from crashloop_exporter.rulegen import rules, templates
from crashloop_exporter.rulegen.config import RulesConfig, duration_seconds, equality_labels

Value = float | int | str | None
"""A sample in a promtool series: a number, None for a missing scrape (`_`), or "stale"."""

RULES_FILE_FROM_TESTS = "../crashloop-exporter.rules.yaml"
EXPORTER_INSTANCE = "10.0.0.11:10079"
SECOND_SHARD_INSTANCE = "10.0.0.12:10079"
KSM_INSTANCE = "10.0.0.9:8080"


@dataclass(frozen=True, slots=True)
class Container:
    """A crashing container as the exporter labels it."""

    namespace: str = "payments"
    workload_kind: str = "Deployment"
    workload: str = "payment-service"
    pod: str = "payment-service-7d9c6b5f4-x2vqz"
    container: str = "app"
    container_type: str = "regular"

    @property
    def workload_ref(self) -> str:
        return f"{self.workload_kind.lower()}/{self.workload}"


DEFAULT_CONTAINER = Container()
CONTAINERS: Mapping[str, Container] = {
    # Other owner kinds, so the templates' Job / StatefulSet / bare-pod branches are exercised.
    "app_crash": Container(namespace="ledger", workload_kind="StatefulSet", workload="ledger", pod="ledger-0"),
    "init_container_failed": Container(
        namespace="batch", workload_kind="Job", workload="db-migrate", pod="db-migrate-q8x7k",
        container="migrate", container_type="init",
    ),
    "unknown": Container(namespace="sandbox", workload_kind="Pod", workload="debug-shell", pod="debug-shell"),
}
REASONS: Mapping[str, str] = {
    "image_pull": "ImagePullBackOff",
    "missing_secret": "CreateContainerConfigError",
    "missing_secret_key": "CreateContainerConfigError",
    "missing_configmap": "CreateContainerConfigError",
    "missing_configmap_key": "CreateContainerConfigError",
    "start_error": "RunContainerError",
    "node_pressure": "Evicted",
}
"""The kubelet reason each cause's container typically shows; CrashLoopBackOff otherwise."""


# -- helpers -----------------------------------------------------------------------------------


def run(*parts: Iterable[Value]) -> list[Value]:
    """Samples one per interval, concatenated from `parts`."""
    return [v for part in parts for v in part]


def series(name: str, labels: Mapping[str, str]) -> str:
    """`name{a="x", ...}` in promtool's input syntax."""
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{body}}}"


def values(samples: Sequence[Value]) -> str:
    """promtool's space-separated sample list, one sample per interval."""
    out = []
    for s in samples:
        if s is None:
            out.append("_")
        elif isinstance(s, str):
            out.append(s)
        elif float(s).is_integer():
            out.append(str(int(s)))
        else:
            out.append(repr(float(s)))
    return " ".join(out)


def minutes(seconds: float, *, what: str) -> int:
    if seconds % 60:
        raise InputError(f"{what}: promtool tests are generated on a 1m grid, so it must be whole minutes")
    return int(seconds // 60)


def humanize(value: float) -> str:
    """A count as the alert templates print it (`printf "%.0f"`), for the whole numbers tests use."""
    if not float(value).is_integer():
        raise ValueError(f"tests only use whole numbers, not {value}")
    return str(int(value))


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th: test names are read as sentences."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith(("sh", "ch", "s")) else "s")


def step(at: int, alertname: str, alerts: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"eval_time": f"{at}m", "alertname": alertname, "exp_alerts": list(alerts)}


class _Labels:
    """Target labels of the exporter and kube-state-metrics series, implied by the selectors."""

    def __init__(self, config: RulesConfig) -> None:
        exporter = equality_labels(config.exporter_selector)
        ksm = equality_labels(config.ksm_selector)
        if exporter is None or ksm is None:
            raise InputError(
                "promtool tests can only be generated for selectors made of name=\"value\" matchers; "
                "use --no-tests with regex selectors"
            )
        self.exporter = exporter
        self.ksm = ksm
        self.cluster = config.cluster_label

    def exporter_target(self, instance: str = EXPORTER_INSTANCE) -> dict[str, str]:
        return {**self.exporter, "instance": instance}

    def ksm_target(self) -> dict[str, str]:
        return {**self.ksm, "instance": KSM_INSTANCE}


# -- expected annotations, from the catalog ----------------------------------------------------


def expected_remediation(c: Cause, box: Container, *, pod_known: bool) -> str:
    """The catalog's fix for `box`, as Prometheus must render the alert's template: the same
    renderer with `box`'s label values in place of `{{ $labels.x }}` and of the kind `if`s."""
    labels = {
        "namespace": box.namespace,
        "pod": box.pod,
        "container": box.container,
        "workload": box.workload,
        "workload_kind": box.workload_kind,
    }
    return templates.remediation(c, pod_known=pod_known, labels=labels)


def expected_failing(config: RulesConfig, c: Cause, box: Container, *, reason: str) -> dict[str, str]:
    return {
        "summary": f"{c.title}: {box.namespace}/{box.pod} container {box.container}",
        "description": (
            f"Container {box.container} of pod {box.namespace}/{box.pod} ({box.workload_ref}) is failing with "
            f"kubelet reason {reason}, classified as {c.id}: {c.help}\n\nFix:\n"
            + expected_remediation(c, box, pod_known=True)
        ),
        "runbook_url": f"{config.runbook_base_url}#{c.anchor}",
    }


def expected_crash_count(config: RulesConfig, c: Cause, box: Container, *, crashes: int) -> dict[str, str]:
    n = humanize(crashes)
    return {
        "summary": f"{c.title}: {box.namespace}/{box.workload} container {box.container} crashed {n} times in "
        f"{c.alert_window}",
        "description": (
            f"Container {box.container} of {box.workload_ref} in namespace {box.namespace} crashed {n} times in "
            f"the last {c.alert_window}, classified as {c.id}: {c.help}\n\n"
            f"Fix (pick the pod: kubectl get pods -n {box.namespace} | grep {box.workload}):\n"
            + expected_remediation(c, box, pod_known=False)
        ),
        "runbook_url": f"{config.runbook_base_url}#{c.anchor}",
    }


# -- per-cause alerts ---------------------------------------------------------------------------


def _failing_labels(box: Container, c: Cause, reason: str) -> dict[str, str]:
    return {
        "namespace": box.namespace,
        "pod": box.pod,
        "container": box.container,
        "container_type": box.container_type,
        "workload_kind": box.workload_kind,
        "workload": box.workload,
        "cause": c.id,
        "reason": reason,
    }


def _alert_labels(box: Container, c: Cause, *, with_pod: bool) -> dict[str, str]:
    out = {
        "namespace": box.namespace,
        "workload_kind": box.workload_kind,
        "workload": box.workload,
        "container": box.container,
        "cause": c.id,
        "severity": c.severity,
        "team": c.team,
        "root_namespace": box.namespace,
        "root_workload": box.workload,
    }
    if with_pod:
        out.update(pod=box.pod, container_type=box.container_type)
    return out


def failing_cause_test(config: RulesConfig, lbl: _Labels, c: Cause) -> dict[str, Any]:
    """Silent one step before `for`, fires at `for`, resolves when the failing series goes stale."""
    box = CONTAINERS.get(c.id, DEFAULT_CONTAINER)
    reason = REASONS.get(c.id, "CrashLoopBackOff")
    fm = minutes(duration_seconds(config.effective_for(c.alert_for)), what=f"for of {c.alert_name}")
    start = 1  # the container starts failing one minute in
    samples = run([None], [1] * (fm + 2), ["stale", None])
    fired = {"exp_labels": _alert_labels(box, c, with_pod=True),
             "exp_annotations": expected_failing(config, c, box, reason=reason)}
    return {
        "name": (
            f"{c.alert_name} stays pending one evaluation short of {c.alert_for} of a {box.workload_kind}'s "
            f"container failing with cause {c.id}, fires at {c.alert_for}, and resolves when the container recovers"
        ),
        "interval": "1m",
        "input_series": [
            {
                "series": series("crashloop_container_failing", {**_failing_labels(box, c, reason),
                                                                 **lbl.exporter_target()}),
                "values": values(samples),
            }
        ],
        "alert_rule_test": [
            step(start + fm - 1, c.alert_name),
            step(start + fm, c.alert_name, [fired]),
            step(start + fm + 2, c.alert_name),
        ],
    }


def crash_count_cause_test(config: RulesConfig, lbl: _Labels, c: Cause) -> dict[str, Any]:
    """A brand-new counter series (exposed at 0 first, as the exporter's hold-back does) reaches
    `alert_min_crashes`: silent one crash before, fires at it, resolves a window after the last."""
    box = CONTAINERS.get(c.id, DEFAULT_CONTAINER)
    n = c.alert_min_crashes
    fm = minutes(duration_seconds(config.effective_for(c.alert_for)), what=f"for of {c.alert_name}")
    window = minutes(duration_seconds(c.alert_window), what=f"alert_window of {c.id}")
    appear = 2
    nth_crash = appear + n
    resolved = nth_crash + max(fm, window) + 1
    samples = run([None] * appear, range(n + 1))
    samples += [n] * (resolved + 1 - len(samples))
    crash_labels = {
        "namespace": box.namespace,
        "workload_kind": box.workload_kind,
        "workload": box.workload,
        "container": box.container,
        "container_type": box.container_type,
        "cause": c.id,
    }
    fired = {"exp_labels": _alert_labels(box, c, with_pod=False),
             "exp_annotations": expected_crash_count(config, c, box, crashes=n)}
    when = f"{c.alert_for} after" if fm else "at"
    return {
        "name": (
            f"{c.alert_name} counts the first crash of a new crashes_total series, stays silent after "
            f"{plural(n - 1, c.id + ' crash')}, fires {when} the {ordinal(n)} within {c.alert_window}, and "
            f"resolves {c.alert_window} after the last crash"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series("crashloop_crashes_total", {**crash_labels, **lbl.exporter_target()}),
             "values": values(samples)}
        ],
        "alert_rule_test": [
            step(nth_crash + fm - 1, c.alert_name),
            step(nth_crash + fm, c.alert_name, [fired]),
            step(resolved, c.alert_name),
        ],
    }


def reason_change_test(config: RulesConfig, lbl: _Labels) -> dict[str, Any]:
    """The alert's identity leaves out `reason`, so the kubelet's alternating reasons do not reset `for`."""
    c = cause("app_crash")
    box = CONTAINERS.get(c.id, DEFAULT_CONTAINER)
    fm = minutes(duration_seconds(config.effective_for(c.alert_for)), what=f"for of {c.alert_name}")
    length = fm + 3
    reasons = ("CrashLoopBackOff", "Error")
    inputs = []
    for i, reason in enumerate(reasons):
        samples = run([None], [1 if t % 2 == i else "stale" for t in range(length)])
        inputs.append({
            "series": series("crashloop_container_failing", {**_failing_labels(box, c, reason),
                                                             **lbl.exporter_target()}),
            "values": values(samples),
        })
    reason_at_fire = reasons[fm % 2]
    return {
        "name": (
            f"{c.alert_name} keeps its {c.alert_for} `for` running while the kubelet reason alternates between "
            f"CrashLoopBackOff and Error, and names the reason current when it fires"
        ),
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [
            step(fm, c.alert_name),
            step(1 + fm, c.alert_name, [{
                "exp_labels": _alert_labels(box, c, with_pod=True),
                "exp_annotations": expected_failing(config, c, box, reason=reason_at_fire),
            }]),
        ],
    }


def clusters_test(config: RulesConfig, lbl: _Labels) -> dict[str, Any] | None:
    """Two clusters with identically named pods: two alerts, each with its own cluster's reason."""
    if not config.cluster_label:
        return None
    c = cause("missing_secret")
    box = DEFAULT_CONTAINER
    fm = minutes(duration_seconds(config.effective_for(c.alert_for)), what=f"for of {c.alert_name}")
    clusters = {"eu-west-1": "CreateContainerConfigError", "us-east-1": "ContainerCreating"}
    inputs, fired = [], []
    for name, reason in clusters.items():
        inputs.append({
            "series": series("crashloop_container_failing", {
                **_failing_labels(box, c, reason), **lbl.exporter_target(), config.cluster_label: name,
            }),
            "values": values([None] + [1] * (fm + 1)),
        })
        fired.append({
            "exp_labels": {**_alert_labels(box, c, with_pod=True), config.cluster_label: name},
            "exp_annotations": expected_failing(config, c, box, reason=reason),
        })
    return {
        "name": (
            f"{c.alert_name} fires once per cluster for identically named pods, naming each cluster's own "
            "kubelet reason"
        ),
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [step(fm, c.alert_name), step(1 + fm, c.alert_name, fired)],
    }


def shards_test(config: RulesConfig, lbl: _Labels) -> dict[str, Any]:
    """Crashes of one workload's pods counted by two shards add up to one alert."""
    c = next(x for x in CAUSES if x.alert_min_crashes == 2)
    box = DEFAULT_CONTAINER
    fm = minutes(duration_seconds(config.effective_for(c.alert_for)), what=f"for of {c.alert_name}")
    crash_labels = {
        "namespace": box.namespace,
        "workload_kind": box.workload_kind,
        "workload": box.workload,
        "container": box.container,
        "container_type": box.container_type,
        "cause": c.id,
    }
    length = 4 + fm + 2
    shard_a = run([None, None, 0], [1] * (length - 3))  # one crash at 3m
    shard_b = run([None, None, 0, 0], [1] * (length - 4))  # another pod's crash at 4m
    return {
        "name": (
            f"{c.alert_name} adds up the crashes of one workload's pods counted by two exporter shards into one "
            "alert without an instance label"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series("crashloop_crashes_total", {**crash_labels, **lbl.exporter_target()}),
             "values": values(shard_a)},
            {"series": series("crashloop_crashes_total", {**crash_labels,
                                                          **lbl.exporter_target(SECOND_SHARD_INSTANCE)}),
             "values": values(shard_b)},
        ],
        "alert_rule_test": [
            step(3 + fm, c.alert_name),
            step(4 + fm, c.alert_name, [{
                "exp_labels": _alert_labels(box, c, with_pod=False),
                "exp_annotations": expected_crash_count(config, c, box, crashes=2),
            }]),
        ],
    }


ROOT = Container(namespace="production", workload_kind="StatefulSet", workload="postgres", pod="postgres-0",
                 container="postgres")
"""The failing dependency at the end of a dependent's chain."""
DEPENDENT = Container(namespace="production", workload="api", pod="api-7d4b9c-m2f8q")


def expected_dependent(config: RulesConfig, c: Cause, box: Container, root: Container, *, root_cause: str,
                       reason: str) -> dict[str, str]:
    """A dependent's annotations: the ordinary ones, with the root named before the fix."""
    out = expected_failing(config, c, box, reason=reason)
    head, fix = out["description"].split("\n\nFix:\n", 1)
    out["description"] = (
        f"{head}\nIt needs {root.workload_kind}/{root.workload} in namespace {root.namespace}, which is itself "
        f"failing (cause {root_cause}): fix that first; its own alert carries the fix, and this one is muted "
        f"while it fires.\n\nFix:\n{fix}"
    )
    return out


def dependency_root_test(config: RulesConfig, lbl: _Labels) -> dict[str, Any]:
    """A dependent carries its root's `root_*` labels while the dependency gauge names a failing
    root, and its own once the root recovers (a new alert identity, so `for` runs again)."""
    c = cause(CauseId.DEPENDENCY_UNAVAILABLE)
    root_cause = CauseId.OOMKILLED.value
    fm = minutes(duration_seconds(config.effective_for(c.alert_for)), what=f"for of {c.alert_name}")
    recovered = 1 + fm + 2  # the root's last failing minute, then its gauge goes stale
    length = recovered + fm + 3
    failing = run([None], [1] * length)
    dependency = run([None], [1] * (recovered - 1), ["stale"], [None] * (length - recovered))
    dependency_labels = {
        "dependency_namespace": ROOT.namespace, "dependency_workload_kind": ROOT.workload_kind,
        "dependency_workload": ROOT.workload, "dependency_cause": root_cause,
    }
    gauge_labels = {k: v for k, v in _failing_labels(DEPENDENT, c, "CrashLoopBackOff").items()
                    if k not in ("cause", "reason")}
    rooted = {
        "exp_labels": {**_alert_labels(DEPENDENT, c, with_pod=True), **dependency_labels,
                       "root_namespace": ROOT.namespace, "root_workload": ROOT.workload, "dependent": "true"},
        "exp_annotations": expected_dependent(config, c, DEPENDENT, ROOT, root_cause=root_cause,
                                              reason="CrashLoopBackOff"),
    }
    own = {"exp_labels": _alert_labels(DEPENDENT, c, with_pod=True),
           "exp_annotations": expected_failing(config, c, DEPENDENT, reason="CrashLoopBackOff")}
    return {
        "name": (
            f"{c.alert_name} of a container whose dependency is failing carries the root's root_namespace and "
            "root_workload and names the root's cause; once the root recovers it is the container's own alert"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series("crashloop_container_failing", {**_failing_labels(DEPENDENT, c, "CrashLoopBackOff"),
                                                             **lbl.exporter_target()}),
             "values": values(failing)},
            {"series": series("crashloop_container_dependency_failing", {**gauge_labels, **dependency_labels,
                                                                        **lbl.exporter_target()}),
             "values": values(dependency)},
        ],
        "alert_rule_test": [
            step(fm, c.alert_name),
            step(1 + fm, c.alert_name, [rooted]),
            step(recovered + fm - 1, c.alert_name),
            step(recovered + fm, c.alert_name, [own]),
        ],
    }


def cause_tests(config: RulesConfig) -> dict[str, Any]:
    lbl = _Labels(config)
    tests = [failing_cause_test(config, lbl, c) if c.alert_min_crashes == 0
             else crash_count_cause_test(config, lbl, c) for c in CAUSES]
    tests.append(reason_change_test(config, lbl))
    clusters = clusters_test(config, lbl)
    if clusters:
        tests.append(clusters)
    tests.append(shards_test(config, lbl))
    tests.append(dependency_root_test(config, lbl))
    return _file(tests)


# -- restart-increase and Failed-phase alerts ---------------------------------------------------


def _restarts_expected(config: RulesConfig, box: Container, *, cause_id: str, restarts: int,
                       workload: bool) -> dict[str, Any]:
    window = config.restart_window
    n = humanize(restarts)
    note = (": crashloop-exporter has not classified this container (is it running, and watching this "
            "namespace?)") if cause_id == "unknown" else ""
    labels = {"namespace": box.namespace, "pod": box.pod, "container": box.container, "cause": cause_id,
              "severity": "warning"}
    if workload:
        labels.update(workload_kind=box.workload_kind, workload=box.workload)
    return {
        "exp_labels": labels,
        "exp_annotations": {
            "summary": f"{box.namespace}/{box.pod} container {box.container} restarted {n} times in {window} "
            f"(cause {cause_id})",
            "description": (
                f"Container {box.container} of pod {box.namespace}/{box.pod} restarted {n} times in the last "
                f"{window} (kube-state-metrics), cause {cause_id}{note}.\n"
                f"Evidence and the fix: crashloop-exporter diagnose {box.pod} -n {box.namespace}\n"
            ),
            "runbook_url": f"{config.runbook_base_url}#{cause(cause_id).anchor}",
        },
    }


def restart_tests(config: RulesConfig) -> dict[str, Any]:
    lbl = _Labels(config)
    window = minutes(duration_seconds(config.restart_window), what="restart_window")
    threshold = config.restart_threshold
    fires_at = threshold + 1  # restarts 1, 2, ... at minutes 1, 2, ...
    resolved = fires_at + window + 1
    ramp = run(range(threshold + 2), [threshold + 1] * (resolved - threshold))
    known = DEFAULT_CONTAINER
    stranger = Container(namespace="checkout", workload="cart", pod="cart-5f6d8c9b7-kq2lp")
    ksm_restarts = "kube_pod_container_status_restarts_total"

    def ksm(box: Container, uid: str) -> dict[str, str]:
        return {"namespace": box.namespace, "pod": box.pod, "uid": uid, "container": box.container,
                **lbl.ksm_target()}

    probe = cause("liveness_probe")
    tests: list[dict[str, Any]] = [
        {
            "name": (
                f"{rules.RESTARTS_INCREASING} stays silent at {threshold} restarts in {config.restart_window}, fires "
                f"at restart {threshold + 1} with the cause crashloop-exporter reported earlier in the window "
                "(the container has turned ready since), and resolves when restarts stop"
            ),
            "interval": "1m",
            "input_series": [
                {"series": series(ksm_restarts, ksm(known, "0b7c1e52")), "values": values(ramp)},
                {"series": series("crashloop_container_failing", {
                    **_failing_labels(known, probe, "CrashLoopBackOff"), **lbl.exporter_target()}),
                 "values": values([1, 1, "stale"])},
            ],
            "alert_rule_test": [
                step(fires_at - 1, rules.RESTARTS_INCREASING),
                step(fires_at, rules.RESTARTS_INCREASING,
                     [_restarts_expected(config, known, cause_id=probe.id, restarts=threshold + 1, workload=True)]),
                step(resolved, rules.RESTARTS_INCREASING),
            ],
        },
        {
            "name": (
                f"{rules.RESTARTS_INCREASING} still fires, with cause unknown, for a container crashloop-exporter "
                "does not know"
            ),
            "interval": "1m",
            "input_series": [{"series": series(ksm_restarts, ksm(stranger, "9d2f4a10")), "values": values(ramp)}],
            "alert_rule_test": [
                step(fires_at - 1, rules.RESTARTS_INCREASING),
                step(fires_at, rules.RESTARTS_INCREASING,
                     [_restarts_expected(config, stranger, cause_id="unknown", restarts=threshold + 1,
                                         workload=False)]),
            ],
        },
    ]

    app = cause("app_crash")
    appear = 2
    crashes = run([None] * appear, range(threshold + 2))
    crashes += [threshold + 1] * (appear + fires_at + window + 2 - len(crashes))
    n = humanize(threshold + 1)
    box = known
    tests.append({
        "name": (
            f"{rules.CRASHES_INCREASING} counts the first crash of a new crashes_total series, stays silent at "
            f"{threshold} crashes in {config.restart_window}, fires at crash {threshold + 1} without "
            "kube-state-metrics, and resolves when crashes stop"
        ),
        "interval": "1m",
        "input_series": [{
            "series": series("crashloop_crashes_total", {
                "namespace": box.namespace, "workload_kind": box.workload_kind, "workload": box.workload,
                "container": box.container, "container_type": box.container_type, "cause": app.id,
                **lbl.exporter_target()}),
            "values": values(crashes),
        }],
        "alert_rule_test": [
            step(appear + fires_at - 1, rules.CRASHES_INCREASING),
            step(appear + fires_at, rules.CRASHES_INCREASING, [{
                "exp_labels": {"namespace": box.namespace, "workload_kind": box.workload_kind,
                               "workload": box.workload, "container": box.container, "cause": app.id,
                               "severity": "warning"},
                "exp_annotations": {
                    "summary": f"{box.namespace}/{box.workload} container {box.container} crashed {n} times in "
                    f"{config.restart_window} (cause {app.id})",
                    "description": (
                        f"Container {box.container} of {box.workload_ref} in namespace {box.namespace} crashed {n} "
                        f"times in the last {config.restart_window}, classified as {app.id} (counted over all pods "
                        f"of the workload).\nEvidence and the fix: crashloop-exporter diagnose -n {box.namespace}\n"
                    ),
                    "runbook_url": f"{config.runbook_base_url}#{app.anchor}",
                },
            }]),
            step(appear + fires_at + window + 1, rules.CRASHES_INCREASING),
        ],
    })

    evicted = Container(namespace="payments", pod="payment-service-7d9c6b5f4-evict")
    phase = "kube_pod_status_phase"
    fm = _for_minutes(config, rules.POD_FAILED)
    pod_labels = {"namespace": evicted.namespace, "pod": evicted.pod, "uid": "5e1d0c77", **lbl.ksm_target()}
    tests.append({
        "name": (
            f"{rules.POD_FAILED} stays silent while the pod runs and for one evaluation short of {fm}m in phase "
            f"Failed, fires at {fm}m, and resolves when the pod is deleted"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series(phase, {**pod_labels, "phase": "Running"}),
             "values": values(run([1, 1], [0] * (fm + 1), ["stale"]))},
            {"series": series(phase, {**pod_labels, "phase": "Failed"}),
             "values": values(run([0, 0], [1] * (fm + 1), ["stale"]))},
        ],
        "alert_rule_test": [
            step(1 + fm, rules.POD_FAILED),
            step(2 + fm, rules.POD_FAILED, [{
                "exp_labels": {"namespace": evicted.namespace, "pod": evicted.pod, "severity": "warning"},
                "exp_annotations": {
                    "summary": f"Pod {evicted.namespace}/{evicted.pod} is in phase Failed",
                    "description": (
                        f"Pod {evicted.namespace}/{evicted.pod} is in phase Failed: all its containers have "
                        "terminated and it will not be restarted (evicted, a Job pod past its backoffLimit, or "
                        "restartPolicy Never).\n"
                        f"kubectl describe pod {evicted.pod} -n {evicted.namespace}   # Reason: Evicted names the "
                        "resource the node ran out of\n"
                        f"crashloop-exporter diagnose {evicted.pod} -n {evicted.namespace}\n"
                    ),
                    "runbook_url": f"{config.pack_docs_url}#{rules.POD_FAILED.lower()}",
                },
            }]),
            step(3 + fm, rules.POD_FAILED),
        ],
    })
    return _file(tests)


# -- exporter health ---------------------------------------------------------------------------


def _health_expected(config: RulesConfig, name: str, labels: Mapping[str, str], summary: str,
                     description: str) -> dict[str, Any]:
    return {
        "exp_labels": {**labels, "severity": _severity(config, name), "team": rules.HEALTH_TEAM},
        "exp_annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"{config.pack_docs_url}#{name.lower()}",
        },
    }


def _severity(config: RulesConfig, name: str) -> str:
    alert = next(a for a in rules.health_alerts(config).alerts if a.alert == name)
    return alert.labels["severity"]


def _for_minutes(config: RulesConfig, name: str) -> int:
    alert = next(a for group in rules.rule_groups(config) for a in group.alerts if a.alert == name)
    return minutes(duration_seconds(alert.for_), what=f"for of {name}")


def health_tests(config: RulesConfig) -> dict[str, Any]:
    lbl = _Labels(config)
    target = lbl.exporter_target()
    instance = target["instance"]
    tests: list[dict[str, Any]] = []

    fm = _for_minutes(config, rules.EXPORTER_DOWN)
    tests.append({
        "name": f"{rules.EXPORTER_DOWN} fires after {fm}m of failed scrapes of one shard and resolves when it is back",
        "interval": "1m",
        "input_series": [
            {"series": series("up", target), "values": values([1] + [0] * (fm + 1) + [1, 1])},
            {"series": series("up", lbl.exporter_target(SECOND_SHARD_INSTANCE)),
             "values": values([1] * (fm + 4))},
        ],
        "alert_rule_test": [
            step(fm, rules.EXPORTER_DOWN),
            step(fm + 1, rules.EXPORTER_DOWN, [_health_expected(
                config, rules.EXPORTER_DOWN, target,
                f"crashloop-exporter {instance} is down",
                f"Prometheus cannot scrape crashloop-exporter at {instance}: crash causes of the pods it watches "
                "are not reported, so their cause alerts cannot fire.\n",
            )]),
            step(fm + 2, rules.EXPORTER_DOWN),
        ],
    })

    fm = _for_minutes(config, rules.EXPORTER_ABSENT)
    ksm_up = series("up", lbl.ksm_target())
    selector = rules.selector(config.exporter_selector)
    tests.append({
        "name": (
            f"{rules.EXPORTER_ABSENT} fires after {fm}m without any crashloop-exporter target, even while other "
            "jobs are scraped, and resolves once it is scraped"
        ),
        "interval": "1m",
        "input_series": [
            {"series": ksm_up, "values": values([1] * (fm + 3))},
            {"series": series("up", target), "values": values([None] * (fm + 1) + [1, 1])},
        ],
        "alert_rule_test": [
            step(fm - 1, rules.EXPORTER_ABSENT),
            step(fm, rules.EXPORTER_ABSENT, [_health_expected(
                config, rules.EXPORTER_ABSENT, lbl.exporter,
                "crashloop-exporter is not scraped",
                f"No scrape target matches {selector}: either crashloop-exporter is not deployed or Prometheus "
                "does not discover it (ServiceMonitor labels, namespace selector). No cause alert can fire.\n",
            )]),
            step(fm + 1, rules.EXPORTER_ABSENT),
        ],
    })

    fm = _for_minutes(config, rules.EXPORTER_NOT_SYNCED)
    tests.append({
        "name": (
            f"{rules.EXPORTER_NOT_SYNCED} fires when the events list has not completed for {fm}m, not for the "
            "synced pods, and resolves once synced"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series("crashloop_exporter_synced", {"resource": "events", **target}),
             "values": values([0] * (fm + 1) + [1])},
            {"series": series("crashloop_exporter_synced", {"resource": "pods", **target}),
             "values": values([1] * (fm + 2))},
        ],
        "alert_rule_test": [
            step(fm - 1, rules.EXPORTER_NOT_SYNCED),
            step(fm, rules.EXPORTER_NOT_SYNCED, [_health_expected(
                config, rules.EXPORTER_NOT_SYNCED, {"resource": "events", **target},
                f"crashloop-exporter {instance} has not synced events",
                f"crashloop-exporter at {instance} has not completed its list of events, so what it reports is "
                "incomplete. Check its logs for API errors (RBAC: get/list/watch on pods, events, nodes).\n",
            )]),
            step(fm + 1, rules.EXPORTER_NOT_SYNCED),
        ],
    })

    fm = _for_minutes(config, rules.EXPORTER_NO_WATCH_EVENTS)
    last_seen = 60  # the last pods event arrived at 1m
    quiet_from = (last_seen + rules.NO_WATCH_EVENTS_SECONDS) // 60 + 1  # first minute with more than 30m quiet
    fires = quiet_from + fm
    fresh = run(60 * t for t in range(fires + 3))
    stuck = run([None], [last_seen] * (fires + 1), [60 * (fires + 2)])
    tests.append({
        "name": (
            f"{rules.EXPORTER_NO_WATCH_EVENTS} fires when the pods watch has been quiet for over 30m, "
            "not for a busy events watch nor for nodes, and resolves on the next pods event"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series("crashloop_exporter_last_event_timestamp_seconds", {"resource": "pods", **target}),
             "values": values(stuck)},
            {"series": series("crashloop_exporter_last_event_timestamp_seconds", {"resource": "events", **target}),
             "values": values(fresh)},
            {"series": series("crashloop_exporter_last_event_timestamp_seconds", {"resource": "nodes", **target}),
             "values": values([None] + [last_seen] * (fires + 2))},
        ],
        "alert_rule_test": [
            step(fires - 1, rules.EXPORTER_NO_WATCH_EVENTS),
            step(fires, rules.EXPORTER_NO_WATCH_EVENTS, [_health_expected(
                config, rules.EXPORTER_NO_WATCH_EVENTS, {"resource": "pods", **target},
                f"crashloop-exporter {instance} saw no pods watch event for 30m",
                f"crashloop-exporter at {instance} has received no watch event for pods in over 30 minutes: the "
                "watch is probably hung, and new crashes are not seen. Restart the exporter and check its watch "
                "restart counters.\n",
            )]),
            step(fires + 2, rules.EXPORTER_NO_WATCH_EVENTS),
        ],
    })

    fm = _for_minutes(config, rules.EXPORTER_LOG_FETCHES_FORBIDDEN)
    forbidden_at = 3
    resolved = forbidden_at + fm + 31
    tests.append({
        "name": (
            f"{rules.EXPORTER_LOG_FETCHES_FORBIDDEN} fires on the first 403 reading logs, counted from a series "
            "that starts at 0, ignores successful fetches, and resolves 30m later"
        ),
        "interval": "1m",
        "input_series": [
            {"series": series("crashloop_exporter_log_fetches_total", {"result": "forbidden", **target}),
             "values": values([None, 0, 0] + [1] * (resolved - 2))},
            {"series": series("crashloop_exporter_log_fetches_total", {"result": "ok", **target}),
             "values": values([5 * t for t in range(resolved + 1)])},
        ],
        "alert_rule_test": [
            step(forbidden_at + fm - 1, rules.EXPORTER_LOG_FETCHES_FORBIDDEN),
            step(forbidden_at + fm, rules.EXPORTER_LOG_FETCHES_FORBIDDEN, [_health_expected(
                config, rules.EXPORTER_LOG_FETCHES_FORBIDDEN, {"result": "forbidden", **target},
                f"crashloop-exporter {instance} may not read container logs",
                f"crashloop-exporter at {instance} got 403 Forbidden reading previous container logs: causes "
                "found only in logs (bad config, missing dependency, dependency unavailable) fall back to "
                "app_crash. Grant `get` on `pods/log` in its ClusterRole, or run it with --no-logs to make the "
                "choice explicit.\n",
            )]),
            step(resolved, rules.EXPORTER_LOG_FETCHES_FORBIDDEN),
        ],
    })
    return _file(tests)


# -- recording rules ---------------------------------------------------------------------------


def recording_tests(config: RulesConfig) -> dict[str, Any]:
    """Two shards seeing different pods of one workload, plus a second cluster: sums are per
    cluster and never double count."""
    lbl = _Labels(config)
    a, b = lbl.exporter_target(), lbl.exporter_target(SECOND_SHARD_INSTANCE)
    cl = config.cluster_label
    api = {"namespace": "payments", "workload_kind": "Deployment", "workload": "payment-service",
           "container": "app", "container_type": "regular"}
    worker = {**api, "workload": "worker"}
    other_cluster = {cl: "eu-west-1"} if cl else {}

    def crash(base: Mapping[str, str], c: str, target: Mapping[str, str], extra: Mapping[str, str],
              per_minute: int) -> dict[str, str]:
        return {"series": series("crashloop_crashes_total", {**base, "cause": c, **target, **extra}),
                "values": f"0+{per_minute}x60"}

    def failing(base: Mapping[str, str], c: str, pod: str, target: Mapping[str, str],
                extra: Mapping[str, str]) -> dict[str, str]:
        return {"series": series("crashloop_container_failing", {**base, "pod": pod, "cause": c,
                                                                 "reason": "CrashLoopBackOff", **target, **extra}),
                "values": "1x60"}

    inputs = [
        crash(api, "oomkilled", a, {}, 30),
        crash(api, "oomkilled", b, {}, 60),
        crash(worker, "app_crash", b, {}, 30),
        failing(api, "oomkilled", "payment-service-7d9c6b5f4-aaaaa", a, {}),
        failing(api, "oomkilled", "payment-service-7d9c6b5f4-bbbbb", b, {}),
        failing(worker, "app_crash", "worker-6c8b7d5f9-ccccc", b, {}),
    ]
    if other_cluster:
        inputs.append(crash(api, "oomkilled", a, other_cluster, 60))
        inputs.append(failing(api, "oomkilled", "payment-service-7d9c6b5f4-aaaaa", a, other_cluster))

    def sample(labels: Mapping[str, str], value: float, *, cluster: bool = False) -> dict[str, Any]:
        return {"labels": {**(other_cluster if cluster else {}), **labels}, "value": value}

    def wl(base: Mapping[str, str], c: str) -> dict[str, str]:
        return {"namespace": base["namespace"], "workload_kind": base["workload_kind"],
                "workload": base["workload"], "cause": c}

    def exprs(name: str, at: str, own: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, Any]:
        samples = own + (other if other_cluster else [])
        return {"expr": name, "eval_time": at,
                "exp_samples": [{"labels": series(name, x["labels"]), "value": x["value"]} for x in samples]}

    return _file([{
        "name": (
            "recording rules add up two shards' pods of one workload, keep a second cluster apart, and give "
            "the dashboards per-second rates, hourly increases and failing counts by cause"
        ),
        "interval": "1m",
        "input_series": inputs,
        "promql_expr_test": [
            exprs("cause:crashloop_crashes:rate5m", "10m",
                  [sample({"cause": "oomkilled"}, 1.5), sample({"cause": "app_crash"}, 0.5)],
                  [sample({"cause": "oomkilled"}, 1.0, cluster=True)]),
            exprs("namespace_workload_cause:crashloop_crashes:rate5m", "10m",
                  [sample(wl(api, "oomkilled"), 1.5), sample(wl(worker, "app_crash"), 0.5)],
                  [sample(wl(api, "oomkilled"), 1.0, cluster=True)]),
            exprs("namespace_cause:crashloop_crashes:increase1h", "60m",
                  [sample({"namespace": "payments", "cause": "oomkilled"}, 5400),
                   sample({"namespace": "payments", "cause": "app_crash"}, 1800)],
                  [sample({"namespace": "payments", "cause": "oomkilled"}, 3600, cluster=True)]),
            exprs("cause:crashloop_container_failing:sum", "10m",
                  [sample({"cause": "oomkilled"}, 2), sample({"cause": "app_crash"}, 1)],
                  [sample({"cause": "oomkilled"}, 1, cluster=True)]),
            exprs("namespace_workload_cause:crashloop_container_failing:sum", "10m",
                  [sample(wl(api, "oomkilled"), 2), sample(wl(worker, "app_crash"), 1)],
                  [sample(wl(api, "oomkilled"), 1, cluster=True)]),
        ],
    }])


def _file(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rule_files": [RULES_FILE_FROM_TESTS], "evaluation_interval": "1m", "tests": tests}


TEST_FILES = {
    "causes.test.yaml": cause_tests,
    "restarts.test.yaml": restart_tests,
    "health.test.yaml": health_tests,
    "recording.test.yaml": recording_tests,
}
"""File name under rules/tests/ -> its generator."""
