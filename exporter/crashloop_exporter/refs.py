"""Every Secret and ConfigMap a pod spec refers to, walked once for the exporter and for preflight.

The kubelet resolves these when it creates a container (env `valueFrom`, `envFrom`) or mounts a
volume (`secret`, `configMap`, `projected` sources), and the image puller reads `imagePullSecrets`.
A missing non-optional one stops the container before the application runs
(CreateContainerConfigError, FailedMount); a missing optional one lets it start without the value,
which is the seed's payment-service trap. `parse` keeps a compact view of these references for
the classifier, and `preflight` checks each one against the cluster; both read them from here, so
a reference form added once (a new volume source) reaches both. This module sits beside `model`,
below `classify` and `preflight`, and imports neither.

With `where` (the exporter), a mistyped list the kubelet would reject (`env`, `envFrom`,
`volumes`, projected `sources`) raises `MalformedObjectError` naming it, and the caller skips the
object; without it (preflight, reading manifests being written) such a list is read as empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from crashloop_exporter.errors import MalformedObjectError
from crashloop_exporter.model import ContainerType, ObjectKind

PathPart = str | int
Via = Literal["env", "envFrom", "volume", "imagePullSecret"]


@dataclass(frozen=True, slots=True)
class Ref:
    """One reference from a pod spec to a Secret or ConfigMap (optionally to one key of it)."""

    kind: ObjectKind
    name: str
    key: str | None
    """The key asked for; None when the whole object is used (envFrom, a volume without items)."""
    optional: bool
    via: Via
    at: tuple[PathPart, ...]
    """Path of the reference relative to the pod spec, for the line number."""
    container: str = ""
    """The container that uses it ("" for imagePullSecrets and volumes no container mounts)."""
    container_type: ContainerType = "regular"
    env_var: str = ""
    """env: the variable; envFrom: its prefix."""
    volume: str = ""
    mount_path: str = ""


@dataclass(frozen=True, slots=True)
class ContainerAt:
    """A container of the pod spec with its list and index (for paths)."""

    spec: Mapping[str, Any]
    field: str
    """containers or initContainers."""
    index: int

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) else f"{self.field}[{self.index}]"

    @property
    def type(self) -> ContainerType:
        return "init" if self.field == "initContainers" else "regular"

    @property
    def is_sidecar(self) -> bool:
        """A native sidecar: an init container that keeps running (restartPolicy: Always)."""
        return self.field == "initContainers" and self.spec.get("restartPolicy") == "Always"

    def path(self, *rel: PathPart) -> tuple[PathPart, ...]:
        return (self.field, self.index, *rel)


def containers(pod_spec: Mapping[str, Any]) -> list[ContainerAt]:
    """Init containers first (they start first), then the app containers."""
    out: list[ContainerAt] = []
    for field in ("initContainers", "containers"):
        items = pod_spec.get(field)
        if isinstance(items, list):
            out.extend(ContainerAt(c, field, i) for i, c in enumerate(items) if isinstance(c, Mapping))
    return out


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(obj: Mapping[str, Any], key: str, where: str | None) -> Sequence[Any]:
    """`obj[key]` as a list; mistyped, an error naming `where.key` when `where` is given, else empty."""
    value = obj.get(key)
    if isinstance(value, list):
        return value
    if value is not None and where is not None:
        raise MalformedObjectError(f"{where}.{key} should be a list, got {type(value).__name__}")
    return ()


_ENV_REFS: tuple[tuple[str, ObjectKind], ...] = (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap"))
_ENV_FROM_REFS: tuple[tuple[str, ObjectKind], ...] = (("secretRef", "Secret"), ("configMapRef", "ConfigMap"))


def container_refs(c: ContainerAt, *, where: str | None = None) -> Iterator[Ref]:
    """The container's env `valueFrom` and `envFrom` references, in spec order."""
    for i, env in enumerate(_list(c.spec, "env", where)):
        env = _map(env)
        value_from = _map(env.get("valueFrom"))
        for field, kind in _ENV_REFS:
            ref = value_from.get(field)
            if isinstance(ref, Mapping):
                yield Ref(kind, _s(ref.get("name")), _s(ref.get("key")), ref.get("optional") is True, "env",
                          c.path("env", i), container=c.name, container_type=c.type, env_var=_s(env.get("name")))
    for i, source in enumerate(_list(c.spec, "envFrom", where)):
        source = _map(source)
        for field, kind in _ENV_FROM_REFS:
            ref = source.get(field)
            if isinstance(ref, Mapping):
                yield Ref(kind, _s(ref.get("name")), None, ref.get("optional") is True, "envFrom",
                          c.path("envFrom", i), container=c.name, container_type=c.type,
                          env_var=_s(source.get("prefix")))


def _mounts(spec: Mapping[str, Any]) -> dict[str, tuple[ContainerAt, str]]:
    """Volume name -> the first container mounting it and where."""
    found: dict[str, tuple[ContainerAt, str]] = {}
    for c in containers(spec):
        for m in _list(c.spec, "volumeMounts", None):
            m = _map(m)
            found.setdefault(_s(m.get("name")), (c, _s(m.get("mountPath"))))
    return found


_VolumeSource = tuple[ObjectKind, Mapping[str, Any], str, tuple[PathPart, ...]]


def _volume_sources(volume: Mapping[str, Any], i: int, where: str | None) -> list[_VolumeSource]:
    """(kind, source, its name field, path) of each Secret/ConfigMap source of volume `i`."""
    sources: list[_VolumeSource] = []
    if isinstance(volume.get("secret"), Mapping):
        sources.append(("Secret", volume["secret"], "secretName", ("volumes", i, "secret")))
    if isinstance(volume.get("configMap"), Mapping):
        sources.append(("ConfigMap", volume["configMap"], "name", ("volumes", i, "configMap")))
    projected = _map(volume.get("projected"))
    in_projected = None if where is None else f"{where}.volumes[{_s(volume.get('name'))}].projected"
    for j, src in enumerate(_list(projected, "sources", in_projected)):
        src = _map(src)
        base: tuple[PathPart, ...] = ("volumes", i, "projected", "sources", j)
        if isinstance(src.get("secret"), Mapping):
            sources.append(("Secret", src["secret"], "name", (*base, "secret")))
        if isinstance(src.get("configMap"), Mapping):
            sources.append(("ConfigMap", src["configMap"], "name", (*base, "configMap")))
    return sources


def volume_refs(pod_spec: Mapping[str, Any], *, where: str | None = None) -> Iterator[Ref]:
    """The pod's `secret`, `configMap` and projected volume sources, one per listed item key (one
    with key None when the whole object is mounted), with the first container mounting each."""
    mounts = _mounts(pod_spec)
    for i, volume in enumerate(_list(pod_spec, "volumes", where)):
        volume = _map(volume)
        vname = _s(volume.get("name"))
        mounter, mount_path = mounts.get(vname, (None, ""))
        for kind, ref, name_field, path in _volume_sources(volume, i, where):
            name, optional = _s(ref.get(name_field)), ref.get("optional") is True
            items = [_map(item) for item in _list(ref, "items", None)]
            keyed: list[tuple[str | None, tuple[PathPart, ...]]] = [
                (_s(item.get("key")), (*path, "items", k)) for k, item in enumerate(items)
            ] or [(None, path)]
            for key, at in keyed:
                yield Ref(kind, name, key, optional, "volume", at,
                          container=mounter.name if mounter else "",
                          container_type=mounter.type if mounter else "regular",
                          volume=vname, mount_path=mount_path)


def pod_refs(pod_spec: Mapping[str, Any], *, where: str | None = None) -> Iterator[Ref]:
    """Every Secret/ConfigMap reference of the pod spec, in spec order: containers (init first),
    volumes, then imagePullSecrets."""
    for c in containers(pod_spec):
        yield from container_refs(c, where=where)
    yield from volume_refs(pod_spec, where=where)
    for i, entry in enumerate(_list(pod_spec, "imagePullSecrets", where)):
        yield Ref("Secret", _s(_map(entry).get("name")), None, False, "imagePullSecret", ("imagePullSecrets", i))


__all__ = ["ContainerAt", "PathPart", "Ref", "Via", "container_refs", "containers", "pod_refs", "volume_refs"]
