"""Score `crashloop-exporter diagnose --dump` on the real-world corpus, offline.

Each case is built into a `kubectl cluster-info dump` directory (`build.py`) and read by the real
CLI, in-process (`crashloop_exporter.cli.main.main`, output captured), with `-o json --all`. A
scoring unit is one expected container of a positive case (right when its only failing finding has
the expected cause) or one negative case (right when nothing in it is failing). Every miss gets a
miss class, decided from the case alone (never from what the classifier said beyond the miss):

- `wording of other versions`: the decisive signal is a status, event or runtime message, i.e.
  Kubernetes/runtime wording the catalog should know;
- `loader-ABI`: a dynamic-loader or libc symbol-version failure;
- `config-non-env`: a configuration problem that is not a missing environment variable;
- `dependency phrasing`: an unreachable dependency in a program's own words;
- `semantics`: a negative reported as failing, or a case decided by the SPEC's rules of time,
  deletion and priority rather than by a message;
- `other`: everything else.

`python -m tests.realworld.score cases` prints the score (`make realworld` runs it).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import build

HERE = Path(__file__).resolve().parent
_STATUS_CAUSES = {
    "image_pull", "missing_secret", "missing_secret_key", "missing_configmap", "missing_configmap_key",
    "start_error", "oomkilled", "node_pressure", "liveness_probe", "startup_probe", "init_container_failed",
    "segfault", "sigkill", "sigterm", "clean_exit",
}
_LOADER_WORDS = ("GLIBC_", "error while loading shared libraries", "libc.so", "version `")


@dataclass(frozen=True)
class Miss:
    case: str
    container: str
    expected: str
    got: str
    miss_class: str


def run_diagnose(dump_dir: Path) -> tuple[list[dict[str, Any]], str]:
    """(findings, stderr) of `diagnose --dump DIR -o json --all`, run in this process."""
    from crashloop_exporter.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["diagnose", "--dump", str(dump_dir), "-o", "json", "--all"])
    if code != 0:
        raise RuntimeError(f"diagnose exited {code}: {err.getvalue()[-800:]}")
    findings = json.loads(out.getvalue())
    if not isinstance(findings, list):
        raise RuntimeError(f"diagnose printed {type(findings).__name__}, not a JSON array")
    return findings, err.getvalue()


def _logs(case: build.Case) -> str:
    pod = case.data["pod"]
    return "\n".join(str(c.get("log", "")) for c in [*pod.get("initContainers", ()), *pod["containers"]])


def miss_class(case: build.Case, expected: str) -> str:
    if case.negative:
        return "semantics"
    if expected == "missing_runtime_dependency" and any(w in _logs(case) for w in _LOADER_WORDS):
        return "loader-ABI"
    if expected == "bad_config":
        return "config-non-env"
    if expected == "dependency_unavailable":
        return "dependency phrasing"
    if expected in _STATUS_CAUSES:
        return "wording of other versions"
    return "other"


def _show(fs: list[dict[str, Any]]) -> str:
    return " + ".join(f"{f['cause']} ({'failing' if f['failing'] else 'not failing'})" for f in fs) or "(none)"


def compare(case: build.Case, findings: list[dict[str, Any]]) -> tuple[int, list[Miss]]:
    """(scoring units, misses) of one case."""
    mine = [f for f in findings if (f.get("namespace"), f.get("pod")) == (case.namespace, case.pod_name)]
    if case.negative:
        failing = [f for f in mine if f.get("failing")]
        if not failing:
            return 1, []
        got = ", ".join(f"{f['container']}: {f['cause']}" for f in failing)
        return 1, [Miss(case.id, "*", "(nothing failing)", got, miss_class(case, ""))]
    misses = []
    for container, cause in case.expected.items():
        fs = [f for f in mine if f.get("container") == container]
        if not (len(fs) == 1 and fs[0].get("failing") is True and fs[0].get("cause") == cause):
            misses.append(Miss(case.id, container, cause, _show(fs), miss_class(case, cause)))
    return len(case.expected), misses


def score_case(case: build.Case, workdir: Path) -> tuple[int, list[Miss]]:
    findings, _stderr = run_diagnose(build.write_dump(case, workdir))
    return compare(case, findings)


def score_dir(directory: Path) -> tuple[int, list[Miss]]:
    total, misses = 0, []
    with tempfile.TemporaryDirectory(prefix="realworld-") as tmp:
        for case in build.load_cases(directory):
            units, case_misses = score_case(case, Path(tmp))
            total += units
            misses.extend(case_misses)
    return total, misses


def report(name: str, total: int, misses: list[Miss]) -> str:
    lines = [f"{name}: score: {total - len(misses)}/{total}"]
    if misses:
        classes = Counter(m.miss_class for m in misses)
        lines.append("misses by class: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
        width = max(len(f"{m.case}/{m.container}") for m in misses)
        lines += [f"  {m.case + '/' + m.container:<{width}}  expected {m.expected:<27} got {m.got}  [{m.miss_class}]"
                  for m in misses]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    part = argv[0] if argv else "cases"
    if part != "cases":
        print(f"usage: python -m tests.realworld.score cases (got {part!r})", file=sys.stderr)
        return 2
    total, misses = score_dir(HERE / part)
    print(report(part, total, misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
