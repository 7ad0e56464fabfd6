""" "Crash causes: overview": which causes hurt the cluster now, and where.

Reading order matches the 3 a.m. questions: which causes are failing now (one tile per catalog
cause, coloured by its severity), since when and how often, which workloads crash most and
whether all their replicas fail or one pod does, which failing workloads take others down with
them (the roots of dependency chains), and finally the failing containers themselves
with exit codes, each linked to its runbook and to the workload drill-down.

Needs the rules pack's recording rules (`namespace_workload_cause:*`) for the tiles and graphs;
the tables read the raw metrics.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import stat
from grafana_foundation_sdk.models import units

from crashloop_dashboards.common import (
    CAUSE,
    CLUSTER,
    CONTAINER_KEY,
    NAMESPACE,
    OK_COLOUR,
    SEVERITY_COLOUR,
    UID_OVERVIEW,
    Column,
    Grid,
    base_dashboard,
    cause_column,
    cause_variable,
    cluster_variable,
    datasource_variable,
    exit_code_mapping,
    failing_containers_table,
    namespace_variable,
    query,
    runbook_column,
    selector,
    stat_panel,
    table_panel,
    tile_description,
    timeseries_panel,
    with_runbook_label,
    workload_column,
)
from crashloop_exporter.catalog import CAUSES, Cause

TITLE = "Crash causes: overview"
WORKLOAD_KEY = "cluster, namespace, workload_kind, workload"

TILE_W, TILE_H = 3, 3


def cause_tile(c: Cause) -> stat.Panel:
    """One stat tile per catalog cause: containers failing now with this cause."""
    matchers = selector(CLUSTER, NAMESPACE, f'cause="{c.id}"')
    show_these = (
        f"/d/{UID_OVERVIEW}?${{datasource:queryparam}}&${{cluster:queryparam}}&${{namespace:queryparam}}"
        f"&var-cause={c.id}&${{__url_time_range}}"
    )
    return (
        stat_panel(
            title=c.title,
            description=tile_description(c),
            unit=units.Short,
            targets=[
                query(
                    f"sum(namespace_workload_cause:crashloop_container_failing:sum{matchers}) or vector(0)",
                    legend=c.id,
                    kind="instant",
                )
            ],
            steps=((None, OK_COLOUR), (1, SEVERITY_COLOUR[c.severity])),
        )
        .links([dash.DashboardLink(f"Runbook: {c.title}").url(c.runbook_url).target_blank(True)])
        .data_links([dash.DashboardLink(f"Failing containers with cause {c.id}").url(show_these)])
    )


def pods_by_workload() -> str:
    """Pods per workload from kube-state-metrics' kube_pod_owner, in the exporter's workload terms.

    kube_pod_owner names the ReplicaSet of a Deployment's pod, so the pod-template-hash suffix is
    cut off the owner name, the way the exporter resolves workloads. StatefulSets and DaemonSets
    own their pods directly. Jobs, CronJobs and bare pods are left out: "all replicas or one pod"
    means nothing for them. group by pod first, so a kube-state-metrics scraped twice counts once.
    """
    rs = selector(CLUSTER, NAMESPACE, 'owner_kind="ReplicaSet"')
    direct = selector(CLUSTER, NAMESPACE, 'owner_kind=~"StatefulSet|DaemonSet"')
    deployments = (
        f'label_replace(label_replace(kube_pod_owner{rs}, "workload", "$1", "owner_name", "(.+)-[a-z0-9]+"), '
        '"workload_kind", "Deployment", "owner_kind", "ReplicaSet")'
    )
    others = (
        f'label_replace(label_replace(kube_pod_owner{direct}, "workload", "$1", "owner_name", "(.+)"), '
        '"workload_kind", "$1", "owner_kind", "(.+)")'
    )
    return f"count by ({WORKLOAD_KEY}) (group by ({WORKLOAD_KEY}, pod) ({deployments} or {others}))"


def build() -> dash.Dashboard:
    """The overview dashboard builder."""
    sel = selector(CLUSTER, NAMESPACE, CAUSE)
    grid = Grid()

    grid.row("Failing now, by cause")
    for c in CAUSES:
        grid.add(cause_tile(c), w=TILE_W, h=TILE_H)
    grid.add(
        stat_panel(
            title="All failing containers",
            description="All containers failing now in the selected namespaces and causes.",
            unit=units.Short,
            targets=[query(f"sum(crashloop_container_failing{sel}) or vector(0)", legend="failing", kind="instant")],
            steps=((None, OK_COLOUR), (1, "red")),
        ),
        w=4,
        h=TILE_H,
    )
    grid.add(
        stat_panel(
            title="Workloads affected",
            description="Workloads with at least one failing container.",
            unit=units.Short,
            targets=[
                query(
                    f"count(group by ({WORKLOAD_KEY}) (crashloop_container_failing{sel})) or vector(0)",
                    legend="workloads",
                    kind="instant",
                )
            ],
            steps=((None, OK_COLOUR), (1, "red")),
        ),
        w=4,
        h=TILE_H,
    )
    grid.add(
        stat_panel(
            title="Crashes in range",
            description=(
                "Crashes and failed starts counted by the exporter over the dashboard's time range "
                "(restarts before the exporter first saw a pod are not counted)."
            ),
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
        w=4,
        h=TILE_H,
    )

    grid.row("Over time")
    grid.add(
        timeseries_panel(
            title="Failing containers by cause",
            description="How many containers were failing, stacked by cause: when did it start, is it growing?",
            unit=units.Short,
            targets=[
                query(
                    f"sum by (cause) (namespace_workload_cause:crashloop_container_failing:sum{sel})",
                    legend="{{cause}}",
                )
            ],
            stacked=True,
            axis_label="containers",
        ),
        w=12,
        h=8,
    )
    grid.add(
        timeseries_panel(
            title="Crashes by cause",
            description=(
                "Crash rate stacked by cause, in crashes per hour (5m rate from the recording rule "
                "namespace_workload_cause:crashloop_crashes:rate5m, times 3600)."
            ),
            unit=units.Short,
            targets=[
                query(
                    f"sum by (cause) (namespace_workload_cause:crashloop_crashes:rate5m{sel}) * 3600",
                    legend="{{cause}}",
                )
            ],
            stacked=True,
            axis_label="crashes / hour",
        ),
        w=12,
        h=8,
    )

    grid.row("Which workloads")
    per_cause = f"sum by ({WORKLOAD_KEY}, cause) (increase(crashloop_crashes_total{sel}[$__range]))"
    top = (
        f"topk(10, sum by ({WORKLOAD_KEY}) ({per_cause}) * on ({WORKLOAD_KEY}) group_left (cause) "
        f"group by ({WORKLOAD_KEY}, cause) (topk by ({WORKLOAD_KEY}) (1, {per_cause})) > 0)"
    )
    grid.add(
        table_panel(
            title="Top workloads by crashes",
            description=(
                "The 10 workloads with the most crashes in the time range; `cause` is the dominant cause "
                "(the one with the most crashes) and links to its runbook, the workload to its drill-down."
            ),
            unit=units.Short,
            targets=[query(with_runbook_label(top), kind="table")],
            order=("cluster", "namespace", "workload_kind", "workload", "cause", "Value", "runbook"),
            columns=[
                Column(field="workload_kind", header="kind"),
                workload_column(),
                cause_column(),
                runbook_column(),
                Column(field="Value", header="crashes", unit=units.Short),
            ],
            sort_by=("crashes", True),
        ),
        w=12,
        h=9,
    )
    failing_pods = f"count by ({WORKLOAD_KEY}) (group by ({WORKLOAD_KEY}, pod) (crashloop_container_failing{sel}))"
    pods = pods_by_workload()
    grid.add(
        table_panel(
            title="All replicas or one pod?",
            description=(
                "Share of each workload's pods that are failing. All replicas (red, 100%) points at the "
                "image, config or a dependency; one pod among healthy ones points at its node or its data. "
                "Pod counts come from kube-state-metrics (kube_pod_owner; Deployments, StatefulSets, "
                "DaemonSets): without it only the failing pod count is shown, because the exporter exports "
                "failing containers only and cannot count the healthy replicas."
            ),
            unit=units.Short,
            targets=[
                query(failing_pods, ref_id="A", kind="table"),
                query(f"{pods} and on ({WORKLOAD_KEY}) {failing_pods}", ref_id="B", kind="table"),
                query(f"{failing_pods} / on ({WORKLOAD_KEY}) {pods}", ref_id="C", kind="table"),
            ],
            merge=True,
            order=("cluster", "namespace", "workload_kind", "workload", "Value #A", "Value #B", "Value #C"),
            columns=[
                Column(field="workload_kind", header="kind"),
                workload_column(),
                Column(field="Value #A", header="failing pods", unit=units.Short),
                Column(field="Value #B", header="pods", unit=units.Short),
                Column(
                    field="Value #C",
                    header="failing share",
                    unit=units.PercentUnit,
                    gauge=True,
                    steps=((None, "orange"), (1, "red")),
                ),
            ],
            sort_by=("failing share", True),
        ),
        w=12,
        h=9,
    )

    grid.row("Root causes")
    roots = (
        "count by (cluster, dependency_namespace, dependency_workload_kind, dependency_workload, dependency_cause) "
        f"(crashloop_container_dependency_failing{selector(CLUSTER, NAMESPACE)})"
    )
    grid.add(
        table_panel(
            title="Root causes: failing dependencies and what they take down",
            description=(
                "Workloads that other failing containers need (their logs could not reach it) and that are "
                "failing themselves: the root of a dependency chain. Fix the root first; its dependents' "
                "dependency_unavailable alerts are muted while its own alert fires. `dependents` counts the "
                "failing containers (in the selected namespaces) that wait on it."
            ),
            unit=units.Short,
            targets=[query(roots, kind="table")],
            order=("cluster", "dependency_namespace", "dependency_workload_kind", "dependency_workload",
                   "dependency_cause", "Value"),
            columns=[
                Column(field="dependency_namespace", header="root namespace"),
                Column(field="dependency_workload_kind", header="kind"),
                Column(field="dependency_workload", header="root workload"),
                cause_column("dependency_cause"),
                Column(field="Value", header="dependents", unit=units.Short),
            ],
            sort_by=("dependents", True),
        ),
        w=24,
        h=6,
    )

    grid.row("Failing containers")
    grid.add(
        failing_containers_table(
            title="Failing containers",
            description=(
                "Every container failing now: kubelet reason, classified cause (links to the runbook), "
                "last exit code and how long ago it last terminated. Labels only, no log text. "
                "The workload links to its drill-down."
            ),
            failing_matchers=(CLUSTER, NAMESPACE, CAUSE),
        ),
        w=18,
        h=12,
    )
    by_code = (
        f'count_values("exit_code", max by ({CONTAINER_KEY}) '
        f"(crashloop_container_last_exit_code{selector(CLUSTER, NAMESPACE)}) "
        f"and on ({CONTAINER_KEY}) crashloop_container_failing{sel})"
    )
    grid.add(
        table_panel(
            title="Last exit codes",
            description=(
                "Failing containers by the exit code of their last termination: 0 clean exit, "
                "1 application error, 137 SIGKILL/OOM, 139 segfault, 143 SIGTERM. Containers that never "
                "ran (image pull, missing secret) have no exit code."
            ),
            unit=units.Short,
            targets=[query(by_code, kind="table")],
            order=("exit_code", "Value"),
            columns=[
                Column(field="exit_code", header="exit code", mappings=(exit_code_mapping(),), color_text=True),
                Column(field="Value", header="containers", unit=units.Short),
            ],
            sort_by=("containers", True),
        ),
        w=6,
        h=12,
    )

    board = base_dashboard(
        uid=UID_OVERVIEW,
        title=TITLE,
        description=(
            "Why containers crash, by cause: classified by crashloop-exporter from pod status, events and "
            "previous logs."
        ),
    )
    board = (
        board.with_variable(datasource_variable())
        .with_variable(cluster_variable())
        .with_variable(namespace_variable(multi=True))
        .with_variable(cause_variable())
    )
    return grid.apply(board)
