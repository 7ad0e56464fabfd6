"""Alert annotations: the catalog's help and remediation, as Prometheus alert templates.

An alert should carry the fix, not only the symptom: at 3 a.m. the description is the runbook. The
catalog writes each remediation as a `string.Template` over names such as `${namespace}`; here
those the alert knows become Prometheus template expressions (`{{ $labels.namespace }}`), and those
it cannot know (the secret's name, the key) become readable `<secret-name>` placeholders, never an
empty string that would make a command silently wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Template

from crashloop_exporter.catalog import Cause
from crashloop_exporter.rulegen.config import RulesConfig, split_matchers

ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
"""Owner kinds `kubectl rollout` works on; for others a rollout line becomes a note."""

PLACEHOLDERS: Mapping[str, str] = {
    "secret": "<secret-name>",
    "key": "<key>",
    "configmap": "<configmap-name>",
    "env_var": "<ENV_VAR>",
    "image": "<image>",
    "memory_limit": "<current-limit>",
    "suggested_memory_limit": "<new-limit>",
    "suggested_memory_request": "<new-request>",
    "resource": "<resource>",
    "probe_path": "<probe-path>",
    "probe_port": "<probe-port>",
    "host": "<dependency-host>",
    "port": "<port>",
    "module": "<missing-module>",
}
"""Names only the evidence knows (`diagnose` and `/causes` fill them in); alerts show these."""

UNKNOWN_POD = "<pod>"
"""Crash-count alerts aggregate over pods (crashes_total has no pod label), so no pod is named."""
UNKNOWN_NODE = "<node>"


def placeholder(name: str) -> str:
    """The readable stand-in for a template name the alert cannot fill."""
    return PLACEHOLDERS.get(name, "<" + name.replace("_", "-") + ">")


def label(name: str) -> str:
    """The alert's own label value, as a template expression."""
    return "{{ $labels." + name + " }}"


WORKLOAD_REF = "{{ $labels.workload_kind | toLower }}/{{ $labels.workload }}"
"""`deployment/payment-service`: what kubectl takes; `kind/name` works for every owner kind."""
VALUE = '{{ printf "%.0f" $value }}'
"""A count from `increase()`, printed whole: increase() extrapolates, so 2 crashes of a young
series can evaluate to 2.3, and "crashed 2.3 times" reads as nonsense."""
_IS_ROLLOUT_KIND = "{{ if eq $labels.workload_kind " + " ".join(f'"{k}"' for k in ROLLOUT_KINDS) + " }}"


def escape_template(text: str) -> str:
    """Catalog text made inert for Go templates: a literal `{{` would open an action."""
    return text.replace("{{", '{{ "{{" }}')


def restart_command(*, pod: str) -> str:
    """How to restart the workload's pods, by owner kind (mirrors `classify.remediation`)."""
    ns = label("namespace")
    return (
        f"{_IS_ROLLOUT_KIND}kubectl rollout restart {WORKLOAD_REF} -n {ns}"
        '{{ else if eq $labels.workload_kind "Pod" }}'
        f"kubectl get pod {pod} -n {ns} -o yaml | kubectl replace --force -f -   # bare pod: re-create it"
        f"{{{{ else }}}}kubectl delete pod {pod} -n {ns}   # its {label('workload_kind')} creates a new one"
        "{{ end }}"
    )


def remediation(cause: Cause, *, pod_known: bool) -> str:
    """The cause's remediation as an alert template, one command per line, ending in a newline.

    `pod_known` is False for crash-count alerts: their series have no pod label.
    """
    pod = label("pod") if pod_known else UNKNOWN_POD
    # With the pod known, the node is one lookup away, and a runnable command beats `<node>`.
    node = (
        f"$(kubectl get pod {pod} -n {label('namespace')} -o jsonpath='{{.spec.nodeName}}')"
        if pod_known
        else UNKNOWN_NODE
    )
    template = Template(escape_template(cause.remediation))
    values = {name: placeholder(name) for name in template.get_identifiers()}
    values.update(
        namespace=label("namespace"),
        pod=pod,
        container=label("container"),
        workload=label("workload"),
        workload_ref=WORKLOAD_REF,
        restart_cmd=restart_command(pod=pod),
        node=node,
    )
    text = template.safe_substitute(values)
    out: list[str] = []
    noted = False
    for line in text.splitlines():
        if not line.startswith("kubectl rollout"):
            out.append(line + "\n")
        elif noted:
            out.append(f"{_IS_ROLLOUT_KIND}{line}\n{{{{ end }}}}")
        else:
            # A Job or bare Pod has no rollout history: say so once instead of a command that fails.
            note = (
                f"# {label('workload_kind')} {label('workload')} has no rollout history: fix the spec and re-apply it"
            )
            out.append(f"{_IS_ROLLOUT_KIND}{line}{{{{ else }}}}{note}{{{{ end }}}}\n")
            noted = True
    return "".join(out)


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


def failing_annotations(config: RulesConfig, cause: Cause) -> dict[str, str]:
    """Annotations of a per-cause alert on `crashloop_container_failing` (one alert per container)."""
    ns, pod, container = label("namespace"), label("pod"), label("container")
    return {
        "summary": f"{cause.title}: {ns}/{pod} container {container}",
        "description": (
            f"Container {container} of pod {ns}/{pod} ({WORKLOAD_REF}) is failing"
            f"{kubelet_reason(config, cause)}, classified as {cause.id}: {escape_template(cause.help)}\n"
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
