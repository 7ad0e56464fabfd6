"""Fixtures of the kube layer's tests: a fake API server, a client for it, a recording handler."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.kube.config import load_credentials
from crashloop_exporter.kube.stats import WatchStats
from crashloop_exporter.kube.watch import Backoff, Watcher

from .helpers import WAIT, MakeWatcher, Recorder, RecordingSleep, write_kubeconfig
from .kubefake import FakeApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeApi]:
    """A started fake API server on a random 127.0.0.1 port."""
    api = FakeApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def client(fake: FakeApi, tmp_path: Path) -> AsyncIterator[KubeClient]:
    """A KubeClient for `fake`, with token t0 from a kubeconfig."""
    creds = load_credentials(kubeconfig=str(write_kubeconfig(tmp_path / "kubeconfig", server=fake.url)))
    async with KubeClient(creds, request_timeout=WAIT) as c:
        yield c


@pytest.fixture
def make_watcher(client: KubeClient) -> MakeWatcher:
    """Build a Watcher with fast, deterministic defaults (tests override any keyword)."""

    def make(handler: Recorder, stats: WatchStats, **kw: Any) -> Watcher:
        opts: dict[str, Any] = {
            "resource": "pods",
            "path": "/api/v1/pods",
            "page_size": 2,
            "timeout_seconds": 60,
            "inactivity_timeout": WAIT,
            "backoff": Backoff(initial=0.01, cap=0.08),
            "sleep": RecordingSleep(),
            "rand": lambda: 1.0,
        }
        opts.update(kw)
        return Watcher(client, handler=handler, stats=stats, **opts)

    return make


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (made with the openssl CLI)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key

