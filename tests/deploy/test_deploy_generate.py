"""The deploy wrappers `crashloop-exporter generate` writes are fresh and faithful to their sources.

The PrometheusRules and dashboard ConfigMaps are derived from rules/ and dashboards/ (written by
their own generators), and the sharded StatefulSet from the base Deployment; a stale copy is a
test failure, never a silent drift. Rules are re-checked with promtool after wrapping, and the
plain-Prometheus scrape config with `promtool check config`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from crashloop_exporter import artifacts
from crashloop_exporter.errors import InputError
from crashloop_exporter.settings import DEFAULT_PORT
from tests.deploy.deploy_helpers import DEPLOY, MONITORING_OVERLAYS, REPO_ROOT, Rendered

PROMTOOL = shutil.which("promtool")

KUBERNETES_SD_FIELDS = {"role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata",
                        "basic_auth", "authorization", "oauth2", "tls_config", "proxy_url", "follow_redirects"}
"""Fields of Prometheus' kubernetes_sd_config (docs: configuration/#kubernetes_sd_config)."""


def _documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _promtool() -> str:
    if PROMTOOL is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package")
    return PROMTOOL


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A minimal repo: the real base Deployment, one rule file, one non-rule YAML, one dashboard."""
    (tmp_path / "deploy" / "base").mkdir(parents=True)
    shutil.copy(DEPLOY / "base" / "deployment.yaml", tmp_path / "deploy" / "base" / "deployment.yaml")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "crashloop.rules.yaml").write_text(yaml.safe_dump({"groups": [{
        "name": "crashloop.alerts",
        "rules": [
            {"record": "cause:crashloop_crashes:rate5m",
             "expr": 'sum by (cluster, cause) (rate(crashloop_crashes_total{job="crashloop-exporter"}[5m]))'},
            {"alert": "CrashLoopOOMKilled",
             "expr": 'sum by (namespace) (crashloop_container_failing{cause="oomkilled"}) > 0',
             "for": "5m", "labels": {"severity": "critical", "cause": "oomkilled"},
             "annotations": {"summary": "OOM\nkilled", "runbook_url": "https://example.invalid/#oomkilled"}},
        ],
    }]}))
    (tmp_path / "rules" / "alertmanager.yaml").write_text("route:\n  receiver: x\nreceivers:\n- name: x\n")
    (tmp_path / "dashboards").mkdir()
    dashboard = {"title": "CrashLoop overview", "uid": "crashloop-overview",
                 "panels": [{"type": "timeseries", "title": "Crashes \u2014 by cause",
                             "targets": [{"expr": "sum by (cause) (cause:crashloop_crashes:rate5m)"}]}]}
    (tmp_path / "dashboards" / "crashloop-overview.json").write_text(json.dumps(dashboard, indent=2) + "\n")
    return tmp_path


def test_checked_in_files_are_fresh() -> None:
    """Regenerating from rules/, dashboards/ and deploy/base changes nothing that is checked in."""
    stale = artifacts.stale_files(REPO_ROOT, only=["deploy", "helm"])
    assert stale == [], f"stale: {stale}; run `make generate`"


def test_check_mode_reports_a_stale_file(generate: ModuleType, tree: Path) -> None:
    """The one generator's check names a deploy wrapper whose content was edited by hand."""
    for rel, text in generate.render(tree).items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    assert artifacts.stale_files(tree, only=["deploy"]) == []
    statefulset = tree / "deploy" / "sharded" / "statefulset.yaml"
    original = statefulset.read_text()
    statefulset.write_text(original.replace("replicas:", "replicas: 7 #", 1))
    assert statefulset.read_text() != original
    assert artifacts.stale_files(tree, only=["deploy"]) == ["deploy/sharded/statefulset.yaml"]


def test_one_prometheusrule_per_rule_file(generate: ModuleType, tree: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Each rules/*.yaml with `groups` becomes one PrometheusRule with those groups unchanged;
    other YAML (an Alertmanager example) is skipped with a message naming it."""
    documents = _documents(generate.render_prometheus_rules(tree))
    assert [d["metadata"]["name"] for d in documents] == ["crashloop-exporter"]
    source = yaml.safe_load((tree / "rules" / "crashloop.rules.yaml").read_text())
    assert documents[0]["spec"] == source
    assert documents[0]["kind"] == "PrometheusRule" and documents[0]["metadata"]["namespace"] == "crashloop-exporter"
    assert "skipping rules/alertmanager.yaml" in capsys.readouterr().err


def test_one_configmap_per_dashboard_with_the_sidecar_label(generate: ModuleType, tree: Path) -> None:
    """Each dashboards/*.json becomes a ConfigMap labelled grafana_dashboard=1 whose data is the
    file's exact text (non-ASCII included)."""
    (configmap,) = _documents(generate.render_dashboards(tree))
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["name"] == "crashloop-exporter-overview-dashboard"
    original = (tree / "dashboards" / "crashloop-overview.json").read_text()
    assert configmap["data"] == {"crashloop-overview.json": original}


def test_broken_dashboard_is_a_clear_error(generate: ModuleType, tree: Path) -> None:
    """A dashboard that is not JSON raises InputError naming the file, instead of shipping it."""
    (tree / "dashboards" / "broken.json").write_text("{not json")
    with pytest.raises(InputError, match=r"dashboards/broken\.json"):
        generate.render_dashboards(tree)


def test_rule_file_with_bad_groups_is_a_clear_error(generate: ModuleType, tree: Path) -> None:
    """A rule file whose groups are not named mappings raises InputError naming the file."""
    (tree / "rules" / "bad.yaml").write_text("groups:\n- rules: []\n")
    with pytest.raises(InputError, match=r"rules/bad\.yaml"):
        generate.render_prometheus_rules(tree)


def test_statefulset_adds_only_the_shard_flags(generate: ModuleType, tree: Path) -> None:
    """The generated StatefulSet runs SHARDS replicas with --shard from the pod index and
    --total-shards=SHARDS appended to the base args."""
    (statefulset,) = _documents(generate.render_statefulset(tree))
    base = yaml.safe_load((tree / "deploy" / "base" / "deployment.yaml").read_text())
    base_args = base["spec"]["template"]["spec"]["containers"][0]["args"]
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    assert statefulset["spec"]["replicas"] == generate.SHARDS
    assert container["args"] == [*base_args, "--shard=$(POD_INDEX)", f"--total-shards={generate.SHARDS}"]


def test_base_that_already_shards_is_rejected(generate: ModuleType, tree: Path) -> None:
    """A base Deployment that sets --shard itself cannot be turned into the sharded variant."""
    path = tree / "deploy" / "base" / "deployment.yaml"
    path.write_text(path.read_text().replace("- --log-format=json", "- --log-format=json\n        - --shard=0"))
    with pytest.raises(InputError, match="--shard"):
        generate.render_statefulset(tree)


def test_generated_rules_pass_promtool(generate: ModuleType, tree: Path) -> None:
    """The spec of a generated PrometheusRule is a rule file promtool accepts."""
    (document,) = _documents(generate.render_prometheus_rules(tree))
    path = tree / "promtool-rules.yaml"
    path.write_text(yaml.safe_dump(document["spec"]))
    result = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", MONITORING_OVERLAYS)
def test_checked_in_prometheusrules_match_rules_dir_and_pass_promtool(
    rendered: dict[str, Rendered], tmp_path: Path, overlay: str
) -> None:
    """deploy/prometheus-operator and the chart hold one PrometheusRule per rule file in rules/, with
    its groups unchanged, each of which promtool accepts."""
    rule_files = [p for p in sorted((REPO_ROOT / "rules").glob("*.yaml"))
                  if set(yaml.safe_load(p.read_text()) or {}) == {"groups"}]
    rules = rendered[overlay].of_kind("PrometheusRule")
    assert [r["spec"] for r in rules] == [yaml.safe_load(p.read_text()) for p in rule_files]
    for index, rule in enumerate(rules):
        path = tmp_path / f"{index}.yaml"
        path.write_text(yaml.safe_dump(rule["spec"]))
        result = subprocess.run([_promtool(), "check", "rules", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, f"{rule['metadata']['name']}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("overlay", MONITORING_OVERLAYS)
def test_checked_in_dashboards_match_dashboards_dir(rendered: dict[str, Rendered], overlay: str) -> None:
    """deploy/prometheus-operator and the chart hold one sidecar ConfigMap per dashboards/*.json, byte for byte."""
    configmaps = rendered[overlay].of_kind("ConfigMap")
    assert len(configmaps) == len(list((REPO_ROOT / "dashboards").glob("*.json")))
    expected = {p.name: p.read_text() for p in sorted((REPO_ROOT / "dashboards").glob("*.json"))}
    shipped: dict[str, str] = {}
    for configmap in configmaps:
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        shipped.update(configmap["data"])
    assert {k: v.rstrip("\n") for k, v in shipped.items()} == {k: v.rstrip("\n") for k, v in expected.items()}


def test_scrape_config_is_valid_and_selects_the_service(rendered: dict[str, Rendered], tmp_path: Path) -> None:
    """deploy/prometheus/scrape-config.yaml passes `promtool check config` inside a prometheus.yml,
    keeps only the exporter Service's port named metrics, and honours the exporter's labels."""
    snippet = yaml.safe_load((DEPLOY / "prometheus" / "scrape-config.yaml").read_text())
    (job,) = snippet
    assert job["job_name"] == "crashloop-exporter" and job["honor_labels"] is True
    assert [c["role"] for c in job["kubernetes_sd_configs"]] == ["endpoints"]
    service = rendered["base"].one("Service")
    keeps = {tuple(r["source_labels"]): r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"}
    assert keeps[("__meta_kubernetes_service_label_app_kubernetes_io_name",)] == \
        service["metadata"]["labels"]["app.kubernetes.io/name"]
    assert keeps[("__meta_kubernetes_endpoint_port_name",)] == "metrics"
    assert job["kubernetes_sd_configs"][0]["namespaces"]["names"] == [service["metadata"]["namespace"]]
    (sd_config,) = job["kubernetes_sd_configs"]
    assert set(sd_config) <= KUBERNETES_SD_FIELDS and set(sd_config["namespaces"]) <= {"names", "own_namespace"}
    # Debian's promtool is built without Kubernetes service discovery and rejects the field, so
    # promtool checks everything else (relabelling, durations, honor_labels) with the SD swapped
    # for a static target; the SD block itself is checked against its field list above.
    checkable = {k: v for k, v in job.items() if k != "kubernetes_sd_configs"}
    checkable["static_configs"] = [{"targets": [f"127.0.0.1:{DEFAULT_PORT}"]}]
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "30s"}, "scrape_configs": [checkable]}))
    result = subprocess.run([_promtool(), "check", "config", "--syntax-only", str(config)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
