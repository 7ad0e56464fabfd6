"""The node view of `diagnose`: failing pods grouped by the node they share.

The runbook's FAQ says node-level problems affect "pods across the node": when two or more failing
pods (of any workloads) run on one node, that node is the first suspect, whatever each pod's own
cause says. The section names the node, its pressure conditions (from the node's status, when the
input has it) and the commands that look at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crashloop_exporter.findings import Finding
from crashloop_exporter.model import NodeRecord, PodRecord

MIN_PODS = 2
"""One failing pod on a node says nothing about the node; two start a pattern."""


@dataclass(frozen=True, slots=True)
class NodeGroup:
    node: str
    pods: tuple[str, ...]
    """`namespace/pod` of the failing pods on the node, sorted."""
    workloads: int
    pressures: tuple[str, ...]
    """Pressure conditions that are True on the node (MemoryPressure, DiskPressure, PIDPressure)."""


def node_groups(findings: Sequence[Finding], pods: Sequence[PodRecord],
                nodes: Mapping[str, NodeRecord]) -> list[NodeGroup]:
    """Nodes with at least MIN_PODS failing pods, most failing pods first."""
    node_of = {(p.namespace, p.name): p.node_name for p in pods}
    on_node: dict[str, dict[str, tuple[str, str]]] = {}
    for f in findings:
        if not f.failing:
            continue
        node = node_of.get((f.namespace, f.pod), "")
        if node:
            on_node.setdefault(node, {})[f"{f.namespace}/{f.pod}"] = (f.namespace, f"{f.workload_kind}/{f.workload}")
    groups = []
    for node, failing in on_node.items():
        if len(failing) < MIN_PODS:
            continue
        record = nodes.get(node)
        pressures = tuple(sorted(c.type for c in record.pressures)) if record else ()
        groups.append(NodeGroup(node, tuple(sorted(failing)), len(set(failing.values())), pressures))
    return sorted(groups, key=lambda g: (-len(g.pods), g.node))


def render_node_groups(groups: Sequence[NodeGroup], *, indent: str = "  ") -> list[str]:
    """The table's node section, one block per node; no lines when no node has MIN_PODS failing pods."""
    lines: list[str] = []
    for g in groups:
        across = f"{len(g.pods)} failing pods of {g.workloads} workload{'s' if g.workloads != 1 else ''} run here"
        if g.pressures:
            lines.append(f"node {g.node} ({', '.join(g.pressures)}): {across} — node pressure affects pods across "
                         "the node: look at the node first")
        else:
            lines.append(f"node {g.node} (no pressure condition reported): {across}")
        lines.extend(f"{indent}  {pod}" for pod in g.pods)
        lines.append(f"{indent}kubectl describe node {g.node}   # Conditions, Allocated resources, Events")
        lines.append(f"{indent}kubectl get pods -A --field-selector spec.nodeName={g.node}")
        lines.append("")
    return lines


__all__ = ["MIN_PODS", "NodeGroup", "node_groups", "render_node_groups"]
