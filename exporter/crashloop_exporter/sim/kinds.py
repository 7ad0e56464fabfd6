"""The resources the simulated apiserver serves, declared once.

Discovery (`/api/v1`, `/apis/<group>/<version>`), LIST kinds, field-selector support, bookmark
bodies and 404 wording all read this table, so adding a resource is one entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_COMMON_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """One resource as discovery and the REST layer see it (core/v1 unless `group` says otherwise)."""

    resource: str
    """Plural path segment: `pods`."""
    kind: str
    """`Pod`; the list kind is `PodList`."""
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("get", "list", "watch")
    fields: frozenset[str] = _COMMON_FIELDS
    """Field selectors the real apiserver accepts for this resource (others are a 400)."""
    field_paths: Mapping[str, str] = field(default_factory=dict)
    """Selector field -> dotted JSON path when they differ (`source` is `source.component`)."""
    bookmark_extra: Mapping[str, Any] = field(default_factory=dict)
    """Go zero values the apiserver serialises next to `metadata` in a BOOKMARK object."""
    group: str = ""
    """API group: "" is the core group served under `/api/v1`; others under `/apis/<group>/<version>`."""
    version: str = "v1"

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def api_version(self) -> str:
        """`v1`, or `discovery.k8s.io/v1`: the apiVersion of its objects, lists and bookmarks."""
        return f"{self.group}/{self.version}" if self.group else self.version


POD_FIELDS = _COMMON_FIELDS | {
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
}
EVENT_FIELDS = _COMMON_FIELDS | {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
}

SERVICE_FIELDS = _COMMON_FIELDS | {"spec.clusterIP", "spec.type"}
DISCOVERY_GROUP = "discovery.k8s.io"
APPS_GROUP = "apps"
RBAC_GROUP = "rbac.authorization.k8s.io"
POLICY_GROUP = "policy"
NETWORKING_GROUP = "networking.k8s.io"
MONITORING_GROUP = "monitoring.coreos.com"

KINDS: tuple[ResourceKind, ...] = (
    ResourceKind(
        "pods", "Pod", "pod", True, ("po",), ("delete", "get", "list", "watch"), POD_FIELDS,
        bookmark_extra={"spec": {"containers": None}, "status": {}},
    ),
    ResourceKind(
        "events", "Event", "event", True, ("ev",), fields=EVENT_FIELDS, field_paths={"source": "source.component"},
        bookmark_extra={
            "involvedObject": {}, "source": {}, "firstTimestamp": None, "lastTimestamp": None,
            "eventTime": None, "reportingComponent": "", "reportingInstance": "",
        },
    ),
    ResourceKind(
        "nodes", "Node", "node", False, ("no",), fields=frozenset({"metadata.name", "spec.unschedulable"}),
        bookmark_extra={"spec": {}, "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}}, "nodeInfo": {
            "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "", "osImage": "",
            "containerRuntimeVersion": "", "kubeletVersion": "", "kubeProxyVersion": "", "operatingSystem": "",
            "architecture": ""}}},
    ),
    ResourceKind("secrets", "Secret", "secret", True, (), fields=_COMMON_FIELDS | {"type"}),
    ResourceKind("configmaps", "ConfigMap", "configmap", True, ("cm",)),
    ResourceKind(
        "namespaces", "Namespace", "namespace", False, ("ns",), fields=frozenset({"metadata.name", "status.phase"}),
        bookmark_extra={"spec": {}, "status": {}},
    ),
    ResourceKind(
        "services", "Service", "service", True, ("svc",), fields=SERVICE_FIELDS,
        bookmark_extra={"spec": {}, "status": {"loadBalancer": {}}},
    ),
    ResourceKind(
        "endpointslices", "EndpointSlice", "endpointslice", True, (), group=DISCOVERY_GROUP,
        # addressType, endpoints and ports carry no omitempty in discovery/v1's Go types.
        bookmark_extra={"addressType": "", "endpoints": None, "ports": None},
    ),
    # What the Helm chart and the kustomize overlays render, so `kubectl apply --dry-run=client` can map
    # every kind and find none of them yet (the sim stores none: GET is NotFound, LIST empty).
    ResourceKind("serviceaccounts", "ServiceAccount", "serviceaccount", True, ("sa",)),
    ResourceKind("deployments", "Deployment", "deployment", True, ("deploy",), group=APPS_GROUP),
    ResourceKind("statefulsets", "StatefulSet", "statefulset", True, ("sts",), group=APPS_GROUP),
    ResourceKind("clusterroles", "ClusterRole", "clusterrole", False, group=RBAC_GROUP),
    ResourceKind("clusterrolebindings", "ClusterRoleBinding", "clusterrolebinding", False, group=RBAC_GROUP),
    ResourceKind("poddisruptionbudgets", "PodDisruptionBudget", "poddisruptionbudget", True, ("pdb",),
                 group=POLICY_GROUP),
    ResourceKind("networkpolicies", "NetworkPolicy", "networkpolicy", True, ("netpol",), group=NETWORKING_GROUP),
    ResourceKind("servicemonitors", "ServiceMonitor", "servicemonitor", True, ("smon",), group=MONITORING_GROUP),
    ResourceKind("prometheusrules", "PrometheusRule", "prometheusrule", True, ("promrule",),
                 group=MONITORING_GROUP),
)
BY_RESOURCE: Mapping[str, ResourceKind] = {k.resource: k for k in KINDS}
GROUPS: Mapping[str, tuple[ResourceKind, ...]] = {
    g: tuple(k for k in KINDS if k.group == g) for g in dict.fromkeys(k.group for k in KINDS)
}
"""Kinds by API group ("" first: the core group)."""
