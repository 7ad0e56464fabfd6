"""Building blocks shared by the crashloop dashboards.

Every panel goes through one of the factories here, so the house rules hold everywhere without
being repeated: each panel and each query names the `$datasource`, each panel has a description
and a unit, instant queries are used for "now" panels and range queries for graphs, and causes
are shown with the catalog's title, severity colour and runbook link.

PromQL conventions: label matchers are regexes (`namespace=~"$namespace"`) even for single-value
variables, so that the All value `.*` works and so that the same expressions, with every
variable set to `.*`, return data in end-to-end tests. `cluster=~"$cluster"` also matches series
that have no `cluster` label at all, because `.*` matches the empty string.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import common as cbuild
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import common as cmodel
from grafana_foundation_sdk.models import dashboard as dmodel
from grafana_foundation_sdk.models.prometheus import PromQueryFormat, QueryEditorMode

from crashloop_exporter.catalog import CAUSES, RUNBOOK_BASE_URL, Cause, Severity

TAGS: Final = ("crashloop-exporter",)
UID_OVERVIEW: Final = "crashloop-overview"
UID_WORKLOAD: Final = "crashloop-workload"
UID_HEALTH: Final = "crashloop-exporter-health"

DATASOURCE: Final = dmodel.DataSourceRef(type_val="prometheus", uid="${datasource}")

SEVERITY_COLOUR: Final[Mapping[Severity, str]] = {"critical": "red", "warning": "orange", "info": "blue"}
OK_COLOUR: Final = "green"

# The seed's exit-code cheat sheet: (code, meaning, the catalog cause it usually ends up as).
# The cause only lends its severity colour; the classifier decides the real cause per crash.
EXIT_CODES: Final[tuple[tuple[int, str, str], ...]] = (
    (0, "clean exit", "clean_exit"),
    (1, "application error", "app_crash"),
    (137, "SIGKILL/OOM", "oomkilled"),
    (139, "segfault", "segfault"),
    (143, "SIGTERM", "sigterm"),
)

# Matchers used by every dashboard; each names one template variable.
CLUSTER: Final = 'cluster=~"$cluster"'
NAMESPACE: Final = 'namespace=~"$namespace"'
CAUSE: Final = 'cause=~"$cause"'
WORKLOAD: Final = 'workload=~"$workload"'
CONTAINER: Final = 'container=~"$container"'
JOB: Final = 'job=~"$job"'
INSTANCE: Final = 'instance=~"$instance"'

# The label set that identifies one container in the per-container metrics.
CONTAINER_KEY: Final = "cluster, namespace, pod, container, container_type"

# Grafana's own link to the drill-down; `${var:queryparam}` renders `var-x=value`.
WORKLOAD_LINK_URL: Final = (
    f"/d/{UID_WORKLOAD}?${{datasource:queryparam}}&${{cluster:queryparam}}"
    "&var-namespace=${__data.fields.namespace}&var-workload=${__data.fields.workload}&${__url_time_range}"
)
RUNBOOK_LINK_URL: Final = RUNBOOK_BASE_URL + "#${__data.fields.runbook}"


def selector(*matchers: str) -> str:
    """`{a, b}` from label matchers."""
    return "{" + ", ".join(matchers) + "}"


def with_runbook_label(expr: str) -> str:
    """Add a `runbook` label holding the cause's anchor in docs/causes.md (`cause` with `_` -> `-`).

    Grafana data links cannot rewrite strings, and PromQL's label_replace rewrites one match per
    call, so the chain is as long as the most underscores any catalog cause id has: adding a cause
    with more underscores lengthens it on the next build.
    """
    out = f'label_replace({expr}, "runbook", "$1", "cause", "(.+)")'
    for _ in range(max(c.id.count("_") for c in CAUSES)):
        out = f'label_replace({out}, "runbook", "$1-$2", "runbook", "(.*)_(.*)")'
    return out


def query(
    expr: str,
    *,
    ref_id: str = "A",
    legend: str | None = None,
    kind: Literal["range", "instant", "table"] = "range",
) -> prometheus.Dataquery:
    """One Prometheus target. `table` is an instant query formatted as a table (one row per series)."""
    q = prometheus.Dataquery().expr(expr).ref_id(ref_id).datasource(DATASOURCE).editor_mode(QueryEditorMode.CODE)
    q = q.range() if kind == "range" else q.instant()
    if kind == "table":
        q = q.format(PromQueryFormat.TABLE)
    if legend is not None:
        q = q.legend_format(legend)
    return q


class _Panel(Protocol):
    """What the SDK's panel builders have in common, for the shared setup below."""

    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def datasource(self, datasource: dmodel.DataSourceRef) -> Self: ...
    def unit(self, unit: str) -> Self: ...
    def with_target(self, target: Builder[cogvariants.Dataquery]) -> Self: ...
    def grid_pos(self, grid_pos: dmodel.GridPos) -> Self: ...
    def build(self) -> dmodel.Panel: ...


_P = TypeVar("_P", bound=_Panel)

AnyPanel = stat.Panel | timeseries.Panel | table.Panel | statetimeline.Panel
"""The panel builders the dashboards use; each builds a `dashboard.Panel`."""


def _setup(panel: _P, *, title: str, description: str, unit: str, targets: Sequence[prometheus.Dataquery]) -> _P:
    panel = panel.title(title).description(description).datasource(DATASOURCE).unit(unit)
    for t in targets:
        panel = panel.with_target(t)
    return panel


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds; the first step's value is None (minus infinity)."""
    return (
        dash.ThresholdsConfig()
        .mode(dmodel.ThresholdsMode.ABSOLUTE)
        .steps([dmodel.Threshold(value=v, color=c) for v, c in steps])
    )


def stat_panel(
    *,
    title: str,
    description: str,
    unit: str,
    targets: Sequence[prometheus.Dataquery],
    steps: Sequence[tuple[float | None, str]] = ((None, OK_COLOUR),),
    text_mode: cmodel.BigValueTextMode = cmodel.BigValueTextMode.AUTO,
    color_mode: cmodel.BigValueColorMode = cmodel.BigValueColorMode.BACKGROUND,
) -> stat.Panel:
    """A single big number (or one per series), reduced to the last value."""
    return (
        _setup(stat.Panel(), title=title, description=description, unit=unit, targets=targets)
        .thresholds(thresholds(*steps))
        .color_scheme(dash.FieldColor().mode(dmodel.FieldColorModeId.THRESHOLDS))
        .color_mode(color_mode)
        .graph_mode(cmodel.BigValueGraphMode.NONE)
        .text_mode(text_mode)
        .reduce_options(cbuild.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .decimals(0)
    )


def timeseries_panel(
    *,
    title: str,
    description: str,
    unit: str,
    targets: Sequence[prometheus.Dataquery],
    stacked: bool = False,
    bars: bool = False,
    axis_label: str | None = None,
) -> timeseries.Panel:
    """A graph over the dashboard's time range, with a legend table and a shared tooltip."""
    p = (
        _setup(timeseries.Panel(), title=title, description=description, unit=unit, targets=targets)
        .legend(
            cbuild.VizLegendOptions()
            .show_legend(True)
            .display_mode(cmodel.LegendDisplayMode.LIST)
            .placement(cmodel.LegendPlacement.BOTTOM)
        )
        .tooltip(cbuild.VizTooltipOptions().mode(cmodel.TooltipDisplayMode.MULTI).sort(cmodel.SortOrder.DESCENDING))
        .min(0)
        .fill_opacity(60 if stacked else 10)
        .line_width(1)
    )
    if stacked:
        p = p.stacking(cbuild.StackingConfig().mode(cmodel.StackingMode.NORMAL))
    if bars:
        p = p.draw_style(cmodel.GraphDrawStyle.BARS)
    if axis_label is not None:
        p = p.axis_label(axis_label)
    return p


def state_timeline_panel(
    *,
    title: str,
    description: str,
    targets: Sequence[prometheus.Dataquery],
    mappings: Sequence[dmodel.ValueMapping],
) -> statetimeline.Panel:
    """One lane per series, coloured by the value mappings (for 0/1 states)."""
    return (
        _setup(statetimeline.Panel(), title=title, description=description, unit="none", targets=targets)
        .mappings(list(mappings))
        .show_value(cmodel.VisibilityMode.NEVER)
        .merge_values(True)
        .fill_opacity(80)
        .legend(cbuild.VizLegendOptions().show_legend(False))
    )


@dataclass(frozen=True, slots=True)
class Column:
    """How a table shows one field: header, unit, value mappings, cell colouring, link, visibility."""

    field: str
    header: str | None = None
    unit: str | None = None
    mappings: tuple[dmodel.ValueMapping, ...] = ()
    color_text: bool = False
    gauge: bool = False
    link: tuple[str, str] | None = None
    """(title, url) of a data link on the cells of this column."""
    hidden: bool = False
    """Hidden but kept in the frame, so data links can still read it (`${__data.fields.x}`)."""
    steps: tuple[tuple[float | None, str], ...] = ()


def table_panel(
    *,
    title: str,
    description: str,
    unit: str,
    targets: Sequence[prometheus.Dataquery],
    columns: Sequence[Column] = (),
    exclude: Iterable[str] = ("Time",),
    order: Sequence[str] = (),
    merge: bool = False,
    sort_by: tuple[str, bool] | None = None,
) -> table.Panel:
    """A table of instant-query rows. `merge` joins several queries' rows on their shared labels.

    Header renames are overrides (displayName), not organize renames: data links look fields up by
    their original name, so label columns keep theirs.
    """
    p = _setup(table.Panel(), title=title, description=description, unit=unit, targets=targets)
    if merge:
        p = p.with_transformation(dmodel.DataTransformerConfig(id_val="merge", options={}))
    p = p.with_transformation(
        dmodel.DataTransformerConfig(
            id_val="organize",
            options={
                "excludeByName": {name: True for name in exclude},
                "indexByName": {name: i for i, name in enumerate(order)},
                "renameByName": {},
            },
        )
    )
    for col in columns:
        props: list[dmodel.DynamicConfigValue] = []
        if col.header is not None:
            props.append(dmodel.DynamicConfigValue(id_val="displayName", value=col.header))
        if col.unit is not None:
            props.append(dmodel.DynamicConfigValue(id_val="unit", value=col.unit))
        if col.mappings:
            props.append(dmodel.DynamicConfigValue(id_val="mappings", value=list(col.mappings)))
        if col.color_text:
            props.append(dmodel.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-text"}))
        if col.gauge:
            props.append(
                dmodel.DynamicConfigValue(
                    id_val="custom.cellOptions", value={"type": "gauge", "mode": "basic", "valueDisplayMode": "text"}
                )
            )
        if col.steps:
            props.append(dmodel.DynamicConfigValue(id_val="thresholds", value=thresholds(*col.steps).build()))
            props.append(dmodel.DynamicConfigValue(id_val="color", value={"mode": "thresholds"}))
        if col.link is not None:
            link_title, url = col.link
            props.append(
                dmodel.DynamicConfigValue(
                    id_val="links", value=[{"title": link_title, "url": url, "targetBlank": url.startswith("http")}]
                )
            )
        if col.hidden:
            props.append(dmodel.DynamicConfigValue(id_val="custom.hidden", value=True))
        p = p.override_by_name(col.field, props)
    if sort_by is not None:
        name, desc = sort_by
        p = p.sort_by([cbuild.TableSortByFieldState().display_name(name).desc(desc)])
    return p


def cause_mapping() -> dmodel.ValueMap:
    """Cause id -> catalog title, coloured by severity (critical red, warning orange, info blue)."""
    return dmodel.ValueMap(
        options={
            c.id: dmodel.ValueMappingResult(text=c.title, color=SEVERITY_COLOUR[c.severity], index=i)
            for i, c in enumerate(CAUSES)
        }
    )


def exit_code_mapping() -> dmodel.ValueMap:
    """Exit code -> `137 SIGKILL/OOM` etc., from the seed's cheat sheet."""
    by_id = {c.id: c for c in CAUSES}
    return dmodel.ValueMap(
        options={
            str(code): dmodel.ValueMappingResult(
                text=f"{code} {meaning}", color=SEVERITY_COLOUR[by_id[cause_id].severity], index=i
            )
            for i, (code, meaning, cause_id) in enumerate(EXIT_CODES)
        }
    )


def cause_column(field_name: str = "cause") -> Column:
    """The `cause` label shown as the catalog title, coloured by severity, linked to its runbook."""
    return Column(
        field=field_name,
        header="cause",
        mappings=(cause_mapping(),),
        color_text=True,
        link=("Runbook for ${__value.raw}", RUNBOOK_LINK_URL),
    )


def runbook_column() -> Column:
    """The anchor label made by `with_runbook_label`: hidden, read by the cause column's link."""
    return Column(field="runbook", hidden=True)


def workload_column() -> Column:
    """The workload name, linked to the workload drill-down with namespace and time range."""
    return Column(field="workload", link=("Drill down into ${__data.fields.workload}", WORKLOAD_LINK_URL))


def tile_description(c: Cause) -> str:
    """Description of a per-cause tile: the catalog help, severity and owner."""
    return (
        f"Containers failing now whose latest crash was classified as `{c.id}`: {c.help} "
        f"Severity {c.severity}, owned by the {c.team} team. Green when none. "
        f"Runbook: {c.runbook_url}"
    )


# ---------------------------------------------------------------------------------------------
# Template variables


def datasource_variable() -> dash.DatasourceVariable:
    return (
        dash.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .description("The Prometheus that scrapes crashloop-exporter (and kube-state-metrics, if any).")
    )


def _query_variable(
    name: str,
    *,
    label: str,
    query_text: str,
    description: str,
    multi: bool,
    include_all: bool,
    all_value: str | None = ".*",
) -> dash.QueryVariable:
    """A Prometheus label_values variable. With `all_value=None`, All means "every listed value"
    (Grafana's own regex of the options), for variables where `.*` would select too much."""
    v = (
        dash.QueryVariable(name)
        .label(label)
        .description(description)
        .query(query_text)
        .datasource(DATASOURCE)
        .refresh(dmodel.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dmodel.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(include_all)
    )
    if include_all:
        v = v.current(dmodel.VariableOption(selected=True, text="All", value="$__all"))
        if all_value is not None:
            v = v.all_value(all_value)
    return v


def cluster_variable() -> dash.QueryVariable:
    return _query_variable(
        "cluster",
        label="Cluster",
        query_text="label_values(crashloop_exporter_build_info, cluster)",
        description=(
            "Only useful when Prometheus adds a `cluster` label (e.g. external labels, Thanos, Mimir). "
            "Without it the list is empty and All (`.*`) matches every series."
        ),
        multi=True,
        include_all=True,
    )


def namespace_variable(*, multi: bool) -> dash.QueryVariable:
    return _query_variable(
        "namespace",
        label="Namespace",
        query_text=f"label_values(crashloop_crashes_total{selector(CLUSTER)}, namespace)",
        description="Namespaces where the exporter has seen at least one crash or failed start.",
        multi=multi,
        include_all=multi,
    )


def cause_variable() -> dash.CustomVariable:
    """Every catalog cause, so the list is complete before the first crash of a kind."""
    return (
        dash.CustomVariable("cause")
        .label("Cause")
        .description("Crash causes from the catalog (the `cause` label of alerts and metrics).")
        .values(",".join(c.id for c in CAUSES))
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(dmodel.VariableOption(selected=True, text="All", value="$__all"))
    )


def workload_variable() -> dash.QueryVariable:
    return _query_variable(
        "workload",
        label="Workload",
        query_text=f"label_values(crashloop_crashes_total{selector(CLUSTER, NAMESPACE)}, workload)",
        description="Deployment, StatefulSet, DaemonSet, Job, CronJob or bare pod, as the exporter resolved it.",
        multi=False,
        include_all=False,
    )


def container_variable() -> dash.QueryVariable:
    return _query_variable(
        "container",
        label="Container",
        query_text=f"label_values(crashloop_crashes_total{selector(CLUSTER, NAMESPACE, WORKLOAD)}, container)",
        description="Containers (regular and init) of the workload that crashed at least once.",
        multi=True,
        include_all=True,
    )


def job_variable() -> dash.QueryVariable:
    return _query_variable(
        "job",
        label="Job",
        query_text=f"label_values(crashloop_exporter_build_info{selector(CLUSTER)}, job)",
        description=(
            'The Prometheus job that scrapes crashloop-exporter (job="crashloop-exporter" by default). '
            "All means the jobs listed, not `.*`, so `up` and scrape_duration_seconds stay this exporter's."
        ),
        multi=True,
        include_all=True,
        all_value=None,
    )


def instance_variable() -> dash.QueryVariable:
    return _query_variable(
        "instance",
        label="Instance",
        query_text=f"label_values(crashloop_exporter_build_info{selector(CLUSTER, JOB)}, instance)",
        description="Exporter replicas or shards.",
        multi=True,
        include_all=True,
    )


def related_dashboards_link() -> dash.DashboardLink:
    """Top-bar dropdown to the other crashloop dashboards, keeping time range and variables."""
    return (
        dash.DashboardLink("crashloop-exporter")
        .type(dmodel.DashboardLinkType.DASHBOARDS)
        .tags(list(TAGS))
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    )


# ---------------------------------------------------------------------------------------------
# Layout


@dataclass
class Grid:
    """Places panels left to right like words in a paragraph, wrapping when the next one does not
    fit in Grafana's 24 columns. Positions are explicit in the JSON, so the layout never depends
    on the SDK's or Grafana's auto-placement."""

    _x: int = 0
    _y: int = 0
    _line_h: int = 0
    items: list[dash.Row | AnyPanel] = field(default_factory=list)

    def _newline(self) -> None:
        if self._x:
            self._y += self._line_h
        self._x, self._line_h = 0, 0

    def row(self, title: str) -> None:
        self._newline()
        self.items.append(dash.Row(title).grid_pos(dmodel.GridPos(h=1, w=24, x=0, y=self._y)))
        self._y += 1

    def add(self, panel: AnyPanel, *, w: int, h: int) -> None:
        if self._x + w > 24:
            self._newline()
        self.items.append(panel.grid_pos(dmodel.GridPos(h=h, w=w, x=self._x, y=self._y)))
        self._x += w
        self._line_h = max(self._line_h, h)

    def apply(self, board: dash.Dashboard) -> dash.Dashboard:
        for item in self.items:
            board = board.with_row(item) if isinstance(item, dash.Row) else board.with_panel(item)
        return board


def base_dashboard(*, uid: str, title: str, description: str) -> dash.Dashboard:
    """A dashboard with the shared uid/tags/time/refresh settings and the related-dashboards link."""
    return (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(list(TAGS))
        .time("now-3h", "now")
        .refresh("1m")
        .timezone("browser")
        .tooltip(dmodel.DashboardCursorSync.CROSSHAIR)
        .link(related_dashboards_link())
    )


# ---------------------------------------------------------------------------------------------
# Panels shared by the overview and the drill-down


def failing_containers_table(*, title: str, description: str, failing_matchers: Sequence[str]) -> table.Panel:
    """Currently failing containers with kubelet reason, last exit code and last crash age.

    Three instant queries merged on identical label sets: the failing series itself (so a
    container that never ran, e.g. an image pull, still gets a row) and the exit code and
    termination time, each joined to the failing series with group_left so they carry the same
    labels. Only labels are shown, never evidence text: label values never contain log lines.
    """
    failing_sel = selector(*failing_matchers)
    place = [m for m in failing_matchers if m.startswith(("cluster", "namespace"))]
    per_container = selector(*place)
    failing = (
        "max by (cluster, namespace, workload_kind, workload, pod, container, container_type, cause, reason) "
        f"(crashloop_container_failing{failing_sel})"
    )
    join = f"on ({CONTAINER_KEY}) group_left (workload_kind, workload, cause, reason)"
    exit_code = f"max by ({CONTAINER_KEY}) (crashloop_container_last_exit_code{per_container}) * {join} {failing}"
    age = (
        f"(time() - max by ({CONTAINER_KEY}) (crashloop_container_last_termination_timestamp_seconds{per_container}))"
        f" * {join} {failing}"
    )
    return table_panel(
        title=title,
        description=description,
        unit="short",
        targets=[
            query(with_runbook_label(failing), ref_id="A", kind="table"),
            query(with_runbook_label(exit_code), ref_id="B", kind="table"),
            query(with_runbook_label(age), ref_id="C", kind="table"),
        ],
        merge=True,
        exclude=("Time", "Value #A"),
        order=(
            "cluster",
            "namespace",
            "workload_kind",
            "workload",
            "pod",
            "container",
            "container_type",
            "cause",
            "reason",
            "Value #B",
            "Value #C",
            "runbook",
        ),
        columns=[
            Column(field="workload_kind", header="kind"),
            workload_column(),
            Column(field="container_type", header="type"),
            cause_column(),
            runbook_column(),
            Column(field="reason", header="kubelet reason"),
            Column(
                field="Value #B",
                header="last exit code",
                unit="none",
                mappings=(exit_code_mapping(),),
                color_text=True,
            ),
            Column(field="Value #C", header="last crash age", unit="s"),
        ],
        sort_by=("last crash age", False),
    )
