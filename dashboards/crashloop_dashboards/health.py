""" "crashloop-exporter: health": is the exporter itself seeing the cluster?

A crash dashboard that shows nothing is only good news if the exporter is up, synced and
receiving watch events. This dashboard shows the watch layer (events, restarts, sync state, time
since the last event), the log fetcher (results, including 403 when RBAC lacks pods/log), the
classifier's latency, the cost of a scrape, and the objects it tracks or skips.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common as cmodel
from grafana_foundation_sdk.models import dashboard as dmodel
from grafana_foundation_sdk.models import units

from crashloop_dashboards.common import (
    CLUSTER,
    INSTANCE,
    JOB,
    OK_COLOUR,
    UID_HEALTH,
    Grid,
    base_dashboard,
    cluster_variable,
    datasource_variable,
    instance_variable,
    job_variable,
    query,
    selector,
    stat_panel,
    state_timeline_panel,
    timeseries_panel,
)

TITLE = "crashloop-exporter: health"

# Colour of each log fetch result (the `result` label values in the metric contract).
LOG_FETCH_COLOURS = {
    "ok": "green",
    "skipped": "blue",
    "not_found": "yellow",
    "rate_limited": "orange",
    "timeout": "purple",
    "forbidden": "red",
    "error": "dark-red",
}


def synced_mapping() -> dmodel.ValueMap:
    return dmodel.ValueMap(
        options={
            "0": dmodel.ValueMappingResult(text="not synced", color="red", index=0),
            "1": dmodel.ValueMappingResult(text="synced", color="green", index=1),
        }
    )


def build() -> dash.Dashboard:
    """The exporter health dashboard builder."""
    sel = selector(CLUSTER, JOB, INSTANCE)
    pods_sel = selector(CLUSTER, JOB, INSTANCE, 'resource="pods"')
    grid = Grid()

    grid.add(
        stat_panel(
            title="Exporter targets up",
            description="Scrape targets of the exporter that answered the last scrape (Prometheus' `up`).",
            unit=units.Short,
            targets=[query(f"sum(up{sel}) or vector(0)", legend="up", kind="instant")],
            steps=((None, "red"), (1, OK_COLOUR)),
        ),
        w=6,
        h=4,
    )
    grid.add(
        stat_panel(
            title="Version",
            description="crashloop-exporter version and Python version of the running replicas (build_info).",
            unit=units.NoUnit,
            targets=[
                query(
                    f"count by (version, python_version) (crashloop_exporter_build_info{sel})",
                    legend="{{version}} (Python {{python_version}})",
                    kind="instant",
                )
            ],
            steps=((None, "text"),),
            text_mode=cmodel.BigValueTextMode.NAME,
            color_mode=cmodel.BigValueColorMode.NONE,
        ),
        w=6,
        h=4,
    )
    grid.add(
        stat_panel(
            title="Watches synced",
            description=(
                "Whether every watched resource (pods, events, nodes) finished its first list: /readyz "
                "answers 200 only then. Red means some resource is not synced."
            ),
            unit=units.NoUnit,
            targets=[query(f"min(crashloop_exporter_synced{sel})", legend="synced", kind="instant")],
            steps=((None, "red"), (1, OK_COLOUR)),
        ).mappings([synced_mapping()]),
        w=6,
        h=4,
    )
    grid.add(
        stat_panel(
            title="Tracked pods",
            description="Pods held in the exporter's memory (compact records), across replicas and shards.",
            unit=units.Short,
            targets=[
                query(
                    f"sum(crashloop_exporter_objects_tracked{pods_sel})",
                    legend="pods",
                    kind="instant",
                )
            ],
            steps=((None, OK_COLOUR),),
            color_mode=cmodel.BigValueColorMode.VALUE,
        ),
        w=6,
        h=4,
    )

    grid.add(
        timeseries_panel(
            title="Watch events by resource and type",
            description=(
                "Watch events received per second (ADDED, MODIFIED, DELETED, BOOKMARK) for pods, events and nodes."
            ),
            unit=units.CountsPerSecond,
            targets=[
                query(
                    f"sum by (resource, type) (rate(crashloop_exporter_watch_events_total{sel}[$__rate_interval]))",
                    legend="{{resource}} {{type}}",
                )
            ],
        ),
        w=12,
        h=8,
    )
    grid.add(
        timeseries_panel(
            title="Watch restarts by reason",
            description=(
                "Watch streams restarted per $__rate_interval window, by reason (e.g. 410 Gone relists, "
                "timeouts, errors). Occasional restarts are normal; a steady stream is not. Empty means none."
            ),
            unit=units.Short,
            targets=[
                query(
                    "sum by (resource, reason) "
                    f"(increase(crashloop_exporter_watch_restarts_total{sel}[$__rate_interval]))",
                    legend="{{resource}}: {{reason}}",
                )
            ],
            bars=True,
        ),
        w=12,
        h=8,
    )
    grid.add(
        state_timeline_panel(
            title="Synced state per resource",
            description="Per resource, whether the first list has completed (synced) or a relist is in progress.",
            targets=[query(f"min by (resource) (crashloop_exporter_synced{sel})", legend="{{resource}}")],
            mappings=[synced_mapping()],
        ),
        w=12,
        h=6,
    )
    grid.add(
        timeseries_panel(
            title="Time since last watch event",
            description=(
                "Seconds since the last watch event per resource. Events and pods change constantly in a "
                "busy cluster; a growing line points at a silently hung watch."
            ),
            unit=units.Seconds,
            targets=[
                query(
                    f"time() - max by (resource) (crashloop_exporter_last_event_timestamp_seconds{sel})",
                    legend="{{resource}}",
                )
            ],
        ),
        w=12,
        h=6,
    )
    log_fetches = timeseries_panel(
        title="Log fetch results",
        description=(
            "Previous-log fetches per second by result. `forbidden` means the RBAC role lacks pods/log: "
            "classification falls back to status and events. `timeout` means the log endpoint sent nothing in time "
            "(often the API server cannot reach a node's kubelet). `rate_limited` and `skipped` are the exporter "
            "protecting the API server."
        ),
        unit=units.CountsPerSecond,
        targets=[
            query(
                f"sum by (result) (rate(crashloop_exporter_log_fetches_total{sel}[$__rate_interval]))",
                legend="{{result}}",
            )
        ],
        stacked=True,
    )
    for result, colour in LOG_FETCH_COLOURS.items():
        log_fetches = log_fetches.override_by_name(
            result, [dmodel.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": colour})]
        )
    grid.add(log_fetches, w=12, h=8)
    bucket = f"crashloop_exporter_classification_duration_seconds_bucket{sel}"
    grid.add(
        timeseries_panel(
            title="Classification latency",
            description=(
                "Time the classifier takes per pod (p50, p90, p99), from the classification duration histogram."
            ),
            unit=units.Seconds,
            targets=[
                query(
                    f"histogram_quantile({q}, sum by (le) (rate({bucket}[$__rate_interval])))",
                    ref_id=ref,
                    legend=f"p{int(q * 100)}",
                )
                for ref, q in (("A", 0.5), ("B", 0.9), ("C", 0.99))
            ],
        ),
        w=12,
        h=8,
    )
    grid.add(
        timeseries_panel(
            title="Tracked objects",
            description="Objects held in memory per resource (pods, events, nodes).",
            unit=units.Short,
            targets=[query(f"sum by (resource) (crashloop_exporter_objects_tracked{sel})", legend="{{resource}}")],
        ),
        w=12,
        h=8,
    )
    grid.add(
        timeseries_panel(
            title="Skipped objects",
            description=(
                "Objects skipped per $__rate_interval window, by resource and reason (malformed objects, "
                "other shards, filtered namespaces). Empty means none were skipped."
            ),
            unit=units.Short,
            targets=[
                query(
                    "sum by (resource, reason) "
                    f"(increase(crashloop_exporter_skipped_objects_total{sel}[$__rate_interval]))",
                    legend="{{resource}}: {{reason}}",
                )
            ],
            bars=True,
        ),
        w=12,
        h=8,
    )
    grid.add(
        timeseries_panel(
            title="Scrape duration",
            description=(
                "How long Prometheus takes to scrape each exporter instance. Scrapes only read a snapshot "
                "from memory, so this should stay flat as the cluster grows."
            ),
            unit=units.Seconds,
            targets=[query(f"scrape_duration_seconds{sel}", legend="{{instance}}")],
        ),
        w=24,
        h=7,
    )

    board = base_dashboard(
        uid=UID_HEALTH,
        title=TITLE,
        description="The exporter's own health: watches, sync, log fetches, classifier latency, scrape cost.",
    )
    board = (
        board.with_variable(datasource_variable())
        .with_variable(cluster_variable())
        .with_variable(job_variable())
        .with_variable(instance_variable())
    )
    return grid.apply(board)
