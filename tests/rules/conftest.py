"""Shared paths and tool runners of the rules-pack tests.

promtool and amtool are the Debian packages' binaries (scripts/install-system-deps.sh); the tests
run the checked-in files through them exactly as a user's CI would.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import yaml

from crashloop_exporter.rulegen import ALERTMANAGER_FILE, RULES_FILE, TESTS_DIR

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "rules"
RULES_PATH = RULES_DIR / RULES_FILE
TESTS_PATH = RULES_DIR / TESTS_DIR
ALERTMANAGER_PATH = RULES_DIR / ALERTMANAGER_FILE
TOOL_TIMEOUT = 60

Runner = Callable[..., subprocess.CompletedProcess[str]]


def _runner(name: str) -> Runner:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: run scripts/install-system-deps.sh")

    def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=TOOL_TIMEOUT,
                              cwd=cwd, check=False)

    return run


@pytest.fixture(scope="session")
def promtool() -> Runner:
    return _runner("promtool")


@pytest.fixture(scope="session")
def amtool() -> Runner:
    return _runner("amtool")


def load_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rule_files() -> Sequence[Path]:
    """Every Prometheus rule file of the pack (top-level `groups`)."""
    return sorted(p for p in RULES_DIR.glob("*.yaml") if isinstance(data := load_yaml(p), dict) and "groups" in data)


def unit_test_files() -> Sequence[Path]:
    return sorted(TESTS_PATH.glob("*.test.yaml"))
