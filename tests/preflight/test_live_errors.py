"""When the cluster cannot answer: RBAC is a warning, anything else one clear line and exit 1."""

from __future__ import annotations

import socket
from pathlib import Path

from .conftest import FIXTURES, FakeApi, Sim, run_cli_async

SEED = FIXTURES / "OptionalSecretNotFound" / "seed-payment-service.yaml"
NO_REFS = FIXTURES / "MutableImageTag" / "images.yaml"


async def test_forbidden_is_a_warning_not_a_crash(sim: Sim) -> None:
    """403 on GET secrets: "cannot check (RBAC)" once per secret, exit 0; --strict fails."""
    sim.forbid("secrets")
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(sim.kubeconfig)])
    assert result.code == 0 and "Traceback" not in result.stderr
    text = result.stdout.replace("\n    ", " ")
    assert text.count("SecretCheckForbidden") == 2  # postgres-secret and stripe-secret, one row each
    assert "cannot check (RBAC) whether secret stripe-secret exists in production" in text
    assert 'cannot get resource "secrets"' in text  # the API server's own words name the missing verb
    assert "2 of them forbidden (RBAC)" in result.stdout
    strict = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(sim.kubeconfig), "--strict"])
    assert strict.code == 1


async def test_server_error_is_one_line_exit_1(fake_api: tuple[FakeApi, Path]) -> None:
    """A 500 on a GET stops preflight with one line naming the object, not a traceback."""
    api, kubeconfig = fake_api
    api.statuses["/api/v1/namespaces/production/secrets/stripe-secret"] = 500
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(kubeconfig)])
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "crashloop-exporter preflight: error: cannot check secret stripe-secret in namespace production: HTTP 500")
    assert "--offline" in result.stderr


async def test_unreachable_api_is_one_line_exit_1(tmp_path: Path) -> None:
    """Nothing listening at the kubeconfig's server: exit 1, one line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: connection refused
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n")
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(kubeconfig)])
    assert result.code == 1 and result.stderr.count("\n") == 1
    assert "cannot check secret" in result.stderr and "Traceback" not in result.stderr


async def test_no_credentials_suggests_offline(tmp_path: Path) -> None:
    """No kubeconfig: one line that says so and points at --offline."""
    result = await run_cli_async(["preflight", "-f", str(SEED), "--kubeconfig", str(tmp_path / "missing")])
    assert result.code == 1 and result.stderr.count("\n") == 1
    assert "file does not exist" in result.stderr and "--offline" in result.stderr


async def test_no_references_needs_no_cluster(tmp_path: Path) -> None:
    """Manifests that reference no Secret/ConfigMap are fully checked without credentials."""
    result = await run_cli_async(["preflight", "-f", str(NO_REFS), "--kubeconfig", str(tmp_path / "missing")])
    assert result.code == 0 and "3 warnings" in result.stdout


async def test_missing_namespace_resolves_in_the_context_namespace(sim: Sim) -> None:
    """No namespace and no -n: checked where kubectl would apply it (the sim context's `default`)."""
    path = FIXTURES / "NoNamespace" / "staging-vs-production.yaml"
    result = await run_cli_async(["preflight", "-f", str(path), "--kubeconfig", str(sim.kubeconfig)])
    text = result.stdout.replace("\n    ", " ")
    assert result.code == 1
    assert "checked against default, the kubeconfig context's namespace" in text
    assert "DATABASE_URL comes from secret postgres-secret (key url), which does not exist in default" in text
    with_ns = await run_cli_async(["preflight", "-f", str(path), "-n", "production", "--kubeconfig",
                                   str(sim.kubeconfig)])
    assert with_ns.code == 0 and "no problems found" in with_ns.stdout
