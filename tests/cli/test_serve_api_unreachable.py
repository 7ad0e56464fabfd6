"""`serve` against an API server it cannot use at start: it says which (unreachable, or reached but
TLS failed), in one log line per attempt, keeps retrying, and /readyz answers 503 meanwhile."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import yaml

from crashloop_exporter.sim import SimCluster, SimServer
from tests.support.net import free_port
from tests.support.wait import wait_for

WAIT = 30.0


async def _serve_until(kubeconfig: Path, expected: str, tmp_path: Path) -> tuple[str, int, str]:
    """Run serve until `expected` has appeared twice in its log (so it retried); its log and /readyz."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crashloop_exporter", "serve", "--kubeconfig", str(kubeconfig),
            "--listen-address", f"127.0.0.1:{port}", "--watch-backoff-initial", "0.2", "--watch-backoff-max", "0.5",
            stdout=out, stderr=out)
    try:
        async def retried() -> bool:
            return log.read_text().count(expected) >= 2 or proc.returncode is not None

        await wait_for(retried, what=f"serve to log {expected!r} twice", timeout=WAIT, interval=0.1,
                       details=lambda: log.read_text()[-3000:])
        text = log.read_text()
        assert text.count(expected) >= 2, f"serve exited before logging {expected!r} twice:\n{text[-3000:]}"
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as r:
            return text, r.status, await r.text()
    finally:
        if proc.returncode is None:
            proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=30)


def _kubeconfig(path: Path, server: str, *, ca: str | None = None) -> Path:
    cluster: dict[str, str] = {"server": server}
    if ca:
        cluster["certificate-authority-data"] = ca
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": {"token": "sim-token"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}), encoding="utf-8")
    return path


async def test_unreachable_api_server_is_named_and_retried(tmp_path: Path) -> None:
    """Nothing listens at the server address: `... is unreachable: connection refused`, no traceback."""
    port = free_port()
    kubeconfig = _kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{port}")
    text, status, body = await _serve_until(
        kubeconfig, f"the API server 127.0.0.1:{port} is unreachable: connection refused", tmp_path)
    assert "Traceback" not in text and "SSLContext object" not in text, text
    assert status == 503 and body.startswith("waiting for the first list of:"), (status, body)


async def test_untrusted_api_certificate_is_named_and_retried(tmp_path: Path) -> None:
    """The sim serves TLS but the kubeconfig carries no CA: `TLS failed: ... does not trust`."""
    cluster = SimCluster(["healthy"])
    async with SimServer(cluster, tls=True) as sim:
        kubeconfig = _kubeconfig(tmp_path / "kubeconfig", sim.url)
        text, status, body = await _serve_until(kubeconfig, "TLS failed: the API server", tmp_path)
        assert "certificate this client does not trust" in text and "Traceback" not in text, text
        assert status == 503, (status, body)
