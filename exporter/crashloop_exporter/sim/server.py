"""`SimServer`: the simulated cluster on real HTTP, speaking kube-apiserver's wire format.

What a client meets here is what it meets in production: discovery documents, `kind: PodList`
pages with `metadata.resourceVersion`/`continue`/`remainingItemCount`, chunked watch streams of
one JSON event per line with BOOKMARKs and 410 ERROR events, `metav1.Status` bodies with the
apiserver's reasons and messages for every error, `text/plain` container logs with the kubelet's
`tailLines`/`limitBytes`/`timestamps` semantics, bearer-token auth and optional TLS. Tables for
`kubectl get` too, so a person can look at the demo with the tool they already use.

Under `/_sim/` sits the admin API for tests (faults, stats, pause/resume/advance, delete-pod,
churn); it needs no token. See `crashloop_exporter.sim` for the list.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import ipaddress
import logging
import random
import ssl
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import yaml
from aiohttp import web

from crashloop_exporter.errors import SimError, SimRequestError
from crashloop_exporter.sim.cluster import SimCluster
from crashloop_exporter.sim.faults import STREAM_KINDS, Fault, fault_from_json
from crashloop_exporter.sim.kinds import BY_RESOURCE, GROUPS, ResourceKind
from crashloop_exporter.sim.objects import SERVER_VERSION, status_body
from crashloop_exporter.sim.openapi import openapi_v3
from crashloop_exporter.sim.selectors import parse_field_selector, parse_label_selector
from crashloop_exporter.sim.store import Filter, Key, StoredObject, Watcher, watch_line
from crashloop_exporter.sim.table import PRINTERS, table

log = logging.getLogger(__name__)

CONTEXT_NAME = "crashloop-sim"
SERVICE_ACCOUNT = "system:serviceaccount:monitoring:crashloop-exporter"
"""Who the sim says was refused in 403 messages (the exporter's deployed identity)."""
PUBLIC_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})
LIST_STREAM_THRESHOLD = 2000
"""Lists with more items are written in chunks, never as one giant bytes object."""
WATCH_WRITE_EVENTS = 16
"""A watch stream writes what is queued in batches of up to this many events (~100 KB of pods):
one write (and one HTTP chunk) per batch rather than per event, small enough to stay in the CPU's
cache and under malloc's mmap threshold, and the loop gets a turn between batches, so a stream
busy with a fast churn does not keep other requests waiting."""
WATCH_TURN_SECONDS = 0.002
"""The longest a watch stream writes without giving the event loop a turn."""
RV_WAIT_SECONDS = 3.0
"""How long the apiserver waits for a resourceVersion newer than it has before a 504."""

_STATUS_TEXT: Mapping[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "Unauthorized"),
    404: ("NotFound", "the server could not find the requested resource"),
    409: ("Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes "
          "to the latest version and try again"),
    410: ("Expired", "The resourceVersion for the provided list is too old."),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: etcdserver: request timed out"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "Timeout: request did not complete within requested timeout - context deadline exceeded"),
}


def _encode_continue(rv: int, key: Key) -> str:
    start = f"{key[0]}/{key[1]}" if key[0] else key[1]
    raw = msgspec.json.encode({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str, *, namespaced: bool) -> tuple[int, Key]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = msgspec.json.decode(raw)
        rv, start = int(data["rv"]), str(data["start"]).rstrip("\x00")
    except (binascii.Error, ValueError, KeyError, TypeError, msgspec.DecodeError) as e:
        raise SimRequestError(400, "BadRequest", f"continue key is not valid: {e}") from e
    if namespaced:
        ns, _, name = start.partition("/")
        return rv, (ns, name)
    return rv, ("", start)


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise SimRequestError(400, "BadRequest", f"{name}: Invalid value: {value!r}: must be an integer") from None


def _api_group(group: str) -> dict[str, Any]:
    """An APIGroup's name and versions, as `/apis` lists it and `/apis/<group>` serves it."""
    version = {"groupVersion": GROUPS[group][0].api_version, "version": GROUPS[group][0].version}
    return {"name": group, "versions": [version], "preferredVersion": version}


def _group_and_rest(parts: list[str]) -> tuple[str, list[str] | None]:
    """(API group, path after the group version) of a resource path; None: not a resource path."""
    if parts[:2] == ["api", "v1"]:
        return "", parts[2:]
    if len(parts) >= 3 and parts[0] == "apis" and parts[1] in GROUPS and parts[1] \
            and parts[2] == GROUPS[parts[1]][0].version:
        return parts[1], parts[3:]
    return "", None


class _Route(NamedTuple):
    """What a resource path names: the kind, its resource, and the namespace, name and subresource."""

    kind: ResourceKind
    resource: str
    namespace: str | None
    name: str | None
    sub: str | None


def _route(parts: list[str]) -> _Route:
    """The resource a request path names; a 404 for a path that names none."""
    group, rest = _group_and_rest(parts)
    if rest is None or not rest:
        raise SimRequestError(404, "NotFound", "the server could not find the requested resource")
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource, name = rest[0], (rest[1] if len(rest) > 1 else None)
    sub = rest[2] if len(rest) > 2 else None
    kind = BY_RESOURCE.get(resource)
    if kind is not None and kind.group != group:
        kind = None
    if kind is None or len(rest) > 3 or (namespace is not None and not kind.namespaced) or (
            namespace is None and kind.namespaced and name is not None):
        raise SimRequestError(404, "NotFound", "the server could not find the requested resource")
    return _Route(kind, resource, namespace, name, sub)


def _group_of(resource: str) -> str:
    kind = BY_RESOURCE.get(resource.partition("/")[0])
    return kind.group if kind is not None else ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _openssl(*args: str) -> None:
    try:
        proc = await asyncio.create_subprocess_exec(
            "openssl", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError as e:
        raise SimError("serving TLS needs the `openssl` command (Debian: apt-get install openssl); "
                       "or pass --plain-http") from e
    _, err = await proc.communicate()
    if proc.returncode != 0:
        detail = " ".join(err.decode(errors="replace").split())[:300]
        raise SimError(f"openssl could not make the sim's TLS certificates: {detail}")


class SimServer:
    """Serves a `SimCluster` over HTTP on `host:port` (0: a free port; read `.url` after start).

    `token`: the bearer token every API request must carry (None: no auth). `tls`: HTTPS with a
    CA and server certificate made by the `openssl` CLI at start (the CA goes into the kubeconfig,
    so kubectl, which sends a token only over TLS, and the exporter both trust it).
    `bookmark_interval`: seconds between BOOKMARKs on an idle watch that asked for them (the
    apiserver sends them about once a minute).
    """

    def __init__(self, cluster: SimCluster, *, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = "sim-token", tls: bool = False, bookmark_interval: float = 60.0) -> None:
        self.cluster = cluster
        self.host = host
        self.port = port
        self.token = token
        self.tls = tls
        self.bookmark_interval = bookmark_interval
        self._runner: web.AppRunner | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._ca_pem: bytes | None = None
        self.rv_wait_seconds = RV_WAIT_SECONDS

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Bind, serve, and start the cluster's lifecycles."""
        ssl_ctx = await self._make_tls() if self.tls else None
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_ctx)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        await self.cluster.start()
        log.info("sim listening on %s", self.url)

    async def stop(self) -> None:
        """Close every watch cleanly, stop serving, stop the cluster."""
        await self.cluster.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _make_tls(self) -> ssl.SSLContext:
        """A CA made for this run and a server certificate it signs, by the `openssl` CLI.

        A real CA plus a leaf (not one self-signed certificate playing both) because that is
        what kubectl and Python's verifier expect of an apiserver: the CA goes into the
        kubeconfig as `certificate-authority-data`, the leaf names 127.0.0.1 and localhost.
        """
        self._tmp = tempfile.TemporaryDirectory(prefix="crashloop-sim-tls-")
        d = Path(self._tmp.name)
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        names = {"IP:127.0.0.1", "DNS:localhost", f"IP:{host}" if _is_ip(host) else f"DNS:{host}"}
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
        await _openssl("req", "-x509", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"), "-days", "7",
                       "-subj", "/CN=crashloop-sim-ca", "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        await _openssl("req", "-x509", *ec, "-keyout", str(d / "tls.key"), "-out", str(d / "tls.crt"), "-days", "7",
                       "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"), "-subj", "/CN=crashloop-sim",
                       "-addext", f"subjectAltName={','.join(sorted(names))}",
                       "-addext", "basicConstraints=critical,CA:FALSE",
                       "-addext", "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=serverAuth")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(d / "tls.crt", d / "tls.key")
        self._ca_pem = (d / "ca.crt").read_bytes()
        return ctx

    def write_kubeconfig(self, path: str | Path) -> Path:
        """A kubeconfig for this server: cluster, user (token), context `crashloop-sim`."""
        cluster: dict[str, Any] = {"server": self.url}
        if self._ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self._ca_pem).decode()
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT_NAME, "cluster": cluster}],
            "users": [{"name": CONTEXT_NAME, "user": user}],
            "contexts": [{"name": CONTEXT_NAME, "context": {"cluster": CONTEXT_NAME, "user": CONTEXT_NAME}}],
            "current-context": CONTEXT_NAME,
            "preferences": {},
        }
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return out

    # -- dispatch ----------------------------------------------------------------------------

    @staticmethod
    def _json(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
        return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json",
                            headers=headers)

    @classmethod
    def _error(cls, e: SimRequestError) -> web.Response:
        return cls._json(status_body(e.code, e.reason, e.message, details=e.details,
                                     continue_token=e.headers.get("X-Sim-Continue")),
                         status=e.code, headers={k: v for k, v in e.headers.items() if not k.startswith("X-Sim-")})

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            if request.path.startswith("/_sim/"):
                return await self._admin(request)
            if request.path not in PUBLIC_PATHS and self.token is not None:
                auth = request.headers.get("Authorization", "")
                if auth != f"Bearer {self.token}":
                    raise SimRequestError(401, "Unauthorized", "Unauthorized")
            if request.method == "GET" and (doc := openapi_v3(request.path)) is not None:
                return web.Response(body=doc, content_type="application/json")
            return await self._api(request)
        except SimRequestError as e:
            return self._error(e)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if request.method not in ("GET", "DELETE"):
            raise SimRequestError(405, "MethodNotAllowed",
                                  "the server does not allow this method on the requested resource")
        if request.method == "GET":
            found = self._discovery(request, parts)
            if found is not None:
                return found
        kind, resource, namespace, name, sub = _route(parts)
        if sub is not None:
            if resource != "pods" or sub != "log" or request.method != "GET":
                raise SimRequestError(404, "NotFound", "the server could not find the requested resource")
            assert namespace is not None and name is not None
            return await self._log(request, namespace, name)
        watching = request.query.get("watch") in ("true", "1")
        verb = {"DELETE": "delete"}.get(request.method) or ("get" if name else ("watch" if watching else "list"))
        self.cluster.stats.request(verb=verb, resource=resource, path=request.path, query=request.query)
        await self._request_faults(resource, verb, namespace=namespace, name=name)
        if verb == "delete":
            if resource != "pods" or name is None or namespace is None:
                raise SimRequestError(405, "MethodNotAllowed",
                                      "the server does not allow this method on the requested resource")
            return self._delete_pod(namespace, name)
        if verb == "get":
            assert name is not None
            return self._get(kind, namespace or "", name)
        flt = Filter(
            namespace=namespace,
            labels=parse_label_selector(request.query.get("labelSelector", "")),
            fields=parse_field_selector(request.query.get("fieldSelector", ""), supported=kind.fields),
            field_paths=kind.field_paths,
        )
        if verb == "watch":
            return await self._watch(request, kind, flt)
        return await self._list(request, kind, flt)

    def _discovery(self, request: web.Request, parts: list[str]) -> web.Response | None:
        """The answer to a GET of a version, health or discovery path; None: not one of those."""
        if parts == ["version"]:
            return self._json(SERVER_VERSION)
        if request.path in PUBLIC_PATHS:
            return web.Response(text="ok")
        if parts == ["api"]:
            return self._json({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}]})
        if parts == ["apis"]:
            return self._json({"kind": "APIGroupList", "apiVersion": "v1",
                               "groups": [_api_group(g) for g in GROUPS if g]})
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in GROUPS and parts[1]:
            return self._json({"kind": "APIGroup", "apiVersion": "v1", **_api_group(parts[1])})
        if parts == ["api", "v1"]:
            return self._json(self._resource_list(""))
        if len(parts) == 3 and parts[0] == "apis" and parts[1] in GROUPS and parts[1] \
                and parts[2] == GROUPS[parts[1]][0].version:
            return self._json(self._resource_list(parts[1]))
        return None

    def _resource_list(self, group: str) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        for k in GROUPS[group]:
            entry: dict[str, Any] = {"name": k.resource, "singularName": k.singular, "namespaced": k.namespaced,
                                     "kind": k.kind, "verbs": list(k.verbs)}
            if k.short_names:
                entry["shortNames"] = list(k.short_names)
            if k.resource in ("pods", "services"):
                entry["categories"] = ["all"]
            resources.append(entry)
            if k.resource == "pods":
                resources.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                                  "verbs": ["get"]})
        out: dict[str, Any] = {"kind": "APIResourceList"}
        if group:
            out["apiVersion"] = "v1"  # named groups' lists say so; the core group's does not
        out.update(groupVersion=GROUPS[group][0].api_version, resources=resources)
        return out

    async def _request_faults(self, resource: str, verb: str, *, namespace: str | None, name: str | None,
                              node: str = "") -> None:
        faults = self.cluster.faults
        slow = faults.take("slow", resource, verb, node=node)
        if slow is not None:
            await asyncio.sleep(slow.delay)
        status = faults.take("status", resource, verb, node=node)
        if status is not None:
            raise self._status_fault(status, resource, verb, namespace=namespace, name=name)
        if verb in ("list", "watch") and faults.take("gone_http", resource, verb) is not None:
            coll = self.cluster.store[resource] if resource in BY_RESOURCE else None
            floor = coll.floor if coll else self.cluster.store.rv
            message = (f"too old resource version: {max(floor, 1)} ({self.cluster.store.rv})" if verb == "watch"
                       else "The resourceVersion for the provided list is too old.")
            raise SimRequestError(410, "Expired", message)

    @staticmethod
    def _status_fault(f: Fault, resource: str, verb: str, *, namespace: str | None,
                      name: str | None) -> SimRequestError:
        reason, message = _STATUS_TEXT.get(f.code, ("InternalError", "Internal error occurred"))
        headers: dict[str, str] = {}
        details: dict[str, object] | None = None
        if f.code == 403:
            reason = "Forbidden"
            plural = resource.partition("/")[0]
            who = f'{plural} "{name}"' if name else plural
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            message = (f'{who} is forbidden: User "{SERVICE_ACCOUNT}" cannot {verb if verb != "log" else "get"} '
                       f'resource "{resource}" in API group "{_group_of(resource)}" {scope}')
            details = {"kind": plural}
            if name:
                details["name"] = name
        elif f.code in (429, 503):
            headers["Retry-After"] = str(f.retry_after)
            details = {"retryAfterSeconds": f.retry_after}
        elif f.code == 500:
            details = {"causes": [{"message": "etcdserver: request timed out"}]}
        return SimRequestError(f.code, reason, message, details=details, headers=headers)

    # -- reads -------------------------------------------------------------------------------

    def _get(self, kind: ResourceKind, namespace: str, name: str) -> web.Response:
        obj = self.cluster.store[kind.resource].get((namespace, name))
        if obj is None:
            qualified = f"{kind.resource}.{kind.group}" if kind.group else kind.resource
            details: dict[str, object] = {"name": name, "kind": kind.resource}
            if kind.group:
                details["group"] = kind.group
            raise SimRequestError(404, "NotFound", f'{qualified} "{name}" not found', details=details)
        return web.Response(body=obj.to_bytes(), content_type="application/json")

    def _delete_pod(self, namespace: str, name: str) -> web.Response:
        before = self.cluster.store["pods"].get((namespace, name))
        if before is None:
            raise SimRequestError(404, "NotFound", f'pods "{name}" not found', details={"name": name, "kind": "pods"})
        final: StoredObject | None
        if (namespace, name) not in self.cluster.lifecycle.pods:
            final = self.cluster.store["pods"].delete((namespace, name))
        else:
            # Through the API the pod's controller recreates it, as a ReplicaSet would.
            self.cluster.delete_pod(namespace, name, recreate=True)
            final = next((c.obj for c in reversed(self.cluster.store["pods"].history)
                          if c.type == "DELETED" and c.obj.key == (namespace, name)), None)
        return web.Response(body=(final or before).to_bytes(), content_type="application/json")

    @staticmethod
    def _wants_table(request: web.Request) -> bool:
        return "as=Table" in request.headers.get("Accept", "")

    async def _list(self, request: web.Request, kind: ResourceKind, flt: Filter) -> web.StreamResponse:
        q = request.query
        coll = self.cluster.store[kind.resource]
        limit = _int_param(q, "limit")
        if limit is not None and limit <= 0:
            limit = None
        rv, start = await self._list_start(q, kind)
        items, last, remaining = coll.snapshot_page(rv=rv, start_after=start, limit=limit, flt=flt)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if last is not None:
            meta["continue"] = _encode_continue(rv, last)
            if remaining is not None:
                meta["remainingItemCount"] = remaining
        if self._wants_table(request) and kind.resource in PRINTERS:
            return self._json(table(kind.resource, [o.to_dict() for o in items], list_meta=meta, now=time.time(),
                                    include_object=q.get("includeObject", "Metadata")))
        head = (b'{"kind":"' + kind.list_kind.encode() + b'","apiVersion":"' + kind.api_version.encode()
                + b'","metadata":' + msgspec.json.encode(meta)
                + b',"items":[')
        if len(items) <= LIST_STREAM_THRESHOLD:
            return web.Response(body=head + b",".join(o.to_bytes() for o in items) + b"]}",
                                content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(head)
        for i in range(0, len(items), 1000):
            chunk = b",".join(o.to_bytes() for o in items[i:i + 1000])
            await resp.write((b"," if i else b"") + chunk)
        await resp.write(b"]}")
        await resp.write_eof()
        return resp

    async def _list_start(self, q: Mapping[str, str], kind: ResourceKind) -> tuple[int, Key | None]:
        """The resourceVersion a list reads at, and the key it continues after (None: from the start)."""
        store = self.cluster.store
        coll = store[kind.resource]
        token = q.get("continue", "")
        start: Key | None = None
        if token:
            if q.get("resourceVersion"):
                raise SimRequestError(400, "BadRequest",
                                      "specifying resource version is not allowed when using continue")
            rv, start = _decode_continue(token, namespaced=kind.namespaced)
            expired = self.cluster.faults.take("expire_continue", kind.resource, "list") is not None
            if rv < 0:
                rv = store.rv  # an "inconsistent" token from a 410: continue at the current state
            elif expired or rv < coll.floor:
                raise SimRequestError(
                    410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start "
                    "a new list without the continue parameter, or use the continue token in this response to "
                    "retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the "
                    "first chunk was returned and now may show up in the list.",
                    headers={"X-Sim-Continue": _encode_continue(-1, start)},
                )
        else:
            wanted = _int_param(q, "resourceVersion")
            if wanted is not None and wanted > store.rv:
                await self._wait_for_rv(wanted)
            if wanted is not None and q.get("resourceVersionMatch") == "Exact":
                coll.check_rv(wanted)
                rv = wanted
            else:
                rv = store.rv
        return rv, start

    async def _wait_for_rv(self, wanted: int) -> None:
        deadline = time.monotonic() + self.rv_wait_seconds
        while self.cluster.store.rv < wanted and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.cluster.store.rv < wanted:
            raise SimRequestError(
                504, "Timeout", f"Too large resource version: {wanted}, current: {self.cluster.store.rv}",
                details={"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                         "retryAfterSeconds": 1},
            )

    async def _log(self, request: web.Request, namespace: str, name: str) -> web.Response:
        q = request.query
        self.cluster.stats.request(verb="log", resource="pods/log", path=request.path, query=q)
        await self._request_faults("pods/log", "log", namespace=namespace, name=name,
                                   node=self.cluster.pod_node(namespace, name))
        tail = _int_param(q, "tailLines")
        limit = _int_param(q, "limitBytes")
        if limit is not None and limit < 1:
            raise SimRequestError(400, "BadRequest", "limitBytes: Invalid value: must be greater than 0")
        if tail is not None and tail < 0:
            raise SimRequestError(400, "BadRequest", "tailLines: Invalid value: must be greater than or equal to 0")
        body = self.cluster.container_log(
            namespace, name, container=q.get("container") or None, previous=q.get("previous") in ("true", "1"),
            tail_lines=tail, limit_bytes=limit, timestamps=q.get("timestamps") in ("true", "1"),
        )
        return web.Response(body=body, content_type="text/plain")

    # -- watch -------------------------------------------------------------------------------

    def _bookmark(self, kind: ResourceKind, *, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(self.cluster.store.rv), "creationTimestamp": None}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta, **kind.bookmark_extra}
        return watch_line("BOOKMARK", msgspec.json.encode(obj))

    async def _watch(self, request: web.Request, kind: ResourceKind, flt: Filter) -> web.StreamResponse:
        q = request.query
        store = self.cluster.store
        coll = store[kind.resource]
        rv_param = q.get("resourceVersion", "")
        start_rv = None if rv_param in ("", "0") else _int_param(q, "resourceVersion")
        if start_rv is not None and start_rv > store.rv:
            await self._wait_for_rv(start_rv)
        timeout = _int_param(q, "timeoutSeconds")
        duration = float(timeout) if timeout and timeout > 0 else 1800.0 * (1.0 + random.random())
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        initial_end = bookmarks and q.get("sendInitialEvents") in ("true", "1")
        gone = self.cluster.faults.take("gone_watch", kind.resource, "watch") is not None
        resp = web.StreamResponse(headers={
            "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Audit-Id": str(uuid.uuid4()),
        })
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        if gone or (start_rv is not None and start_rv < coll.floor):
            # A real apiserver answers a compacted resourceVersion with 200 and one ERROR event.
            requested = start_rv if start_rv is not None else store.rv
            status = status_body(410, "Expired", f"too old resource version: {requested} ({coll.floor + 1})")
            with contextlib.suppress(ConnectionError):
                await resp.write(watch_line("ERROR", msgspec.json.encode(status)))
                await resp.write_eof()
            return resp
        if start_rv is None or initial_end:
            initial = [o for k in coll.keys if (o := coll.objects[k]) is not None and flt.matches(o)]
            watcher = Watcher(coll, flt, initial)
        else:
            watcher = Watcher(coll, flt, [])
            for change in coll.changes_after(start_rv):
                watcher.offer(change)
        coll.watchers.add(watcher)
        for fault_kind in STREAM_KINDS:
            pending = self.cluster.faults.take(fault_kind, kind.resource, "watch", record=False)
            if pending is not None:
                watcher.control(fault_kind, pending.to_json())
        try:
            await self._pump(request, resp, kind, watcher, deadline=time.monotonic() + duration,
                             bookmarks=bookmarks, initial_end=initial_end)
        except ConnectionError as e:
            # The client went away mid-write: the normal end of most watches.
            log.debug("watch on %s ended by the client: %s", request.path, e)
        finally:
            coll.watchers.discard(watcher)
        return resp

    async def _pump(self, request: web.Request, resp: web.StreamResponse, kind: ResourceKind, w: Watcher, *,
                    deadline: float, bookmarks: bool, initial_end: bool) -> None:
        """Send a watcher's lines until timeout, close, fault or disconnect."""
        last_bookmark = turn_start = time.monotonic()
        hang_until = 0.0
        initial_pending = True
        while True:
            w.wake.clear()
            now = time.monotonic()
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            if w.closed or w.overflowed or now >= deadline:
                await resp.write_eof()
                return
            if w.controls:
                hang = await self._apply_controls(resp, transport, kind, w, now=now, hang_until=hang_until)
                if hang is None:
                    return
                hang_until = hang
            if now < hang_until:
                await self._sleep_on(w, min(hang_until, deadline) - now)
                continue
            batch, initial_pending = self._next_batch(kind, w, initial_pending=initial_pending,
                                                      initial_end=initial_end)
            if batch:
                await resp.write(b"".join(batch))
                if now - turn_start >= WATCH_TURN_SECONDS:
                    # Writes the socket took at once never yielded: let other requests in.
                    await asyncio.sleep(0)
                    turn_start = time.monotonic()
                continue
            if bookmarks and now - last_bookmark >= self.bookmark_interval:
                await resp.write(self._bookmark(kind))
                last_bookmark = now
                continue
            wait = deadline - now
            if bookmarks:
                wait = min(wait, last_bookmark + self.bookmark_interval - now)
            await self._sleep_on(w, min(wait, 1.0))
            turn_start = time.monotonic()

    async def _apply_controls(self, resp: web.StreamResponse, transport: asyncio.BaseTransport,
                              kind: ResourceKind, w: Watcher, *, now: float, hang_until: float) -> float | None:
        """Act on the stream faults queued for this watcher; the time a hang lasts until, or None
        when the stream was dropped."""
        while w.controls:
            action, params = w.controls.popleft()
            self.cluster.faults.acted(int(params.get("id", 0)))
            if action == "drop_stream":
                await self._drop(resp, transport, kind, w, params)
                return None
            if action == "garbage":
                await resp.write(str(params.get("line", "")).encode() + b"\n")
            elif action == "hang":
                hang_until = now + float(params.get("seconds", 0))
        return hang_until

    def _next_batch(self, kind: ResourceKind, w: Watcher, *, initial_pending: bool,
                    initial_end: bool) -> tuple[list[bytes], bool]:
        """Up to `WATCH_WRITE_EVENTS` lines to write, in pieces to join (the initial events first,
        then the end-of-initial bookmark, then changes), and whether initial events are still pending."""
        batch: list[bytes] = []
        room = WATCH_WRITE_EVENTS
        while initial_pending and room:
            line = w.next_initial()
            if line is None:
                initial_pending = False
                if initial_end:
                    batch.append(self._bookmark(kind, initial_end=True))
                break
            batch.append(line)
            room -= 1
        if room:
            w.take(batch, room)
        return batch, initial_pending

    @staticmethod
    async def _sleep_on(w: Watcher, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await w.wake.wait()

    async def _drop(self, resp: web.StreamResponse, transport: asyncio.BaseTransport, kind: ResourceKind,
                    w: Watcher, params: Mapping[str, Any]) -> None:
        if params.get("clean"):
            await resp.write_eof()
            return
        if params.get("mid_event"):
            line = w.next_initial()
            if line is None:
                queued: list[bytes] = []
                w.take(queued, 1)
                line = queued[0] if queued else self._bookmark(kind)
            await resp.write(line[: max(len(line) // 2, 1)])
        # Cut the connection without the terminating chunk: the client sees a truncated body.
        transport.close()

    # -- admin -------------------------------------------------------------------------------

    async def _admin(self, request: web.Request) -> web.StreamResponse:
        action = request.path.removeprefix("/_sim/").strip("/")
        body: dict[str, Any] = {}
        if request.method == "POST" and request.can_read_body:
            try:
                parsed = msgspec.json.decode(await request.read() or b"{}")
            except msgspec.DecodeError as e:
                return self._json({"error": f"request body is not JSON: {e}"}, status=400)
            if not isinstance(parsed, dict):
                return self._json({"error": "request body must be a JSON object"}, status=400)
            body = parsed
        try:
            if request.method == "GET":
                answer = self._admin_read(action)
            else:
                answer = self._admin_change(request.method, action, body)
        except (SimError, ValueError, TypeError) as e:
            return self._json({"error": str(e)}, status=400)
        if answer is None:
            return self._json({"error": f"no admin endpoint {request.method} /_sim/{action}"}, status=404)
        return answer

    def _admin_read(self, action: str) -> web.Response | None:
        """A GET of /_sim/{action}; None: no such endpoint."""
        c = self.cluster
        match action:
            case "stats":
                return self._json(c.stats_json())
            case "faults":
                return self._json([f.to_json() for f in c.faults.pending()])
            case "expectations":
                return self._json(c.expectations())
        return None

    def _admin_change(self, method: str, action: str, body: dict[str, Any]) -> web.Response | None:
        """A POST or DELETE of /_sim/{action} with its JSON body; None: no such endpoint."""
        c = self.cluster
        match (method, action):
            case ("POST", "faults"):
                fault_from_json(body)  # validate before acting
                kind = str(body.pop("kind"))
                return self._json(c.add_fault(kind, **body).to_json(), status=201)
            case ("DELETE", "faults"):
                c.clear_faults()
                return self._json({"cleared": True})
            case ("POST", "pause"):
                c.pause()
                return self._json({"paused": True})
            case ("POST", "resume"):
                c.resume()
                return self._json({"paused": False})
            case ("POST", "advance"):
                c.advance(float(body.get("seconds", 0)))
                return self._json({"advanced": body.get("seconds", 0)})
            case ("POST", "delete-pod"):
                new = c.delete_pod(str(body.get("namespace", "")), str(body.get("name", "")),
                                   recreate=bool(body.get("recreate", False)))
                return self._json({"deleted": body.get("name"), "replacement": new})
            case ("POST", "objects"):
                obj = body.get("object")
                if not isinstance(obj, dict):
                    raise SimError("POST /_sim/objects needs {\"resource\": ..., \"object\": {...}}")
                c.put_object(str(body.get("resource", "")), obj)
                return self._json({"stored": obj.get("metadata", {}).get("name")}, status=201)
            case ("POST", "churn"):
                c.set_churn(float(body.get("rate", 0)))
                return self._json({"rate": c.churn.rate})
        return None
