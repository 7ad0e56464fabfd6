"""The rules pack, generated from the cause catalog: Prometheus rules, their promtool unit tests,
and the Alertmanager routing example.

The catalog is the only place a cause exists; this package turns it into files under `rules/`
(checked in, and a test fails when they are stale). `crashloop-exporter rules generate` is the CLI;
tests call `generate_files` with a `RulesConfig(for_override=...)` to get a fast copy of the same pack.

    files = generate_files(RulesConfig())        # {"crashloop-exporter.rules.yaml": "...", ...}
    artifacts.write_files(Path("rules"), files)  # the one writer and checker are in `artifacts`
    artifacts.stale_rules_pack(Path("rules"), files)  # [] when the checked-in files are current
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crashloop_exporter.rulegen import alertmanager, output, rules, unittests
from crashloop_exporter.rulegen.config import RoutingConfig, RulesConfig

RULES_FILE = "crashloop-exporter.rules.yaml"
"""The rules file, relative to the output directory (deploy's PrometheusRule embeds its groups)."""
TESTS_DIR = "tests"
"""promtool unit tests, relative to the output directory."""
ALERTMANAGER_FILE = "alertmanager/alertmanager.yml"
"""The Alertmanager routing example, relative to the output directory."""

__all__ = [
    "ALERTMANAGER_FILE",
    "RULES_FILE",
    "TESTS_DIR",
    "RoutingConfig",
    "RulesConfig",
    "generate_files",
    "orphan_tests",
]


def generate_files(
    config: RulesConfig | None = None, routing: RoutingConfig | None = None, *, with_tests: bool = True
) -> dict[str, str]:
    """Every file of the pack: relative path -> text. Deterministic: same config, same bytes.

    `with_tests` needs selectors made of `name="value"` matchers (the tests must invent series
    that match them) and whole-minute `for`s (no `for_override` below a minute).
    """
    config = config or RulesConfig()
    routing = routing or RoutingConfig()
    files = {RULES_FILE: rules.render(config)}
    if with_tests:
        for name, build in unittests.TEST_FILES.items():
            files[f"{TESTS_DIR}/{name}"] = output.HEADER + output.dump(build(config))
    files[ALERTMANAGER_FILE] = alertmanager.render(routing)
    return files


def orphan_tests(out_dir: Path, files: Mapping[str, str]) -> list[str]:
    """Generated promtool test files under `out_dir` (relative paths) that `files` no longer holds:
    a removed group's tests would otherwise linger and still run. None when `files` has no tests."""
    tests_dir = out_dir / TESTS_DIR
    if not any(rel.startswith(TESTS_DIR + "/") for rel in files) or not tests_dir.is_dir():
        return []
    return [
        rel
        for path in sorted(tests_dir.glob("*.test.yaml"))
        if (rel := f"{TESTS_DIR}/{path.name}") not in files
        and path.read_text(encoding="utf-8").startswith(output.HEADER)
    ]
