"""The classifier against every fixture: cause, failing, reason, exit code, evidence and fix."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.catalog import CAUSES
from crashloop_exporter.classify import classify
from crashloop_exporter.findings import Finding

from .conftest import FIXTURES, case_files, load_case

FILES = case_files()


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_fixture_classifies_as_expected(path: Path) -> None:
    """Each fixture's containers get exactly the expected findings (and no others)."""
    case = load_case(path)
    findings = {
        f.container: f for f in classify(case.pod, events=case.events, logs=case.logs, node=case.node, now=case.now)
    }
    expected = {e["container"]: e for e in case.expect}
    problems = []
    for name, found in findings.items():
        if name not in expected and found.failing:
            problems.append(f"{name}: unexpected failing finding {found.cause} ({found.reason})")
    for name, exp in expected.items():
        f = findings.get(name)
        if f is None:
            problems.append(f"{name}: expected {exp['cause']}, got no finding")
            continue
        problems += _field_problems(name, f, exp) + _text_problems(name, f, exp)
    assert not problems, "\n".join(problems)


def _field_problems(name: str, f: Finding, exp: Mapping[str, Any]) -> list[str]:
    """Where the finding's cause, failing, type, reason or exit code differ from the expected ones."""
    problems = []
    if f.cause != exp["cause"]:
        problems.append(f"{name}: expected cause {exp['cause']}, got {f.cause}; evidence={f.evidence}")
    if "failing" in exp and f.failing != exp["failing"]:
        problems.append(f"{name}: expected failing={exp['failing']}, got {f.failing}")
    if "container_type" in exp and f.container_type != exp["container_type"]:
        problems.append(f"{name}: expected type {exp['container_type']}, got {f.container_type}")
    if "reason" in exp and exp["reason"] and f.reason != exp["reason"]:
        problems.append(f"{name}: expected reason {exp['reason']}, got {f.reason}")
    if "exit_code" in exp and f.exit_code != exp["exit_code"]:
        problems.append(f"{name}: expected exit code {exp['exit_code']}, got {f.exit_code}")
    return problems


def _text_problems(name: str, f: Finding, exp: Mapping[str, Any]) -> list[str]:
    """Where the evidence or the remediation lacks an expected text or leaks a forbidden one."""
    problems = []
    details = " | ".join(e.detail for e in f.evidence)
    for s in exp.get("evidence_contains") or []:
        if s not in details:
            problems.append(f"{name}: evidence lacks {s!r}: {details}")
    for s in exp.get("evidence_not_contains") or []:
        if s in details or s in f.remediation:
            problems.append(f"{name}: evidence/remediation leaks {s!r}")
    for s in exp.get("remediation_contains") or []:
        if s not in f.remediation:
            problems.append(f"{name}: remediation lacks {s!r}:\n{f.remediation}")
    return problems


def test_every_cause_has_a_fixture() -> None:
    """Meta: adding a cause to the catalog requires adding a fixture for it."""
    have = {p.parent.name for p in FIXTURES.glob("causes/*/*.yaml")}
    missing = [c.id for c in CAUSES if c.id not in have]
    assert not missing, f"causes without a fixture: {missing}"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_evidence_is_bounded_and_single_line(path: Path) -> None:
    """Evidence is quoted and trimmed: one line, at most 240 characters, no control characters."""
    case = load_case(path)
    for f in classify(case.pod, events=case.events, logs=case.logs, node=case.node, now=case.now):
        assert f.evidence, f"{f.container}: a finding without evidence"
        for e in f.evidence:
            assert len(e.detail) <= 240
            assert "\n" not in e.detail and "\x1b" not in e.detail
