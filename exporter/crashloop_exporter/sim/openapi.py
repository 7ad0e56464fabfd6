"""The sim's `/openapi/v3`: just enough OpenAPI for kubectl's default (strict) validation.

Before `kubectl apply` (also `--dry-run=client`) sends an object it asks the server's OpenAPI v3
whether the object's kind accepts the `fieldValidation` query parameter on PATCH. A real
apiserver says yes for every built-in kind (server-side field validation, GA since 1.27), and
kubectl then leaves schema checks to the server; with a client dry run nothing is sent, so no
schema is checked at all (the chart's schemas are checked offline, with kubernetes-validate, in
tests/deploy). Without an OpenAPI document kubectl refuses ("failed to download openapi") unless
`--validate=false`.

So this serves what that question reads and nothing more: the root index of group versions and,
per group version, each kind's object path with a GET and a PATCH operation tagged with
`x-kubernetes-group-version-kind` and the PATCH query parameters. No schemas: a client that
wants them (`kubectl explain`) finds none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec

from crashloop_exporter.sim.kinds import GROUPS, ResourceKind
from crashloop_exporter.sim.objects import SERVER_VERSION

ROOT = "/openapi/v3"
_PATCH_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group: str) -> str:
    """`api/v1` or `apis/apps/v1`: the key the root index uses for a group version."""
    return f"apis/{group}/{GROUPS[group][0].version}" if group else "api/v1"


def _object_path(kind: ResourceKind) -> str:
    prefix = "/" + _gv_path(kind.group)
    scope = "/namespaces/{namespace}" if kind.namespaced else ""
    return f"{prefix}{scope}/{kind.resource}/{{name}}"


def _operation(kind: ResourceKind, verb: str, params: tuple[str, ...]) -> dict[str, Any]:
    return {
        "operationId": f"{verb}{kind.kind}",
        "parameters": [{"name": p, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
                       for p in params],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": verb if verb != "read" else "get",
        "x-kubernetes-group-version-kind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
    }


@cache
def _documents() -> Mapping[str, bytes]:
    """Encoded documents by request path: one per group version, then the root index of them."""
    docs: dict[str, bytes] = {}
    index: dict[str, dict[str, str]] = {}
    for group, kinds in GROUPS.items():
        paths = {_object_path(k): {"get": _operation(k, "read", ()), "patch": _operation(k, "patch", _PATCH_PARAMS)}
                 for k in kinds}
        body = msgspec.json.encode({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
            "paths": paths,
        })
        path = f"{ROOT}/{_gv_path(group)}"
        docs[path] = body
        # The apiserver versions each document by its hash, so clients can cache it for good.
        index[_gv_path(group)] = {"serverRelativeURL": f"{path}?hash={hashlib.sha512(body).hexdigest().upper()}"}
    docs[ROOT] = msgspec.json.encode({"paths": index})
    return docs


def openapi_v3(path: str) -> bytes | None:
    """The document served at `path` (`/openapi/v3` or `/openapi/v3/apis/<group>/<version>`); None: none."""
    return _documents().get(path.rstrip("/"))
