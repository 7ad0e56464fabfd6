"""Read the manifests `preflight` checks, remembering the file and line of every field.

Preflight runs in CI on what is about to be applied: files, directories of them, or the output of
`kubectl kustomize overlay/` on stdin. Its findings must point at a line a reviewer can open, so
documents are read by `inputs.documents` (the reader `diagnose -f` uses, with its guards against
hostile input and its one error wording) with the line index on: the paths we may report
(`spec.template.spec.containers[0].env[3]`) map to 1-based lines. This module only turns those
documents into workloads and bundle objects.

Only workloads (the kinds that carry a pod template) are checked. Secrets and ConfigMaps in the
input are kept as *key names only*: a bundle that creates the Secret its Deployment uses is fine,
and a value read from a manifest is never stored, so it can never be printed. Every other kind is
ignored silently, because a rendered overlay is full of Services and ServiceAccounts.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from crashloop_exporter.errors import InputError
from crashloop_exporter.inputs.documents import (
    FieldPath,
    LineIndex,
    PathPart,
    decode_bytes,
    document_where,
    iter_documents,
    iter_objects,
)

POD_SPEC_PATHS: Mapping[str, FieldPath] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each workload kind keeps the pod spec it stamps out."""
WORKLOAD_KINDS = frozenset(POD_SPEC_PATHS)
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

@dataclass(frozen=True, slots=True)
class Location:
    """A field of an input document: the file as the user named it, the document, and its lines."""

    file: str
    document: int
    """1-based index of the YAML document or JSON value in the file."""
    lines: LineIndex = field(compare=False, repr=False)

    def line(self, path: FieldPath) -> int:
        return self.lines.line(path)


STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True)
class Workload:
    """One object with a pod template: where it is, and its pod spec as plain data."""

    kind: str
    name: str
    namespace: str | None
    """`metadata.namespace`, or None when the manifest leaves it to `-n` / the context."""
    pod_name: str
    """The pod template's `metadata.name` if set (a bare Pod's name), else the workload's name."""
    pod_spec: Mapping[str, Any] = field(repr=False)
    object_path: FieldPath
    """Path of the object in its document: () or ("items", i) inside a `kind: List`."""
    spec_path: FieldPath
    """Path of the pod spec in its document (object_path + the kind's POD_SPEC_PATHS entry)."""
    location: Location

    def line(self, *rel: PathPart) -> int:
        """Line of a field given relative to the pod spec (`"containers", 0, "image"`)."""
        return self.location.line((*self.spec_path, *rel))

    def object_line(self, *rel: PathPart) -> int:
        """Line of a field given relative to the object (`"metadata", "namespace"`)."""
        return self.location.line((*self.object_path, *rel))

    @property
    def ref(self) -> str:
        """`Deployment/payment-service`, for messages."""
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class BundleObject:
    """A Secret or ConfigMap the input itself creates: its name and key names, never a value."""

    kind: str
    """Secret or ConfigMap (what the object becomes in the cluster)."""
    name: str
    namespace: str | None
    keys: frozenset[str] | None
    """Key names, or None when they cannot be known from the manifest (an ExternalSecret with dataFrom)."""
    source_kind: str
    """The kind in the input (Secret, ConfigMap, SealedSecret, ExternalSecret)."""
    location: Location


@dataclass(slots=True)
class Manifests:
    """Everything read from the `-f` sources."""

    workloads: list[Workload] = field(default_factory=list)
    bundle: list[BundleObject] = field(default_factory=list)
    documents: int = 0
    ignored: int = 0
    """Objects of other kinds (Services, ServiceAccounts, ...) that were skipped."""
    skipped_files: list[str] = field(default_factory=list)
    """Files found in a `-f` directory that hold no Kubernetes objects (kustomization.yaml, a
    Prometheus scrape config): a deploy/ tree holds them next to the manifests."""


# --- reading sources ------------------------------------------------------------------------------


def expand_sources(sources: Sequence[str]) -> list[tuple[str, bool]]:
    """(file, named) in the order given, `named` False for files found in a directory: a directory
    contributes its *.yaml, *.yml, *.json files, recursively, sorted, skipping hidden files and
    directories (.git, .github)."""
    if list(sources).count("-") > 1:
        raise InputError("-f -: stdin can be given only once")
    files: list[tuple[str, bool]] = []
    for source in sources:
        if source == "-":
            files.append((source, True))
            continue
        path = Path(source)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in MANIFEST_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise InputError(f"-f {source}: directory holds no *.yaml, *.yml or *.json files")
            files.extend((str(p), False) for p in found)
        elif path.exists():
            files.append((source, True))
        else:
            raise InputError(f"-f {source}: no such file or directory")
    return files


KUSTOMIZATION_FILES = frozenset({"kustomization.yaml", "kustomization.yml", "kustomization"})


def _in_helm_chart(path: Path) -> bool:
    """Inside a Helm chart (a folder with Chart.yaml above it): templates and values, not manifests.
    `helm template ... | crashloop-exporter preflight -f -` checks what the chart renders."""
    return any((parent / "Chart.yaml").is_file() for parent in path.resolve().parents)


def _is_object(value: object) -> bool:
    return isinstance(value, Mapping) and "kind" in value and "apiVersion" in value


def _read(source: str, stdin: BinaryIO | None) -> tuple[str, str]:
    if source == "-":
        return decode_bytes((stdin or sys.stdin.buffer).read()), STDIN_NAME
    try:
        return decode_bytes(Path(source).read_bytes()), source
    except OSError as e:
        raise InputError(f"-f {source}: cannot read: {e.strerror or e}") from e


def load_manifests(sources: Sequence[str], *, stdin: BinaryIO | None = None) -> Manifests:
    """Read every `-f` source (files, directories, `-`); InputError names the file and document."""
    out = Manifests()
    for source, named in expand_sources(sources):
        if not named and Path(source).name.lower() in KUSTOMIZATION_FILES:
            out.skipped_files.append(source)  # kustomize's own file: `kubectl kustomize` is what builds it
            continue
        if not named and (_in_helm_chart(Path(source)) or Path(source).name == "Chart.yaml"):
            out.skipped_files.append(source)
            continue
        text, name = _read(source, stdin)
        before = out.documents
        docs = list(iter_documents(text, file=name, warn=None, index_lines=True))
        if not named and docs and not any(_is_object(d.value) for d in docs):
            out.skipped_files.append(source)
            continue
        for doc in docs:
            out.documents += 1
            location = Location(name, doc.index, doc.lines)
            for item in iter_objects(doc, strict=True):
                _add_object(out, item.kind, item.raw, location, item.path)
        if out.documents == before and named:
            # An empty pipe usually means the command before `|` failed (GitHub's default shell
            # has no pipefail): passing would let the rollout through unchecked.
            raise InputError(f"{name}: no Kubernetes objects (empty input)")
    return out


# --- turning documents into workloads and bundle objects ------------------------------------------


def _where(location: Location) -> str:
    return document_where(location.file, location.document, location.lines.root_line)


def _add_object(out: Manifests, kind: str, obj: Mapping[str, Any], location: Location, path: FieldPath) -> None:
    if not kind:
        out.ignored += 1  # not a Kubernetes object (a values file, a workflow); nothing to check
        return
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = _str(meta.get("name")) or _str(meta.get("generateName")) or "<unnamed>"
    namespace = _str(meta.get("namespace")) or None
    if kind in WORKLOAD_KINDS:
        out.workloads.append(_workload(obj, kind=kind, name=name, namespace=namespace, location=location, path=path))
    elif kind in ("Secret", "ConfigMap"):
        fields = ("data", "stringData") if kind == "Secret" else ("data", "binaryData")
        out.bundle.append(BundleObject(kind, name, namespace, _key_names(obj, fields), kind, location))
    elif kind == "SealedSecret":
        # bitnami sealed-secrets: the controller creates a Secret of the same name (or the template's).
        spec = _mapping(obj.get("spec"))
        template = _mapping(spec.get("template"))
        tmeta = _mapping(template.get("metadata"))
        keys = set(_mapping(spec.get("encryptedData"))) | set(_mapping(template.get("data")))
        out.bundle.append(BundleObject(
            "Secret", _str(tmeta.get("name")) or name, _str(tmeta.get("namespace")) or namespace,
            frozenset(str(k) for k in keys), kind, location,
        ))
    elif kind == "ExternalSecret":
        # External Secrets Operator: creates spec.target.name (default: its own name). dataFrom pulls
        # keys we cannot know offline, so key checks against it are skipped.
        spec = _mapping(obj.get("spec"))
        target = _mapping(spec.get("target"))
        data = spec.get("data")
        data = data if isinstance(data, list) else []
        ext_keys: frozenset[str] | None = frozenset(
            _str(d.get("secretKey")) for d in data if isinstance(d, Mapping) and _str(d.get("secretKey"))
        ) | frozenset(str(k) for k in _mapping(_mapping(target.get("template")).get("data")))
        if spec.get("dataFrom"):
            ext_keys = None
        out.bundle.append(BundleObject("Secret", _str(target.get("name")) or name, namespace, ext_keys, kind, location))
    else:
        out.ignored += 1


def _workload(
    obj: Mapping[str, Any], *, kind: str, name: str, namespace: str | None, location: Location, path: FieldPath
) -> Workload:
    rel = POD_SPEC_PATHS[kind]
    current: Any = obj
    parent_template: Mapping[str, Any] = {}
    for i, part in enumerate(rel):
        if not isinstance(current, Mapping) or not isinstance(current.get(part), Mapping):
            want = ".".join(str(p) for p in rel)
            what = "no pod template" if kind != "Pod" else "no pod spec"
            raise InputError(f"{_where(location)}: {kind} {name} has {what} ({want} is missing or not a mapping)")
        if part == "template" and i == len(rel) - 2:
            parent_template = current[part]
        current = current[part]
    spec: Mapping[str, Any] = current
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        want = ".".join(str(p) for p in (*rel, "containers"))
        raise InputError(f"{_where(location)}: {kind} {name} has no containers ({want} is missing or empty)")
    for field_name in ("containers", "initContainers"):
        items = spec.get(field_name)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(c, Mapping) for c in items):
            raise InputError(f"{_where(location)}: {kind} {name}: {field_name} should be a list of containers")
    template_name = _str(_mapping(parent_template.get("metadata")).get("name")) if parent_template else ""
    return Workload(
        kind=kind,
        name=name,
        namespace=namespace,
        pod_name=template_name or name,
        pod_spec=spec,
        object_path=path,
        spec_path=(*path, *rel),
        location=location,
    )


def _key_names(obj: Mapping[str, Any], fields: Sequence[str]) -> frozenset[str]:
    keys: set[str] = set()
    for f in fields:
        keys.update(str(k) for k in _mapping(obj.get(f)))
    return frozenset(keys)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


__all__ = [
    "MANIFEST_SUFFIXES",
    "POD_SPEC_PATHS",
    "STDIN_NAME",
    "WORKLOAD_KINDS",
    "BundleObject",
    "Location",
    "Manifests",
    "Workload",
    "expand_sources",
    "load_manifests",
]
