"""The real-world incident corpus: `diagnose --dump` on incidents transcribed from public threads.

- every case file follows the format, builds into a dump, and names catalog causes and containers
  its pod really has;
- `realworld`: each case in `cases/` must get its expected cause per container, and a negative
  case must have no failing finding.

A third of the corpus was held back while the classifier was tuned on the rest, and scored once
(offline 32/32, live 32/32; see README.md) before it was folded into `cases/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crashloop_exporter.catalog import CAUSE_IDS

from . import build, score

HERE = Path(__file__).resolve().parent
CASES = build.load_cases(HERE / "cases")
ALL_FILES = sorted((HERE / "cases").glob("*/case.yaml"))


def _containers(case: build.Case) -> set[str]:
    pod = case.data["pod"]
    return {c["name"] for c in [*pod.get("initContainers", ()), *pod["containers"]]}


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.parent.name)
def test_case_file_is_well_formed(path: Path, tmp_path: Path) -> None:
    """A case has its provenance, catalog causes for containers of its pod, and builds into a dump."""
    case = build.load_case(path)
    problems = []
    if not str(case.data["source"]).startswith("https://"):
        problems.append(f"source {case.data['source']!r} is not a URL")
    for key in ("verbatim", "reconstructed", "root_cause"):
        if len(str(case.data[key]).strip()) < 10:
            problems.append(f"{key} says too little: {case.data[key]!r}")
    for container, cause in case.expected.items():
        if cause not in CAUSE_IDS:
            problems.append(f"{container}: {cause!r} is not a catalog cause")
        if container not in _containers(case):
            problems.append(f"{container}: not a container of the pod ({sorted(_containers(case))})")
    assert not problems, f"{path}:\n" + "\n".join(problems)
    dump = build.write_dump(case, tmp_path)
    assert (dump / "nodes.json").is_file() and (dump / case.namespace / "pods.json").is_file()


@pytest.mark.realworld
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_realworld_case(case: build.Case, tmp_path: Path) -> None:
    """diagnose names the expected cause for each expected container, and nothing fails in a negative."""
    units, misses = score.score_case(case, tmp_path)
    assert units >= 1
    if misses:
        pytest.fail(
            f"{case.id} ({case.data['source']}): root cause: {case.data['root_cause']}\n"
            + score.report(case.id, units, misses),
            pytrace=False,
        )

