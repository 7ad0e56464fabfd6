"""Secret values never leave preflight: not in any output format, not in logs, not even when served.

preflight reads Secrets to learn their key names. These tests reference every Secret the sim has
(so every one is fetched, values included, over real HTTP), then look for each value, base64 and
decoded, in stdout, stderr and every log record, for table, json and github output.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from crashloop_exporter.preflight.checks_live import PARTIAL_METADATA

from .conftest import SIM_TOKEN, FakeApi, Sim, b64, run_cli_async

# Every key of every production Secret in the sim, plus keys that do not exist (so the messages
# list the existing key names, the closest a message gets to a Secret's content).
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: reads-everything, namespace: production}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      imagePullSecrets: [{name: registry-pull-secret}]
      containers:
        - name: app
          image: registry.example.com/app:v1
          resources: {limits: {memory: 64Mi}}
          env:
            - {name: A, valueFrom: {secretKeyRef: {name: postgres-secret, key: url}}}
            - {name: B, valueFrom: {secretKeyRef: {name: postgres-secret, key: username}}}
            - {name: C, valueFrom: {secretKeyRef: {name: postgres-secret, key: password}}}
            - {name: D, valueFrom: {secretKeyRef: {name: postgres-secret, key: missing-key}}}
            - {name: E, valueFrom: {secretKeyRef: {name: jwt-secret, key: signing-key}}}
            - {name: F, valueFrom: {secretKeyRef: {name: api-tls-cert, key: nope, optional: true}}}
            - {name: G, valueFrom: {secretKeyRef: {name: registry-pull-secret, key: config.json}}}
            - {name: H, valueFrom: {secretKeyRef: {name: in-bundle, key: absent}}}
          envFrom: [{secretRef: {name: jwt-secret}}]
          volumeMounts: [{name: tls, mountPath: /tls}]
      volumes:
        - name: tls
          secret: {secretName: api-tls-cert, items: [{key: tls.crt, path: a}, {key: ca.crt, path: b}]}
---
apiVersion: v1
kind: Secret
metadata: {name: in-bundle, namespace: production}
data: {present: QlVORExFLVZBTFVFLWJhc2U2NA==}
stringData: {also-present: BUNDLE-VALUE-stringdata}
"""
BUNDLE_VALUES = ["QlVORExFLVZBTFVFLWJhc2U2NA==", "BUNDLE-VALUE-base64", "BUNDLE-VALUE-stringdata"]


async def sim_secret_values(sim: Sim) -> list[str]:
    """Every value of every Secret the sim serves, as served (base64) and decoded."""
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {SIM_TOKEN}"}) as http,
        http.get(f"{sim.server.url}/api/v1/secrets") as resp,
    ):
        body: dict[str, Any] = await resp.json()
    values: list[str] = []
    for item in body["items"]:
        for encoded in (item.get("data") or {}).values():
            values.append(encoded)
            values.append(base64.b64decode(encoded).decode())
    assert len(values) >= 10  # the sim's production and staging Secrets
    return [v for v in values if len(v) >= 6]


@pytest.mark.parametrize("output", ["table", "json", "github"])
async def test_no_secret_value_in_any_output_or_log(
    output: str, sim: Sim, write: Callable[[str, str], Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Values of fetched Secrets and of Secrets in the input appear nowhere; key names may."""
    caplog.set_level(logging.DEBUG)
    path = write("reads-everything.yaml", MANIFEST)
    result = await run_cli_async(["preflight", "-f", str(path), "--kubeconfig", str(sim.kubeconfig), "-o", output])
    assert result.code == 1  # the missing keys are errors
    text = result.stdout + result.stderr + caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for value in [*await sim_secret_values(sim), *BUNDLE_VALUES]:
        assert value not in text
    # The messages name what exists (key names, as the runbook's jsonpath one-liner does).
    assert "missing-key" in result.stdout and "password" in result.stdout
    fetched = {r["path"] for r in sim.cluster.stats_json()["recent_requests"]}
    assert "/api/v1/namespaces/production/secrets/postgres-secret" in fetched


async def test_existence_checks_ask_for_metadata_only(
    fake_api: tuple[FakeApi, Path], write: Callable[[str, str], Path]
) -> None:
    """envFrom/imagePullSecrets only need existence: GET with the PartialObjectMetadata Accept header,
    and a server that ignores it and sends the data anyway leaks nothing."""
    api, kubeconfig = fake_api
    leaked = "TOP-SECRET-served-despite-accept"
    for name in ("env-from", "pull"):
        api.objects[f"/api/v1/namespaces/production/secrets/{name}"] = {
            "kind": "Secret", "apiVersion": "v1", "metadata": {"name": name, "namespace": "production"},
            "data": {"k": b64(leaked)}, "stringData": {"raw": leaked},
        }
    api.objects["/api/v1/namespaces/production/secrets/keyed"] = {
        "kind": "Secret", "apiVersion": "v1", "metadata": {"name": "keyed", "namespace": "production"},
        "data": {"present": b64(leaked)},
    }
    path = write("app.yaml", """\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: production}
spec:
  imagePullSecrets: [{name: pull}]
  containers:
    - name: c
      image: registry.example.com/c:v1
      resources: {limits: {memory: 64Mi}}
      envFrom: [{secretRef: {name: env-from}}]
      env: [{name: X, valueFrom: {secretKeyRef: {name: keyed, key: absent}}}]
""")
    result = await run_cli_async(["preflight", "-f", str(path), "--kubeconfig", str(kubeconfig), "-o", "json"])
    accept = dict(api.requests)
    assert accept["/api/v1/namespaces/production/secrets/env-from"] == PARTIAL_METADATA
    assert accept["/api/v1/namespaces/production/secrets/pull"] == PARTIAL_METADATA
    assert accept["/api/v1/namespaces/production/secrets/keyed"] == "application/json"
    assert result.code == 1 and '"reason": "SecretKeyNotFound"' in result.stdout
    assert leaked not in result.stdout + result.stderr and b64(leaked) not in result.stdout + result.stderr
