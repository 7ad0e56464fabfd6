"""The one Secret/ConfigMap reference walker, and the compact view `parse` keeps of it."""

from __future__ import annotations

from typing import Any

import pytest

from crashloop_exporter.errors import MalformedObjectError
from crashloop_exporter.model import EnvRef
from crashloop_exporter.parse import parse_pod
from crashloop_exporter.refs import Ref, pod_refs

SPEC: dict[str, Any] = {
    "initContainers": [{"name": "migrate", "envFrom": [{"prefix": "DB_", "secretRef": {"name": "db"}}]}],
    "containers": [
        {
            "name": "app",
            "env": [
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token", "optional": True}}},
                {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
                {"name": "PLAIN", "value": "x"},
            ],
            "envFrom": [{"configMapRef": {"name": "defaults", "optional": True}}],
            "volumeMounts": [{"name": "certs", "mountPath": "/certs"}],
        }
    ],
    "volumes": [
        {"name": "certs", "secret": {"secretName": "tls", "items": [{"key": "tls.crt"}, {"key": "tls.key"}]}},
        {"name": "conf", "configMap": {"name": "app-conf"}},
        {"name": "all", "projected": {"sources": [{"secret": {"name": "p-sec"}}, {"configMap": {"name": "p-cm"}}]}},
    ],
    "imagePullSecrets": [{"name": "regcred"}],
}


def test_walker_yields_every_reference_form_in_spec_order() -> None:
    """env, envFrom (init first), volume items, whole volumes, projected sources and pull secrets, typed."""
    assert list(pod_refs(SPEC)) == [
        Ref("Secret", "db", None, False, "envFrom", ("initContainers", 0, "envFrom", 0),
            container="migrate", container_type="init", env_var="DB_"),
        Ref("Secret", "api", "token", True, "env", ("containers", 0, "env", 0), container="app", env_var="TOKEN"),
        Ref("ConfigMap", "cfg", "mode", False, "env", ("containers", 0, "env", 1), container="app", env_var="MODE"),
        Ref("ConfigMap", "defaults", None, True, "envFrom", ("containers", 0, "envFrom", 0), container="app"),
        Ref("Secret", "tls", "tls.crt", False, "volume", ("volumes", 0, "secret", "items", 0),
            container="app", volume="certs", mount_path="/certs"),
        Ref("Secret", "tls", "tls.key", False, "volume", ("volumes", 0, "secret", "items", 1),
            container="app", volume="certs", mount_path="/certs"),
        Ref("ConfigMap", "app-conf", None, False, "volume", ("volumes", 1, "configMap"), volume="conf"),
        Ref("Secret", "p-sec", None, False, "volume", ("volumes", 2, "projected", "sources", 0, "secret"),
            volume="all"),
        Ref("ConfigMap", "p-cm", None, False, "volume", ("volumes", 2, "projected", "sources", 1, "configMap"),
            volume="all"),
        Ref("Secret", "regcred", None, False, "imagePullSecret", ("imagePullSecrets", 0)),
    ]


def test_parse_keeps_the_compact_view_with_kubernetes_kind_names() -> None:
    """A pod that needs explaining keeps env refs per container and one volume ref per source."""
    pod = parse_pod({"metadata": {"name": "p", "namespace": "ns", "uid": "u"}, "spec": SPEC, "status": {}})
    app = next(c for c in pod.containers if c.name == "app")
    assert app.spec is not None and app.spec.env_refs == (
        EnvRef(var="TOKEN", kind="Secret", name="api", key="token", optional=True),
        EnvRef(var="MODE", kind="ConfigMap", name="cfg", key="mode", optional=False),
        EnvRef(var="", kind="ConfigMap", name="defaults", key="", optional=True),
    )
    assert pod.volume_refs == (
        EnvRef(var="certs", kind="Secret", name="tls", key="", optional=False),
        EnvRef(var="conf", kind="ConfigMap", name="app-conf", key="", optional=False),
        EnvRef(var="all", kind="Secret", name="p-sec", key="", optional=False),
        EnvRef(var="all", kind="ConfigMap", name="p-cm", key="", optional=False),
    )


def test_mistyped_list_is_an_error_for_the_exporter_and_empty_for_preflight() -> None:
    """With `where`, `env: "x"` names the field; without it (preflight manifests) it reads as no refs."""
    spec = {"containers": [{"name": "app", "env": "x"}], "volumes": [{"name": "v", "projected": {"sources": 1}}]}
    assert list(pod_refs(spec)) == []
    with pytest.raises(MalformedObjectError, match=r"pod ns/p\.env should be a list, got str"):
        list(pod_refs(spec, where="pod ns/p"))
    with pytest.raises(MalformedObjectError, match=r"\.volumes\[v\]\.projected\.sources should be a list"):
        list(pod_refs({"volumes": spec["volumes"]}, where="pod ns/p"))
