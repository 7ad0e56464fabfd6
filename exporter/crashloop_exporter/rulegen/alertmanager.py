"""The Alertmanager routing example: alerts go to whoever owns the fix of their `cause`.

Routes are derived from `Cause.team`, so a new cause (or a cause changing owners) is routed by
regenerating, never by hand-editing a regex. Three inhibitions remove alerts that another alert
already explains (see `inhibit_rules`).
"""

from __future__ import annotations

from typing import Any, get_args

from crashloop_exporter.catalog import CAUSES, CauseId, Team
from crashloop_exporter.rulegen import output
from crashloop_exporter.rulegen.config import RoutingConfig
from crashloop_exporter.rulegen.rules import DEPENDENT_LABEL, HEALTH_TEAM

RECEIVERS: dict[str, str] = {
    "capacity": "capacity-owners",
    "platform": "platform-team",
    "cicd": "ci-cd",
    "app": "app-owners",
}
"""Receiver name of each catalog team."""
if set(RECEIVERS) != set(get_args(Team)):  # pragma: no cover - guards a catalog change
    raise AssertionError(f"RECEIVERS must name a receiver for every Team: {sorted(get_args(Team))}")

DEFAULT_RECEIVER = RECEIVERS["app"]
"""Alerts without a cause (a pod in phase Failed) go to the application's owners."""
HEALTH_RECEIVER = RECEIVERS[HEALTH_TEAM]
GROUP_BY = ["cluster", "namespace", "workload", "cause"]
"""One notification per workload and cause: a bad rollout's twenty pods make one message, and the
generic restart-increase alert lands in the same group as the cause alert it precedes."""


def _cause_routes() -> list[dict[str, Any]]:
    teams: dict[str, list[str]] = {}
    for c in CAUSES:  # catalog (priority) order, so the file is stable
        teams.setdefault(c.team, []).append(c.id)
    return [
        {"receiver": RECEIVERS[team], "matchers": [f'cause=~"{"|".join(ids)}"']} for team, ids in teams.items()
    ]


NODE_PRESSURE_NOTE = """\
Node pressure explains the pod's other alerts: an evicted pod is also in phase Failed, and its
containers' restarts and kills are the eviction's. The scope is the pod (equal cluster, namespace,
pod), not the namespace: the node is not a label of these alerts, and pressure on one node says
nothing about the namespace's pods on other nodes."""

DEPENDENCY_NOTE = """\
A dependency chain pages its root once: a container that cannot reach a workload which is itself
failing carries that root's root_namespace/root_workload (and dependent="true"), and every other
per-cause alert carries its own. While the root's alert fires (any cause: OOMKilled, a missing
Secret, or a dependency_unavailable that is itself a root), its dependents' alerts are muted; when
the root recovers and a dependent still fails, the dependent's own alert is delivered."""

SEVERITY_NOTE = """\
A critical alert mutes the warning and info alerts of the same container (equal cluster,
namespace, workload, container): the restart-increase alerts and crash counts of a container
whose missing Secret is already paging add nothing. Only alerts about a container can mute."""


def config(routing: RoutingConfig) -> dict[str, Any]:
    """The Alertmanager configuration as data."""
    return {
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": routing.group_wait,
            "group_interval": routing.group_interval,
            "repeat_interval": routing.repeat_interval,
            "routes": [
                {
                    "receiver": HEALTH_RECEIVER,
                    "matchers": ['alertname=~"CrashLoopExporter.+"'],
                    "group_by": ["cluster", "alertname"],
                },
                *_cause_routes(),
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['cause="node_pressure"', 'pod=~".+"'],
                "target_matchers": ['cause!="node_pressure"'],
                "equal": ["cluster", "namespace", "pod"],
            },
            {
                "source_matchers": ['root_workload=~".+"', f'{DEPENDENT_LABEL[0]}!="{DEPENDENT_LABEL[1]}"'],
                "target_matchers": [
                    f'cause="{CauseId.DEPENDENCY_UNAVAILABLE}"', f'{DEPENDENT_LABEL[0]}="{DEPENDENT_LABEL[1]}"'
                ],
                "equal": ["cluster", "root_namespace", "root_workload"],
            },
            {
                "source_matchers": ['severity="critical"', 'container=~".+"'],
                "target_matchers": ['severity=~"warning|info"'],
                "equal": ["cluster", "namespace", "workload", "container"],
            },
        ],
        "receivers": [
            {
                "name": name,
                "webhook_configs": [{"url": routing.webhook_url.format(receiver=name), "send_resolved": True}],
            }
            for name in RECEIVERS.values()
        ],
    }


def render(routing: RoutingConfig) -> str:
    """alertmanager.yml, with comments on why each part is there."""
    data = config(routing)
    return "".join(
        (
            output.HEADER,
            output.comment(
                "Example routing for crashloop-exporter alerts: by `cause` to the team that owns the fix\n"
                "(catalog `team`). Receivers are webhooks; point the URLs at your chat or paging bridge."
            ),
            output.dump({"route": data["route"]}),
            "\n",
            output.commented_list(
                "inhibit_rules",
                list(zip((NODE_PRESSURE_NOTE, DEPENDENCY_NOTE, SEVERITY_NOTE), data["inhibit_rules"], strict=True)),
            ),
            "\n",
            output.dump({"receivers": data["receivers"]}),
        )
    )
