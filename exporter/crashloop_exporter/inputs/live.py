"""Fill a Snapshot from a live cluster, once: LIST pods, pod events and nodes, then previous logs.

This is `diagnose` without `--dump`/`-f`. It uses the exporter's own client (`kube.client`), so
credentials, TLS and errors behave exactly as in `serve`. Missing permissions degrade rather than
fail, like the exporter: no `pods/log` means status-and-event-only classification, no `nodes` means
no node-pressure evidence, and each is said once on stderr.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgspec
import yaml

from crashloop_exporter import wire
from crashloop_exporter.errors import ApiError, CrashloopError, ForbiddenError
from crashloop_exporter.inputs.snapshot import Snapshot, SnapshotBuilder, Warn
from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.kube.config import load_credentials
from crashloop_exporter.kube.loaders import ConfigException, list_kube_config_contexts
from crashloop_exporter.model import ContainerRecord, PodRecord

PAGE_SIZE = 500
LOG_CONCURRENCY = 8
SERVICE_NAMESPACE_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True, slots=True)
class LiveQuery:
    """What to read from the cluster."""

    kubeconfig: str | None
    context: str | None
    namespace: str | None
    """None: all namespaces."""
    pod: str | None
    """Only this pod (by name)."""
    fetch_logs: bool
    tail_lines: int
    limit_bytes: int


def default_namespace(*, kubeconfig: str | None, context: str | None) -> str:
    """The namespace kubectl would use without `-n`: the context's, in-cluster the pod's own, else default."""
    try:
        contexts, current = list_kube_config_contexts(config_file=kubeconfig)
        chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
        namespace = (chosen or {}).get("context", {}).get("namespace")
        if isinstance(namespace, str) and namespace:
            return namespace
    except (ConfigException, yaml.YAMLError, OSError, KeyError, TypeError, ValueError, AttributeError):
        pass  # no usable kubeconfig: load_credentials says why, with the right words, right after this
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            with open(SERVICE_NAMESPACE_PATH, encoding="utf-8") as fh:
                return fh.read().strip() or "default"
        except OSError:
            pass
    return "default"


async def _list_all(client: KubeClient, path: str, params: dict[str, str | int]) -> list[dict[str, Any]]:
    """Every item of a paginated LIST (limit/continue), so a big cluster never arrives in one body."""
    items: list[dict[str, Any]] = []
    cont: str | None = None
    while True:
        page_params = dict(params, limit=PAGE_SIZE)
        if cont:
            page_params["continue"] = cont
        page, _rv, cont = await client.list_page(path, params=page_params)
        # diagnose reads its objects as dicts, like the dump files' (SnapshotBuilder).
        items.extend(i for i in (wire.ANY.decode(o) for o in page if isinstance(o, msgspec.Raw)) if isinstance(i, dict))
        if not cont:
            return items


def _ns_path(namespace: str | None, resource: str) -> str:
    if namespace is None:
        return f"/api/v1/{resource}"
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/{resource}"


async def _load(query: LiveQuery, *, builder: SnapshotBuilder, needs_logs: Callable[[ContainerRecord], bool]) -> None:
    creds = await asyncio.to_thread(load_credentials, kubeconfig=query.kubeconfig, context=query.context)
    async with KubeClient(creds) as client:
        # Pods. With `POD -n NS` the whole namespace is listed anyway: the table says whether the
        # pod's sibling replicas fail the same way, which is the first question to answer.
        params: dict[str, str | int] = {}
        if query.pod and query.namespace is None:
            params["fieldSelector"] = f"metadata.name={query.pod}"
        path = _ns_path(query.namespace, "pods")
        pods = await _list_all(client, path, params)
        for i, raw in enumerate(pods):
            builder.add("Pod", raw, where=f"{path} items[{i}]")

        # Events about pods (the Killing/Unhealthy/FailedMount evidence).
        by_name = query.pod and query.namespace is None
        selector = "involvedObject.kind=Pod" + (f",involvedObject.name={query.pod}" if by_name else "")
        path = _ns_path(query.namespace, "events")
        try:
            events = await _list_all(client, path, {"fieldSelector": selector})
        except ForbiddenError:
            builder.warn("note: no permission to list events; classifying without event evidence (probe kills)")
            events = []
        for i, raw in enumerate(events):
            builder.add("Event", raw, where=f"{path} items[{i}]")

        # Nodes (pressure conditions). Often not granted to namespace-scoped users.
        try:
            nodes = await _list_all(client, "/api/v1/nodes", {})
        except ForbiddenError:
            builder.warn("note: no permission to list nodes; node pressure cannot be checked")
            nodes = []
        for i, raw in enumerate(nodes):
            builder.add("Node", raw, where=f"/api/v1/nodes items[{i}]")

        if query.fetch_logs:
            await _fetch_logs(client, query, builder=builder, needs_logs=needs_logs)


async def _fetch_logs(
    client: KubeClient,
    query: LiveQuery,
    *,
    builder: SnapshotBuilder,
    needs_logs: Callable[[ContainerRecord], bool],
) -> None:
    """Previous logs of the containers whose cause the log could decide, a few at a time."""
    wanted: list[tuple[PodRecord, ContainerRecord]] = [
        (p, c)
        for p in builder.pods()
        for c in p.containers
        if needs_logs(c)
    ]
    semaphore = asyncio.Semaphore(LOG_CONCURRENCY)
    forbidden = asyncio.Event()
    failures: list[str] = []

    async def fetch(pod: PodRecord, c: ContainerRecord) -> None:
        if forbidden.is_set():
            return
        async with semaphore:
            if forbidden.is_set():
                return
            try:
                text = await client.pod_log(
                    pod.namespace,
                    pod.name,
                    container=c.name,
                    previous=True,
                    tail_lines=query.tail_lines,
                    limit_bytes=query.limit_bytes,
                )
            except ForbiddenError:
                if not forbidden.is_set():
                    forbidden.set()
                    builder.warn(
                        "note: no permission to read pods/log; classifying from status and events only"
                    )
                return
            except ApiError as e:
                # 400/404: the previous container is already gone (garbage-collected, or the pod was
                # re-created); there is simply no log to read.
                if e.status not in (400, 404):
                    failures.append(f"{pod.namespace}/{pod.name} container {c.name}: {e}")
                return
            except CrashloopError as e:
                failures.append(f"{pod.namespace}/{pod.name} container {c.name}: {e}")
                return
        builder.add_logs(namespace=pod.namespace, pod=pod.name, container=c.name, text=text)

    await asyncio.gather(*(fetch(p, c) for p, c in wanted))
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        builder.warn(f"warning: could not read previous logs of {failures[0]}{more}")


def load_live(query: LiveQuery, *, warn: Warn, needs_logs: Callable[[ContainerRecord], bool]) -> Snapshot:
    """Read the cluster once and return the Snapshot (blocking; runs its own event loop)."""
    builder = SnapshotBuilder(warn=warn)
    asyncio.run(_load(query, builder=builder, needs_logs=needs_logs))
    return builder.build()


__all__ = ["LiveQuery", "default_namespace", "load_live"]
