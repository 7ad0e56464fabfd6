"""Every check against its fixtures: the findings are exactly the `# expect:` markers, by check and line.

Live runs go over real HTTP to the simulated cluster, the way CI reaches a real API server.
"""

from __future__ import annotations

from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.catalog import BY_ID
from crashloop_exporter.kube.client import KubeClient
from crashloop_exporter.kube.config import load_credentials
from crashloop_exporter.preflight import CHECKS, Options, load_manifests, run_checks
from crashloop_exporter.preflight.checks import BY_CHECK
from crashloop_exporter.preflight.checks_live import OpenLookup, PreflightClient
from crashloop_exporter.preflight.runner import Result

from .conftest import Sim, expectations, fixture_files, fixture_id

FILES = fixture_files()


def sim_lookup(kubeconfig: Path) -> OpenLookup:
    @asynccontextmanager
    async def open_lookup() -> Any:
        async with KubeClient(load_credentials(kubeconfig=str(kubeconfig)), request_timeout=10) as client:
            yield PreflightClient(client)

    return open_lookup


async def check_live(path: Path, sim: Sim) -> Result:
    if path.parent.name.endswith("CheckForbidden"):
        sim.forbid("secrets" if path.parent.name.startswith("Secret") else "configmaps")
    return await run_checks(
        load_manifests([str(path)]), Options(), open_lookup=sim_lookup(sim.kubeconfig),
        default_namespace=lambda: "default",
    )


def found(result: Result) -> Counter[tuple[str, int]]:
    return Counter((f.check, f.line) for f in result.findings)


@pytest.mark.parametrize("path", FILES, ids=fixture_id)
async def test_live_findings_match_markers(path: Path, sim: Sim) -> None:
    """Against the sim, a fixture yields exactly its marked findings (check id and line)."""
    result = await check_live(path, sim)
    assert found(result) == Counter((e.check, e.line) for e in expectations(path))


@pytest.mark.parametrize("path", FILES, ids=fixture_id)
async def test_offline_findings_match_markers(path: Path) -> None:
    """--offline yields the static markers and those from the input itself, and never opens a client."""

    def no_client() -> Any:
        raise AssertionError("offline preflight must not contact a cluster")

    result = await run_checks(load_manifests([str(path)]), Options(offline=True), open_lookup=no_client)
    expected = Counter(
        (e.check, e.line) for e in expectations(path) if e.offline or BY_CHECK[e.check].phase == "static"
    )
    assert found(result) == expected
    assert result.offline


def test_every_check_has_a_failing_fixture() -> None:
    """Adding a check means adding a fixture directory named after it, with a marker for it."""
    marked = {e.check for path in FILES for e in expectations(path)}
    dirs = {p.parent.name for p in FILES} - {"clean"}
    assert dirs == set(BY_CHECK)
    assert marked == set(BY_CHECK)
    assert any(p.parent.name == "clean" for p in FILES)


def test_checks_map_to_catalog_causes() -> None:
    """Every check prevents a cause that exists in the catalog, so its finding can carry the fix."""
    for check in CHECKS:
        assert check.cause in BY_ID, check.id


@pytest.mark.parametrize("path", [p for p in FILES if p.parent.name != "clean"], ids=fixture_id)
async def test_findings_carry_catalog_fix_and_runbook(path: Path, sim: Sim) -> None:
    """Each finding has its check's cause and severity, the catalog runbook link, a filled fix, spec evidence."""
    result = await check_live(path, sim)
    assert result.findings
    for f in result.findings:
        check = BY_CHECK[f.check]
        assert f.finding.cause == check.cause
        assert f.severity == check.severity
        assert f.finding.runbook_url == BY_ID[check.cause].runbook_url
        assert f.finding.remediation and "${" not in f.finding.remediation
        assert [e.source for e in f.finding.evidence] == ["spec"]
        assert f.file == str(path)
        assert not f.finding.failing and f.finding.exit_code is None and f.finding.restarts == 0


async def test_remediation_names_what_the_check_found(sim: Sim) -> None:
    """The fix is the catalog's, filled with the secret, key, namespace and workload of the finding."""
    path = next(p for p in FILES if p.parent.name == "SecretKeyNotFound" and p.name.startswith("env"))
    result = await check_live(path, sim)
    env_finding = next(f for f in result.findings if f.finding.facts.get("env_var") == "DB_PASSWORD")
    fix = env_finding.finding.remediation
    assert "kubectl get secret postgres-secret -n production" in fix
    assert '"path":"/data/DB_PASSWORD"' in fix
    assert "kubectl rollout restart deployment/api-deployment -n production" in fix


@pytest.mark.parametrize("path", [p for p in FILES if p.parent.name == "clean"], ids=fixture_id)
async def test_clean_fixtures_look_up_every_object(path: Path, sim: Sim) -> None:
    """A clean fixture is clean because its objects were found, not because nothing was checked."""
    result = await check_live(path, sim)
    assert result.findings == []
    assert all(o.state == "found" for o in result.observations.values())
    assert bool(result.observations) == (result.references > 0)
