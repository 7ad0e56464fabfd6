"""The rules pack, generated from the cause catalog: Prometheus rules, their promtool unit tests,
and the Alertmanager routing example.

The catalog is the only place a cause exists; this package turns it into files under `rules/`
(checked in, and a test fails when they are stale). `crashloop-exporter rules generate` is the CLI;
tests call `generate_files` with a `RulesConfig(for_override=...)` to get a fast copy of the same pack.

    files = generate_files(RulesConfig())        # {"crashloop-exporter.rules.yaml": "...", ...}
    write_files(Path("rules"), files)
    stale_files(Path("rules"), files)            # [] when the checked-in files are current
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from crashloop_exporter.errors import InputError
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
    "stale_files",
    "write_files",
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


def write_files(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write `files` under `out_dir` (creating directories); the paths written, in order."""
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InputError(f"{path}: cannot write the rules pack: {e.strerror or e}") from e
        written.append(path)
    return written


def stale_files(out_dir: Path, files: Mapping[str, str]) -> list[str]:
    """Relative paths under `out_dir` that differ from `files`, are missing, or are generated test
    files no longer produced (a removed group's tests would otherwise linger and still run)."""
    stale = []
    for rel, text in files.items():
        path = out_dir / rel
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        except OSError as e:
            raise InputError(f"{path}: cannot read the rules pack: {e.strerror or e}") from e
        if current != text:
            stale.append(rel)
    tests_dir = out_dir / TESTS_DIR
    if any(rel.startswith(TESTS_DIR + "/") for rel in files) and tests_dir.is_dir():
        for path in sorted(tests_dir.glob("*.test.yaml")):
            rel = f"{TESTS_DIR}/{path.name}"
            if rel not in files and path.read_text(encoding="utf-8").startswith(output.HEADER):
                stale.append(rel)
    return stale
