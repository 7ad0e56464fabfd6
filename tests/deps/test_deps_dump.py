"""`diagnose --dump` resolves each dependent's address from the dump's services.json and pod IPs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import dumps as k
from tests.deps import chainfixtures as fx


def test_dump_gives_each_dependent_its_dependency(tmp_path: Path) -> None:
    """FQDN, short name, cross-namespace headless pod, bare ClusterIP, two hops, healthy and external."""
    proc = k.run_diagnose("--dump", str(fx.write_dump(tmp_path / "dump")), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    got = {f["container"]: f["dependency"] for f in json.loads(proc.stdout) if f["cause"] == "dependency_unavailable"}
    assert got == fx.EXPECTED, json.dumps(got, indent=1)


def test_table_prints_the_chain_and_the_root_fix(tmp_path: Path) -> None:
    """Under the dependent: `needs ... → Kind/name: pod is failing (cause) — fix it first`, with the root's fix."""
    proc = k.run_diagnose("--dump", str(fx.write_dump(tmp_path / "dump")), "-n", "production")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert ("needs postgres-service.production.svc.cluster.local:5432 → StatefulSet/postgres: postgres-0 is failing "
            "(oomkilled) — fix it first") in out, out
    assert "needs 10.96.20.7:8080 → Deployment/orders: orders-8d7f6-asdfg is failing (dependency_unavailable)" in out
    assert "root: Deployment/auth in production: auth-9e8d7-hjklm (missing_secret)" in out, out
    assert "kubectl get networkpolicies -n production" in out  # the healthy cache: the seed's next steps
    assert "smtp.example.com resolves to nothing in the cluster: check the name and DNS" in out, out


def test_no_dependencies_flag_keeps_dependency_null(tmp_path: Path) -> None:
    """--no-dependencies: today's behaviour, every dependency null."""
    proc = k.run_diagnose("--dump", str(fx.write_dump(tmp_path / "dump")), "-o", "json", "--no-dependencies")
    assert proc.returncode == 0, proc.stderr
    assert all(f["dependency"] is None for f in json.loads(proc.stdout))
