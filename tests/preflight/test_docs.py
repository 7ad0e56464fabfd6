"""docs/preflight.md stays true: every check listed with its cause, the RBAC it asks for is valid and
minimal, and the CI snippet runs the documented pipeline."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import yaml

from crashloop_exporter.preflight import CHECKS

from .conftest import REPO

DOC = (REPO / "docs" / "preflight.md").read_text(encoding="utf-8")
CI_COMMAND = "kubectl kustomize overlay/ | crashloop-exporter preflight -f - -n production -o github"


def yaml_documents() -> list[Any]:
    """Every YAML document of every ```yaml block of the doc."""
    return [d for block in re.findall(r"```yaml\n(.*?)```", DOC, re.S) for d in yaml.safe_load_all(block)]


def test_every_check_is_documented_with_its_cause_and_severity() -> None:
    """The checks table names each check's cause and severity, as the code's table does."""
    for check in CHECKS:
        assert f"| `{check.id}` | `{check.cause}` | {check.severity} |" in DOC, check.id
    documented = set(re.findall(r"^\| `(\w+)` \| `", DOC, re.M))
    assert documented == {c.id for c in CHECKS}


def test_rbac_example_is_valid_and_only_gets_secrets_and_configmaps() -> None:
    """The CI identity's Role validates against the Kubernetes schema and grants get, nothing more."""
    rbac = [d for d in yaml_documents() if isinstance(d, dict) and d.get("apiVersion", "").startswith("rbac.")]
    assert {d["kind"] for d in rbac} == {"Role", "RoleBinding"}
    latest = max(kubernetes_validate.utils.all_versions(), key=lambda v: tuple(map(int, v.split("."))))
    for obj in rbac:
        kubernetes_validate.validate(obj, latest, strict=True)
    (role,) = [d for d in rbac if d["kind"] == "Role"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["get"]}]


def test_exporter_clusterrole_does_not_read_secrets() -> None:
    """The docs promise the exporter itself never gets secrets or configmaps."""
    role = yaml.safe_load((REPO / "deploy" / "base" / "clusterrole.yaml").read_text(encoding="utf-8"))
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert not resources & {"secrets", "configmaps"}


def test_ci_snippet_runs_the_pipeline_with_pipefail() -> None:
    """The GitHub Actions step runs the documented pipe under bash (-eo pipefail) with -o github."""
    steps = [s for block in yaml_documents() if isinstance(block, list) for s in block]
    (step,) = [s for s in steps if "preflight" in str(s.get("run", ""))]
    assert step["shell"] == "bash"
    assert step["run"].strip() == CI_COMMAND
    assert "> kubectl kustomize overlay/ | crashloop-exporter preflight -f - -n production" in DOC
