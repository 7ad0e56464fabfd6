"""The checked-in rules through promtool: they parse, and every unit test passes.

The mutation tests show the unit tests have teeth: a pack whose threshold or template drifted
from what the tests expect must fail them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crashloop_exporter.artifacts import write_files
from crashloop_exporter.rulegen import RULES_FILE, TESTS_DIR, RulesConfig, generate_files
from tests.rules.conftest import RULES_DIR, TESTS_PATH, Runner, rule_files, unit_test_files


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_promtool_accepts_the_rule_file(promtool: Runner, path: Path) -> None:
    """`promtool check rules` parses every expression and template of the rule file."""
    result = promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_pack_has_rule_files_and_unit_tests() -> None:
    """rules/ holds at least one rule file and one promtool test file (so the parametrised tests ran)."""
    assert rule_files(), f"no rule file in {RULES_DIR}"
    assert unit_test_files(), f"no promtool test in {TESTS_PATH}"


@pytest.mark.parametrize("path", unit_test_files(), ids=lambda p: p.name)
def test_promtool_unit_tests_pass(promtool: Runner, path: Path) -> None:
    """`promtool test rules` passes: alerts are silent before `for`, fire with exact labels and annotations."""
    result = promtool("test", "rules", path.name, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def _mutated_pack(tmp_path: Path, rules_text: str) -> Path:
    """The checked-in tests next to a different rules file."""
    out = tmp_path / "pack"
    shutil.copytree(TESTS_PATH, out / TESTS_DIR)
    (out / RULES_FILE).write_text(rules_text, encoding="utf-8")
    return out


def test_unit_tests_fail_when_a_threshold_drifts(promtool: Runner, tmp_path: Path) -> None:
    """Rules generated with a restart threshold of 4 fail the tests written for the pack's 3."""
    drifted = generate_files(RulesConfig(restart_threshold=4), with_tests=False)[RULES_FILE]
    out = _mutated_pack(tmp_path, drifted)
    result = promtool("test", "rules", "restarts.test.yaml", cwd=out / TESTS_DIR)
    assert result.returncode != 0
    assert "CrashLoopRestartsIncreasing" in result.stdout + result.stderr


def test_unit_tests_fail_when_an_annotation_renders_differently(promtool: Runner, tmp_path: Path) -> None:
    """A workload reference rendered as `Deployment/x` instead of kubectl's `deployment/x` fails the cause tests."""
    original = (RULES_DIR / RULES_FILE).read_text(encoding="utf-8")
    assert "| toLower }}" in original
    out = _mutated_pack(tmp_path, original.replace("| toLower }}", "}}"))
    result = promtool("test", "rules", "causes.test.yaml", cwd=out / TESTS_DIR)
    assert result.returncode != 0
    assert "of pod payments/payment-service-7d9c6b5f4-x2vqz (Deployment/payment-service)" in result.stderr


def test_a_site_specific_pack_passes_its_own_tests(promtool: Runner, tmp_path: Path) -> None:
    """Other job names and cluster label produce a pack whose generated tests pass too."""
    config = RulesConfig(exporter_selector='job="crashloop", service="crashloop-exporter"', ksm_selector='job="ksm"',
                         cluster_label="k8s_cluster")
    write_files(tmp_path, generate_files(config))
    text = (tmp_path / RULES_FILE).read_text(encoding="utf-8")
    assert 'job="kube-state-metrics"' not in text and "(cluster," not in text
    check = promtool("check", "rules", tmp_path / RULES_FILE)
    assert check.returncode == 0, check.stdout + check.stderr
    for path in sorted((tmp_path / TESTS_DIR).glob("*.test.yaml")):
        result = promtool("test", "rules", path.name, cwd=path.parent)
        assert result.returncode == 0, f"{path.name}:\n{result.stdout}{result.stderr}"


def test_a_pack_without_cluster_label_and_with_regex_selectors_parses(promtool: Runner, tmp_path: Path) -> None:
    """Regex selectors and no cluster label still give rules promtool accepts."""
    config = RulesConfig(exporter_selector='job=~"crashloop-exporter|crashloop-exporter-shard-.+"',
                         ksm_selector='job=~"kube-state-metrics.*"', cluster_label="")
    write_files(tmp_path, generate_files(config, with_tests=False))
    text = (tmp_path / RULES_FILE).read_text(encoding="utf-8")
    assert "cluster" not in text.split("groups:", 1)[1]
    result = promtool("check", "rules", tmp_path / RULES_FILE)
    assert result.returncode == 0, result.stdout + result.stderr
