"""Shared pieces for running `crashloop-exporter serve` against kmock.

kmock (PyPI, by the kopf author) is a pytest plugin: its `kmock` fixture is an aiohttp server on
127.0.0.1 running in the *test's own event loop*. So everything here that waits is async: a
blocking sleep or a blocking HTTP call would freeze kmock and the exporter would see a dead API
server. The exporter itself runs as a real subprocess (`python -m crashloop_exporter serve`),
started only after the test has declared what kmock serves, and stopped by its pid on teardown.

The objects are built here (not in the tests) so all tests describe the same tiny cluster: one
pod of Deployment `api` crash-looping on a missing setting, one healthy pod, one node.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
import yaml

# The PyPI package, not this directory (tests.kmock); ruff files it as first-party by name only.
from kmock import RawHandler

from tests.support import wait as support_wait
from tests.support.metrics import Samples, parse_samples
from tests.support.net import free_port

NAMESPACE = "shop"
CRASHING_POD = "api-7d9f4b8c6-q2x5z"
CRASHING_UID = "3f1c2a8e-5b7d-4e19-9a60-0c2d4f6b8a11"
HEALTHY_POD = "web-5c8d7b9f4-m7k2p"
HEALTHY_UID = "8d2e4f60-1a3b-4c5d-8e7f-9a0b1c2d3e4f"
NODE = "node-1"
PREVIOUS_LOG = (
    b"panic: DATABASE_URL environment variable is not set\n"
    b"\n"
    b"goroutine 1 [running]:\n"
    b"main.main()\n"
    b"\t/src/cmd/api/main.go:42 +0x1d4\n"
)
"""What the crashed run printed: the log decides the cause (bad_config), the status alone cannot."""

WAIT_SECONDS = 30.0
"""Upper bound of every single wait in these tests."""



def _stamp(ago: timedelta) -> str:
    return (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def crashing_pod(*, restart_count: int, resource_version: str) -> dict[str, Any]:
    """The pod of ReplicaSet api-7d9f4b8c6 (Deployment `api`), waiting in CrashLoopBackOff after
    its container exited 1 (Error) `restart_count` times."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": CRASHING_POD,
            "namespace": NAMESPACE,
            "uid": CRASHING_UID,
            "resourceVersion": resource_version,
            "creationTimestamp": _stamp(timedelta(minutes=10)),
            "labels": {"app": "api", "pod-template-hash": "7d9f4b8c6"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "api-7d9f4b8c6",
                    "uid": "0b6a3c1d-7e2f-4a59-b8c4-d1e2f3a4b5c6",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "nodeName": NODE,
            "restartPolicy": "Always",
            "containers": [{"name": "api", "image": "registry.example.com/shop/api:1.4.2"}],
        },
        "status": {
            "phase": "Running",
            "startTime": _stamp(timedelta(minutes=10)),
            "containerStatuses": [
                {
                    "name": "api",
                    "image": "registry.example.com/shop/api:1.4.2",
                    "imageID": "registry.example.com/shop/api@sha256:" + "ab" * 32,
                    "containerID": f"containerd://{restart_count:064x}",
                    "ready": False,
                    "started": False,
                    "restartCount": restart_count,
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": "back-off 40s restarting failed container=api pod=" + CRASHING_POD,
                        }
                    },
                    "lastState": {
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "startedAt": _stamp(timedelta(seconds=21)),
                            "finishedAt": _stamp(timedelta(seconds=20)),
                        }
                    },
                }
            ],
        },
    }


def healthy_pod() -> dict[str, Any]:
    """A running pod of Deployment `web` that never restarted: it must produce no finding."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": HEALTHY_POD,
            "namespace": NAMESPACE,
            "uid": HEALTHY_UID,
            "resourceVersion": "95",
            "creationTimestamp": _stamp(timedelta(hours=3)),
            "labels": {"app": "web", "pod-template-hash": "5c8d7b9f4"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5c8d7b9f4",
                 "uid": "6e5d4c3b-2a19-4807-b6f5-e4d3c2b1a098", "controller": True}
            ],
        },
        "spec": {
            "nodeName": NODE,
            "restartPolicy": "Always",
            "containers": [{"name": "web", "image": "registry.example.com/shop/web:2.0.1"}],
        },
        "status": {
            "phase": "Running",
            "startTime": _stamp(timedelta(hours=3)),
            "containerStatuses": [
                {
                    "name": "web",
                    "image": "registry.example.com/shop/web:2.0.1",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": _stamp(timedelta(hours=3))}},
                    "lastState": {},
                }
            ],
        },
    }


def node() -> dict[str, Any]:
    """A Ready node without pressure conditions."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": NODE, "uid": "a1b2c3d4-e5f6-4789-8abc-def012345678", "resourceVersion": "90"},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "DiskPressure", "status": "False"},
                {"type": "PIDPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ]
        },
    }


def write_kubeconfig(path: Path, *, server: str) -> Path:
    """Plain http to kmock with a bearer token (kmock does not check it; the exporter sends it)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kmock", "cluster": {"server": server}}],
        "users": [{"name": "kmock", "user": {"token": "kmock-test-token"}}],
        "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "kmock"}}],
        "current-context": "kmock",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    *,
    what: str,
    details: Callable[[], str] | None = None,
    timeout: float = WAIT_SECONDS,
) -> None:
    """`tests.support.wait.wait_for` with this package's bound; yields to the loop kmock runs in."""
    await support_wait.wait_for(check, what=what, details=details, timeout=timeout)


@dataclass
class RunningExporter:
    """One `serve` subprocess and an HTTP session to its endpoints."""

    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    session: aiohttp.ClientSession

    async def get(self, path: str) -> tuple[int, bytes]:
        async with self.session.get(self.url + path, timeout=aiohttp.ClientTimeout(total=10)) as resp:
            return resp.status, await resp.read()

    async def causes(self) -> list[dict[str, Any]]:
        status, body = await self.get("/causes")
        assert status == 200, f"/causes answered {status}: {body[:300]!r}"
        data = json.loads(body)
        assert isinstance(data, list)
        return data

    async def metrics(self) -> Samples:
        status, body = await self.get("/metrics")
        assert status == 200, f"/metrics answered {status}"
        return parse_samples(body.decode())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def assert_running(self) -> None:
        assert self.proc.poll() is None, f"the exporter exited with {self.proc.returncode}:\n{self.log()}"


def select(samples: Samples, name: str, **labels: str) -> list[float]:
    """Values of `name` whose labels include all of `labels`."""
    return [v for lbl, v in samples.get(name, []) if all(lbl.get(k) == want for k, want in labels.items())]


async def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM by pid, wait (without blocking kmock's loop) up to 10 s, then SIGKILL by pid."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10.0
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


LaunchExporter = Callable[[], Awaitable[RunningExporter]]


@pytest_asyncio.fixture()
async def launch_exporter(kmock: RawHandler, tmp_path: Path) -> AsyncIterator[LaunchExporter]:
    """Start `serve` pointed at this test's kmock; call it after declaring kmock's reactions.

    Depends on `kmock` so that pytest tears kmock down only after the exporter is stopped: the
    exporter never sees its API server vanish, and kmock's recorded requests stay complete.
    """
    started: list[RunningExporter] = []
    session = aiohttp.ClientSession()

    async def launch() -> RunningExporter:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", server=str(kmock.url).rstrip("/"))
        port = free_port()
        log_path = tmp_path / f"exporter-{len(started)}.log"
        # CRASHLOOP_* variables would silently change flags (every flag reads one).
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHLOOP_")}
        env["PYTHONUNBUFFERED"] = "1"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, "-m", "crashloop_exporter", "serve",
                 "--kubeconfig", str(kubeconfig),
                 "--listen-address", f"127.0.0.1:{port}",
                 "--new-series-holdback", "0",
                 # These tests are about pods, events and logs; kmock declares no Services.
                 "--no-dependencies",
                 "--log-level", "debug"],
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env,
            )
        exporter = RunningExporter(url=f"http://127.0.0.1:{port}", proc=proc, log_path=log_path, session=session)
        started.append(exporter)
        return exporter

    try:
        yield launch
    finally:
        for exporter in started:
            await _stop(exporter.proc)
        await session.close()
