"""`crashloop-exporter sim`: one line on stdout, a working kubeconfig, a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import base64
import re
import signal
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml


async def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    """The CLI prints `sim listening on https://... kubeconfig=PATH`, serves the API there to a client
    that trusts only the kubeconfig's `certificate-authority-data`, and exits 0 on SIGTERM."""
    kubeconfig = tmp_path / "sim.kubeconfig"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crashloop_exporter", "sim", "--listen", "127.0.0.1:0",
        "--kubeconfig-out", str(kubeconfig), "--scenarios", "payment-service,healthy", "--time-scale", "30",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode().strip()
        m = re.fullmatch(r"sim listening on (?P<url>https://127\.0\.0\.1:\d+) kubeconfig=(?P<path>\S+)", line)
        assert m, line
        url = m.group("url")
        assert m.group("path") == str(kubeconfig)
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["current-context"] == "crashloop-sim"
        assert config["clusters"][0]["cluster"]["server"] == url
        token = config["users"][0]["user"]["token"]
        ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        trusting = ssl.create_default_context(cadata=ca)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(url + "/api/v1/namespaces/production/pods", ssl=trusting) as r:
                body = await r.json()
            assert r.status == 200 and len(body["items"]) == 3
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await http.get(url + "/version")  # the system trust store does not know the sim's CA
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), timeout=30)
    assert rc == 0


async def test_cli_rejects_unknown_scenarios(tmp_path: Path) -> None:
    """An unknown scenario name is one line on stderr and exit code 2."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crashloop_exporter", "sim", "--kubeconfig-out", str(tmp_path / "k"),
        "--scenarios", "payment-service,gremlins", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 2
    assert err.decode().startswith("crashloop-exporter sim: error: --scenarios: unknown scenario(s) gremlins")


async def test_cli_plain_http(tmp_path: Path) -> None:
    """`--plain-http` serves http:// (for test harnesses), with no CA in the kubeconfig."""
    kubeconfig = tmp_path / "sim.kubeconfig"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crashloop_exporter", "sim", "--plain-http", "--kubeconfig-out", str(kubeconfig),
        "--scenarios", "healthy", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode().strip()
        assert line.startswith("sim listening on http://127.0.0.1:"), line
        assert "certificate-authority-data" not in kubeconfig.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
