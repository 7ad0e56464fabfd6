"""`kubectl apply --dry-run=client` of every install variant against the simulator, as docs/deploy.md tells
a user to check a render without a cluster.

A client dry run still needs an API server: kubectl maps each kind through discovery, asks OpenAPI v3
whether the server validates fields, and GETs each object (a NotFound makes it a create). The sim
(`crashloop-exporter sim`, its own process, TLS with the kubeconfig it writes) is that server. The chart
goes through a real pipe, `helm template ... | kubectl apply --dry-run=client -f -`; the overlays through
`kubectl apply -k`. Every rendered object must come back as `<kind>[.<group>]/<name> created (dry run)`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.deploy_helpers import CHART, RELEASE, VARIANTS, Rendered, helm_path, kubectl_path
from tests.integration.procs import running_sim

KUBECTL_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def sim_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running `crashloop-exporter sim` (TLS, token auth) and the kubeconfig it wrote."""
    tmp = tmp_path_factory.mktemp("dry-run-sim")
    with running_sim(tmp, scenarios="healthy", extra=("--paused",), tls=True) as sim:
        yield Path(sim.kubeconfig)


def _kubectl_apply(kubeconfig: Path, cache: Path) -> list[str]:
    return [kubectl_path(), "apply", "--dry-run=client", "--kubeconfig", str(kubeconfig),
            "--cache-dir", str(cache), "--request-timeout=30s"]


def _expected_lines(rendered: Rendered) -> set[str]:
    """What kubectl prints for each object a client dry run creates: `deployment.apps/NAME created (dry run)`."""
    lines = set()
    for obj in rendered.objects:
        group = obj["apiVersion"].rpartition("/")[0]
        resource = obj["kind"].lower() + (f".{group}" if group else "")
        lines.add(f"{resource}/{obj['metadata']['name']} created (dry run)")
    return lines


def _check(result: subprocess.CompletedProcess[str], rendered: Rendered, command: str) -> None:
    printed = set(result.stdout.splitlines())
    expected = _expected_lines(rendered)
    assert result.returncode == 0 and printed == expected, (
        f"{command} exited {result.returncode}\n  missing: {sorted(expected - printed)}\n"
        f"  unexpected: {sorted(printed - expected)}\n  stderr: {result.stderr.strip()}")
    assert len(expected) == len(rendered.objects), f"{rendered.overlay}: two objects share a kind and name"


def _helm_pipe_kubectl(values: Path, apply: list[str]) -> subprocess.CompletedProcess[str]:
    """`helm template RELEASE CHART -n RELEASE -f VALUES | kubectl apply --dry-run=client -f -`, a real pipe."""
    helm = subprocess.Popen([helm_path(), "template", RELEASE, str(CHART), "-n", RELEASE, "-f", str(values)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert helm.stdout is not None
    try:
        kubectl = subprocess.run([*apply, "-f", "-"], stdin=helm.stdout, capture_output=True, text=True,
                                 timeout=KUBECTL_TIMEOUT, check=False)
    finally:
        helm.stdout.close()
        _, helm_err = helm.communicate(timeout=KUBECTL_TIMEOUT)
    assert helm.returncode == 0, f"helm template -f {values.name} failed: {helm_err.strip()}"
    return kubectl


@pytest.mark.parametrize("variant", [name for name, v in VARIANTS.items() if v.helm])
def test_helm_template_pipes_into_kubectl_client_dry_run(
        variant: str, rendered: dict[str, Rendered], sim_kubeconfig: Path, tmp_path: Path) -> None:
    """Each chart ci/ values file: every object helm renders is a "created (dry run)" for kubectl."""
    result = _helm_pipe_kubectl(VARIANTS[variant].source, _kubectl_apply(sim_kubeconfig, tmp_path / "cache"))
    _check(result, rendered[variant], f"helm template -f {VARIANTS[variant].source.name} | kubectl apply -f -")


@pytest.mark.parametrize("variant", [name for name, v in VARIANTS.items() if not v.helm])
def test_kubectl_apply_k_client_dry_run(
        variant: str, rendered: dict[str, Rendered], sim_kubeconfig: Path, tmp_path: Path) -> None:
    """Each kustomize overlay: `kubectl apply -k deploy/<overlay> --dry-run=client` creates every object."""
    source = VARIANTS[variant].source
    argv = [*_kubectl_apply(sim_kubeconfig, tmp_path / "cache"), "-k", str(source)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=KUBECTL_TIMEOUT, check=False)
    _check(result, rendered[variant], f"kubectl apply -k {source}")
