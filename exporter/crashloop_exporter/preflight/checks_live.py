"""Checks against the target namespace: does every Secret and ConfigMap (and key) the pods need exist?

This is the seed's pre-deploy script (`kubectl get secret "$secret" -n "$NAMESPACE"` for a
hand-kept list) done from the manifests themselves, with keys and `optional:` understood:

- a missing non-optional object or key stops the container before the app runs
  (CreateContainerConfigError / FailedMount): an **error**;
- a missing `optional: true` one lets the container start without the value, and the app then
  dies on the empty variable, which is exactly how payment-service crashed: a **warning** that
  spells the trap out;
- 403 on a GET is "cannot check (RBAC)", a warning, never a crash.

Secret values never leave this module, and are never kept: a GET that needs key names is reduced
to the set of names the moment it is decoded, and a GET that needs only existence asks the API
for metadata only (`as=PartialObjectMetadata`) and does not even read the body. Objects the input
itself creates (Secret, ConfigMap, SealedSecret, ExternalSecret) count as existing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote

from crashloop_exporter.errors import ApiError, CrashloopError, ForbiddenError, PreflightError
from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.model import ObjectKind
from crashloop_exporter.preflight.checks import PreflightFinding, make_finding
from crashloop_exporter.preflight.manifests import BundleObject, Workload
from crashloop_exporter.refs import Ref

PARTIAL_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
"""Accept header for existence checks: the API server answers with metadata only (no `data`)."""
CONCURRENCY = 8
MAX_LISTED_KEYS = 10
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_RESOURCE: Mapping[ObjectKind, str] = {"Secret": "secrets", "ConfigMap": "configmaps"}
_KEY_FIELDS: Mapping[ObjectKind, tuple[str, ...]] = {
    "Secret": ("data", "stringData"),
    "ConfigMap": ("data", "binaryData"),
}

ObjectId = tuple[ObjectKind, str, str]
"""(kind, namespace, name)."""


@dataclass(frozen=True, slots=True)
class Observation:
    """What is known about one Secret/ConfigMap in the target namespace; never its values."""

    state: Literal["found", "missing", "forbidden", "unchecked"]
    keys: frozenset[str] | None = None
    """Key names when they were read (None: existence only, or unknowable)."""
    source: str = ""
    """bundle, cluster, or bundle+cluster."""
    detail: str = ""
    """forbidden: the API server's message (names the identity and the verb it lacks)."""


class Lookup(Protocol):
    """Where live observations come from (the API server; tests may pass a fake)."""

    async def keys(self, kind: ObjectKind, namespace: str, name: str) -> Observation: ...

    async def exists(self, kind: ObjectKind, namespace: str, name: str) -> Observation: ...


def object_path(kind: ObjectKind, namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/{_RESOURCE[kind]}/{quote(name, safe='')}"


def key_names(kind: ObjectKind, obj: Mapping[str, Any]) -> frozenset[str]:
    """The key names of a Secret (data, stringData) or ConfigMap (data, binaryData)."""
    keys: set[str] = set()
    for f in _KEY_FIELDS[kind]:
        value = obj.get(f)
        if isinstance(value, Mapping):
            keys.update(str(k) for k in value)
    return frozenset(keys)


class PreflightClient:
    """The two reads preflight needs, on a KubeClient's public API, both shaped so no Secret value
    survives."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def keys(self, kind: ObjectKind, namespace: str, name: str) -> Observation:
        """GET the object and keep only its key names."""
        path = object_path(kind, namespace, name)
        try:
            obj = await self._client.get_json(path)
        except ApiError as e:
            return _from_error(e)
        keys = key_names(kind, obj)
        obj.clear()  # the decoded values go now, not whenever the caller's frame ends
        return Observation("found", keys, "cluster")

    async def exists(self, kind: ObjectKind, namespace: str, name: str) -> Observation:
        """GET with the metadata-only Accept header; the body is never read."""
        try:
            await self._client.get_unread(object_path(kind, namespace, name), accept=PARTIAL_METADATA)
        except ApiError as e:
            return _from_error(e)
        return Observation("found", None, "cluster")


def _from_error(e: ApiError) -> Observation:
    if e.status == 404:
        return Observation("missing")
    if isinstance(e, ForbiddenError):
        return Observation("forbidden", detail=e.message.split(": ", 1)[-1] or str(e))
    raise e


@dataclass(slots=True)
class Needed:
    """What the references ask of one object: existence, and these keys."""

    keys: set[str] = field(default_factory=set)


def bundle_index(bundle: Iterable[tuple[str, BundleObject]]) -> dict[ObjectId, BundleObject]:
    """Input objects by (kind, namespace, name), from (resolved namespace, object) pairs. An object
    defined twice (a SealedSecret beside a plain Secret) keeps the union of the key names."""
    index: dict[ObjectId, BundleObject] = {}
    for namespace, obj in bundle:
        kind: ObjectKind = "Secret" if obj.kind == "Secret" else "ConfigMap"
        oid = (kind, namespace, obj.name)
        prev = index.get(oid)
        if prev is not None:
            keys = None if prev.keys is None or obj.keys is None else prev.keys | obj.keys
            obj = BundleObject(obj.kind, obj.name, obj.namespace, keys, obj.source_kind, obj.location)
        index[oid] = obj
    return index


OpenLookup = Callable[[], AbstractAsyncContextManager[Lookup]]


async def observe(
    needed: Mapping[ObjectId, Needed],
    *,
    bundle: Mapping[ObjectId, BundleObject],
    open_lookup: OpenLookup | None,
) -> dict[ObjectId, Observation]:
    """One observation per object: from the input bundle when it settles the question, else from
    the API (one GET per object, bounded concurrency), else `unchecked` (offline: no `open_lookup`).
    The API client is opened only when some object needs it."""
    out: dict[ObjectId, Observation] = {}
    to_ask: list[ObjectId] = []
    for oid, need in needed.items():
        _kind, namespace, name = oid
        b = bundle.get(oid)
        if b is not None and (b.keys is None or need.keys <= b.keys or open_lookup is None):
            out[oid] = Observation("found", b.keys, "bundle")
        elif not name or not _DNS_SUBDOMAIN.match(name) or not namespace:
            # No object can have this name; and an empty one would turn the GET into a LIST of every
            # secret in the namespace, values included.
            out[oid] = Observation("missing") if namespace else Observation("unchecked")
        elif open_lookup is None:
            out[oid] = Observation("unchecked")
        else:
            to_ask.append(oid)
    if not to_ask or open_lookup is None:
        return out
    async with open_lookup() as lookup:
        out.update(await _ask_all(lookup, to_ask, needed=needed, bundle=bundle))
    return out


async def _ask_all(
    lookup: Lookup, to_ask: Sequence[ObjectId], *, needed: Mapping[ObjectId, Needed],
    bundle: Mapping[ObjectId, BundleObject],
) -> dict[ObjectId, Observation]:
    out: dict[ObjectId, Observation] = {}
    gate = asyncio.Semaphore(CONCURRENCY)

    async def ask(oid: ObjectId) -> Observation:
        kind, namespace, name = oid
        async with gate:
            if needed[oid].keys:
                return await lookup.keys(kind, namespace, name)
            return await lookup.exists(kind, namespace, name)

    # return_exceptions: every request finishes (each is bounded by the client's timeout) before an
    # error propagates, so none is left running against a closed session.
    results = await asyncio.gather(*(ask(oid) for oid in to_ask), return_exceptions=True)
    for oid, result in zip(to_ask, results, strict=True):
        if isinstance(result, BaseException):
            if isinstance(result, CrashloopError):
                kind, namespace, name = oid
                raise PreflightError(
                    f"cannot check {kind.lower()} {name} in namespace {namespace}: {result} "
                    "(--offline skips the checks against the cluster)"
                ) from result
            raise result
        out[oid] = _merge(bundle.get(oid), result)
    return out


def _merge(b: BundleObject | None, live: Observation) -> Observation:
    """The input creates `b` (with keys that did not cover the references): keys are the union."""
    if b is None:
        return live
    if live.state == "found":
        keys = None if b.keys is None or live.keys is None else b.keys | live.keys
        return Observation("found", keys, "bundle+cluster")
    return Observation("found", b.keys, "bundle")


# --- findings -------------------------------------------------------------------------------------


def needed_objects(refs: Iterable[tuple[str, Ref]]) -> dict[ObjectId, Needed]:
    """What each (namespace, ref) asks of its object."""
    needed: dict[ObjectId, Needed] = {}
    for namespace, ref in refs:
        need = needed.setdefault((ref.kind, namespace, ref.name), Needed())
        if ref.key is not None:
            need.keys.add(ref.key)
    return needed


def _kind_word(kind: ObjectKind) -> str:
    return "secret" if kind == "Secret" else "configmap"


def _cause_of(kind: ObjectKind) -> str:
    return "missing_secret" if kind == "Secret" else "missing_configmap"


def _listed(keys: frozenset[str] | None) -> str:
    if keys is None:
        return ""
    if not keys:
        return " (it has no keys)"
    names = sorted(keys)
    more = f", … {len(names) - MAX_LISTED_KEYS} more" if len(names) > MAX_LISTED_KEYS else ""
    return f" (its keys: {', '.join(names[:MAX_LISTED_KEYS])}{more})"


def live_findings(
    workload: Workload, refs: Sequence[Ref], *, namespace: str, observations: Mapping[ObjectId, Observation]
) -> list[PreflightFinding]:
    """Findings for one workload's references, given what was observed of each object."""
    found: list[PreflightFinding] = []
    forbidden_reported: set[ObjectId] = set()
    ns = namespace or "the target namespace"
    first_image = next((str(c.get("image")) for c in workload.pod_spec.get("containers", []) if c.get("image")), "")
    for ref in refs:
        oid: ObjectId = (ref.kind, namespace, ref.name)
        obs = observations.get(oid, Observation("unchecked"))
        word = _kind_word(ref.kind)
        facts = {
            word: ref.name or f"<{word}-name>",
            "key": ref.key or "",
            "env_var": ref.env_var if ref.via == "env" else "",
            "image": first_image,
        }
        common: dict[str, Any] = {
            "namespace": namespace,
            "at": ref.at,
            "container": ref.container,
            "container_type": ref.container_type,
            "facts": facts,
        }
        if obs.state == "forbidden":
            if oid not in forbidden_reported:
                forbidden_reported.add(oid)
                found.append(make_finding(
                    workload,
                    check="SecretCheckForbidden" if ref.kind == "Secret" else "ConfigMapCheckForbidden",
                    message=(
                        f"cannot check (RBAC) whether {word} {ref.name} exists in {ns}: {obs.detail}. Grant the "
                        f"identity running preflight `get` on {_RESOURCE[ref.kind]} in {ns} (see docs/preflight.md)"
                    ),
                    **common,
                ))
            continue
        if obs.state == "missing":
            found.append(_missing(workload, ref, ns=ns, common=common))
        elif obs.state == "found" and ref.key is not None and obs.keys is not None and ref.key not in obs.keys:
            found.append(_missing_key(workload, ref, ns=ns, keys=obs.keys, common=common))
    return found


_TRAP = "the app will likely exit with a \"missing environment variable\" error"


def _missing(workload: Workload, ref: Ref, *, ns: str, common: dict[str, Any]) -> PreflightFinding:
    word, name, cause = _kind_word(ref.kind), ref.name or '""', _cause_of(ref.kind)
    not_found = f'{word} "{name}" not found'
    if ref.via == "imagePullSecret":
        return make_finding(
            workload, check="ImagePullSecretNotFound",
            message=(
                f"imagePullSecrets names secret {name}, which does not exist in {ns}: the kubelet pulls this pod's "
                "images without those credentials, and a private registry answers ErrImagePull, then "
                "ImagePullBackOff"
            ),
            **common,
        )
    if ref.optional:
        check = "OptionalSecretNotFound" if ref.kind == "Secret" else "OptionalConfigMapNotFound"
        if ref.via == "env":
            message = (
                f"{ref.env_var} comes from optional {word} {name} (key {ref.key}), which does not exist in {ns}: "
                f"the container will start with {ref.env_var} empty, and {_TRAP} (crash cause {cause})"
            )
        elif ref.via == "envFrom":
            message = (
                f"container {ref.container} takes its environment from optional {word} {name} (envFrom), which "
                f"does not exist in {ns}: the container will start without any of those variables, and {_TRAP} "
                f"(crash cause {cause})"
            )
        else:
            where = f"{ref.mount_path} " if ref.mount_path else ""
            message = (
                f"volume {ref.volume} mounts optional {word} {name}, which does not exist in {ns}: the container "
                f"will start with {where or 'the volume '}empty, and the app will likely exit when it reads its "
                f"configuration from there (crash cause {cause})"
            )
        return make_finding(workload, check=check, message=message, **common)
    check = "SecretNotFound" if ref.kind == "Secret" else "ConfigMapNotFound"
    if ref.via == "env":
        message = (
            f"{ref.env_var} comes from {word} {name} (key {ref.key}), which does not exist in {ns}: the kubelet "
            f"cannot create container {ref.container} (CreateContainerConfigError: {not_found}), so it never starts"
        )
    elif ref.via == "envFrom":
        message = (
            f"container {ref.container} takes its environment from {word} {name} (envFrom), which does not exist "
            f"in {ns}: the kubelet cannot create it (CreateContainerConfigError: {not_found}), so it never starts"
        )
    else:
        message = (
            f"volume {ref.volume} mounts {word} {name}, which does not exist in {ns}: the pod stays in "
            f"ContainerCreating (FailedMount: {not_found})"
        )
    return make_finding(workload, check=check, message=message, **common)


def _missing_key(
    workload: Workload, ref: Ref, *, ns: str, keys: frozenset[str], common: dict[str, Any]
) -> PreflightFinding:
    word, name, key = _kind_word(ref.kind), ref.name, ref.key
    kind_title = "Secret" if ref.kind == "Secret" else "ConfigMap"
    has = _listed(keys)
    if ref.optional:
        check = "OptionalSecretKeyNotFound" if ref.kind == "Secret" else "OptionalConfigMapKeyNotFound"
        if ref.via == "env":
            message = (
                f"{ref.env_var} comes from optional {word} {name} (key {key}), which exists in {ns} but has no key "
                f"{key}{has}: the container will start with {ref.env_var} empty, and {_TRAP} "
                f"(crash cause {_cause_of(ref.kind)})"
            )
        else:
            message = (
                f"volume {ref.volume} projects key {key} of optional {word} {name}, which exists in {ns} but has "
                f"no key {key}{has}: the file will be missing, and the app will likely exit when it reads it "
                f"(crash cause {_cause_of(ref.kind)})"
            )
        return make_finding(workload, check=check, message=message, **common)
    check = "SecretKeyNotFound" if ref.kind == "Secret" else "ConfigMapKeyNotFound"
    if ref.via == "env":
        message = (
            f"{ref.env_var} comes from {word} {name} key {key}, but {word} {name} in {ns} has no key {key}{has}: "
            f"the kubelet cannot create container {ref.container} (couldn't find key {key} in {kind_title} "
            f"{ns}/{name})"
        )
    else:
        message = (
            f"volume {ref.volume} projects key {key} of {word} {name}, but it has no key {key} in {ns}{has}: the "
            f"pod stays in ContainerCreating (FailedMount: references non-existent {word} key: {key})"
        )
    return make_finding(workload, check=check, message=message, **common)


__all__ = [
    "PARTIAL_METADATA",
    "Lookup",
    "Needed",
    "ObjectId",
    "Observation",
    "OpenLookup",
    "PreflightClient",
    "bundle_index",
    "key_names",
    "live_findings",
    "needed_objects",
    "object_path",
    "observe",
]
