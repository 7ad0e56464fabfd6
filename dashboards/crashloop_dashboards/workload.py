""" "Crash causes: workload drill-down": one workload's crashes, causes and failing pods.

Reached from the overview's workload links. It answers: since when does it fail, of which
cause, how often, which pods and containers fail now, and does the exporter's crash count agree
with kube-state-metrics' restart count (it should, except for failed starts such as image pulls
or missing secrets, which never restart a container and so only the exporter counts).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cmodel
from grafana_foundation_sdk.models import units

from crashloop_dashboards.common import (
    CLUSTER,
    CONTAINER,
    NAMESPACE,
    OK_COLOUR,
    UID_WORKLOAD,
    WORKLOAD,
    Grid,
    base_dashboard,
    cluster_variable,
    container_variable,
    datasource_variable,
    failing_containers_table,
    namespace_variable,
    query,
    selector,
    stat_panel,
    timeseries_panel,
    workload_variable,
)

TITLE = "Crash causes: workload drill-down"


def ksm_pods_of_workload() -> str:
    """The workload's pods according to kube-state-metrics, one series per pod.

    kube_pod_owner names the direct owner: `<deployment>-<hash>` for a Deployment's ReplicaSet,
    `<cronjob>-<digits>` for a CronJob's Job, the workload itself for StatefulSets, DaemonSets and
    Jobs, and `<none>` for a bare pod (whose workload name is the pod name).
    """
    owned = selector(CLUSTER, NAMESPACE, 'owner_name=~"$workload(-[a-z0-9]+)?"')
    bare = selector(CLUSTER, NAMESPACE, 'owner_kind="<none>"', 'pod=~"$workload"')
    return f"group by (cluster, namespace, pod) (kube_pod_owner{owned} or kube_pod_owner{bare})"


def build() -> dash.Dashboard:
    """The workload drill-down dashboard builder."""
    sel = selector(CLUSTER, NAMESPACE, WORKLOAD, CONTAINER)
    grid = Grid()

    grid.add(
        stat_panel(
            title="Failing containers now",
            description="Containers of this workload failing now (any cause).",
            unit=units.Short,
            targets=[query(f"sum(crashloop_container_failing{sel}) or vector(0)", legend="failing", kind="instant")],
            steps=((None, OK_COLOUR), (1, "red")),
        ),
        w=6,
        h=4,
    )
    grid.add(
        stat_panel(
            title="Failing pods now",
            description="Pods of this workload with at least one failing container.",
            unit=units.Short,
            targets=[
                query(
                    f"count(group by (cluster, namespace, pod) (crashloop_container_failing{sel})) or vector(0)",
                    legend="pods",
                    kind="instant",
                )
            ],
            steps=((None, OK_COLOUR), (1, "red")),
        ),
        w=6,
        h=4,
    )
    grid.add(
        stat_panel(
            title="Crashes in range",
            description="Crashes and failed starts of this workload over the dashboard's time range.",
            unit=units.Short,
            targets=[
                query(
                    f"sum(increase(crashloop_crashes_total{sel}[$__range])) or vector(0)",
                    legend="crashes",
                    kind="instant",
                )
            ],
            steps=((None, OK_COLOUR), (1, "orange")),
        ),
        w=6,
        h=4,
    )
    grid.add(
        stat_panel(
            title="Dominant cause in range",
            description="The cause with the most crashes of this workload in the time range, and their count.",
            unit=units.Short,
            targets=[
                query(
                    f"topk(1, sum by (cause) (increase(crashloop_crashes_total{sel}[$__range])) > 0)",
                    legend="{{cause}}",
                    kind="instant",
                )
            ],
            steps=((None, "orange"),),
            text_mode=cmodel.BigValueTextMode.VALUE_AND_NAME,
        ),
        w=6,
        h=4,
    )

    grid.add(
        timeseries_panel(
            title="Failing containers by cause",
            description="Containers of this workload failing at each moment, stacked by cause.",
            unit=units.Short,
            targets=[query(f"sum by (cause) (crashloop_container_failing{sel})", legend="{{cause}}")],
            stacked=True,
            axis_label="containers",
        ),
        w=12,
        h=8,
    )
    grid.add(
        timeseries_panel(
            title="Crashes by cause",
            description="Crash rate of this workload stacked by cause, in crashes per hour.",
            unit=units.Short,
            targets=[
                query(
                    f"sum by (cause) (rate(crashloop_crashes_total{sel}[$__rate_interval])) * 3600",
                    legend="{{cause}}",
                )
            ],
            stacked=True,
            axis_label="crashes / hour",
        ),
        w=12,
        h=8,
    )
    ksm_restarts = (
        "sum by (container) (increase(kube_pod_container_status_restarts_total"
        f"{selector(CLUSTER, NAMESPACE, CONTAINER)}"
        f"[$__rate_interval]) * on (cluster, namespace, pod) group_left () {ksm_pods_of_workload()})"
    )
    grid.add(
        timeseries_panel(
            title="Restarts: crashloop-exporter vs kube-state-metrics",
            description=(
                "Restarts per container counted over each $__rate_interval window: crashloop_crashes_total "
                "(the exporter) next to kube_pod_container_status_restarts_total (kube-state-metrics, when "
                "scraped). The exporter also counts failed starts that never restart a container (image "
                "pull, missing Secret or ConfigMap) and ignores restarts from before it first saw the pod."
            ),
            unit=units.Short,
            targets=[
                query(
                    f"sum by (container) (increase(crashloop_crashes_total{sel}[$__rate_interval]))",
                    ref_id="A",
                    legend="{{container}} (crashloop-exporter)",
                ),
                query(ksm_restarts, ref_id="B", legend="{{container}} (kube-state-metrics)"),
            ],
            axis_label="restarts",
        ),
        w=24,
        h=8,
    )
    grid.add(
        failing_containers_table(
            title="Failing pods",
            description=(
                "This workload's failing containers with their labels: pod, container, kubelet reason, "
                "cause (links to the runbook), last exit code and last crash age. No evidence text: "
                "run `crashloop-exporter diagnose POD -n NAMESPACE` for the decisive log line and the fix."
            ),
            failing_matchers=(CLUSTER, NAMESPACE, WORKLOAD, CONTAINER),
        ),
        w=24,
        h=9,
    )

    board = base_dashboard(
        uid=UID_WORKLOAD,
        title=TITLE,
        description="One workload's crashes by cause, its failing pods, and restarts against kube-state-metrics.",
    )
    board = (
        board.with_variable(datasource_variable())
        .with_variable(cluster_variable())
        .with_variable(namespace_variable(multi=False))
        .with_variable(workload_variable())
        .with_variable(container_variable())
    )
    return grid.apply(board)
