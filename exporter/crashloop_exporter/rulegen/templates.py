"""Alert annotations: the catalog's help and remediation, as Prometheus alert templates.

An alert should carry the fix, not only the symptom: at 3 a.m. the description is the runbook. The
remediation is rendered by the one renderer `classify.remediation.render_template`; `AlertLabels`
is its value source for alerts: the names an alert knows become Prometheus template expressions
(`{{ $labels.namespace }}`, never shell-quoted: Prometheus fills them in), those it cannot know
(the secret's name, the key) the renderer's readable placeholders, and lines that depend on the
owner kind become Go `if`s on `$labels.workload_kind`, since that is only known when it fires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crashloop_exporter.catalog import Cause
from crashloop_exporter.classify.remediation import ROLLOUT_KINDS, render_template
from crashloop_exporter.rulegen.config import RulesConfig, split_matchers


def label(name: str) -> str:
    """The alert's own label value, as a template expression."""
    return "{{ $labels." + name + " }}"


WORKLOAD_REF = "{{ $labels.workload_kind | toLower }}/{{ $labels.workload }}"
"""`deployment/payment-service`: what kubectl takes; `kind/name` works for every owner kind."""
VALUE = '{{ printf "%.0f" $value }}'
"""A count from `increase()`, printed whole: increase() extrapolates, so 2 crashes of a young
series can evaluate to 2.3, and "crashed 2.3 times" reads as nonsense."""
_IS_ROLLOUT_KIND = "{{ if eq $labels.workload_kind " + " ".join(f'"{k}"' for k in ROLLOUT_KINDS) + " }}"
_LABELS = frozenset({"namespace", "pod", "container", "workload", "workload_kind"})
"""Template names that are labels of every per-cause alert (`pod` only of the per-container ones)."""


def escape_template(text: str) -> str:
    """Catalog text made inert for Go templates: a literal `{{` would open an action."""
    return text.replace("{{", '{{ "{{" }}')


@dataclass(frozen=True)
class AlertLabels:
    """The alert's labels as the remediation's value source.

    With `labels` unset, names become `{{ $labels.x }}` and kind choices Go `if`s: the text that
    goes into the rules file. With `labels` set, the same choices are made with those values: the
    text Prometheus renders for an alert with those labels (what the promtool tests expect).
    """

    pod_known: bool
    """False for crash-count alerts: their series have no pod label."""
    labels: Mapping[str, str] | None = None

    def _label(self, name: str) -> str:
        return label(name) if self.labels is None else self.labels[name]

    def literal(self, text: str) -> str:
        return escape_template(text) if self.labels is None else text

    def value(self, name: str, *, quote: str) -> str | None:
        del quote  # Prometheus substitutes label values; the catalog's names are Kubernetes names.
        if name == "pod" and not self.pod_known:
            return None
        if name in _LABELS:
            return self._label(name)
        if name == "workload_ref":
            if self.labels is None:
                return WORKLOAD_REF
            return f"{self.labels['workload_kind'].lower()}/{self.labels['workload']}"
        if name == "node" and self.pod_known:
            # With the pod known, the node is one lookup away, and a runnable command beats `<node>`.
            pod, ns = self._label("pod"), self._label("namespace")
            return f"$(kubectl get pod {pod} -n {ns} -o jsonpath='{{.spec.nodeName}}')"
        return None

    def by_kind(self, *, rollout: str, pod: str, other: str) -> str:
        if self.labels is not None:
            kind = self.labels["workload_kind"]
            return rollout if kind in ROLLOUT_KINDS else pod if kind == "Pod" else other
        # A newline every branch ends with goes after `{{ end }}`, so the rules file reads line by line.
        tail = "\n" if rollout.endswith("\n") and pod.endswith("\n") and other.endswith("\n") else ""
        if tail:
            rollout, pod, other = rollout[:-1], pod[:-1], other[:-1]
        if pod == other:
            rest = f"{{{{ else }}}}{other}" if other else ""
        else:
            rest = f'{{{{ else if eq $labels.workload_kind "Pod" }}}}{pod}{{{{ else }}}}{other}'
        return f"{_IS_ROLLOUT_KIND}{rollout}{rest}{{{{ end }}}}{tail}"


def remediation(cause: Cause, *, pod_known: bool, labels: Mapping[str, str] | None = None) -> str:
    """The cause's remediation as an alert template, one command per line, ending in a newline.

    `pod_known` is False for crash-count alerts: their series have no pod label. With `labels`,
    the text Prometheus renders for an alert with those labels.
    """
    return render_template(cause.remediation, AlertLabels(pod_known=pod_known, labels=labels))


def _query_matchers(config: RulesConfig, cause: Cause) -> tuple[str, str]:
    """(printf format of a selector for this alert's failing series, its printf arguments)."""
    static = [m.replace("%", "%%") for m in split_matchers(config.exporter_selector)]
    static.append(f'cause="{cause.id}"')
    dynamic = ["namespace", "pod", "container"]
    if config.cluster_label:
        # `cluster=""` matches a series without the label, so one template serves both setups.
        dynamic.append(config.cluster_label)
    fmt = ",".join(static + [f"{name}=%q" for name in dynamic])
    return fmt, " ".join(f"$labels.{name}" for name in dynamic)


def kubelet_reason(config: RulesConfig, cause: Cause) -> str:
    """` with kubelet reason X`, looked up at render time.

    The alert does not carry `reason` as a label on purpose: a crash-looping container's reason
    alternates (CrashLoopBackOff while backing off, the last termination's reason in between), and
    a label that changes restarts the alert's `for`. The annotation is re-rendered on every
    evaluation, so it still names the current reason.
    """
    fmt, args = _query_matchers(config, cause)
    return (
        f"{{{{ with printf `crashloop_container_failing{{{fmt}}}` {args} | query }}}}"
        ' with kubelet reason {{ . | first | label "reason" }}{{ end }}'
    )


ROOT_NOTE = (
    "{{ if $labels.dependent }}"
    "It needs {{ $labels.dependency_workload_kind }}/{{ $labels.dependency_workload }} in namespace "
    "{{ $labels.dependency_namespace }}, which is itself failing (cause {{ $labels.dependency_cause }}): "
    "fix that first; its own alert carries the fix, and this one is muted while it fires.\n"
    "{{ end }}"
)
"""What a dependent's alert says of the root of its chain (labels joined from the dependency gauge)."""


def failing_annotations(config: RulesConfig, cause: Cause, *, root_note: bool = False) -> dict[str, str]:
    """Annotations of a per-cause alert on `crashloop_container_failing` (one alert per container).
    With `root_note`, a dependent's description names the failing root of its chain first."""
    ns, pod, container = label("namespace"), label("pod"), label("container")
    return {
        "summary": f"{cause.title}: {ns}/{pod} container {container}",
        "description": (
            f"Container {container} of pod {ns}/{pod} ({WORKLOAD_REF}) is failing"
            f"{kubelet_reason(config, cause)}, classified as {cause.id}: {escape_template(cause.help)}\n"
            f"{ROOT_NOTE if root_note else ''}"
            "\n"
            "Fix:\n"
            f"{remediation(cause, pod_known=True)}"
        ),
        "runbook_url": f"{config.runbook_base_url}#{cause.anchor}",
    }


def crash_count_annotations(config: RulesConfig, cause: Cause) -> dict[str, str]:
    """Annotations of a per-cause alert on the increase of `crashloop_crashes_total` (per workload)."""
    ns, workload, container = label("namespace"), label("workload"), label("container")
    return {
        "summary": (
            f"{cause.title}: {ns}/{workload} container {container} crashed {VALUE} times in {cause.alert_window}"
        ),
        "description": (
            f"Container {container} of {WORKLOAD_REF} in namespace {ns} crashed {VALUE} times in the last "
            f"{cause.alert_window}, classified as {cause.id}: {escape_template(cause.help)}\n"
            "\n"
            f"Fix (pick the pod: kubectl get pods -n {ns} | grep {workload}):\n"
            f"{remediation(cause, pod_known=False)}"
        ),
        "runbook_url": f"{config.runbook_base_url}#{cause.anchor}",
    }


def cause_runbook_url(config: RulesConfig) -> str:
    """Runbook link of alerts whose cause is a label value: the cause's section of docs/causes.md."""
    return config.runbook_base_url + '#{{ $labels.cause | reReplaceAll "_" "-" }}'


def pack_runbook_url(config: RulesConfig, alertname: str) -> str:
    """Runbook link of alerts that are not about one cause: their section of rules/README.md."""
    return f"{config.pack_docs_url}#{alertname.lower()}"
