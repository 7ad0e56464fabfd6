"""Every checked-in file that is generated from the catalog, in one table, and the one generator over it.

The runbook, the metrics reference, the rules pack, the dashboards and the deploy wrappers each used to have their own
script with its own `--check`, so a new artifact (or a new check in CI) could miss one. Here each is
one row, and `crashloop-exporter generate [--check]` (`make generate`, and the test suite) walks
them all. Order matters: the deploy wrappers embed rules/ and dashboards/, so they come last and
are rendered from what the earlier rows render in the same run.

The dashboards are built with the Grafana Foundation SDK, a dev dependency, so their builders are
imported only when they are rendered: the exporter itself never needs the SDK.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from crashloop_exporter import deploygen, docblocks, metricsdoc, rulegen, runbook
from crashloop_exporter.errors import InputError

RULES_DIR = "rules"
DASHBOARDS_DIR = "dashboards"
ROOT_MARKER = "deploy/base/deployment.yaml"
"""A file only a checkout of this repository has (and the deploy wrappers' source)."""


def _no_orphans(_root: Path, _files: Mapping[str, str]) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class Artifact:
    """One kind of generated file."""

    name: str
    """Short name, for messages and `stale_files(only=...)`."""
    render: Callable[[Path], dict[str, str]]
    """Repository root -> {path relative to the root: exact content}."""
    orphans: Callable[[Path, Mapping[str, str]], list[str]] = _no_orphans
    """Files of this kind still under the root that `render` no longer produces (also stale)."""
    inputs: tuple[str, ...] = ()
    """Globs (relative to the root) `render` reads besides deploygen's inputs: copied to the scratch root."""


def _render_runbook(_root: Path) -> dict[str, str]:
    return {runbook.PATH: runbook.render_page()}


def _render_metrics_doc(_root: Path) -> dict[str, str]:
    return {metricsdoc.PATH: metricsdoc.render_page()}


def _render_rules(_root: Path) -> dict[str, str]:
    return {f"{RULES_DIR}/{rel}": text for rel, text in rulegen.generate_files().items()}


def _rule_orphans(root: Path, files: Mapping[str, str]) -> list[str]:
    pack = {rel.removeprefix(f"{RULES_DIR}/"): text for rel, text in files.items()}
    return [f"{RULES_DIR}/{rel}" for rel in rulegen.orphan_tests(root / RULES_DIR, pack)]


def _render_dashboards(_root: Path) -> dict[str, str]:
    try:
        from crashloop_dashboards.render import render_all
    except ModuleNotFoundError as e:
        raise InputError(
            f"the dashboards are built with the dev dependencies ({e.name} is missing): pip install -e '.[dev]'"
        ) from e
    return {f"{DASHBOARDS_DIR}/{name}": text for name, text in render_all().items()}


def _dashboard_orphans(root: Path, files: Mapping[str, str]) -> list[str]:
    # The deploy wrappers ship every dashboards/*.json, so a hand-made one would be deployed unreviewed.
    return [rel for path in sorted((root / DASHBOARDS_DIR).glob("*.json"))
            if (rel := path.relative_to(root).as_posix()) not in files]


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("runbook", _render_runbook),
    Artifact("metrics", _render_metrics_doc),
    Artifact("rules", _render_rules, _rule_orphans),
    Artifact("dashboards", _render_dashboards, _dashboard_orphans),
    Artifact("deploy", deploygen.render),
    Artifact("helm", deploygen.render_chart_files, deploygen.chart_file_orphans),
    Artifact("readme", docblocks.render, inputs=(docblocks.PATH,)),
)


def _check_root(root: Path) -> None:
    if not (root / ROOT_MARKER).is_file():
        raise InputError(
            f"{root}: not a crashloop-exporter checkout (no {ROOT_MARKER}); run from its top or pass --root"
        )


def _render(root: Path, only: Collection[str]) -> list[tuple[Artifact, dict[str, str]]]:
    """Each selected artifact with its files, rendered in table order on a scratch copy of the
    inputs, so the deploy wrappers embed the rules and dashboards `generate` writes in the same run,
    not stale checked-in ones (and `--check` names only the files a `generate` would change)."""
    _check_root(root)
    unknown = set(only) - {a.name for a in ARTIFACTS}
    if unknown:
        raise ValueError(f"no artifact named {sorted(unknown)}")
    rendered = []
    with tempfile.TemporaryDirectory(prefix="crashloop-generate-") as tmp:
        scratch = Path(tmp)
        for pattern in (*deploygen.INPUTS, *(p for a in ARTIFACTS for p in a.inputs)):
            for source in sorted(root.glob(pattern)):
                copy = scratch / source.relative_to(root)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)
        for artifact in ARTIFACTS:
            if only and artifact.name not in only:
                continue
            files = artifact.render(scratch)
            for rel, text in files.items():
                (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
                (scratch / rel).write_text(text, encoding="utf-8")
            rendered.append((artifact, files))
    return rendered


def write_files(root: Path, files: Mapping[str, str], *, what: str = "generated files") -> list[str]:
    """Write `files` (relative path -> text) under `root`, creating directories; the paths written, in order."""
    for rel, text in files.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InputError(f"{path}: cannot write the {what}: {e.strerror or e}") from e
    return list(files)


def changed_files(root: Path, files: Mapping[str, str], *, what: str = "generated files") -> list[str]:
    """The paths of `files` that are missing under `root` or differ from the text given."""
    changed = []
    for rel, text in files.items():
        path = root / rel
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        except OSError as e:
            raise InputError(f"{path}: cannot read the {what}: {e.strerror or e}") from e
        if current != text:
            changed.append(rel)
    return changed


def stale_rules_pack(out_dir: Path, files: Mapping[str, str]) -> list[str]:
    """A rules pack's stale files under `out_dir` (`rules generate --out`): missing, differing, or
    generated promtool tests no longer produced."""
    return [*changed_files(out_dir, files, what="rules pack"), *rulegen.orphan_tests(out_dir, files)]


def stale_files(root: Path, *, only: Collection[str] = ()) -> list[str]:
    """Generated paths under `root` (relative) that are missing, differ from a fresh render, or are
    orphans; `only` limits the check to the artifacts of those names (each one's own test)."""
    stale: list[str] = []
    for artifact, files in _render(root, only):
        stale.extend(changed_files(root, files, what=artifact.name))
        stale.extend(artifact.orphans(root, files))
    return stale


def write_all(root: Path) -> list[str]:
    """Render and write every artifact under `root`, in table order; the relative paths written."""
    written: list[str] = []
    for artifact, files in _render(root, ()):
        written.extend(write_files(root, files, what=artifact.name))
    return written
