"""The seed's payment-service, checked before its rollout against the simulated production namespace.

The worked scenario crashed because STRIPE_SECRET_KEY came from an optional secretKeyRef to a
Secret that production never had; DATABASE_URL came from postgres-secret, which was fine. The
seed's prevention step is a pre-deploy secret check; preflight must turn exactly that into one
warning that spells out the trap, and say nothing about postgres-secret.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .conftest import FIXTURES, REPO, Sim, run_cli_async

SEED = FIXTURES / "OptionalSecretNotFound" / "seed-payment-service.yaml"
SEED_WARNING = (
    "STRIPE_SECRET_KEY comes from optional secret stripe-secret (key secret-key), which does not exist in "
    "production: the container will start with STRIPE_SECRET_KEY empty, and the app will likely exit with a "
    '"missing environment variable" error (crash cause missing_secret)'
)
CLI = [sys.executable, "-m", "crashloop_exporter"]


def _seed_line(text: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if "name: STRIPE_SECRET_KEY" in line)


async def test_seed_gives_exactly_the_optional_secret_warning(sim: Sim) -> None:
    """One warning, word for word the seed's trap, at the STRIPE_SECRET_KEY line; exit 0 (warnings pass)."""
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(sim.kubeconfig), "-o", "json"])
    assert result.code == 0, result.stderr
    findings = json.loads(result.stdout)
    assert len(findings) == 1
    (f,) = findings
    assert f["evidence"] == [{"source": "spec", "detail": SEED_WARNING}]
    assert (f["severity"], f["cause"], f["reason"], f["phase"]) == (
        "warning", "missing_secret", "OptionalSecretNotFound", "preflight")
    assert (f["namespace"], f["workload_kind"], f["workload"], f["container"]) == (
        "production", "Deployment", "payment-service", "payment-service")
    assert f["line"] == _seed_line(SEED.read_text())
    assert "postgres-secret" not in result.stdout


async def test_seed_looked_up_both_secrets_in_production(sim: Sim) -> None:
    """No error for postgres-secret because it was found (key `url` read), not because it was skipped."""
    await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(sim.kubeconfig)])
    paths = {r["path"] for r in sim.cluster.stats_json()["recent_requests"]}
    assert "/api/v1/namespaces/production/secrets/postgres-secret" in paths
    assert "/api/v1/namespaces/production/secrets/stripe-secret" in paths


async def test_seed_strict_fails_the_rollout(sim: Sim) -> None:
    """--strict turns the warning into exit 1, for pipelines that want optional refs resolved too."""
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(sim.kubeconfig), "--strict"])
    assert result.code == 1
    assert SEED_WARNING.split(":")[0] in result.stdout.replace("\n    ", " ")


async def test_seed_secret_created_in_production_is_clean(sim: Sim) -> None:
    """Step 4 of the seed (create stripe-secret in production) makes the same manifest pass silently."""
    from crashloop_exporter.sim.objects import secret_body

    sim.cluster.store["secrets"].put_dict(secret_body(
        namespace="production", name="stripe-secret", data={"secret-key": "sk_live_placeholder"}, stype="Opaque",
        uid="00000000-0000-0000-0000-000000000001", created=time.time()))
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(sim.kubeconfig), "-o", "json"])
    assert (result.code, json.loads(result.stdout)) == (0, [])


def test_seed_end_to_end_with_the_sim_cli(tmp_path: Path) -> None:
    """`crashloop-exporter sim` and `preflight -o github` as separate processes, as in a CI job."""
    kubeconfig = tmp_path / "kubeconfig"
    env = {**os.environ, "PYTHONPATH": str(REPO / "exporter")}
    sim = subprocess.Popen(
        [*CLI, "sim", "--listen", "127.0.0.1:0", "--kubeconfig-out", str(kubeconfig), "--scenarios", "healthy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()  # the sim prints one line once it serves (or exits on failure)
        assert line.startswith("sim listening on "), line + (sim.stderr.read() if sim.stderr else "")
        done = subprocess.run(
            [*CLI, "preflight", "-f", str(SEED), "-o", "github", "--kubeconfig", str(kubeconfig)],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
        )
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    assert done.returncode == 0, done.stderr
    annotations = done.stdout.splitlines()
    assert len(annotations) == 1
    prefix = (f"::warning file={SEED},line={_seed_line(SEED.read_text())},"
              "title=crashloop-exporter preflight (missing_secret)::")
    assert annotations[0].startswith(prefix)
    assert SEED_WARNING in annotations[0]
    assert "1 warning" in done.stderr
