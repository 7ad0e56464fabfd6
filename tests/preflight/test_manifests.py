"""Reading manifests: kinds, documents, directories, stdin, line numbers, and what a bundle keeps."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from crashloop_exporter.preflight.manifests import STDIN_NAME, WORKLOAD_KINDS, expand_sources, load_manifests
from crashloop_exporter.refs import pod_refs

from .conftest import FIXTURES


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle` (so expectations come from the text, not the code)."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def test_yaml_lines_of_reported_fields() -> None:
    """Env entries, images, probes and volumes resolve to the line they are written on."""
    path = FIXTURES / "clean" / "everything-right.yaml"
    text = path.read_text()
    (w,) = load_manifests([str(path)]).workloads
    assert w.line("containers", 0, "env", 1) == line_of(text, "- name: DB_PASSWORD")
    assert w.line("containers", 0, "image") == line_of(text, "image: registry.solvethenetwork.com/api")
    assert w.line("containers", 0, "livenessProbe") == line_of(text, "livenessProbe:")
    assert w.line("volumes", 2, "projected", "sources", 1, "configMap", "items", 0) == line_of(text, "key: ca.crt")
    assert w.line("initContainers", 0) == line_of(text, "- name: wait-for-postgres")
    # A field that is not there resolves to its nearest ancestor: the container's `resources:`.
    assert w.line("containers", 0, "resources", "limits", "cpu") == line_of(text, "limits: {memory: 512Mi}")
    assert w.object_line("metadata") == line_of(text, "metadata:")


def test_json_list_lines_and_kinds() -> None:
    """A kubectl `kind: List` in JSON: every workload kind is read, with lines inside the JSON text."""
    path = FIXTURES / "clean" / "kinds.json"
    text = path.read_text()
    manifests = load_manifests([str(path)])
    kinds = {w.kind: w for w in manifests.workloads}
    assert set(kinds) == {"DaemonSet", "Job", "Pod", "ReplicaSet"}
    assert manifests.ignored == 1  # the Service
    assert kinds["Job"].line("containers", 0, "envFrom", 0) == line_of(text, '"envFrom"')
    assert kinds["Pod"].line("containers", 0, "image") == line_of(text, '"image": "busybox:1.35"')
    assert kinds["ReplicaSet"].object_path == ("items", 3)


def test_concatenated_json_values_are_documents(write: Callable[[str, str], Path]) -> None:
    """Several JSON values in one file (appended kubectl output) count as documents 1..n, lines offset."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "ns"},
           "spec": {"containers": [{"name": "c", "image": "r/c:v1"}]}}
    second = dict(pod, metadata={"name": "b", "namespace": "ns"})
    text = json.dumps(pod, indent=2) + "\n" + json.dumps(second, indent=2) + "\n"
    manifests = load_manifests([str(write("two.json", text))])
    a, b = manifests.workloads
    assert (a.location.document, b.location.document) == (1, 2)
    assert b.line("containers", 0, "image") == line_of(text, '"image"', nth=2)


@pytest.mark.parametrize("kind", sorted(WORKLOAD_KINDS))
def test_every_workload_kind_yields_its_pod_spec(kind: str, write: Callable[[str, str], Path]) -> None:
    """Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod each give the pod spec and a pod name."""
    pod_spec: dict[str, object] = {"containers": [{"name": "c", "image": "r/c:v1"}]}
    template = {"metadata": {"name": "tmpl"}, "spec": pod_spec}
    spec: dict[str, object] = {"template": template}
    if kind == "Pod":
        spec = pod_spec
    elif kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "w"}, "spec": spec}
    (w,) = load_manifests([str(write("w.json", json.dumps(obj)))]).workloads
    assert w.pod_spec == pod_spec
    assert w.pod_name == ("w" if kind == "Pod" else "tmpl")


def test_bundle_keeps_key_names_never_values(write: Callable[[str, str], Path]) -> None:
    """Secrets, ConfigMaps, SealedSecrets and ExternalSecrets in the input become names + key names."""
    path = write("bundle.yaml", """\
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
data: {a: VkFMVUUtT05F}
stringData: {b: VALUE-TWO}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {c: VALUE-THREE}
binaryData: {d: VkFMVUUtRk9VUg==}
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: sealed, namespace: ns}
spec:
  encryptedData: {e: AgBy3i4O}
  template: {metadata: {name: unsealed}, data: {f: "{{ index . \\"e\\" }}"}}
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: ext, namespace: ns}
spec:
  target: {name: synced}
  data: [{secretKey: g, remoteRef: {key: k}}]
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: ext-all, namespace: ns}
spec:
  dataFrom: [{extract: {key: k}}]
""")
    bundle = {(b.kind, b.name): b for b in load_manifests([str(path)]).bundle}
    assert bundle[("Secret", "s")].keys == frozenset({"a", "b"})
    assert bundle[("ConfigMap", "cm")].keys == frozenset({"c", "d"}) and bundle[("ConfigMap", "cm")].namespace is None
    assert bundle[("Secret", "unsealed")].keys == frozenset({"e", "f"})
    assert bundle[("Secret", "synced")].keys == frozenset({"g"})
    assert bundle[("Secret", "ext-all")].keys is None
    held = repr(list(bundle.values()))
    for value in ("VALUE-ONE", "VkFMVUUtT05F", "VALUE-TWO", "VALUE-THREE", "AgBy3i4O"):
        assert value not in held


def test_directories_recurse_sorted_and_skip_hidden(tmp_path: Path) -> None:
    """-f DIR reads *.yaml, *.yml, *.json below it in sorted order, not hidden dirs or other files."""
    for rel in ("b.yaml", "a/z.yml", "a/y.json", ".github/workflows/ci.yml", "a/.hidden.yaml", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("kind: Service\nmetadata: {name: s}\n")
    files = [f for f, _ in expand_sources([str(tmp_path)])]
    assert files == [str(tmp_path / "a/y.json"), str(tmp_path / "a/z.yml"), str(tmp_path / "b.yaml")]


def test_stdin_is_read_once_and_named() -> None:
    """`-f -` reads the stdin stream and reports it as <stdin>."""
    text = (FIXTURES / "clean" / "bundle-creates-secret.yaml").read_bytes()
    manifests = load_manifests(["-"], stdin=io.BytesIO(text))
    assert [w.location.file for w in manifests.workloads] == [STDIN_NAME]
    assert len(manifests.bundle) == 2


def test_references_cover_every_form() -> None:
    """env valueFrom, envFrom, secret/configMap/projected volumes (with items) and imagePullSecrets."""
    (w,) = load_manifests([str(FIXTURES / "clean" / "everything-right.yaml")]).workloads
    got = {(r.via, r.kind, r.name, r.key, r.container) for r in pod_refs(w.pod_spec)}
    assert got == {
        ("env", "Secret", "postgres-secret", "url", "api"),
        ("env", "Secret", "postgres-secret", "password", "api"),
        ("env", "ConfigMap", "app-config", "LOG_LEVEL", "api"),
        ("envFrom", "ConfigMap", "app-config", None, "api"),
        ("envFrom", "Secret", "jwt-secret", None, "api"),
        ("volume", "Secret", "api-tls-cert", "tls.crt", "api"),
        ("volume", "Secret", "api-tls-cert", "tls.key", "api"),
        ("volume", "ConfigMap", "app-config", None, "api"),
        ("volume", "Secret", "jwt-secret", "signing-key", "api"),
        ("volume", "ConfigMap", "kube-root-ca.crt", "ca.crt", "api"),
        ("imagePullSecret", "Secret", "registry-pull-secret", None, ""),
    }


def test_unquoted_timestamps_stay_strings(write: Callable[[str, str], Path]) -> None:
    """YAML 1.1 would turn an unquoted date into a datetime; manifests keep the string, as the API does."""
    path = write("p.yaml", "kind: Pod\nmetadata: {name: p, annotations: {at: 2024-03-15T02:14:22Z}}\n"
                           "spec: {containers: [{name: c, image: 'r/c:v1', env: [{name: T, value: 2024-03-15}]}]}\n")
    (w,) = load_manifests([str(path)]).workloads
    assert w.pod_spec["containers"][0]["env"][0]["value"] == "2024-03-15"
