"""kubectl against the sim: the tool SREs already use must work on it (TLS + token, as kubectl
only sends tokens over TLS)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.sim.conftest import MakeSim

KUBECTL = shutil.which("kubectl")
if KUBECTL is None:
    pytest.fail("kubectl is not installed", pytrace=False)


async def _kubectl(kubeconfig: Path, *args: str) -> tuple[int, str]:
    assert KUBECTL is not None
    proc = await asyncio.create_subprocess_exec(
        KUBECTL, "--kubeconfig", str(kubeconfig), "--request-timeout=20s", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode()


async def test_kubectl_get_describe_and_logs(make_sim: MakeSim, tmp_path: Path) -> None:
    """`kubectl get pods -A` shows the crash loops with kubectl's columns; `get secret` of the seed's
    missing secret is NotFound; `logs --previous` prints the seed's log."""
    sim = await make_sim(tls=True)
    sim.cluster.advance(30)
    kubeconfig = sim.server.write_kubeconfig(tmp_path / "kubeconfig")
    rc, out = await _kubectl(kubeconfig, "get", "pods", "-A")
    assert rc == 0, out
    header = out.splitlines()[0].split()
    assert header == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {line.split()[1]: line.split() for line in out.splitlines()[1:]}
    by_ns = {(line.split()[0], line.split()[1]): line.split() for line in out.splitlines()[1:]}
    assert rows["payment-service-7d9f4b8c6-xk2p9"][3] == "CrashLoopBackOff"
    assert rows["profile-api-7c9d8b6f5-wn4tq"][3] == "Init:CrashLoopBackOff"
    assert rows["billing-api-6c8d7f5b9-t8wq2"][3] == "CreateContainerConfigError"
    assert by_ns[("staging", "postgres-0")][2:4] == ["1/1", "Running"]
    rc, out = await _kubectl(kubeconfig, "get", "secret", "stripe-secret", "-n", "production")
    assert rc == 1 and 'Error from server (NotFound): secrets "stripe-secret" not found' in out
    rc, out = await _kubectl(kubeconfig, "logs", "payment-service-7d9f4b8c6-xk2p9", "-n", "production",
                             "--previous")
    assert rc == 0 and "FATAL Missing required environment variable: STRIPE_SECRET_KEY" in out
    rc, out = await _kubectl(kubeconfig, "describe", "pod", "checkout-api-6d5f8b7c4-lq9mz", "-n", "production")
    assert rc == 0 and "Container api failed liveness probe, will be restarted" in out
    assert "Last State:     Terminated" in out


async def test_kubectl_gets_services_and_endpointslices(make_sim: MakeSim, tmp_path: Path) -> None:
    """kubectl 1.35 finds endpointslices through /apis discovery and prints both with their columns."""
    sim = await make_sim(["dependency-chain"], tls=True)
    sim.cluster.advance(3)
    kubeconfig = sim.server.write_kubeconfig(tmp_path / "kubeconfig")
    rc, out = await _kubectl(kubeconfig, "get", "svc", "-n", "production")
    assert rc == 0, out
    assert out.splitlines()[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["postgres-service"][1:5] == ["ClusterIP", "10.96.45.12", "<none>", "5432/TCP"]
    assert rows["postgres"][2] == "None"
    ip = (sim.cluster.pod_json("production", "postgres-0") or {})["status"]["podIP"]
    rc, out = await _kubectl(kubeconfig, "get", "endpointslices", "-n", "production",
                             "-l", "kubernetes.io/service-name=postgres-service")
    assert rc == 0, out
    assert out.splitlines()[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    (row,) = [line.split() for line in out.splitlines()[1:]]
    assert row[0].startswith("postgres-service-") and row[1:4] == ["IPv4", "5432", ip]
    rc, out = await _kubectl(kubeconfig, "get", "endpointslices", "-n", "production", row[0], "-o", "json")
    assert rc == 0 and '"kubernetes.io/service-name": "postgres-service"' in out, out
